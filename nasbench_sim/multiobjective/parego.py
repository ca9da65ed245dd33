"""ParEGO (Knowles 2006) on NB101: a fresh random scalarisation per step, modelled by the project's GP.

Each step after `num_init` random cells draws a weight vector uniformly on the
simplex, normalises the observed objectives to [0, 1] (their observed minimum
and maximum), scalarises them with the augmented Chebyshev function
`max_j w_j f_j + rho * sum_j w_j f_j`, fits the distance GP of GP-BO
(`search.models.gp.DistanceGP`, naszilla's hyper-parameters) to the
scalarised values on the categorical encoding, and asks for the candidate with
the lowest lower confidence bound `mean - std` among `pool_size` candidates:
mutations of the best observed cells under this weight, and random cells, none
asked before.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.multiobjective.parego import ParEGO, ParEGOConfig
    >>> searcher = ParEGO(ParEGOConfig(num_init=3, pool_size=20), np.random.default_rng(0))
    >>> for _ in range(5):
    ...     cell = searcher.ask()
    ...     searcher.tell(cell, np.array([float(cell.num_edges), float(-cell.num_vertices)]))
    >>> len(searcher.observed)
    5
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nasbench_sim._checks import whole_number
from nasbench_sim.errors import ConfigError
from nasbench_sim.multiobjective.search import UniqueCells
from nasbench_sim.search.models.gp import DistanceGP, DistanceGPConfig
from nasbench_sim.space.cell import Cell
from nasbench_sim.space.encodings import categorical
from nasbench_sim.space.sampling import mutate, random_cell


@dataclass(frozen=True, kw_only=True)
class ParEGOConfig:
    """Random start, candidate pool, parents of the mutations, and the Chebyshev augmentation rho."""

    num_init: int = 10
    pool_size: int = 200
    parents: int = 10
    rho: float = 0.05

    def __post_init__(self) -> None:
        for name in ("num_init", "pool_size", "parents"):
            whole_number(getattr(self, name), name)
        if isinstance(self.rho, bool) or not isinstance(self.rho, (int, float)) or not 0 <= self.rho < np.inf:
            raise ConfigError(f"rho must be a number >= 0, got {self.rho!r}")


class ParEGO:
    """ParEGO (see the module docstring)."""

    def __init__(self, config: ParEGOConfig, rng: np.random.Generator) -> None:
        self.config = config
        self.rng = rng
        self._unique = UniqueCells(rng)
        self.observed: list[tuple[Cell, np.ndarray]] = []
        self.model = DistanceGP(DistanceGPConfig(), rng)

    def ask(self) -> Cell:
        if len(self.observed) < self.config.num_init:
            return self._unique.fresh(lambda: random_cell(self.rng))
        cells = [cell for cell, _ in self.observed]
        values = np.array([objectives for _, objectives in self.observed])
        low, high = values.min(axis=0), values.max(axis=0)
        scaled = (values - low) / np.where(high > low, high - low, 1.0)
        weights = self.rng.dirichlet(np.ones(values.shape[1]))
        scalar = (scaled * weights).max(axis=1) + self.config.rho * (scaled * weights).sum(axis=1)
        self.model.fit(categorical(cells), scalar)
        best = [cells[i] for i in np.argsort(scalar, kind="stable")[: self.config.parents].tolist()]
        pool: list[Cell] = []
        seen = set(self._unique.seen)
        for k in range(self.config.pool_size):
            draw = mutate(best[k % len(best)], self.rng) if k % 2 == 0 else random_cell(self.rng)
            if draw not in seen:
                seen.add(draw)
                pool.append(draw)
        if not pool:
            return self._unique.fresh(lambda: random_cell(self.rng))
        mean, std = self.model.predict(categorical(pool))
        choice = pool[int(np.argmin(mean - std))]
        self._unique.seen.add(choice)
        return choice

    def tell(self, cell: Cell, objectives: np.ndarray) -> None:
        self.observed.append((cell, np.asarray(objectives, dtype=np.float64)))
