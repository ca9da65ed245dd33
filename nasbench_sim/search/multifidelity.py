"""Multi-fidelity searchers: Hyperband, BOHB, and regularized evolution with learning-curve early stopping.

They ask for `Query(cell, epochs)` with NB101's budgets 4, 12, 36 and 108
epochs (a geometric ladder with ratio 3); each budget is a separate training
run, as in NB101 (a promoted cell is trained again at the larger budget).

- `Hyperband` (Li et al. 2018): successive-halving brackets over the budgets,
  keeping the best 1/eta of each rung, brackets cycling from the most aggressive.
- `BOHB` (Falkner et al. 2018): Hyperband whose new cells come from a
  tree-Parzen model (per-dimension Aitchison-Aitken kernels over the 21 edges and
  5 ops) fitted on the largest budget with enough observations, plus a fraction
  of random cells.
- `EarlyStoppingEvolution`: regularized evolution that first trains each child
  briefly and trains it fully only if a linear fit of full-budget on short-budget
  validation accuracy (on the cells seen at both) predicts it beats the
  population's median.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.search.multifidelity import Hyperband, HyperbandConfig
    >>> hb = Hyperband(HyperbandConfig(), np.random.default_rng(0))
    >>> first = hb.ask(); first.epochs
    4
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from nasbench_sim.errors import ConfigError
from nasbench_sim.nb101 import EPOCHS as NB101_BUDGETS
from nasbench_sim.search.base import Query, SearcherBase, as_query
from nasbench_sim.search.kde import CellKDE
from nasbench_sim.search.simple import EvolutionConfig, RegularizedEvolution
from nasbench_sim.space.cell import Cell
from nasbench_sim.space.sampling import random_cell


@dataclass(frozen=True, kw_only=True)
class HyperbandConfig:
    """Hyperband over NB101's budgets.

    Attributes:
        eta: keep the best 1/eta of each rung (NB101's budgets grow by 3).
        budgets: the epoch ladder, smallest first (a subset of 4, 12, 36, 108).
    """

    eta: int = 3
    budgets: tuple[int, ...] = NB101_BUDGETS

    def __post_init__(self) -> None:
        if self.eta < 2:
            raise ConfigError(f"eta must be >= 2, got {self.eta}")
        if (
            not self.budgets
            or any(b not in NB101_BUDGETS for b in self.budgets)
            or list(self.budgets) != sorted(set(self.budgets))
        ):
            raise ConfigError(f"budgets must be an increasing subset of {NB101_BUDGETS}, got {self.budgets}")


class Hyperband(SearcherBase):
    """See `HyperbandConfig`; new cells come from `sample_cell` (random here, a model in BOHB).

    Synchronous: a rung is promoted once all its results are back, so with several
    simulated workers it runs in synchronous batches, and `ask()` returns None (wait)
    when the rung is handed out but results are still in flight. `ASHA`
    (`nasbench_sim.search.asha`) is its asynchronous counterpart.
    """

    config: HyperbandConfig
    asynchronous = False

    def __init__(self, config: HyperbandConfig, rng: np.random.Generator, *, device: str = "auto") -> None:
        super().__init__(config, rng, device=device)
        self.bracket_index = 0
        self.rung: list[Cell] = []  # cells of the current rung still to ask
        self.results: list[tuple[Cell, float]] = []  # results of the current rung
        self.rung_size = 0
        self.rung_level = 0
        self.bracket_start = 0
        self.outstanding = 0  # asked, not yet told
        self._start_bracket()

    def brackets(self) -> list[tuple[int, int]]:
        """(first rung level, cells in it) of each bracket, most aggressive first."""
        levels = len(self.config.budgets)
        eta = self.config.eta
        return [(levels - 1 - s, math.ceil(levels / (s + 1) * eta**s)) for s in range(levels - 1, -1, -1)]

    def _start_bracket(self) -> None:
        level, size = self.brackets()[self.bracket_index % len(self.config.budgets)]
        self.bracket_index += 1
        self.rung_level, self.rung_size = level, size
        self.rung = [self.sample_cell() for _ in range(size)]
        self.results = []

    def sample_cell(self) -> Cell:
        return random_cell(self.rng)

    def ask(self) -> Query | None:
        if not self.rung:
            if self.outstanding and len(self.results) < self.rung_size:
                return None  # the rung's last results are in flight
            self._next_rung()
        self.outstanding += 1
        return Query(self.rung.pop(0), self.config.budgets[self.rung_level])

    def tell(self, proposal: Cell | Query, validation_accuracy: float) -> None:
        super().tell(proposal, validation_accuracy)
        self.outstanding -= 1
        self.results.append((as_query(proposal).cell, float(validation_accuracy)))
        self.record(as_query(proposal), float(validation_accuracy))

    def record(self, query: Query, value: float) -> None:
        """A result at some budget (BOHB's model learns from these)."""

    def _next_rung(self) -> None:
        """Promote the best 1/eta of the finished rung, or start the next bracket."""
        if self.rung_level == len(self.config.budgets) - 1 or len(self.results) < self.rung_size:
            self._start_bracket()
            return
        keep = max(1, len(self.results) // self.config.eta)
        order = sorted(range(len(self.results)), key=lambda i: (-self.results[i][1], i))[:keep]
        self.rung = [self.results[i][0] for i in order]
        self.rung_size = len(self.rung)
        self.rung_level += 1
        self.results = []


@dataclass(frozen=True, kw_only=True)
class BOHBConfig(HyperbandConfig):
    """BOHB: Hyperband with a tree-Parzen model of good cells (defaults of Falkner et al. 2018).

    Attributes:
        random_fraction: share of new cells drawn at random.
        top_fraction: share of a budget's observations counted as good.
        min_points: observations a budget needs before its model is used (default: dimensions + 1).
        num_samples: candidates drawn from the good model per new cell.
        bandwidth_factor: widening of the good model's kernels for drawing candidates.
        min_bandwidth: floor of every kernel's bandwidth.
    """

    random_fraction: float = 1 / 3
    top_fraction: float = 0.15
    min_points: int | None = None
    num_samples: int = 64
    bandwidth_factor: float = 3.0
    min_bandwidth: float = 1e-3

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 <= self.random_fraction <= 1 or not 0 < self.top_fraction < 1 or self.num_samples < 1:
            raise ConfigError("need random_fraction in [0, 1], top_fraction in (0, 1) and num_samples >= 1")


class BOHB(Hyperband):
    """See `BOHBConfig`. Cells are modelled by their 26-value categorical encoding (`CellKDE`)."""

    config: BOHBConfig

    def __init__(self, config: BOHBConfig, rng: np.random.Generator, *, device: str = "auto") -> None:
        self.kde = CellKDE(config, rng.spawn(1)[0])
        super().__init__(config, rng, device=device)

    def record(self, query: Query, value: float) -> None:
        self.kde.record(query.cell, query.epochs, value)

    def sample_cell(self) -> Cell:
        cell = self.kde.propose()
        return random_cell(self.rng) if cell is None else cell


@dataclass(frozen=True, kw_only=True)
class EarlyStoppingConfig:
    """Regularized evolution with learning-curve early stopping.

    Attributes:
        evolution: the underlying evolution's settings.
        short_epochs: the short training every child gets first.
        min_pairs: cells seen at both budgets before the rule is used (before: every child is trained fully).
        quantile: a child continues if its predicted full-budget accuracy beats this quantile of the population.
    """

    evolution: EvolutionConfig = field(default_factory=EvolutionConfig)
    short_epochs: int = 12
    min_pairs: int = 10
    quantile: float = 0.5

    def __post_init__(self) -> None:
        if self.short_epochs not in NB101_BUDGETS[:-1]:
            raise ConfigError(f"short_epochs must be one of {NB101_BUDGETS[:-1]}, got {self.short_epochs}")
        if self.min_pairs < 2 or not 0 <= self.quantile <= 1:
            raise ConfigError("need min_pairs >= 2 and quantile in [0, 1]")


class EarlyStoppingEvolution(SearcherBase):
    """See `EarlyStoppingConfig`. Only fully trained children join the population."""

    config: EarlyStoppingConfig

    def __init__(self, config: EarlyStoppingConfig, rng: np.random.Generator, *, device: str = "auto") -> None:
        super().__init__(config, rng, device=device)
        self.evolution = RegularizedEvolution(config.evolution, rng, device=device)
        self.short: dict[str, float] = {}  # hash -> short-budget validation accuracy
        self.pairs: list[tuple[float, float]] = []  # (short, full) of cells seen at both budgets
        self.children: deque[Cell] = deque()  # passed the short training, to train fully

    def set_pending(self, pending: tuple[Query, ...]) -> None:
        super().set_pending(pending)
        self.evolution.set_pending(pending)

    def ask(self) -> Query:
        if self.children:
            return Query(self.children.popleft(), 108)
        cell = self.evolution.ask()
        if len(self.evolution.population) < self.config.evolution.initial:
            return Query(cell, 108)
        return Query(cell, self.config.short_epochs)

    def tell(self, proposal: Cell | Query, validation_accuracy: float) -> None:
        super().tell(proposal, validation_accuracy)
        query = as_query(proposal)
        value = float(validation_accuracy)
        if query.epochs == 108:
            if query.cell.hash in self.short:
                self.pairs.append((self.short[query.cell.hash], value))
            self.evolution.tell(query.cell, value)
            return
        self.short[query.cell.hash] = value
        if self._promising(value):
            self.children.append(query.cell)

    def _promising(self, short: float) -> bool:
        if len(self.pairs) < self.config.min_pairs:
            return True
        x, y = np.array(self.pairs).T
        slope, intercept = np.polyfit(x, y, 1) if np.ptp(x) > 0 else (0.0, float(np.mean(y)))
        threshold = np.quantile([v for _, v in self.evolution.population], self.config.quantile)
        return slope * short + intercept >= threshold
