"""NAS algorithms as ask-and-tell searchers, each with a frozen config dataclass.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.search import RegularizedEvolution, EvolutionConfig
    >>> searcher = RegularizedEvolution(EvolutionConfig(), np.random.default_rng(0))
    >>> cell = searcher.ask()

The name -> class table for the command line lives in `nasbench_sim.cli`.
"""

from nasbench_sim.search.base import Observations, Searcher
from nasbench_sim.search.model_based import (
    GPBO,
    NPNAS,
    Bananas,
    BananasConfig,
    GPBOConfig,
    NPNASConfig,
    PoolSearcher,
)
from nasbench_sim.search.simple import (
    EvolutionConfig,
    LocalSearch,
    LocalSearchConfig,
    RandomSearch,
    RandomSearchConfig,
    RegularizedEvolution,
)
from nasbench_sim.search.tpe import TPE, TPEConfig

__all__ = [
    "GPBO",
    "NPNAS",
    "TPE",
    "Bananas",
    "BananasConfig",
    "EvolutionConfig",
    "GPBOConfig",
    "LocalSearch",
    "LocalSearchConfig",
    "NPNASConfig",
    "Observations",
    "PoolSearcher",
    "RandomSearch",
    "RandomSearchConfig",
    "RegularizedEvolution",
    "Searcher",
    "TPEConfig",
]
