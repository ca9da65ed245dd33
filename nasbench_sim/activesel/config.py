"""Configuration of the active-selection study (StudyConfig, TrainConfig) and its candidate cells.

The candidates are well-known NB101 cells (by name, `KNOWN_CELLS`) followed by
distinct seeded random NB101 cells. Every value is checked when the config is
built, so a bad setting is a ConfigError before anything is trained or written.
This module does not import torch (the CLI reads its defaults for `--help`).

Example:
    >>> from nasbench_sim.activesel.config import StudyConfig, candidate_cells
    >>> config = StudyConfig(random_cells=2)
    >>> [name for name, _ in candidate_cells(config)]
    ['inception-like', 'resnet-like', 'vgg-like', 'nb101-best', 'random-1', 'random-2']
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from nasbench_sim.activesel.selection import REGIMES, SelectionConfig
from nasbench_sim.errors import ConfigError
from nasbench_sim.space.cell import CONV1X1, CONV3X3, INPUT, MAXPOOL3X3, OUTPUT, Cell
from nasbench_sim.space.cellspace import NUM_CELLS
from nasbench_sim.space.sampling import random_cell

#: Named cells. The first four are strong, well-known designs; the last two are deliberately
#: weak controls (about 91% and 84% MNIST test accuracy at the default size and one epoch).
KNOWN_CELLS: dict[str, Cell] = {
    # The NB101 paper's example ("Inception-like") cell, hash 28cfc787...
    "inception-like": Cell(
        [
            [0, 1, 1, 1, 1, 0, 0],
            [0, 0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 1, 0],
            [0, 0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 0, 0],
        ],
        [INPUT, CONV3X3, CONV1X1, MAXPOOL3X3, CONV3X3, CONV3X3, OUTPUT],
    ),
    # Two 3x3 convolutions with an identity skip, as in a ResNet block.
    "resnet-like": Cell([[0, 1, 0, 1], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]], [INPUT, CONV3X3, CONV3X3, OUTPUT]),
    # A plain chain of three 3x3 convolutions, as in VGG.
    "vgg-like": Cell(
        [[0, 1, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]],
        [INPUT, CONV3X3, CONV3X3, CONV3X3, OUTPUT],
    ),
    # The cell with the highest 108-epoch CIFAR-10 test accuracy of training repeat 0 in NB101
    # (94.66%, hash ba0a27ca...; argmax of ../shared/data/nb101/test108_repeat0.npy).
    "nb101-best": Cell(
        [
            [0, 1, 1, 0, 1, 0, 1],
            [0, 0, 0, 0, 0, 1, 0],
            [0, 0, 0, 1, 0, 0, 0],
            [0, 0, 0, 0, 1, 0, 0],
            [0, 0, 0, 0, 0, 1, 0],
            [0, 0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 0, 0],
        ],
        [INPUT, CONV3X3, CONV3X3, CONV3X3, CONV3X3, CONV1X1, OUTPUT],
    ),
    "pool-only": Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], [INPUT, MAXPOOL3X3, OUTPUT]),
    "conv1x1-only": Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], [INPUT, CONV1X1, OUTPUT]),
}
DEFAULT_KNOWN_CELLS = ("inception-like", "resnet-like", "vgg-like", "nb101-best")
#: The regimes a study runs unless told otherwise (`Regime.default`), in `REGIMES` order.
DEFAULT_REGIMES = tuple(name for name, regime in REGIMES.items() if regime.default)


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """Identical for every regime and architecture of a study.

    The defaults suit MNIST at one epoch on a 2-core CPU: one NB101 network
    (stem 8, 3 stacks x 1 cell) trains one epoch on 50,000 images in about a
    minute with one thread and reaches about 99% test accuracy for strong cells.

    Attributes:
        epochs: passes over the (sub)set.
        batch_size: samples per SGD step.
        lr: peak AdamW learning rate, cosine-decayed to 0 over the run's steps.
        weight_decay: AdamW weight decay.
        stem_channels, num_stacks, cells_per_stack: size of the NB101 network.
        bn_momentum: batch-norm momentum (PyTorch convention; the official 0.003
            leaves running statistics near their init after a short run).
        device: 'auto' (CUDA when available), 'cpu', 'cuda' or 'cuda:N'.
        eval_batch_size: samples per evaluation batch.
        log_every: SGD steps between per-step training-loss points in TensorBoard.
        evals_per_epoch: validation evaluations per epoch, after steps round(j * steps / N) of it for
            j = 1 ... N - 1 and at its end (1: at the end only; fewer where an epoch has fewer steps).
            They add points to the validation curve of the run's record and of TensorBoard and change
            nothing else: training is the same step for step and their time is kept apart
            (`curve_seconds`), outside every cost.
    """

    epochs: int = 1
    batch_size: int = 32
    lr: float = 5e-3
    weight_decay: float = 1e-4
    stem_channels: int = 8
    num_stacks: int = 3
    cells_per_stack: int = 1
    bn_momentum: float = 0.1
    device: str = "auto"
    eval_batch_size: int = 1000
    log_every: int = 50
    evals_per_epoch: int = 1

    def __post_init__(self) -> None:
        for name in (
            "epochs",
            "batch_size",
            "stem_channels",
            "num_stacks",
            "cells_per_stack",
            "eval_batch_size",
            "log_every",
            "evals_per_epoch",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")
        if not (math.isfinite(self.lr) and self.lr > 0) or not (
            math.isfinite(self.weight_decay) and self.weight_decay >= 0
        ):
            raise ConfigError(f"need a finite lr > 0 and weight_decay >= 0, got {self.lr} and {self.weight_decay}")
        if not 0 < self.bn_momentum <= 1:
            raise ConfigError(f"bn_momentum must be in (0, 1], got {self.bn_momentum}")
        if self.device not in ("auto", "cpu", "cuda") and not re.fullmatch(r"cuda:\d+", self.device):
            raise ConfigError(f"device must be auto, cpu, cuda or cuda:N, got {self.device!r}")


@dataclass(frozen=True, kw_only=True)
class StudyConfig:
    """A whole study.

    Attributes:
        data: 'mnist' (first available source), 'digits' (scikit-learn 8x8, offline), or a
            path to MNIST.
        known_cells: names in `KNOWN_CELLS`, the first candidates.
        random_cells: distinct seeded random NB101 cells added after them.
        cell_seed: seed of the random cells.
        seeds: repetitions; each has its own random part, reference models, subsets and
            initialisations (cross-seed statistics need >= 2).
        regimes: regimes to compare (names in `selection.REGIMES`); must include 'full'.
        train_size, validation_size, test_size: subsample the splits to this many images
            (None: the whole split; the pool is the training split).
        selection: fractions and selector settings.
        training: hyper-parameters, identical for every run of the main study.
        reference_cell: architecture of the reference models (a `KNOWN_CELLS` name).
        control_epochs: epochs of the longer-training control (0: no control).
        control_cells: the first this many candidates get the control.
        control_regimes: regimes of the control (a subset of `regimes`, with 'full').
        workers: local processes for the training tasks (one torch thread each on CPU).
        out: output folder.
    """

    data: str = "mnist"
    known_cells: tuple[str, ...] = DEFAULT_KNOWN_CELLS
    random_cells: int = 16
    cell_seed: int = 0
    seeds: int = 2
    regimes: tuple[str, ...] = DEFAULT_REGIMES
    train_size: int | None = None
    validation_size: int | None = None
    test_size: int | None = None
    selection: SelectionConfig = field(default_factory=SelectionConfig)
    training: TrainConfig = field(default_factory=TrainConfig)
    reference_cell: str = "resnet-like"
    control_epochs: int = 2
    control_cells: int = 3
    control_regimes: tuple[str, ...] = ("full", "active", "random")
    workers: int = 1
    out: str = "results/activesel"

    def __post_init__(self) -> None:
        _check_names("regime", self.regimes, REGIMES)
        _check_names("known cell", self.known_cells, KNOWN_CELLS)
        if "full" not in self.regimes:
            raise ConfigError("regimes must include 'full' (every other regime is compared with it)")
        if len(self.known_cells) + self.random_cells < 2 or self.random_cells < 0:
            raise ConfigError("need at least 2 candidate cells (known_cells + random_cells) and random_cells >= 0")
        if self.random_cells > NUM_CELLS - len(self.known_cells):
            raise ConfigError(
                f"random_cells must be at most {NUM_CELLS - len(self.known_cells):,} (the {NUM_CELLS:,} cells of the "
                f"space less the known ones), got {self.random_cells:,}"
            )
        if self.seeds < 1:
            raise ConfigError(f"seeds must be >= 1, got {self.seeds}")
        for name in ("train_size", "validation_size", "test_size"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"{name} must be >= 1 (or omitted for the whole split), got {value}")
        if self.train_size is not None and self.train_size < 4:
            raise ConfigError(f"train_size must be >= 4 (random part, added part and the rest), got {self.train_size}")
        if self.reference_cell not in KNOWN_CELLS:
            raise ConfigError(f"unknown reference_cell {self.reference_cell!r} (choices: {', '.join(KNOWN_CELLS)})")
        if self.workers < 1:
            raise ConfigError(f"workers must be >= 1, got {self.workers}")
        if self.control_epochs < 0 or self.control_cells < 0:
            raise ConfigError("control_epochs and control_cells must be >= 0")
        if self.control_epochs:
            if self.control_epochs == self.training.epochs:
                raise ConfigError(f"control_epochs ({self.control_epochs}) must differ from the main epochs")
            _check_names("control regime", self.control_regimes, REGIMES)
            if "full" not in self.control_regimes or not set(self.control_regimes) <= set(self.regimes):
                raise ConfigError("control_regimes must include 'full' and be among regimes")

    @property
    def num_cells(self) -> int:
        return len(self.known_cells) + self.random_cells

    @property
    def has_control(self) -> bool:
        return bool(self.control_epochs and self.control_cells)

    def identity(self) -> dict[str, Any]:
        """Everything that decides the results (not `workers`, not `out`), as JSON-ready data."""
        values = _jsonable(asdict(self))
        del values["workers"], values["out"]
        if values["training"]["evals_per_epoch"] == 1:  # studies written before the setting existed
            del values["training"]["evals_per_epoch"]
        return values


def _check_names(kind: str, names: tuple[str, ...], choices: dict) -> None:
    unknown = [n for n in names if n not in choices]
    if unknown:
        raise ConfigError(f"unknown {kind}(s) {unknown} (choices: {', '.join(choices)})")
    if len(set(names)) != len(names):
        raise ConfigError(f"repeated {kind} in {list(names)}")


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj


#: Up to this many random cells are drawn with `random_cell` until distinct (the published studies' draws);
#: more are drawn as distinct rows of the cell space (sampling without replacement).
REJECTION_LIMIT = 1000


def candidate_cells(config: StudyConfig) -> list[tuple[str, Cell]]:
    """(name, cell) of every candidate: the known cells, then distinct seeded random cells (`REJECTION_LIMIT`)."""
    cells = [(name, KNOWN_CELLS[name]) for name in config.known_cells]
    seen = {cell.hash for _, cell in cells}
    rng = np.random.default_rng(config.cell_seed)
    if config.random_cells > REJECTION_LIMIT:  # drawing until distinct would take ever longer: draw rows instead
        from nasbench_sim.space.cellspace import CellSpace

        space = CellSpace.load_or_build(progress=False)
        known = {space.index(cell) for _, cell in cells}
        rows = rng.permutation(NUM_CELLS)
        chosen = [int(r) for r in rows if int(r) not in known][: config.random_cells]
        return cells + [(f"random-{k + 1}", space.cell(row)) for k, row in enumerate(chosen)]
    while len(cells) < config.num_cells:
        cell = random_cell(rng)
        if cell.hash not in seen:
            seen.add(cell.hash)
            cells.append((f"random-{len(cells) - len(config.known_cells) + 1}", cell))
    return cells
