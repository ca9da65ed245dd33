"""NAS algorithms as ask-and-tell searchers, each with a frozen config dataclass.

`nasbench_sim.search.registry.ALGORITHMS` is the one name -> searcher table.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.search import RegularizedEvolution, EvolutionConfig
    >>> searcher = RegularizedEvolution(EvolutionConfig(), np.random.default_rng(0))
    >>> cell = searcher.ask()
"""

from nasbench_sim.search.base import FitPredict, Observations, Query, Searcher, SearcherBase, Surrogate, drive
from nasbench_sim.search.model_based import (
    GPBO,
    NPNAS,
    Bananas,
    BananasConfig,
    GPBOConfig,
    ModelSearchConfig,
    NPNASConfig,
    PoolConfig,
    PoolSearcher,
)
from nasbench_sim.search.registry import ALGORITHMS, AlgorithmSpec, algorithm
from nasbench_sim.search.simple import (
    EvolutionConfig,
    LocalSearch,
    LocalSearchConfig,
    MutationConfig,
    RandomSearch,
    RandomSearchConfig,
    RegularizedEvolution,
)
from nasbench_sim.search.tpe import TPE, TPEConfig

__all__ = [
    "ALGORITHMS",
    "GPBO",
    "NPNAS",
    "TPE",
    "AlgorithmSpec",
    "Bananas",
    "BananasConfig",
    "EvolutionConfig",
    "FitPredict",
    "GPBOConfig",
    "LocalSearch",
    "LocalSearchConfig",
    "ModelSearchConfig",
    "MutationConfig",
    "NPNASConfig",
    "Observations",
    "PoolConfig",
    "PoolSearcher",
    "Query",
    "RandomSearch",
    "RandomSearchConfig",
    "RegularizedEvolution",
    "Searcher",
    "SearcherBase",
    "Surrogate",
    "TPEConfig",
    "algorithm",
    "drive",
]
