"""Many (algorithm, seed) runs as independent tasks: local processes or a Dask cluster.

Layout of `results/<experiment>/`:
    metadata.json                        config, seeds, budget, table, versions, git commit
    runs/<algorithm>/seed_<seed>.parquet one history per run (+ regret columns)

Every file is written atomically, so an interrupted or repeated comparison
skips finished runs and never leaves a half-written file. A run's random
streams come from `SeedSequence(seed).spawn(2)` (searcher, oracle), so a seed
gives the same trajectory in-process, in a worker process or on Dask.

Example:
    >>> from nasbench_sim.harness.experiment import RunSpec, compare  # doctest: +SKIP
"""

from __future__ import annotations

import io
import json
import os
import platform
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, is_dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from nasbench_sim import __version__
from nasbench_sim._io import atomic_write_bytes, atomic_write_json
from nasbench_sim.bench.oracle import Oracle
from nasbench_sim.bench.table import BenchmarkTable
from nasbench_sim.errors import ConfigError, DataFormatError
from nasbench_sim.harness.run import Budget, add_regret, run_search
from nasbench_sim.space.enumeration import CellSpace


@dataclass(frozen=True)
class RunSpec:
    """Everything one run needs; picklable, so it travels to worker processes and Dask.

    Attributes:
        algorithm: short name (file and plot label).
        searcher_cls: the searcher class; called as `searcher_cls(config, rng, device=...)`.
        config: its frozen config dataclass.
        seed: run seed.
        budget: stopping rule.
        table_folder: saved `BenchmarkTable` folder (must exist where the task runs).
        space_folder: saved `CellSpace` cache folder.
        device: torch device for model-based searchers ('auto', 'cpu', 'cuda').
    """

    algorithm: str
    searcher_cls: type
    config: Any
    seed: int
    budget: Budget
    table_folder: str
    space_folder: str
    device: str = "auto"


_CACHE: dict[str, Any] = {}


def _cached(key: str, load: Callable[[], Any]) -> Any:
    if key not in _CACHE:
        _CACHE[key] = load()
    return _CACHE[key]


def run_task(spec: RunSpec) -> pd.DataFrame:
    """Execute one run and return its history with regret columns."""
    import torch

    torch.set_num_threads(1)  # one run per core; also keeps CPU results identical across processes
    table = _cached(f"table:{spec.table_folder}", lambda: BenchmarkTable.load(spec.table_folder))
    space = _cached(f"space:{spec.space_folder}", lambda: CellSpace.load(spec.space_folder))
    searcher_seq, oracle_seq = np.random.SeedSequence(spec.seed).spawn(2)
    searcher = spec.searcher_cls(spec.config, np.random.default_rng(searcher_seq), device=spec.device)
    oracle = Oracle(table, np.random.default_rng(oracle_seq), space=space)
    start = time.perf_counter()
    history = add_regret(run_search(searcher, oracle, spec.budget), oracle)
    history.attrs["wall_seconds"] = time.perf_counter() - start
    return history


def run_path(folder: Path, algorithm: str, seed: int) -> Path:
    return folder / "runs" / algorithm / f"seed_{seed:04d}.parquet"


