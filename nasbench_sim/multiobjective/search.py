"""Multi-objective searchers: ask for a cell, be told all its objectives (each minimised).

A multi-objective searcher keeps the single-objective contract's shape:
`ask() -> Cell`, `tell(cell, objectives)` with `objectives` an (m,) float64
array, every objective to be minimised (the run loop,
`multiobjective.run`, says which and in what units). Built as
`cls(config, rng)`, with frozen keyword-only configs; no hidden global RNG.

- `MORandomSearch`: uniform cells (the NB101 sampler), none twice.
- `MORegularizedEvolution`: regularized evolution whose tournament picks the
  sample's best by Pareto rank within the sample, ties broken by crowding
  distance (the idea of syne-tune's MOREA); the oldest member dies.
- `NSGA2`: Deb et al.'s NSGA-II with mutation as its variation (NB101 cells
  have no natural crossover): binary tournaments on (rank, crowding) make a
  generation of children; parents and children are cut back to the population
  by non-dominated sorting and crowding distance.
- `ParetoLocalSearch`: Pareto local search (as in LOMONAS, simplified): the
  non-dominated archive's unexplored members are explored one at a time, all
  their neighbours evaluated; a random restart when every member is explored.

`multiobjective.parego` adds a model-based one (ParEGO); `multiobjective.registry`
names them all.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.multiobjective.search import MORegularizedEvolution, MORegularizedEvolutionConfig
    >>> searcher = MORegularizedEvolution(MORegularizedEvolutionConfig(population_size=4, sample_size=2),
    ...                                   np.random.default_rng(0))
    >>> for k in range(6):
    ...     cell = searcher.ask()
    ...     searcher.tell(cell, np.array([float(k % 3), float(cell.num_edges)]))
    >>> len(searcher.population)
    4
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import moocore
import numpy as np

from nasbench_sim._checks import whole_number
from nasbench_sim.errors import ConfigError
from nasbench_sim.space.cell import Cell
from nasbench_sim.space.sampling import mutate, neighbours, random_cell


@runtime_checkable
class MultiObjectiveSearcher(Protocol):
    """Ask-and-tell multi-objective NAS algorithm (all objectives minimised)."""

    def ask(self) -> Cell:
        """The next cell to evaluate."""
        ...

    def tell(self, cell: Cell, objectives: np.ndarray) -> None:
        """Report the (m,) objectives of what `ask` returned."""
        ...


def pareto_ranks(points: np.ndarray) -> np.ndarray:
    """(n,) int: 0 for the non-dominated points of `points` (n, m), 1 for the next front, and so on."""
    if len(points) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.asarray(moocore.pareto_rank(np.asarray(points, dtype=np.float64)), dtype=np.int64)


def crowding_distances(points: np.ndarray) -> np.ndarray:
    """(n,) crowding distance of each point of one front (n, m) (Deb et al. 2002): the ends are infinite."""
    n, m = points.shape
    distance = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for j in range(m):
        order = np.argsort(points[:, j], kind="stable")
        span = points[order[-1], j] - points[order[0], j]
        distance[order[[0, -1]]] = np.inf
        if span > 0:
            distance[order[1:-1]] += (points[order[2:], j] - points[order[:-2], j]) / span
    return distance


def _rank_and_crowding(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ranks, crowding distances within each rank) of points (n, m)."""
    ranks = pareto_ranks(points)
    crowding = np.zeros(len(points))
    for rank in np.unique(ranks).tolist():
        members = np.flatnonzero(ranks == rank)
        crowding[members] = crowding_distances(points[members])
    return ranks, crowding


def _best(points: np.ndarray) -> int:
    """Index of the best point: lowest Pareto rank, then largest crowding distance, then first."""
    ranks, crowding = _rank_and_crowding(points)
    return int(np.lexsort((np.arange(len(points)), -crowding, ranks))[0])


class UniqueCells:
    """Cells none of which was asked before (after `tries` draws that all were, a repeat is allowed)."""

    def __init__(self, rng: np.random.Generator, tries: int = 100) -> None:
        self.rng = rng
        self.seen: set[Cell] = set()
        self.tries = tries

    def fresh(self, draw: Any) -> Cell:
        cell = draw()
        for _ in range(self.tries):
            if cell not in self.seen:
                break
            cell = draw()
        self.seen.add(cell)
        return cell


@dataclass(frozen=True, kw_only=True)
class MORandomSearchConfig:
    """Uniform random cells (the NB101 paper's sampler), none proposed twice."""


class MORandomSearch:
    """Multi-objective random search (see the module docstring)."""

    def __init__(self, config: MORandomSearchConfig, rng: np.random.Generator) -> None:
        self.config = config
        self._unique = UniqueCells(rng)

    def ask(self) -> Cell:
        return self._unique.fresh(lambda: random_cell(self._unique.rng))

    def tell(self, cell: Cell, objectives: np.ndarray) -> None:
        pass


@dataclass(frozen=True, kw_only=True)
class MORegularizedEvolutionConfig:
    """Population and tournament sizes (defaults as the single-objective RE of the naszilla protocol)."""

    population_size: int = 50
    sample_size: int = 10

    def __post_init__(self) -> None:
        whole_number(self.population_size, "population_size")
        whole_number(self.sample_size, "sample_size")


