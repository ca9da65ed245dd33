"""Configuration of the performance-estimation lab (`LabConfig`) and the estimators it knows.

The lab runs on top of an active-selection study (`activesel.StudyConfig`):
the study's candidate cells, seeds, data and training settings, its finished
full-data runs as the reference and its data-subset regimes as estimators; the
lab adds every other estimator (`ESTIMATORS`) on the same cells and seeds.
This module does not import torch (the CLI reads it for `--help`).

Example:
    >>> from nasbench_sim.lab.config import LabConfig
    >>> config = LabConfig(estimators=("epoch-fraction", "curve"))
    >>> config.estimators, config.study.num_cells
    (('epoch-fraction', 'curve'), 20)
    >>> LabConfig(estimators=("nope",))
    Traceback (most recent call last):
    ...
    nasbench_sim.errors.ConfigError: unknown estimator 'nope' (choices: epoch-fraction, stem, stacks, resolution, early-stop, curve, inherit, one-shot, zero-cost)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from nasbench_sim._checks import whole_number
from nasbench_sim.activesel.config import StudyConfig
from nasbench_sim.errors import ConfigError

#: Every estimator the lab trains or scores itself (the study adds its data-subset regimes), with what it is.
ESTIMATORS: dict[str, str] = {
    "epoch-fraction": "lower fidelity: a fraction of an epoch on all data (its own cosine schedule)",
    "stem": "lower fidelity: fewer channels (a narrower stem), one epoch",
    "stacks": "lower fidelity: fewer stacked cells (fewer stacks), one epoch",
    "resolution": "lower fidelity: lower image resolution (average-pooled images), one epoch",
    "early-stop": "the first part of the full run's schedule: validation accuracy where it stops",
    "curve": "learning-curve extrapolation: pow3 fitted to the early-stopped run's validation curve",
    "inherit": "weight inheritance: initialised from a trained one-edit parent, a fraction of an epoch",
    "one-shot": "one-shot: scored with the weights of a supernet trained on all NB101 cells",
    "zero-cost": "zero-cost proxies at initialisation on one training batch (several scores)",
}
#: The narrowest stem every NB101 cell can be built with: the output splits its width among up to 5 vertices.
MIN_STEM = 5
#: The estimators whose tasks need another task's output first (the trained parents, the supernets).
SECOND_PHASE = ("inherit", "one-shot")


def _default_study() -> StudyConfig:
    return StudyConfig(regimes=("full", "active", "random"), control_epochs=0, out="results/lab/study")


@dataclass(frozen=True, kw_only=True)
class LabConfig:
    """A whole lab run.

    Attributes:
        study: the active-selection study underneath (cells, seeds, data, training, its own folder);
            its `full` runs are the reference and its other regimes are estimators.
        estimators: names in `ESTIMATORS` to run.
        fraction: epochs of `epoch-fraction` and `inherit` (their own cosine schedule).
        stem_channels: stem width of `stem` (the study's is `study.training.stem_channels`).
        num_stacks: stacks of `stacks`.
        resolution: image side of `resolution` (a divisor of the data's side).
        early_fraction: share of the full run's schedule that `early-stop` and `curve` train.
        curve_points: validation points of `curve` within that share (evenly spaced in steps).
        supernet_epochs: epochs of the one-shot supernet over all data.
        proxy_batch: images of the zero-cost proxies' batch.
        queries: the search the fixed costs (supernet, reference models) are amortised over.
        workers: local processes (one torch thread each on CPU).
        out: the lab's folder.
    """

    study: StudyConfig = field(default_factory=_default_study)
    estimators: tuple[str, ...] = tuple(ESTIMATORS)
    fraction: float = 0.25
    stem_channels: int = 5
    num_stacks: int = 2
    resolution: int = 14
    early_fraction: float = 0.25
    curve_points: int = 10
    supernet_epochs: int = 1
    proxy_batch: int = 64
    queries: int = 150
    workers: int = 1
    out: str = "results/lab"

    def __post_init__(self) -> None:
        for name in (
            "stem_channels",
            "num_stacks",
            "resolution",
            "supernet_epochs",
            "proxy_batch",
            "queries",
            "workers",
        ):
            whole_number(getattr(self, name), name)
        whole_number(self.curve_points, "curve_points (pow3 has 3 parameters)", minimum=4)
        for name in ("fraction", "early_fraction"):
            if not isinstance(getattr(self, name), (int, float)) or isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be a number of epochs, got {getattr(self, name)!r:.40}")
        if isinstance(self.estimators, str) or not isinstance(self.estimators, (tuple, list)):
            raise ConfigError(f"estimators must be a tuple of names, got {self.estimators!r:.40}")
        unknown = [name for name in self.estimators if name not in ESTIMATORS]
        if unknown:
            raise ConfigError(f"unknown estimator {unknown[0]!r} (choices: {', '.join(ESTIMATORS)})")
        if len(set(self.estimators)) != len(self.estimators):
            raise ConfigError(f"estimators are listed twice: {', '.join(self.estimators)}")
        for name in ("fraction", "early_fraction"):
            value = getattr(self, name)
            if not 0 < value < self.study.training.epochs:
                raise ConfigError(f"{name} must lie in (0, {self.study.training.epochs}) epochs, got {value}")
        if not MIN_STEM <= self.stem_channels < self.study.training.stem_channels:
            raise ConfigError(
                f"stem_channels must be {MIN_STEM} to {self.study.training.stem_channels - 1} (at least the widest "
                f"fan-in of an NB101 output, below the study's), got {self.stem_channels}"
            )
        if not 1 <= self.num_stacks < self.study.training.num_stacks:
            raise ConfigError(
                f"num_stacks must be 1 to {self.study.training.num_stacks - 1} (below the study's), got {self.num_stacks}"
            )
        if self.study.seeds < 2:
            raise ConfigError("the lab needs study.seeds >= 2 (each estimator is set against another seed's full run)")

    def identity(self) -> dict[str, Any]:
        """Everything that decides the lab's own results (not `workers`, not the folders)."""
        values = asdict(self)
        values["study"] = self.study.identity()
        del values["workers"], values["out"], values["estimators"], values["queries"]
        return values
