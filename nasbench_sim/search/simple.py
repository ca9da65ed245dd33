"""Model-free searchers: random search, regularized evolution, local search.

Defaults are the NB101 authors' settings; `nasbench_sim.harness.protocol` holds
the naszilla (BANANAS paper) settings of each.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.search.simple import RegularizedEvolution, EvolutionConfig
    >>> re = RegularizedEvolution(EvolutionConfig(population_size=10, tournament_size=3), np.random.default_rng(0))
    >>> re.tell(re.ask(), 0.9)
    >>> len(re.population)
    1
"""

from __future__ import annotations

import collections
from dataclasses import dataclass

import numpy as np

from nasbench_sim.errors import ConfigError
from nasbench_sim.search.base import Query, SearcherBase, as_query, unseen_random_cell
from nasbench_sim.space.cell import Cell
from nasbench_sim.space.dedup import dedup_key
from nasbench_sim.space.sampling import mutate, neighbours


@dataclass(frozen=True, kw_only=True)
class MutationConfig:
    """How a parent is mutated (see `nasbench_sim.space.mutate`).

    Attributes:
        mutation_rate: notebook-style rate: edges flip with `rate / 7`, ops change with `rate / 5`.
        edge_probability, op_probability: explicit per-edge / per-op probabilities
            (override the rate; naszilla: 1/21 and 1/5).
    """

    mutation_rate: float = 1.0
    edge_probability: float | None = None
    op_probability: float | None = None

    def __post_init__(self) -> None:
        if self.mutation_rate <= 0:
            raise ConfigError(f"mutation_rate must be > 0, got {self.mutation_rate}")
        for name in ("edge_probability", "op_probability"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 1:
                raise ConfigError(f"{name} must be in [0, 1], got {value}")

    @property
    def edge_probability_value(self) -> float:
        """The per-edge flip probability in effect."""
        return self.mutation_rate / 7 if self.edge_probability is None else self.edge_probability

    @property
    def op_probability_value(self) -> float:
        """The per-op change probability in effect."""
        return self.mutation_rate / 5 if self.op_probability is None else self.op_probability

    def __call__(self, cell: Cell, rng: np.random.Generator) -> Cell:
        return mutate(
            cell,
            rng,
            mutation_rate=self.mutation_rate,
            edge_probability=self.edge_probability,
            op_probability=self.op_probability,
        )


def _check_dedup(value: str | None) -> None:
    if value is not None:
        dedup_key(value)


@dataclass(frozen=True, kw_only=True)
class RandomSearchConfig:
    """Random search: cells follow the NB101 sampling protocol.

    Attributes:
        dedup: None (duplicates allowed, the NB101 paper), 'cell' (never query an
            isomorphic cell twice) or 'paths' (naszilla: never two cells with the same op paths).
    """

    dedup: str | None = None

    def __post_init__(self) -> None:
        _check_dedup(self.dedup)


class RandomSearch(SearcherBase):
    """Independent NB101-protocol samples, optionally never repeating a cell."""

    config: RandomSearchConfig

    def ask(self) -> Cell:
        seen = self.taken(self.config.dedup) if self.config.dedup else set()
        return unseen_random_cell(self.rng, seen, self.config.dedup)


@dataclass(frozen=True, kw_only=True)
class EvolutionConfig:
    """Regularized (aging) evolution, Real et al. 2019.

    Defaults are the NB101 authors' (NASBench.ipynb): 50 random cells, then
    tournaments of 10 drawn without replacement, mutation rate 0.5. naszilla:
    10 initial cells without path duplicates, population 29 (it removes the oldest
    once 30 are alive), tournaments drawn with replacement, naszilla mutation.

    Attributes:
        population_size: the population holds at most this many (the oldest is removed).
        tournament_size: members drawn per tournament.
        with_replacement: draw tournament members with replacement.
        num_init: random cells before evolving (None: `population_size`).
        init_dedup: dedup rule of the initial random cells (None, 'cell', 'paths').
        mutation: how the tournament winner is mutated.
    """

    population_size: int = 50
    tournament_size: int = 10
    with_replacement: bool = False
    num_init: int | None = None
    init_dedup: str | None = None
    mutation: MutationConfig = MutationConfig(mutation_rate=0.5)

    def __post_init__(self) -> None:
        if self.population_size < 2 or self.tournament_size < 1:
            raise ConfigError("need population_size >= 2 and tournament_size >= 1")
        if not self.with_replacement and self.tournament_size > min(self.population_size, self.initial):
            raise ConfigError("tournament_size cannot exceed the population when drawing without replacement")
        if self.num_init is not None and not 1 <= self.num_init <= self.population_size:
            raise ConfigError("num_init must be in [1, population_size]")
        _check_dedup(self.init_dedup)

    @property
    def initial(self) -> int:
        return self.population_size if self.num_init is None else self.num_init


class RegularizedEvolution(SearcherBase):
    """Aging evolution: tournament selection, mutate the winner, remove the oldest."""

    config: EvolutionConfig

    def __init__(self, config: EvolutionConfig, rng: np.random.Generator, *, device: str = "auto") -> None:
        super().__init__(config, rng, device=device)
        self.population: collections.deque[tuple[Cell, float]] = collections.deque()

    def ask(self) -> Cell:
        c = self.config
        if len(self.observed) < c.initial:
            seen = self.taken(c.init_dedup) if c.init_dedup else set()
            return unseen_random_cell(self.rng, seen, c.init_dedup)
        picks = self.rng.choice(len(self.population), size=c.tournament_size, replace=c.with_replacement)
        best = max(picks.tolist(), key=lambda i: (self.population[i][1], -i))  # ties: the oldest
        return c.mutation(self.population[best][0], self.rng)

    def tell(self, proposal: Cell | Query, validation_accuracy: float) -> None:
        super().tell(proposal, validation_accuracy)
        self.population.append((as_query(proposal).cell, float(validation_accuracy)))
        if len(self.population) > self.config.population_size:
            self.population.popleft()


@dataclass(frozen=True, kw_only=True)
class LocalSearchConfig:
    """Local search over one-edit neighbourhoods (White et al. 2021).

    Defaults are naszilla's: start from the best of 10 new random cells, walk the
    shuffled neighbourhood and move to the first strictly better neighbour; at a
    local optimum restart from 10 new random cells. Already evaluated cells are
    never queried again.

    Attributes:
        num_init: new random cells evaluated at each (re)start; the walk starts from their best.
        first_improvement: move to the first better neighbour (False: evaluate the whole
            neighbourhood and move to its best if it improves).
        restart: at a local optimum restart from new random cells (naszilla's
            `stop_at_minimum=True`); False: continue from the best evaluated cell whose
            neighbourhood has not been walked yet (best-first, never restarts).
        dedup: what counts as already evaluated ('cell' or 'paths').
    """

    num_init: int = 10
    first_improvement: bool = True
    restart: bool = True
    dedup: str = "paths"

    def __post_init__(self) -> None:
        if self.num_init < 1:
            raise ConfigError("num_init must be >= 1")
        _check_dedup(self.dedup)


class LocalSearch(SearcherBase):
    """See `LocalSearchConfig`."""

    config: LocalSearchConfig

    def __init__(self, config: LocalSearchConfig, rng: np.random.Generator, *, device: str = "auto") -> None:
        super().__init__(config, rng, device=device)
        self.key = dedup_key(config.dedup)
        self.restart: list[tuple[Cell, float]] = []  # the current restart's random cells
        self.centre: tuple[Cell, float] | None = None
        self.queue: list[Cell] = []  # unevaluated neighbours of the centre, shuffled
        self.improved: list[tuple[Cell, float]] = []  # better neighbours found (full-neighbourhood mode)
        self.walked: set = set()  # keys of cells whose neighbourhood was walked

    def ask(self) -> Cell:
        seen = self.taken(self.config.dedup)
        while self.centre is not None:
            while self.queue:
                cell = self.queue.pop()
                if self.key(cell) not in seen:
                    return cell
            self._neighbourhood_done()
        return unseen_random_cell(self.rng, seen, self.config.dedup)

    def _neighbourhood_done(self) -> None:
        """No unevaluated neighbour left: move to the best improvement, restart, or go best-first."""
        if self.improved:
            self._move(max(self.improved, key=lambda item: item[1]))
        elif self.config.restart:
            self.centre = None  # local optimum: restart
        else:
            self._move_best_first()

    def _move_best_first(self) -> None:
        """Centre on the best evaluated cell whose neighbourhood was not walked yet (else restart)."""
        order = np.argsort(-np.asarray(self.observed.values), kind="stable")
        for i in order.tolist():
            cell = self.observed.cells[i]
            if self.key(cell) not in self.walked:
                self._move((cell, self.observed.values[i]))
                return
        self.centre = None

    def _move(self, centre: tuple[Cell, float]) -> None:
        self.walked.add(self.key(centre[0]))
        self.centre = centre
        self.improved = []
        cells = neighbours(centre[0])
        self.queue = [cells[i] for i in self.rng.permutation(len(cells))]

    def tell(self, proposal: Cell | Query, validation_accuracy: float) -> None:
        super().tell(proposal, validation_accuracy)
        cell, value = as_query(proposal).cell, float(validation_accuracy)
        if self.centre is None:
            self.restart.append((cell, value))
            if len(self.restart) == self.config.num_init:
                self._move(max(self.restart, key=lambda item: item[1]))
                self.restart = []
        elif value > self.centre[1]:
            if not self.config.first_improvement:
                self.improved.append((cell, value))
            elif self.config.restart:
                self._move((cell, value))
            else:
                self._move_best_first()  # naszilla without restarts: best unwalked cell overall