def write_run(path: Path, history: pd.DataFrame, spec: RunSpec) -> None:
    """Atomically write a run's history as Parquet, with the run description in the schema metadata."""
    table = pa.Table.from_pandas(history, preserve_index=False)
    run_meta = {
        "algorithm": spec.algorithm,
        "seed": spec.seed,
        "config": _describe_config(spec.config),
        "budget": asdict(spec.budget),
        "wall_seconds": history.attrs.get("wall_seconds"),
    }
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), b"nasbench_sim": json.dumps(run_meta).encode()}
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def read_run(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A run's history and its description.

    Raises:
        DataFormatError: unreadable file.
    """
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise DataFormatError(f"{path}: unreadable run file ({exc})") from None
    meta = json.loads((table.schema.metadata or {}).get(b"nasbench_sim", b"{}"))
    return table.to_pandas(), meta


def _describe_config(config: Any) -> dict[str, Any]:
    return asdict(config) if is_dataclass(config) else {}


def _git_commit() -> str | None:
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, cwd=Path(__file__).parent
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def _versions() -> dict[str, str]:
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


def _experiment_metadata(name: str, specs: Sequence[RunSpec], table: BenchmarkTable) -> dict[str, Any]:
    algorithms: dict[str, Any] = {}
    for spec in specs:
        algorithms[spec.algorithm] = {"class": spec.searcher_cls.__name__, "config": _describe_config(spec.config)}
    return {
        "experiment": name,
        "algorithms": algorithms,
        "seeds": sorted({spec.seed for spec in specs}),
        "budget": asdict(specs[0].budget),
        "table": {
            "label": table.label,
            "kind": table.kind,
            "source": table.meta.get("source"),
            "real_fields": table.meta.get("real_fields"),
            "modelled_fields": table.meta.get("modelled_fields"),
        },
        "versions": _versions(),
        "git_commit": _git_commit(),
    }


def _check_compatible(folder: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """Merge with an existing experiment, refusing silent mixing of different setups."""
    path = folder / "metadata.json"
    if not path.exists():
        return meta
    try:
        old = json.loads(path.read_text())
    except json.JSONDecodeError:
        raise DataFormatError(f"{path}: corrupt metadata.json") from None
    if old.get("budget") != meta["budget"] or old.get("table", {}).get("label") != meta["table"]["label"]:
        raise ConfigError(f"{folder} holds an experiment with another budget or table; use another --experiment name")
    for name, algo in meta["algorithms"].items():
        if name in old.get("algorithms", {}) and old["algorithms"][name] != algo:
            raise ConfigError(
                f"{folder}: algorithm {name!r} was run with another config; use another --experiment name"
            )
    merged = dict(meta)
    merged["algorithms"] = {**old.get("algorithms", {}), **meta["algorithms"]}
    merged["seeds"] = sorted(set(old.get("seeds", [])) | set(meta["seeds"]))
    return merged


def compare(
    specs: Sequence[RunSpec],
    folder: str | os.PathLike,
    *,
    table: BenchmarkTable,
    workers: int = 1,
    scheduler: str | None = None,
    progress: bool = True,
) -> list[Path]:
    """Run every spec not finished yet and write its result file.

    Args:
        specs: the runs (one per algorithm and seed).
        folder: the experiment folder (`results/<experiment>`).
        table: the table the specs point to (for the metadata).
        workers: local processes (1: run in this process). Ignored with `scheduler`.
            Workers are spawned (forking after torch has run can deadlock), so a
            script that calls `compare` with workers > 1 needs the usual
            `if __name__ == "__main__":` guard.
        scheduler: address of a Dask scheduler (`tcp://host:8786`) or a
            `distributed.Client`/`LocalCluster` address to run the tasks on.
        progress: progress bar over tasks.

    Returns:
        Paths of all result files of the specs (finished before or now).
    """
    if not specs:
        raise ConfigError("nothing to run: no algorithms or no seeds")
    folder = Path(folder)
    meta = _check_compatible(folder, _experiment_metadata(folder.name, specs, table))
    atomic_write_json(folder / "metadata.json", meta)
    todo = [s for s in specs if not run_path(folder, s.algorithm, s.seed).exists()]
    bar = tqdm(total=len(specs), initial=len(specs) - len(todo), desc="runs", unit="run", disable=not progress)

    def finish(spec: RunSpec, history: pd.DataFrame) -> None:
        write_run(run_path(folder, spec.algorithm, spec.seed), history, spec)
        bar.update(1)

    try:
        if scheduler is not None:
            _run_dask(todo, scheduler, finish)
        elif workers <= 1 or len(todo) <= 1:
            for spec in todo:
                finish(spec, run_task(spec))
        else:
            with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
                futures = {pool.submit(run_task, spec): spec for spec in todo}
                for future in as_completed(futures):
                    finish(futures[future], future.result())
    finally:
        bar.close()
    return [run_path(folder, s.algorithm, s.seed) for s in specs]


def _run_dask(specs: Iterable[RunSpec], scheduler: str, finish: Callable[[RunSpec, pd.DataFrame], None]) -> None:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise ConfigError("--scheduler needs dask.distributed: pip install 'nasbench_sim[dask]'") from None
    specs = list(specs)
    with Client(scheduler) as client:
        futures = client.map(run_task, specs, pure=False)
        spec_of = {future.key: spec for future, spec in zip(futures, specs, strict=True)}
        for future in dask_completed(futures):
            finish(spec_of[future.key], future.result())


def load_experiment(folder: str | os.PathLike) -> tuple[pd.DataFrame, dict[str, Any]]:
    """All finished runs of an experiment as one tidy frame (columns `algorithm`, `seed` added).

    Raises:
        DataFormatError: no experiment or no finished runs in `folder`.
    """
    folder = Path(folder)
    meta_path = folder / "metadata.json"
    if not meta_path.exists():
        raise DataFormatError(f"{folder}: no metadata.json; not a nasbench-sim experiment folder")
    meta = json.loads(meta_path.read_text())
    frames = []
    for path in sorted((folder / "runs").glob("*/seed_*.parquet")):
        history, run_meta = read_run(path)
        history.insert(0, "seed", run_meta.get("seed", int(path.stem.split("_")[1])))
        history.insert(0, "algorithm", run_meta.get("algorithm", path.parent.name))
        frames.append(history)
    if not frames:
        raise DataFormatError(f"{folder}: no finished runs")
    return pd.concat(frames, ignore_index=True), meta
