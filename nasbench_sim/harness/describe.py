"""What an experiment records of its setup: algorithms and configs as JSON, the table, versions, commit.

Example:
    >>> from nasbench_sim.harness.describe import describe_config
    >>> from nasbench_sim.search.simple import RandomSearchConfig
    >>> describe_config(RandomSearchConfig())
    {'dedup': None}
"""

from __future__ import annotations

import platform
import subprocess
from collections.abc import Mapping
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nasbench_sim._version import __version__
from nasbench_sim.bench.table import BenchmarkTable
from nasbench_sim.search.registry import AlgorithmSpec


def describe_config(config: Any) -> dict[str, Any]:
    """A config as JSON-able values; objects and functions by their class or qualified name."""
    return _jsonable(asdict(config)) if is_dataclass(config) else {}


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if is_dataclass(value):
        return _jsonable(asdict(value))
    if isinstance(value, type) or (callable(value) and hasattr(value, "__qualname__")):
        return f"{getattr(value, '__module__', '?')}:{value.__qualname__}"
    described = f"{type(value).__module__}:{type(value).__qualname__}"
    params = getattr(value, "get_params", None)  # scikit-learn style estimators
    if callable(params):
        try:
            return {"object": described, "params": _jsonable(params(deep=False))}
        except Exception:
            pass
    return {"object": described}


def describe_algorithm(spec: AlgorithmSpec, config: Any) -> dict[str, Any]:
    """What an experiment records of an algorithm (the style is added by `compare`)."""
    cls = spec.searcher
    return {"class": f"{cls.__module__}:{cls.__qualname__}", "config": describe_config(config)}


def git_commit() -> str | None:
    """The checkout's commit, or None outside a git checkout."""
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, cwd=Path(__file__).parent
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def versions() -> dict[str, str]:
    """Versions of Python and the libraries that decide the numbers."""
    import sklearn
    import torch

    return {
        "nasbench_sim": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "scikit-learn": sklearn.__version__,
        "pandas": pd.__version__,
    }


def describe_table(table: BenchmarkTable) -> dict[str, Any]:
    """What a result file needs to say about the table it ran on."""
    return {
        "label": table.label,
        "kind": table.kind,
        "source": table.meta.get("source"),
        "real_fields": table.meta.get("real_fields"),
        "modelled_fields": table.meta.get("modelled_fields"),
    }
