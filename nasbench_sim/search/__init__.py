"""NAS algorithms as ask-and-tell searchers, each with a frozen config dataclass.

`nasbench_sim.search.registry.ALGORITHMS` is the one name -> searcher table.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.search import RegularizedEvolution, EvolutionConfig
    >>> searcher = RegularizedEvolution(EvolutionConfig(), np.random.default_rng(0))
    >>> cell = searcher.ask()
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public names -> the module that defines them, imported on first use (so that listing
#: the registry's names imports no torch).
_WHERE = {
    **dict.fromkeys(["FitPredict", "Observations", "Query", "Searcher", "SearcherBase", "Surrogate", "drive"], "base"),
    **dict.fromkeys(
        [
            "GPBO",
            "NPNAS",
            "Bananas",
            "BananasConfig",
            "GPBOConfig",
            "ModelSearchConfig",
            "NPNASConfig",
            "PoolConfig",
            "PoolSearcher",
        ],
        "model_based",
    ),
    **dict.fromkeys(
        ["ALGORITHMS", "AlgorithmSpec", "EmptyConfig", "algorithm", "names", "register", "resolve", "unregister"],
        "registry",
    ),
    **dict.fromkeys(
        [
            "EvolutionConfig",
            "LocalSearch",
            "LocalSearchConfig",
            "MutationConfig",
            "RandomSearch",
            "RandomSearchConfig",
            "RegularizedEvolution",
        ],
        "simple",
    ),
    **dict.fromkeys(["MeanStdModel", "ModelBased", "ModelBasedConfig", "build_model", "model_based"], "predictor"),
    **dict.fromkeys(["TPE", "TPEConfig"], "tpe"),
    **dict.fromkeys(["ASHA", "ASHAConfig", "AsyncBOHB", "AsyncBOHBConfig", "AsyncHyperbandConfig"], "asha"),
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"nasbench_sim.search.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'nasbench_sim.search' has no attribute {name!r}")


__all__ = sorted(_WHERE)
