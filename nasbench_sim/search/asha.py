"""Asynchronous successive halving (ASHA) and asynchronous Hyperband / BOHB.

ASHA (Li et al., MLSys 2020) promotes without waiting for a rung to fill: when
asked, it promotes the best cell of the highest rung whose top 1/eta holds a cell
not promoted yet, else it starts a new cell at the lowest budget. With NB101's
budgets (4, 12, 36, 108 epochs) each promotion is a new training run at the next
budget, as in `Hyperband`. Nothing ever waits, so every simulated worker stays
busy.

Asynchronous Hyperband runs several ASHA brackets side by side: bracket b starts
its cells at budget b (b = 0 is ASHA's most aggressive one). Each ask picks a
bracket at random with weights equal to the number of cells synchronous
Hyperband starts in it (27, 12, 6, 4 for NB101's four budgets and eta 3), then
acts as ASHA within it. Asynchronous BOHB draws its new cells from BOHB's
tree-Parzen model (`nasbench_sim.search.kde`) instead of at random.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.search.asha import ASHA, ASHAConfig
    >>> asha = ASHA(ASHAConfig(), np.random.default_rng(0))
    >>> queries = [asha.ask() for _ in range(3)]
    >>> [q.epochs for q in queries]
    [4, 4, 4]
    >>> for k, q in enumerate(queries):
    ...     asha.tell(q, 0.90 + 0.01 * k)
    >>> asha.ask().epochs  # the best of 3 results at 4 epochs is promoted
    12
"""

from __future__ import annotations

import bisect
import heapq
import math
from dataclasses import dataclass

import numpy as np

from nasbench_sim.errors import ConfigError
from nasbench_sim.search.base import Query, SearcherBase, as_query
from nasbench_sim.search.kde import CellKDE
from nasbench_sim.search.multifidelity import BOHBConfig, HyperbandConfig
from nasbench_sim.space.cell import Cell
from nasbench_sim.space.sampling import random_cell


@dataclass(frozen=True, kw_only=True)
class ASHAConfig(HyperbandConfig):
    """ASHA over NB101's budgets.

    Attributes:
        eta: promote the best 1/eta of each rung.
        budgets: the epoch ladder, smallest first.
        brackets: 1: ASHA (every cell starts at the smallest budget); more: asynchronous
            Hyperband with that many brackets (bracket b starts cells at `budgets[b]`).
    """

    brackets: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.brackets, bool) or not isinstance(self.brackets, int):
            raise ConfigError(f"brackets must be a whole number, got {self.brackets!r}")
        if not 1 <= self.brackets <= len(self.budgets):
            raise ConfigError(f"brackets must be in [1, {len(self.budgets)}] (one per budget), got {self.brackets}")


@dataclass(frozen=True, kw_only=True)
class AsyncHyperbandConfig(ASHAConfig):
    """Asynchronous Hyperband: ASHA brackets starting at every budget (see `ASHAConfig`)."""

    brackets: int = 4


class _Rung:
    """Results at one budget of one bracket; hands out its top 1/eta one at a time, best first."""

    def __init__(self) -> None:
        self.size = 0
        self.waiting: list[tuple[float, int, Cell]] = []  # heap of unpromoted results by (-value, arrival)
        self.promoted: list[tuple[float, int]] = []  # sorted keys of promoted results

    def add(self, cell: Cell, value: float) -> None:
        heapq.heappush(self.waiting, (-value, self.size, cell))
        self.size += 1

    def promote(self, eta: int) -> Cell | None:
        """The best unpromoted cell if it is in the rung's top 1/eta (then marked promoted), else None."""
        if not self.waiting:
            return None
        best = self.waiting[0]
        rank = bisect.bisect_left(self.promoted, best[:2])  # every better result was promoted already
        if rank >= self.size // eta:
            return None
        heapq.heappop(self.waiting)
        bisect.insort(self.promoted, best[:2])
        return best[2]


class ASHA(SearcherBase):
    """See `ASHAConfig` and the module docstring; new cells come from `sample_cell` (random here)."""

    config: ASHAConfig

    def __init__(self, config: ASHAConfig, rng: np.random.Generator, *, device: str = "auto") -> None:
        super().__init__(config, rng, device=device)
        self.bracket_rng = rng.spawn(1)[0]
        levels = len(config.budgets)
        self.rungs = [[_Rung() for _ in range(levels)] for _ in range(config.brackets)]
        sizes = np.array([math.ceil(levels / (levels - b) * config.eta ** (levels - 1 - b)) for b in range(levels)])
        self.weights = sizes[: config.brackets] / sizes[: config.brackets].sum()
        self.in_flight: dict[tuple[str, int], list[int]] = {}  # (hash, epochs) -> brackets of pending proposals

    def sample_cell(self) -> Cell:
        return random_cell(self.rng)

    def record(self, query: Query, value: float) -> None:
        """A result at some budget (asynchronous BOHB's model learns from these)."""

    def ask(self) -> Query:
        c = self.config
        bracket = 0 if c.brackets == 1 else int(self.bracket_rng.choice(c.brackets, p=self.weights))
        query = None
        for level in range(len(c.budgets) - 2, bracket - 1, -1):
            cell = self.rungs[bracket][level].promote(c.eta)
            if cell is not None:
                query = Query(cell, c.budgets[level + 1])
                break
        if query is None:
            query = Query(self.sample_cell(), c.budgets[bracket])
        self.in_flight.setdefault((query.cell.hash, query.epochs), []).append(bracket)
        return query

    def tell(self, proposal: Cell | Query, validation_accuracy: float) -> None:
        super().tell(proposal, validation_accuracy)
        query = as_query(proposal)
        key = (query.cell.hash, query.epochs)
        brackets = self.in_flight[key]
        bracket = brackets.pop(0)
        if not brackets:
            del self.in_flight[key]
        self.rungs[bracket][self.config.budgets.index(query.epochs)].add(query.cell, float(validation_accuracy))
        self.record(query, float(validation_accuracy))


@dataclass(frozen=True, kw_only=True)
class AsyncBOHBConfig(BOHBConfig, ASHAConfig):
    """Asynchronous BOHB: asynchronous Hyperband whose new cells come from BOHB's model.

    The model settings are `BOHBConfig`'s, the brackets `ASHAConfig`'s.
    """

    brackets: int = 4


class AsyncBOHB(ASHA):
    """See `AsyncBOHBConfig`: the model learns from every result, at every budget."""

    config: AsyncBOHBConfig

    def __init__(self, config: AsyncBOHBConfig, rng: np.random.Generator, *, device: str = "auto") -> None:
        super().__init__(config, rng, device=device)
        self.kde = CellKDE(config, rng.spawn(1)[0])

    def record(self, query: Query, value: float) -> None:
        self.kde.record(query.cell, query.epochs, value)

    def sample_cell(self) -> Cell:
        cell = self.kde.propose()
        return random_cell(self.rng) if cell is None else cell
