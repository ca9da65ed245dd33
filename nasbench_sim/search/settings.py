"""Settings of a searcher's config: override fields by name (nested configs by mapping), check their types.

The one path by which settings from a TOML file, the CLI or `compare(configs=...)` reach a config.

Example:
    >>> from nasbench_sim.search.settings import override
    >>> from nasbench_sim.search.simple import EvolutionConfig
    >>> override(EvolutionConfig(), {"population_size": 20}, "algorithm 're'").population_size
    20
    >>> override(EvolutionConfig(), {"population_size": 12.7}, "algorithm 're'")
    Traceback (most recent call last):
    ...
    nasbench_sim.errors.ConfigError: bad setting for algorithm 're': population_size must be int, got 12.7
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any

from nasbench_sim._checks import is_whole
from nasbench_sim.errors import ConfigError


def override(config: Any, values: Mapping[str, Any], where: str) -> Any:
    """`config` with some fields replaced; a nested dataclass field takes a mapping of its own fields.

    Args:
        config: a frozen config dataclass instance.
        values: field -> value.
        where: what the values configure, for error messages (e.g. "algorithm 're'").

    Raises:
        ConfigError: unknown field (the message lists the choices) or a value the config rejects.
    """
    names_ = [f.name for f in dataclasses.fields(config)]
    unknown = sorted(set(values) - set(names_))
    if unknown:
        raise ConfigError(f"unknown setting(s) {unknown} for {where} (choices: {', '.join(sorted(names_)) or 'none'})")
    merged = {name: getattr(config, name) for name in names_}
    for key, value in values.items():
        if isinstance(value, Mapping) and dataclasses.is_dataclass(merged[key]):
            value = override(merged[key], value, f"{where}.{key}")
        merged[key] = value
    _check_fields(type(config), merged, where)  # before the config's own checks compare the values
    try:
        return type(config)(**merged)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"bad setting for {where}: {exc}") from None


def check_types(config: Any, where: str) -> None:
    """Refuse a config field whose value does not have its annotated type (e.g. population_size=12.7).

    Checks int (not bool), float (int allowed), bool, str, `X | None`, tuples and nested
    config dataclasses; other annotations (callables, objects, Any) are the config's own business.

    Raises:
        ConfigError: naming the field, the expected type and the value.
    """
    _check_fields(type(config), {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}, where)


def _check_fields(cls: type, values: Mapping[str, Any], where: str) -> None:
    """`check_types` of field values of a config class, before or after it is built."""
    hints = _hints(cls)
    for name, value in values.items():
        hint = hints.get(name)
        if hint is not None and not _fits(value, hint):
            raise ConfigError(f"bad setting for {where}: {name} must be {_describe(hint)}, got {value!r:.60}")
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            check_types(value, f"{where}.{name}")


def _hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls)
    except Exception:  # annotations that cannot be resolved (a class defined in a notebook cell)
        return {}


def _fits(value: Any, hint: Any) -> bool:
    import numpy as np

    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, (bool, np.bool_))
    if hint is int:
        return is_whole(value)
    if hint is float:
        return is_whole(value) or isinstance(value, (float, np.floating))
    if hint is str:
        return isinstance(value, str)
    if origin is tuple:
        args = [a for a in typing.get_args(hint) if a is not Ellipsis]
        return isinstance(value, tuple) and (len(args) != 1 or all(_fits(v, args[0]) for v in value))
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return isinstance(value, hint)
    return True


def _describe(hint: Any) -> str:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " or ".join(_describe(h) for h in typing.get_args(hint))
    return "None" if hint is type(None) else getattr(hint, "__name__", str(hint))