class MORegularizedEvolution:
    """Multi-objective regularized evolution (see the module docstring)."""

    def __init__(self, config: MORegularizedEvolutionConfig, rng: np.random.Generator) -> None:
        self.config = config
        self.rng = rng
        self._unique = UniqueCells(rng)
        self.population: deque[tuple[Cell, np.ndarray]] = deque()

    def ask(self) -> Cell:
        if len(self.population) < self.config.population_size:
            return self._unique.fresh(lambda: random_cell(self.rng))
        size = min(self.config.sample_size, len(self.population))
        sample = self.rng.choice(len(self.population), size=size, replace=False)
        parent = self.population[int(sample[_best(np.array([self.population[i][1] for i in sample]))])][0]
        return self._unique.fresh(lambda: mutate(parent, self.rng))

    def tell(self, cell: Cell, objectives: np.ndarray) -> None:
        self.population.append((cell, np.asarray(objectives, dtype=np.float64)))
        if len(self.population) > self.config.population_size:
            self.population.popleft()  # the oldest dies


@dataclass(frozen=True, kw_only=True)
class NSGA2Config:
    """Population size (each generation makes as many children)."""

    population_size: int = 50

    def __post_init__(self) -> None:
        whole_number(self.population_size, "population_size")
        if self.population_size < 2:
            raise ConfigError("population_size must be at least 2 (binary tournaments)")


class NSGA2:
    """NSGA-II with mutation (see the module docstring)."""

    def __init__(self, config: NSGA2Config, rng: np.random.Generator) -> None:
        self.config = config
        self.rng = rng
        self._unique = UniqueCells(rng)
        self.population: list[tuple[Cell, np.ndarray]] = []
        self._children: list[tuple[Cell, np.ndarray]] = []
        self._queue: deque[Cell] = deque()

    def ask(self) -> Cell:
        if len(self.population) < self.config.population_size:
            return self._unique.fresh(lambda: random_cell(self.rng))
        if not self._queue:
            self._queue.extend(self._offspring())
        return self._queue.popleft()

    def _offspring(self) -> list[Cell]:
        points = np.array([objectives for _, objectives in self.population])
        ranks, crowding = _rank_and_crowding(points)
        children = []
        for _ in range(self.config.population_size):
            a, b = self.rng.choice(len(self.population), size=2, replace=False)
            better = a if (ranks[a], -crowding[a]) <= (ranks[b], -crowding[b]) else b
            parent = self.population[int(better)][0]
            children.append(self._unique.fresh(lambda parent=parent: mutate(parent, self.rng)))
        return children

    def tell(self, cell: Cell, objectives: np.ndarray) -> None:
        entry = (cell, np.asarray(objectives, dtype=np.float64))
        if len(self.population) < self.config.population_size:
            self.population.append(entry)
            return
        self._children.append(entry)
        if len(self._children) == self.config.population_size:  # a generation is complete
            self.population = _survivors(self.population + self._children, self.config.population_size)
            self._children = []


def _survivors(members: list[tuple[Cell, np.ndarray]], size: int) -> list[tuple[Cell, np.ndarray]]:
    """The `size` best members by non-dominated sorting, the last front cut by crowding distance."""
    ranks, crowding = _rank_and_crowding(np.array([objectives for _, objectives in members]))
    order = np.lexsort((np.arange(len(members)), -crowding, ranks))[:size]
    return [members[i] for i in sorted(order.tolist())]


@dataclass(frozen=True, kw_only=True)
class ParetoLocalSearchConfig:
    """Random cells evaluated before the local search starts, and after each restart."""

    initial_cells: int = 10

    def __post_init__(self) -> None:
        whole_number(self.initial_cells, "initial_cells")


class ParetoLocalSearch:
    """Pareto local search (see the module docstring)."""

    def __init__(self, config: ParetoLocalSearchConfig, rng: np.random.Generator) -> None:
        self.config = config
        self.rng = rng
        self._unique = UniqueCells(rng)
        self.archive: list[tuple[Cell, np.ndarray]] = []  # non-dominated among the evaluated cells
        self._explored: set[Cell] = set()
        self._queue: deque[Cell] = deque()
        self._random_left = config.initial_cells

    def ask(self) -> Cell:
        while not self._queue and self._random_left == 0:
            unexplored = [cell for cell, _ in self.archive if cell not in self._explored]
            if not unexplored:  # a local optimum: restart
                self._random_left = self.config.initial_cells
                self.archive = []
                break
            centre = unexplored[int(self.rng.integers(len(unexplored)))]
            self._explored.add(centre)
            fresh = [cell for cell in neighbours(centre) if cell not in self._unique.seen]
            self._queue.extend(fresh[i] for i in self.rng.permutation(len(fresh)).tolist())
        if self._queue:
            cell = self._queue.popleft()
            self._unique.seen.add(cell)
            return cell
        self._random_left -= 1
        return self._unique.fresh(lambda: random_cell(self.rng))

    def tell(self, cell: Cell, objectives: np.ndarray) -> None:
        members = [*self.archive, (cell, np.asarray(objectives, dtype=np.float64))]
        keep = moocore.is_nondominated(np.array([objectives for _, objectives in members]), keep_weakly=True)
        self.archive = [member for member, kept in zip(members, keep.tolist(), strict=True) if kept]
