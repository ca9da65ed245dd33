"""The one table of searchers: name -> class, config class, display label, colour and marker.

The command line, the harness, the plots, the contract tests, the notebook and
the benchmarks all read it; adding a searcher means adding one line here.

Example:
    >>> from nasbench_sim.search.registry import algorithm, ALGORITHMS
    >>> algorithm("re").label
    'Regularized evolution'
    >>> algorithm("frob")
    Traceback (most recent call last):
    ...
    nasbench_sim.errors.ConfigError: unknown algorithm 'frob' (choices: rs, re, ls, gp, np, bananas, tpe, reinforce, mcts, hb, bohb, re-es)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nasbench_sim.errors import ConfigError
from nasbench_sim.search.model_based import GPBO, NPNAS, Bananas, BananasConfig, GPBOConfig, NPNASConfig
from nasbench_sim.search.multifidelity import (
    BOHB,
    BOHBConfig,
    EarlyStoppingConfig,
    EarlyStoppingEvolution,
    Hyperband,
    HyperbandConfig,
)
from nasbench_sim.search.rl import MCTS, MCTSConfig, Reinforce, ReinforceConfig
from nasbench_sim.search.simple import (
    EvolutionConfig,
    LocalSearch,
    LocalSearchConfig,
    RandomSearch,
    RandomSearchConfig,
    RegularizedEvolution,
)
from nasbench_sim.search.tpe import TPE, TPEConfig


@dataclass(frozen=True)
class AlgorithmSpec:
    """A registered searcher.

    Attributes:
        name: short name (CLI, file names).
        searcher: class built as `searcher(config, rng, device=...)`.
        config: its frozen config dataclass.
        label: name in plots and tables.
        color: fixed colour in every figure (hex).
        marker: fixed matplotlib marker in every figure.
        multi_fidelity: asks for budgets other than 108 epochs.
    """

    name: str
    searcher: type
    config: type
    label: str
    color: str
    marker: str
    multi_fidelity: bool = False


ALGORITHMS: dict[str, AlgorithmSpec] = {
    spec.name: spec
    for spec in (
        AlgorithmSpec("rs", RandomSearch, RandomSearchConfig, "Random search", "#000000", "o"),
        AlgorithmSpec("re", RegularizedEvolution, EvolutionConfig, "Regularized evolution", "#E69F00", "s"),
        AlgorithmSpec("ls", LocalSearch, LocalSearchConfig, "Local search", "#56B4E9", "^"),
        AlgorithmSpec("gp", GPBO, GPBOConfig, "GP-BO", "#009E73", "v"),
        AlgorithmSpec("np", NPNAS, NPNASConfig, "NP-NAS", "#D55E00", "D"),
        AlgorithmSpec("bananas", Bananas, BananasConfig, "BANANAS", "#0072B2", "P"),
        AlgorithmSpec("tpe", TPE, TPEConfig, "TPE", "#CC79A7", "X"),
        AlgorithmSpec("reinforce", Reinforce, ReinforceConfig, "REINFORCE", "#B8860B", "h"),
        AlgorithmSpec("mcts", MCTS, MCTSConfig, "MCTS", "#44AA99", "*"),
        AlgorithmSpec("hb", Hyperband, HyperbandConfig, "Hyperband", "#999999", "<", multi_fidelity=True),
        AlgorithmSpec("bohb", BOHB, BOHBConfig, "BOHB", "#882255", ">", multi_fidelity=True),
        AlgorithmSpec(
            "re-es",
            EarlyStoppingEvolution,
            EarlyStoppingConfig,
            "RE + early stopping",
            "#8C564B",
            "p",
            multi_fidelity=True,
        ),
    )
}


def algorithm(name: str) -> AlgorithmSpec:
    """The registered searcher called `name`.

    Raises:
        ConfigError: unknown name (the message lists the choices).
    """
    if name not in ALGORITHMS:
        raise ConfigError(f"unknown algorithm {name!r} (choices: {', '.join(ALGORITHMS)})")
    return ALGORITHMS[name]


def label(name: str) -> str:
    """Display label of an algorithm name (the name itself if unregistered)."""
    return ALGORITHMS[name].label if name in ALGORITHMS else name


def make_config(config_cls: type, values: Mapping[str, Any], where: str) -> Any:
    """`config_cls()` with some fields set: `override` of its defaults."""
    return override(config_cls(), values, where)


def override(config: Any, values: Mapping[str, Any], where: str) -> Any:
    """`config` with some fields replaced; a nested dataclass field takes a mapping of its own fields.

    Args:
        config: a frozen config dataclass instance.
        values: field -> value.
        where: what the values configure, for error messages (e.g. "algorithm 're'").

    Raises:
        ConfigError: unknown field (the message lists the choices) or a value the config rejects.
    """
    names = [f.name for f in dataclasses.fields(config)]
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise ConfigError(f"unknown setting(s) {unknown} for {where} (choices: {', '.join(sorted(names)) or 'none'})")
    merged = {name: getattr(config, name) for name in names}
    for key, value in values.items():
        if isinstance(value, Mapping) and dataclasses.is_dataclass(merged[key]):
            value = override(merged[key], value, f"{where}.{key}")
        merged[key] = value
    try:
        return type(config)(**merged)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"bad setting for {where}: {exc}") from None
