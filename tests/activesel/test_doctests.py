"""The usage examples at the top of every activesel module run as written."""

import doctest
import importlib

import pytest

MODULES = ["__init__", "data", "selection", "train", "config", "study", "stats", "report"]


@pytest.mark.parametrize("name", MODULES)
def test_module_example_runs(name):
    module = importlib.import_module("nasbench_sim.activesel" + ("" if name == "__init__" else f".{name}"))
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
