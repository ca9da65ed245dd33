"""The unit of work a process or a Dask worker runs: a chunk of seeds of one algorithm, stepped in lock step.

A chunk carries its searcher by value (`pack`: cloudpickle), so a class defined in a
notebook cell runs on any worker; tables and the cell space are loaded from their
saved folders once per process. A run's random streams come from
`SeedSequence(seed).spawn(2)` (searcher, oracle), so a seed gives the same trajectory
wherever it runs.

Example:
    >>> from nasbench_sim.harness.worker import pack, unpack
    >>> from nasbench_sim.search.registry import algorithm
    >>> spec, config = unpack(pack(algorithm("rs"), algorithm("rs").make_config()))
    >>> spec.name, type(config).__name__
    ('rs', 'RandomSearchConfig')
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nasbench_sim.bench.oracle import Oracle
from nasbench_sim.bench.table import BenchmarkTable
from nasbench_sim.errors import ConfigError
from nasbench_sim.harness.run import Budget, add_regret, run_lockstep
from nasbench_sim.harness.simulator import Workers
from nasbench_sim.search.registry import AlgorithmSpec
from nasbench_sim.space.cellspace import CellSpace


@dataclass(frozen=True)
class RunChunk:
    """Runs of one algorithm, stepped in lock step in one process; picklable (workers, Dask).

    Attributes:
        algorithm: the algorithm's name in the experiment.
        payload: its `AlgorithmSpec` and config, cloudpickled: a class defined in a notebook
            cell or a script travels by value, an importable one by reference.
        seeds: run seeds.
        table_folders: per seed, the saved table it runs on.
        realizations: per seed, the noise realization of that table (-1: none).
        space_folder: saved `CellSpace` cache folder.
        budget: stopping rule of each run.
        mode: query mode ('mean' or 'single').
        device: torch device for model-based searchers ('cpu' or 'cuda').
        workers: the simulated workers of each run.
    """

    algorithm: str
    payload: bytes
    seeds: tuple[int, ...]
    table_folders: tuple[str, ...]
    realizations: tuple[int, ...]
    space_folder: str
    budget: Budget
    mode: str
    device: str = "cpu"
    workers: Workers = field(default_factory=Workers)


_CACHE: dict[str, Any] = {}


def _cached_table(folder: str) -> BenchmarkTable:
    if folder not in _CACHE:
        _CACHE[folder] = BenchmarkTable.load(folder)
    return _CACHE[folder]


def run_chunk(chunk: RunChunk) -> list[pd.DataFrame]:
    """Execute a chunk's runs in lock step; one history (with regret columns) per seed."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)  # one worker per core; also keeps CPU results identical across processes
    with threadpool_limits(limits=1):  # the same for numpy's BLAS (GP-BO's linear algebra)
        return _run_chunk(chunk)


def _run_chunk(chunk: RunChunk) -> list[pd.DataFrame]:
    space = _CACHE.setdefault(f"space:{chunk.space_folder}", None) or CellSpace.load(chunk.space_folder)
    _CACHE[f"space:{chunk.space_folder}"] = space
    spec, config = unpack(chunk.payload)
    searchers, oracles = [], []
    for seed, folder in zip(chunk.seeds, chunk.table_folders, strict=True):
        searcher_seq, oracle_seq = np.random.SeedSequence(seed).spawn(2)
        searchers.append(spec.searcher(config, np.random.default_rng(searcher_seq), device=chunk.device))
        oracles.append(Oracle(_cached_table(folder), np.random.default_rng(oracle_seq), space=space))
    start = time.perf_counter()
    histories = run_lockstep(searchers, oracles, chunk.budget, mode=chunk.mode, workers=chunk.workers)
    wall = (time.perf_counter() - start) / len(chunk.seeds)
    out = []
    for history, oracle in zip(histories, oracles, strict=True):
        history = add_regret(history, oracle)
        history.attrs["wall_seconds"] = wall
        out.append(history)
    return out


def pack(spec: AlgorithmSpec, config: Any) -> bytes:
    """A spec and its config as bytes for a worker (cloudpickle: by value where not importable).

    Raises:
        ConfigError: the searcher or its config cannot be pickled.
    """
    import cloudpickle

    try:
        return cloudpickle.dumps((spec, config))
    except Exception as exc:  # cloudpickle raises whatever the offending object's reducer raises
        raise ConfigError(f"algorithm {spec.name!r} cannot be sent to a worker: {type(exc).__name__}: {exc}") from None


def unpack(payload: bytes) -> tuple[AlgorithmSpec, Any]:
    """Inverse of `pack`."""
    import cloudpickle

    return cloudpickle.loads(payload)


def space_folder() -> Path:
    """The saved `CellSpace` folder that workers load."""
    from nasbench_sim._io import data_dir
    from nasbench_sim.space.cellspace import CACHE_NAME

    return data_dir() / CACHE_NAME
