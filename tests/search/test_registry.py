"""The registry and `resolve`: names, classes, specs, mappings, references, register/unregister."""

from __future__ import annotations

import dataclasses

import pytest

from nasbench_sim.errors import ConfigError
from nasbench_sim.search.registry import (
    ALGORITHMS,
    AlgorithmSpec,
    EmptyConfig,
    names,
    register,
    resolve,
    spec_from_class,
    unregister,
)
from nasbench_sim.search.simple import RandomSearch, RandomSearchConfig


class Mine:
    """A searcher without a config (ask/tell only)."""

    label = "My searcher"

    def __init__(self, config, rng, *, device="auto"):
        self.rng = rng

    def ask(self): ...

    def tell(self, cell, value): ...


@dataclasses.dataclass(frozen=True)
class MineConfig:
    width: int = 3


class Configured(Mine):
    def __init__(self, config: MineConfig, rng, *, device="auto"):
        super().__init__(config, rng, device=device)


def test_a_mapping_names_a_users_class_beside_a_builtin():
    # Catches the issue's own example failing: {"mine": MySearcher} looked "mine" up in the registry.
    specs = resolve({"mine": Mine, "re": "re"})
    assert list(specs) == ["mine", "re"]
    assert specs["mine"].searcher is Mine and specs["mine"].label == "My searcher"
    assert specs["mine"].config is EmptyConfig and specs["re"] is ALGORITHMS["re"]


def test_a_builtin_name_cannot_be_taken_by_another_searcher():
    with pytest.raises(ConfigError, match="names a built-in searcher"):
        resolve({"re": Mine})
    assert resolve({"rs": RandomSearch})["rs"] is ALGORITHMS["rs"]  # the same searcher is the built-in


def test_classes_lists_strings_and_references_resolve_alike():
    by_reference = resolve("nasbench_sim.search.simple:RandomSearch,re")
    assert list(by_reference) == ["randomsearch", "re"]
    assert resolve([Configured])["configured"].config is MineConfig  # config from the annotation
    with pytest.raises(ConfigError, match="unknown algorithm 'frob' \\(choices: rs, re"):
        resolve("rs,frob")
    with pytest.raises(ConfigError, match="cannot import 'no_such_module'"):
        resolve("no_such_module:Thing")
    with pytest.raises(ConfigError, match="two algorithms are named 're'"):
        resolve(["re", "re"])
    with pytest.raises(ConfigError, match="not a searcher: it has no ask"):
        spec_from_class(dict)


def test_register_and_unregister_for_this_process():
    spec = register(Configured, name="configured-x")
    try:
        assert "configured-x" in names() and ALGORITHMS["configured-x"] is spec
        assert resolve("configured-x")["configured-x"].config is MineConfig
        with pytest.raises(ConfigError, match="already registered"):
            register(Configured, name="configured-x")
        register(AlgorithmSpec("configured-x", Mine, label="again"), replace=True)
        assert ALGORITHMS["configured-x"].label == "again"
        with pytest.raises(ConfigError, match="names a built-in or plugin"):
            register(Mine, name="rs")
    finally:
        unregister("configured-x")
    assert "configured-x" not in names()
    with pytest.raises(ConfigError, match="was not registered"):
        unregister("configured-x")


def test_a_spec_checks_its_parts():
    with pytest.raises(ConfigError, match="bad algorithm name"):
        AlgorithmSpec("a/b", Mine)
    with pytest.raises(ConfigError, match="default must be a RandomSearchConfig"):
        AlgorithmSpec("x", RandomSearch, RandomSearchConfig, default=MineConfig())
