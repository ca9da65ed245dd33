"""Greedy mutation search with restarts: mutate the best cell; after `patience` misses, start afresh.

Example:
    >>> import numpy as np
    >>> from nbs_example_plugin.greedy import GreedyConfig, GreedyMutation
    >>> searcher = GreedyMutation(GreedyConfig(), np.random.default_rng(0))
    >>> cell = searcher.ask(); searcher.tell(cell, 0.9)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nasbench_sim.space.cell import Cell
from nasbench_sim.space.sampling import mutate, random_cell


@dataclass(frozen=True, kw_only=True)
class GreedyConfig:
    """Settings of greedy mutation search.

    Attributes:
        patience: mutations without improvement before a random restart.
    """

    patience: int = 10


class GreedyMutation:
    """ask/tell searcher: `GreedyMutation(config, rng, device=...)`."""

    label = "Greedy mutation"

    def __init__(self, config: GreedyConfig, rng: np.random.Generator, *, device: str = "auto") -> None:
        self.config, self.rng = config, rng
        self.best: tuple[Cell, float] | None = None
        self.misses = 0

    def ask(self) -> Cell:
        if self.best is None or self.misses >= self.config.patience:
            self.best, self.misses = None, 0
            return random_cell(self.rng)
        return mutate(self.best[0], self.rng)

    def tell(self, cell: Cell, validation_accuracy: float) -> None:
        if self.best is None or validation_accuracy > self.best[1]:
            self.best, self.misses = (cell, validation_accuracy), 0
        else:
            self.misses += 1
