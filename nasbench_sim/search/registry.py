"""The one table of searchers: name -> class, config class, display label, colour and marker.

Built-in searchers are listed here by import path and loaded on first use, so
listing names (`names()`, the CLI's `--help`) imports no torch. Three ways add
a searcher without editing this package:

- `register(MySearcher)` (or an `AlgorithmSpec`) in the running process;
- an installed plugin package declaring an entry point in the group
  `nasbench_sim.searchers` (`name = "package.module:Class"`);
- anywhere a name is accepted: a class, an `AlgorithmSpec` or `"package.module:Class"`
  (`resolve`).

A searcher class is built as `cls(config, rng, *, device=...)`; its config class
is its `config_class` attribute, else the annotation of `__init__`'s `config`,
else `EmptyConfig`.

Example:
    >>> from nasbench_sim.search.registry import algorithm, ALGORITHMS
    >>> algorithm("re").label
    'Regularized evolution'
    >>> algorithm("frob")
    Traceback (most recent call last):
    ...
    nasbench_sim.errors.ConfigError: unknown algorithm 'frob' (choices: rs, re, ls, gp, np, bananas, tpe, reinforce, mcts, hb, bohb, re-es, asha, hb-async, bohb-async)
"""

from __future__ import annotations

import dataclasses
import importlib
import re
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from nasbench_sim.errors import ConfigError

#: Entry-point group of plugin packages' searchers (value: `module:Class` or `module:spec`).
PLUGIN_GROUP = "nasbench_sim.searchers"
#: Allowed algorithm names (they name result folders).
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}")


@dataclass(frozen=True)
class EmptyConfig:
    """The config of a searcher that has no settings."""


@dataclass(frozen=True)
class AlgorithmSpec:
    """A searcher the harness can run.

    Attributes:
        name: short name (CLI, result folders).
        searcher: class built as `searcher(config, rng, device=...)`.
        config: its frozen config dataclass.
        label: name in plots and tables (default: `name`).
        color: fixed colour in every figure (hex; None: one from a fixed palette, per experiment).
        marker: fixed matplotlib marker (None: one from a fixed list).
        multi_fidelity: asks for budgets other than 108 epochs.
        default: the config instance used when none is given (None: `config()`).
        base: registry name whose protocol settings apply (default: `name`).
    """

    name: str
    searcher: type
    config: type = EmptyConfig
    label: str | None = None
    color: str | None = None
    marker: str | None = None
    multi_fidelity: bool = False
    default: Any = None
    base: str | None = None

    def __post_init__(self) -> None:
        check_name(self.name)
        if not isinstance(self.searcher, type):
            raise ConfigError(f"algorithm {self.name!r}: searcher must be a class, got {self.searcher!r}")
        if not (dataclasses.is_dataclass(self.config) and isinstance(self.config, type)):
            raise ConfigError(f"algorithm {self.name!r}: config must be a dataclass, got {self.config!r}")
        if self.default is not None and not isinstance(self.default, self.config):
            raise ConfigError(f"algorithm {self.name!r}: default must be a {self.config.__name__}")
        if self.label is None:
            object.__setattr__(self, "label", self.name)

    def make_config(self) -> Any:
        """The config used when none is given."""
        return self.default if self.default is not None else self.config()

    @property
    def settings_key(self) -> str:
        """The name under which protocols keep this searcher's settings."""
        return self.base or self.name


