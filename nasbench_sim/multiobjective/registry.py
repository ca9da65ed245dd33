"""The one table of multi-objective searcher names, and building a searcher by name.

Three ways add a searcher without editing this package, as for single-objective
ones (`search.registry`):

- `register(MySearcher)` in the running process (a notebook cell, a script);
- an installed plugin package declaring an entry point in the group
  `nasbench_sim.multiobjective_searchers` (`name = "package.module:Class"`);
- anywhere a name is accepted (`compare --algorithms`, `run_experiment`): `"package.module:Class"`.

A searcher class is built as `cls(config, rng)`; its config class is its
`config_class` attribute, else the annotation of `__init__`'s `config`, else
an empty config.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.multiobjective.registry import MO_SEARCHERS, build_searcher
    >>> sorted(MO_SEARCHERS)
    ['mo-re', 'mo-rs', 'nsga2', 'parego', 'pls']
    >>> type(build_searcher("nsga2", np.random.default_rng(0), population_size=20)).__name__
    'NSGA2'
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

import numpy as np

from nasbench_sim.errors import ConfigError
from nasbench_sim.multiobjective.parego import ParEGO, ParEGOConfig
from nasbench_sim.multiobjective.search import (
    NSGA2,
    MORandomSearch,
    MORandomSearchConfig,
    MORegularizedEvolution,
    MORegularizedEvolutionConfig,
    MultiObjectiveSearcher,
    NSGA2Config,
    ParetoLocalSearch,
    ParetoLocalSearchConfig,
)
from nasbench_sim.search.registry import check_name, config_class_of, load_object

#: Name -> (config class, searcher class).
MO_SEARCHERS: dict[str, tuple[type, type]] = {
    "mo-rs": (MORandomSearchConfig, MORandomSearch),
    "mo-re": (MORegularizedEvolutionConfig, MORegularizedEvolution),
    "nsga2": (NSGA2Config, NSGA2),
    "pls": (ParetoLocalSearchConfig, ParetoLocalSearch),
    "parego": (ParEGOConfig, ParEGO),
}


#: Entry-point group of plugin packages' multi-objective searchers (value: `module:Class`).
PLUGIN_GROUP = "nasbench_sim.multiobjective_searchers"


def register(searcher_class: type, name: str | None = None) -> str:
    """Add a searcher class under `name` (default: its `name` attribute, else its class name, lowercased).

    Raises:
        ConfigError: not a searcher class, or a bad name.
    """
    name = check_name(name or getattr(searcher_class, "name", None) or searcher_class.__name__.lower())
    MO_SEARCHERS[name] = (config_class_of(_checked_class(searcher_class)), searcher_class)
    return name


def resolve(item: str | type) -> tuple[str, type, type]:
    """(name, config class, searcher class) of a registered or plugin name, `'module:Class'` or a class.

    Raises:
        ConfigError: an unknown name (the message lists the choices) or a reference that is no searcher.
    """
    if isinstance(item, type):
        cls = _checked_class(item)
        name = check_name(getattr(cls, "name", None) or cls.__name__.lower())
        if name in MO_SEARCHERS and MO_SEARCHERS[name][1] is not cls:
            raise ConfigError(
                f"{cls.__module__}.{cls.__qualname__} would be named {name!r}, which is {qualified(MO_SEARCHERS[name][1])}:"
                " give it another name (a `name` class attribute, or register(cls, 'mine'))"
            )
        return name, config_class_of(cls), cls
    if not isinstance(item, str):
        raise ConfigError(f"a multi-objective searcher is a name, 'module:Class' or a class, got {item!r:.60}")
    if ":" in item:
        return resolve(_checked_class(load_object(item)))
    if item not in MO_SEARCHERS:
        plugins = {ep.name: ep for ep in metadata.entry_points(group=PLUGIN_GROUP)}
        if item in plugins:
            register(_checked_class(plugins[item].load()), item)
        else:
            choices = ", ".join([*MO_SEARCHERS, *plugins])
            raise ConfigError(f"unknown multi-objective searcher {item!r} (choices: {choices})")
    config_class, searcher_class = MO_SEARCHERS[item]
    return item, config_class, searcher_class


def qualified(cls: type) -> str:
    """`module.Class` of a searcher class (recorded with each run, so a run of another class is never reused)."""
    return f"{cls.__module__}.{cls.__qualname__}"


def _checked_class(obj: Any) -> type:
    if not isinstance(obj, type) or not all(callable(getattr(obj, m, None)) for m in ("ask", "tell")):
        raise ConfigError(f"{obj!r:.60} is not a multi-objective searcher class (it needs ask() and tell())")
    return obj


def build_searcher(item: str | type, rng: np.random.Generator, **settings: Any) -> MultiObjectiveSearcher:
    """A searcher (see `resolve`) with its config's defaults overridden by `settings`.

    Raises:
        ConfigError: an unknown name (the message lists the choices) or setting.
    """
    name, config_class, searcher_class = resolve(item)
    unknown = sorted(set(settings) - set(getattr(config_class, "__dataclass_fields__", {})))
    if unknown:
        known = ", ".join(getattr(config_class, "__dataclass_fields__", {})) or "none"
        raise ConfigError(f"{name}: unknown setting {', '.join(unknown)} (settings: {known})")
    try:
        config = config_class(**settings)
    except TypeError as exc:  # e.g. a setting without a default that was not given
        raise ConfigError(f"{name}: cannot build {config_class.__name__} ({exc})") from None
    return searcher_class(config, rng)
