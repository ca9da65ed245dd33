"""Model-free searchers: random search, regularized evolution, local search.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.search.simple import RegularizedEvolution, EvolutionConfig
    >>> re = RegularizedEvolution(EvolutionConfig(population_size=10, tournament_size=3), np.random.default_rng(0))
    >>> re.tell(re.ask(), 0.9)
"""

from __future__ import annotations

import collections
from dataclasses import dataclass

import numpy as np

from nasbench_sim.search.base import Observations
from nasbench_sim.space.cell import Cell
from nasbench_sim.space.sampling import mutate, neighbours, random_cell


@dataclass(frozen=True, kw_only=True)
class RandomSearchConfig:
    """Random search has no settings; cells follow the NB101 sampling protocol."""


class RandomSearch:
    """Independent NB101-protocol samples (duplicates allowed, as in the NB101 paper)."""

    def __init__(self, config: RandomSearchConfig, rng: np.random.Generator, **_: object) -> None:
        self.config = config
        self.rng = rng

    def ask(self) -> Cell:
        return random_cell(self.rng)

    def tell(self, cell: Cell, validation_accuracy: float) -> None:
        pass


@dataclass(frozen=True, kw_only=True)
class EvolutionConfig:
    """Regularized evolution (Real et al. 2019).

    Defaults are those of the NB101 authors' reference implementation
    (NASBench.ipynb: population 50, tournament 10, mutation rate 0.5).
    """

    population_size: int = 50
    tournament_size: int = 10
    mutation_rate: float = 0.5

    def __post_init__(self) -> None:
        if self.population_size < 2 or not 1 <= self.tournament_size <= self.population_size:
            raise ValueError("need population_size >= 2 and 1 <= tournament_size <= population_size")
        if self.mutation_rate <= 0:
            raise ValueError("mutation_rate must be > 0")


class RegularizedEvolution:
    """Aging evolution: tournament selection, mutate the winner, remove the oldest."""

    def __init__(self, config: EvolutionConfig, rng: np.random.Generator, **_: object) -> None:
        self.config = config
        self.rng = rng
        self.population: collections.deque[tuple[Cell, float]] = collections.deque()

    def ask(self) -> Cell:
        if len(self.population) < self.config.population_size:
            return random_cell(self.rng)
        picks = self.rng.choice(len(self.population), size=self.config.tournament_size, replace=False)
        parent = max((self.population[i] for i in picks), key=lambda member: member[1])[0]
        return mutate(parent, self.rng, mutation_rate=self.config.mutation_rate)

    def tell(self, cell: Cell, validation_accuracy: float) -> None:
        self.population.append((cell, float(validation_accuracy)))
        if len(self.population) > self.config.population_size:
            self.population.popleft()


@dataclass(frozen=True, kw_only=True)
class LocalSearchConfig:
    """Best-improvement local search over one-edit neighbours, restarting at local optima."""


class LocalSearch:
    """Evaluate all unseen neighbours of the current cell (random order), move to the best
    if it improves, else restart from a random cell."""

    def __init__(self, config: LocalSearchConfig, rng: np.random.Generator, **_: object) -> None:
        self.config = config
        self.rng = rng
        self.seen = Observations()
        self.current: tuple[Cell, float] | None = None
        self.queue: list[Cell] = []
        self.round: list[tuple[Cell, float]] = []

    def ask(self) -> Cell:
        while not self.queue:
            if self.current is None:
                self.queue = [random_cell(self.rng)]
                break
            fresh = [c for c in neighbours(self.current[0]) if c.hash not in self.seen.hashes]
            if not fresh:
                self.current = None  # nothing new around here: restart
                continue
            self.queue = [fresh[i] for i in self.rng.permutation(len(fresh))]
        return self.queue.pop(0)

    def tell(self, cell: Cell, validation_accuracy: float) -> None:
        self.seen.add(cell, validation_accuracy)
        if self.current is None:
            self.current = (cell, float(validation_accuracy))
            self.round = []
            return
        self.round.append((cell, float(validation_accuracy)))
        if not self.queue:  # neighbourhood finished
            best = max(self.round, key=lambda item: item[1])
            self.current = best if best[1] > self.current[1] else None
            self.round = []
