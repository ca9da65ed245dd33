"""The lab folder: where each file of a performance-estimation lab run lives.

    config.json                                 the lab's configuration (its study's included)
    study/                                      the active-selection study underneath (unless placed elsewhere)
    runs/<estimator>/seed<S>/<NN>-<cell>.json   one estimator's record for one cell and seed
    parents/seed<S>/<NN>-<cell>.npz             trained parent of candidate NN (state dict, `inherit.save_state`)
    parents/seed<S>/<NN>-<cell>.json            its record (written last)
    supernets/seed<S>.npz, supernets/seed<S>.json   the one-shot supernet of a seed and its record
    report.md, lab.json, estimators.csv, tau_vs_cost.png   (`report.write_lab_report`)

A record is written after its arrays, so its presence marks a finished task.

Example:
    >>> from nasbench_sim.lab.layout import LabLayout
    >>> LabLayout("results/lab").run("curve", seed=1, cell_index=3, cell="vgg-like").as_posix()
    'results/lab/runs/curve/seed1/03-vgg-like.json'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nasbench_sim.activesel.layout import FolderLayout


@dataclass(frozen=True)
class LabLayout(FolderLayout):
    """Paths inside one lab folder (`root`, a str or path)."""

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    def run(self, estimator: str, *, seed: int, cell_index: int, cell: str) -> Path:
        """One estimator's record for one candidate and seed."""
        return self.runs / estimator / f"seed{seed}" / f"{cell_index:02d}-{cell}.json"

    def parent(self, *, seed: int, cell_index: int, cell: str) -> Path:
        """Stem of candidate `cell_index`'s trained parent (`.npz` weights, `.json` record)."""
        return self.root / "parents" / f"seed{seed}" / f"{cell_index:02d}-{cell}"

    def supernet(self, seed: int) -> Path:
        """Stem of a seed's supernet (`.npz` weights, `.json` record)."""
        return self.root / "supernets" / f"seed{seed}"
