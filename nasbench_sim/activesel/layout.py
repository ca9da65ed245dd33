"""The study folder: where each file of an active-selection study lives, and reading its results back.

`StudyLayout` owns every path inside a study folder; the runner writes
through it and the report reads through it. The folder holds:

    config.json                                the configuration, data sizes and candidates
    references/seed<S>/ref<K>.json             reference model record (accuracy, seconds)
    references/seed<S>/ref<K>.probs.npy        (R, C) float32 probabilities of the R remaining samples
    subsets/seed<S>/<regime>.npy               (M,) sorted pool indices of the regime's training set
    subsets/seed<S>/<regime>.added.npy         (A,) indices added to the random part, selection order
    subsets/seed<S>/<regime>.added_scores.npy  (A,) their scores
    subsets/seed<S>/subsets.json               sizes and class counts (written last)
    runs/seed<S>/e<E>/<regime>/<NN>-<cell>.json         one training run's record
    runs/seed<S>/e<E>/<regime>/<NN>-<cell>.losses.npy   (steps,) float32 minibatch losses (nats)
    tensorboard/                               event files of every run (`nasbench-sim activesel dashboard`)
    report.md, report.html, summary.json, *.csv, *.png   (`report.write_report`)

A record's file is written last (after its arrays), so its presence marks a
finished task.

Example:
    >>> from nasbench_sim.activesel.layout import StudyLayout
    >>> layout = StudyLayout("results/demo")
    >>> layout.run(seed=0, epochs=1, regime="active", cell_index=3, cell="vgg-like").as_posix()
    'results/demo/runs/seed0/e1/active/03-vgg-like'
    >>> layout.subset(seed=1, regime="random-part").as_posix()
    'results/demo/subsets/seed1/random-part.npy'
"""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nasbench_sim.errors import DataFormatError

#: Columns of the references table of `load_results`.
REFERENCE_COLUMNS = (
    "seed",
    "index",
    "cell",
    "subset_size",
    "steps",
    "test_accuracy",
    "validation_accuracy",
    "train_seconds",
    "validation_seconds",
    "scoring_seconds",
    "scored_samples",
)


@dataclass(frozen=True)
class FolderLayout:
    """Paths inside one results folder (`root`, a str or path) that keeps its configuration in `config.json`."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    @property
    def config(self) -> Path:
        """The folder's configuration (JSON)."""
        return self.root / "config.json"


@dataclass(frozen=True)
class StudyLayout(FolderLayout):
    """Paths inside one study folder; see the module docstring for the tree.

    `reference` and `run` return stems: the record is `<stem>.json`, its arrays `<stem>.<kind>.npy`.
    """

    @property
    def summary(self) -> Path:
        """The JSON summary the report writes into the folder."""
        return self.root / "summary.json"

    @property
    def tensorboard(self) -> Path:
        """Folder of every run's TensorBoard event files."""
        return self.root / "tensorboard"

    @property
    def references(self) -> Path:
        """Folder of the reference models of every seed."""
        return self.root / "references"

    @property
    def runs(self) -> Path:
        """Folder of the training runs of every seed."""
        return self.root / "runs"

    def reference(self, seed: int, index: int) -> Path:
        """Stem of reference model `index` of `seed` (`.json` record, `.probs.npy` probabilities)."""
        return self.references / f"seed{seed}" / f"ref{index}"

    def subsets(self, seed: int) -> Path:
        """Folder of the training sets of `seed`."""
        return self.root / "subsets" / f"seed{seed}"

    def subset(self, seed: int, regime: str, part: str = "") -> Path:
        """A regime's (M,) training-set indices; `part` 'added' or 'added_scores' for its added part."""
        return self.subsets(seed) / (f"{regime}.{part}.npy" if part else f"{regime}.npy")

    def subsets_meta(self, seed: int) -> Path:
        """Sizes and class counts of the training sets of `seed` (written last)."""
        return self.subsets(seed) / "subsets.json"

    def run(self, *, seed: int, epochs: int, regime: str, cell_index: int, cell: str) -> Path:
        """Stem of one training run (`.json` record, `.losses.npy` minibatch losses)."""
        return self.runs / f"seed{seed}" / f"e{epochs}" / regime / f"{cell_index:02d}-{cell}"

    def run_log(self, *, seed: int, epochs: int, regime: str, cell_index: int, cell: str) -> Path:
        """TensorBoard folder of one training run."""
        return self.tensorboard / f"seed{seed}" / f"e{epochs}" / regime / f"{cell_index:02d}-{cell}"

    def reference_log(self, seed: int, index: int) -> Path:
        """TensorBoard folder of one reference model."""
        return self.tensorboard / f"seed{seed}" / f"reference{index}"

    def run_of(self, record: dict[str, Any] | pd.Series) -> Path:
        """Stem of the run a record (a row of `load_results`'s runs) describes."""
        return self.run(
            seed=int(record["seed"]),
            epochs=int(record["epochs"]),
            regime=str(record["regime"]),
            cell_index=int(record["cell_index"]),
            cell=str(record["cell"]),
        )


def read_record(path: Path) -> dict[str, Any] | None:
    """A finished task's JSON record; None if there is none, or if it is damaged (then moved aside as `.corrupt`)."""
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:  # truncated or garbled: the task is redone
        aside = path.with_suffix(path.suffix + ".corrupt")
        with contextlib.suppress(OSError):
            os.replace(path, aside)
        warnings.warn(
            f"{path} is unreadable ({type(exc).__name__}); moved to {aside.name}, the task is redone", stacklevel=2
        )
        return None
    return record if isinstance(record, dict) else None


def load_results(out: str | os.PathLike) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(runs, references) of a study folder as DataFrames, one row per finished run / reference model.

    Run columns: seed, cell_index, cell, cell_hash, known, regime, epochs, subset_size, steps,
    samples_seen, validation_accuracy and test_accuracy in [0, 1], class_test_accuracy (list),
    tse (nats), final_train_loss (nats), train/validation/test/wall_seconds, history.
    Reference columns: `REFERENCE_COLUMNS`.

    Raises:
        DataFormatError: the folder holds no finished run.
    """
    layout = StudyLayout(out)
    runs = [r for r in map(read_record, sorted(layout.runs.rglob("*.json"))) if r is not None]
    refs = [r for r in map(read_record, sorted(layout.references.rglob("*.json"))) if r is not None]
    if not runs:
        raise DataFormatError(f"{layout.root}: no finished training runs")
    return pd.DataFrame(runs), pd.DataFrame(refs, columns=list(REFERENCE_COLUMNS))


def load_losses(out: str | os.PathLike, record: dict[str, Any] | pd.Series) -> np.ndarray:
    """(steps,) float32 minibatch losses (nats) of one run record."""
    return np.load(StudyLayout(out).run_of(record).with_suffix(".losses.npy"), allow_pickle=False)