def check_name(name: Any) -> str:
    """`name` if it is a valid algorithm name (letters, digits, `_.+-`; it names a folder)."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise ConfigError(
            f"bad algorithm name {name!r}: use up to 64 letters, digits and _.+- (starting with a letter or digit)"
        )
    return name


_S = "nasbench_sim.search"
#: Built-in searchers: name -> (searcher, config, label, colour, marker, multi-fidelity); loaded on first use.
_BUILTINS: dict[str, tuple[str, str, str, str, str, bool]] = {
    "rs": (f"{_S}.simple:RandomSearch", f"{_S}.simple:RandomSearchConfig", "Random search", "#000000", "o", False),
    "re": (
        f"{_S}.simple:RegularizedEvolution",
        f"{_S}.simple:EvolutionConfig",
        "Regularized evolution",
        "#E69F00",
        "s",
        False,
    ),
    "ls": (f"{_S}.simple:LocalSearch", f"{_S}.simple:LocalSearchConfig", "Local search", "#56B4E9", "^", False),
    "gp": (f"{_S}.model_based:GPBO", f"{_S}.model_based:GPBOConfig", "GP-BO", "#009E73", "v", False),
    "np": (f"{_S}.model_based:NPNAS", f"{_S}.model_based:NPNASConfig", "NP-NAS", "#D55E00", "D", False),
    "bananas": (f"{_S}.model_based:Bananas", f"{_S}.model_based:BananasConfig", "BANANAS", "#0072B2", "P", False),
    "tpe": (f"{_S}.tpe:TPE", f"{_S}.tpe:TPEConfig", "TPE", "#CC79A7", "X", False),
    "reinforce": (f"{_S}.rl:Reinforce", f"{_S}.rl:ReinforceConfig", "REINFORCE", "#B8860B", "h", False),
    "mcts": (f"{_S}.rl:MCTS", f"{_S}.rl:MCTSConfig", "MCTS", "#44AA99", "*", False),
    "hb": (f"{_S}.multifidelity:Hyperband", f"{_S}.multifidelity:HyperbandConfig", "Hyperband", "#999999", "<", True),
    "bohb": (f"{_S}.multifidelity:BOHB", f"{_S}.multifidelity:BOHBConfig", "BOHB", "#882255", ">", True),
    "re-es": (
        f"{_S}.multifidelity:EarlyStoppingEvolution",
        f"{_S}.multifidelity:EarlyStoppingConfig",
        "RE + early stopping",
        "#8C564B",
        "p",
        True,
    ),
    "asha": (f"{_S}.asha:ASHA", f"{_S}.asha:ASHAConfig", "ASHA", "#117733", "d", True),
    "hb-async": (f"{_S}.asha:ASHA", f"{_S}.asha:AsyncHyperbandConfig", "Async Hyperband", "#DDCC77", "8", True),
    "bohb-async": (f"{_S}.asha:AsyncBOHB", f"{_S}.asha:AsyncBOHBConfig", "Async BOHB", "#AA4499", "H", True),
}


def load_object(reference: str) -> Any:
    """The object named by `'package.module:attribute'` (attribute may be dotted).

    Raises:
        ConfigError: malformed reference, module not importable or no such attribute.
    """
    module_name, sep, attribute = reference.partition(":")
    if not sep or not module_name or not attribute:
        raise ConfigError(f"bad reference {reference!r}: use package.module:Class")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"cannot import {module_name!r} for {reference!r} ({exc})") from None
    for part in attribute.split("."):
        if not hasattr(obj, part):
            raise ConfigError(f"{module_name!r} has no attribute {attribute!r} (from {reference!r})")
        obj = getattr(obj, part)
    return obj


def spec_from_class(cls: type, name: str | None = None) -> AlgorithmSpec:
    """An `AlgorithmSpec` for a searcher class (name: `name`, else `cls.name`, else the class name, lowercased)."""
    if not isinstance(cls, type):
        raise ConfigError(f"expected a searcher class, got {cls!r}")
    for method in ("ask", "tell"):
        if not callable(getattr(cls, method, None)):
            raise ConfigError(f"{cls.__qualname__} is not a searcher: it has no {method}() method")
    return AlgorithmSpec(
        name=name or getattr(cls, "name", None) or cls.__name__.lower(),
        searcher=cls,
        config=config_class_of(cls),
        label=getattr(cls, "label", None) or cls.__name__,
        multi_fidelity=bool(getattr(cls, "multi_fidelity", False)),
    )


def config_class_of(cls: type) -> type:
    """A searcher class's config class: its `config_class`, else `__init__`'s `config` annotation, else `EmptyConfig`."""
    declared = getattr(cls, "config_class", None)
    if declared is not None:
        return declared
    try:
        hint = typing.get_type_hints(cls.__init__).get("config")
    except Exception:  # unresolvable annotations: fall back to no settings
        hint = None
    return hint if isinstance(hint, type) and dataclasses.is_dataclass(hint) else EmptyConfig


def as_spec(item: Any, name: str | None = None) -> AlgorithmSpec:
    """A registry name, `'module:attr'`, class or `AlgorithmSpec` as a spec (renamed to `name` if given)."""
    if isinstance(item, str):
        spec = _from_reference(item) if ":" in item else ALGORITHMS[item]
    elif isinstance(item, AlgorithmSpec):
        spec = item
    elif isinstance(item, type):
        spec = spec_from_class(item, name)
    else:
        raise ConfigError(f"an algorithm is a name, a searcher class or an AlgorithmSpec, got {item!r}")
    if name is not None and name != spec.name:
        check_name(name)
        label = name if spec.label == spec.name or isinstance(item, str) else spec.label
        spec = dataclasses.replace(spec, name=name, label=label, color=None, marker=None, base=spec.settings_key)
    return spec


def _from_reference(reference: str) -> AlgorithmSpec:
    obj = load_object(reference)
    if isinstance(obj, AlgorithmSpec):
        return obj
    if isinstance(obj, type):
        return spec_from_class(obj)
    raise ConfigError(f"{reference!r} is neither a searcher class nor an AlgorithmSpec")


def resolve(algorithms: Any) -> dict[str, AlgorithmSpec]:
    """What `compare` accepts as algorithms, as name -> spec in order.

    Args:
        algorithms: 'rs,re'; a list of names, `'module:Class'`, classes or specs; or a mapping
            name -> any of those.

    Raises:
        ConfigError: none given, an unknown name, or two algorithms with one name.
    """
    if isinstance(algorithms, str):
        items: list[tuple[str | None, Any]] = [(None, n.strip()) for n in algorithms.split(",") if n.strip()]
    elif isinstance(algorithms, Mapping):
        items = list(algorithms.items())
    elif isinstance(algorithms, (type, AlgorithmSpec)):
        items = [(None, algorithms)]
    else:
        try:
            items = [(None, a) for a in algorithms]
        except TypeError:
            raise ConfigError(f"bad algorithms {algorithms!r}: give names, classes or a mapping") from None
    out: dict[str, AlgorithmSpec] = {}
    for key, item in items:
        if key is not None:
            check_name(key)
            if key in _BUILTINS:
                builtin = ALGORITHMS[key]
                if not (item == key or item is builtin.searcher or item == builtin):
                    raise ConfigError(f"{key!r} names a built-in searcher; give yours another name")
                item = builtin
        spec = as_spec(item, key)
        if spec.name in out:
            raise ConfigError(f"two algorithms are named {spec.name!r}")
        out[spec.name] = spec
    if not out:
        raise ConfigError("no algorithms given")
    return out


class Registry(Mapping[str, AlgorithmSpec]):
    """name -> `AlgorithmSpec`: built-ins, installed plugins and `register`ed searchers, loaded lazily."""

    def __init__(self) -> None:
        self._loaded: dict[str, AlgorithmSpec] = {}
        self._user: dict[str, AlgorithmSpec] = {}
        self._plugins: dict[str, metadata.EntryPoint] | None = None

    def plugins(self) -> dict[str, metadata.EntryPoint]:
        """Installed plugins' entry points by name (not loaded)."""
        if self._plugins is None:
            self._plugins = {
                ep.name: ep for ep in metadata.entry_points(group=PLUGIN_GROUP) if ep.name not in _BUILTINS
            }
        return self._plugins

    def names(self) -> list[str]:
        """Every available name, without importing any searcher."""
        return list(dict.fromkeys([*_BUILTINS, *self.plugins(), *self._user]))

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.names()

    def __getitem__(self, name: str) -> AlgorithmSpec:
        if name in self._user:
            return self._user[name]
        if name not in self._loaded:
            self._loaded[name] = self._load(name)
        return self._loaded[name]

    def _load(self, name: str) -> AlgorithmSpec:
        if name in _BUILTINS:
            searcher, config, label, color, marker, multi = _BUILTINS[name]
            return AlgorithmSpec(name, load_object(searcher), load_object(config), label, color, marker, multi)
        if name in self.plugins():
            try:
                obj = self.plugins()[name].load()
            except Exception as exc:  # a broken plugin must not take the registry down
                raise ConfigError(f"plugin searcher {name!r} failed to load ({type(exc).__name__}: {exc})") from None
            spec = obj if isinstance(obj, AlgorithmSpec) else spec_from_class(obj, name)
            return spec if spec.name == name else dataclasses.replace(spec, name=name)
        raise ConfigError(f"unknown algorithm {name!r} (choices: {', '.join(self.names())})")

    def register(self, item: type | AlgorithmSpec, *, name: str | None = None, replace: bool = False) -> AlgorithmSpec:
        """Add a searcher class or spec for this process; returns its spec.

        Raises:
            ConfigError: a built-in or plugin name, or a name already registered (unless `replace`).
        """
        spec = as_spec(item, name)
        if spec.name in _BUILTINS or spec.name in self.plugins():
            raise ConfigError(f"{spec.name!r} names a built-in or plugin searcher; give yours another name")
        if spec.name in self._user and not replace:
            raise ConfigError(f"{spec.name!r} is already registered (pass replace=True to replace it)")
        self._user[spec.name] = spec
        return spec

    def unregister(self, name: str) -> None:
        """Remove a `register`ed searcher.

        Raises:
            ConfigError: `name` was not registered in this process.
        """
        if name not in self._user:
            raise ConfigError(f"{name!r} was not registered (registered: {', '.join(self._user) or 'none'})")
        del self._user[name]


#: The registry of this process.
ALGORITHMS = Registry()
register = ALGORITHMS.register
unregister = ALGORITHMS.unregister


def names() -> list[str]:
    """Every available algorithm name (built-in, plugin, registered), without importing torch."""
    return ALGORITHMS.names()


def algorithm(name: str) -> AlgorithmSpec:
    """The registered searcher called `name`.

    Raises:
        ConfigError: unknown name (the message lists the choices).
    """
    return ALGORITHMS[name]


def label(name: str) -> str:
    """Display label of an algorithm name (the name itself if unregistered)."""
    return ALGORITHMS[name].label if name in ALGORITHMS else name
