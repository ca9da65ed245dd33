"""Comparisons of NAS algorithms over many seeds: local processes or a Dask cluster, resumable.

Layout of `results/<experiment>/`:
    metadata.json                        protocol, budget, table, algorithms, versions, git commit
    runs/<algorithm>/seed_<seed>.parquet one history per run (+ regret columns and run metadata)

Every file is written atomically, so an interrupted or repeated comparison
skips finished runs and never leaves a half-written file; an unreadable run
file is moved aside (`*.corrupt`) and its run is redone. A run's random streams
come from `SeedSequence(seed).spawn(2)` (searcher, oracle), so a seed gives the
same trajectory in-process, in a worker process, on Dask or in any lock-step
chunk of seeds (`run.run_lockstep`). On the partial and surrogate tables, seed
`s` uses noise realization `s % realizations` of the modelled fields.

Example:
    >>> from nasbench_sim.harness.experiment import compare
    >>> import tempfile
    >>> frame = compare(["rs", "re"], range(2), 10, table="surrogate", results=tempfile.mkdtemp(), progress=False)
    >>> frame.groupby("algorithm").size().to_dict()
    {'re': 20, 'rs': 20}
"""

from __future__ import annotations

import io
import json
import math
import os
import platform
import subprocess
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from nasbench_sim._io import atomic_write_bytes, atomic_write_json, locked
from nasbench_sim._runner import run_tasks
from nasbench_sim._version import __version__
from nasbench_sim.bench.oracle import Oracle
from nasbench_sim.bench.table import BenchmarkTable
from nasbench_sim.errors import ConfigError, DataFormatError
from nasbench_sim.harness.protocol import DEFAULT_PROTOCOL, Protocol
from nasbench_sim.harness.protocol import protocol as get_protocol
from nasbench_sim.harness.run import Budget, add_regret, run_lockstep
from nasbench_sim.harness.stats import dedup_breaches
from nasbench_sim.harness.styles import assign_styles
from nasbench_sim.search.registry import AlgorithmSpec, override, resolve
from nasbench_sim.space.enumeration import CellSpace

#: Tables with selectable noise realizations, and how many a comparison uses by default.
REALIZABLE_KINDS = ("partial", "surrogate")
DEFAULT_REALIZATIONS = 5
#: Seeds in one comparison at most (more is a typo such as 0-99999999; expanding it would exhaust memory).
MAX_SEEDS = 100_000


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
    histories = run_lockstep(searchers, oracles, chunk.budget, mode=chunk.mode)
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


def run_path(folder: Path, algorithm: str, seed: int) -> Path:
    return Path(folder) / "runs" / algorithm / f"seed_{seed:04d}.parquet"


def write_run(path: Path, history: pd.DataFrame, run_meta: Mapping[str, Any]) -> None:
    """Atomically write a run's history as Parquet, with its description in the schema metadata."""
    table = pa.Table.from_pandas(history, preserve_index=False)
    meta = {**run_meta, "wall_seconds": history.attrs.get("wall_seconds")}
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"nasbench_sim": json.dumps(meta).encode()})
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
        meta = json.loads((table.schema.metadata or {}).get(b"nasbench_sim", b"{}"))
    except (OSError, pa.ArrowInvalid, json.JSONDecodeError) as exc:
        raise DataFormatError(f"{path}: unreadable run file ({exc})") from None
    return table.to_pandas(), meta


def run_is_done(path: Path) -> bool:
    """True if `path` holds a readable run; an unreadable one is moved aside (`.corrupt`) with a warning."""
    if not path.exists():
        return False
    try:
        pq.read_metadata(path)
        return True
    except (OSError, pa.ArrowInvalid):
        aside = path.with_suffix(".parquet.corrupt")
        os.replace(path, aside)
        warnings.warn(f"{path} is unreadable (truncated?); moved to {aside.name} and the run is redone", stacklevel=2)
        return False


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


def describe_table(table: BenchmarkTable) -> dict[str, Any]:
    """What a result file needs to say about the table it ran on."""
    return {
        "label": table.label,
        "kind": table.kind,
        "source": table.meta.get("source"),
        "real_fields": table.meta.get("real_fields"),
        "modelled_fields": table.meta.get("modelled_fields"),
    }


def _read_metadata(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(path.read_text())
    except json.JSONDecodeError:
        raise DataFormatError(f"{path}: corrupt metadata.json (not JSON); move it away to start afresh") from None
    if not isinstance(meta, dict):
        raise DataFormatError(f"{path}: metadata.json does not hold a JSON object; move it away to start afresh")
    return meta


def _merge_metadata(folder: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """Merge `meta` into the experiment's metadata.json under a lock, refusing to mix setups."""
    path = folder / "metadata.json"
    with locked(folder / ".metadata.lock"):
        if path.exists():
            old = _read_metadata(path)
            for key in ("protocol", "budget", "table", "realizations"):
                if old.get(key) != meta[key]:
                    raise ConfigError(
                        f"{folder} holds an experiment with another {key} ({old.get(key)!r}); use another experiment name"
                    )
            kept = old.get("algorithms", {})
            for name, algo in meta["algorithms"].items():
                before = kept.get(name)
                if before is not None and {k: before.get(k) for k in ("class", "config")} != {
                    k: algo.get(k) for k in ("class", "config")
                }:
                    raise ConfigError(
                        f"{folder}: algorithm {name!r} was run with another searcher or config; "
                        "use another experiment name"
                    )
            merged = {**meta["algorithms"], **kept}  # recorded styles stay as they were
            meta = {**meta, "algorithms": {n: {**meta["algorithms"].get(n, {}), **a} for n, a in merged.items()}}
            meta["seeds"] = sorted(set(old.get("seeds", [])) | set(meta["seeds"]))
        atomic_write_json(path, meta)
    return meta


def resolve_budget(budget: int | Budget | None, proto: Protocol) -> Budget:
    if budget is None:
        return proto.default_budget
    if isinstance(budget, Budget):
        return budget
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)):
        raise ConfigError(f"budget must be a whole number of queries or a Budget, got {budget!r}")
    return Budget(queries=int(budget))


def resolve_device(device: str) -> str:
    """'auto' -> 'cuda' if available else 'cpu'; 'cuda' without CUDA is a clear error."""
    import torch

    if device not in ("auto", "cpu", "cuda"):
        raise ConfigError(f"bad device {device!r} (choices: auto, cpu, cuda)")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for, but torch sees no CUDA device on this machine")
    return device


def open_tables(
    table: str | os.PathLike | BenchmarkTable | None, realizations: int | None, progress: bool
) -> list[BenchmarkTable]:
    """The table(s) of a comparison: one per noise realization for partial/surrogate tables."""
    from nasbench_sim.bench.sources import open_table

    if isinstance(table, BenchmarkTable):
        if table.folder is None:
            raise ConfigError("a table built in memory must be saved (BenchmarkTable.save) before a comparison")
        return [table]
    first = open_table(table, progress=progress)
    if not first.complete:
        raise ConfigError(
            f"a comparison needs a table that covers every cell; {table} covers {first.num_cells:,} of "
            f"{first.coverage['space_cells']:,} cells"
        )
    if first.kind not in REALIZABLE_KINDS or table not in (None, "partial", "surrogate"):
        if realizations not in (None, 1):
            raise ConfigError(f"the {first.kind} table has no noise realizations to choose from")
        return [first]
    count = DEFAULT_REALIZATIONS if realizations is None else realizations
    if count < 1:
        raise ConfigError(f"realizations must be >= 1, got {count}")
    return [first] + [open_table(first.kind, realization=r, progress=progress) for r in range(1, count)]


def parse_seeds(seeds: Iterable[int] | str) -> list[int]:
    """'0-99' / '0,3,7' / '0-4,10' or an iterable of whole numbers -> sorted unique seeds in [0, 2**63).

    Raises:
        ConfigError: not whole numbers, a negative seed, none, or more than `MAX_SEEDS` (checked
            before a range is expanded).
    """
    if not isinstance(seeds, str):
        if hasattr(seeds, "__len__") and len(seeds) > MAX_SEEDS:
            raise ConfigError(f"bad seeds {seeds!r}: more than {MAX_SEEDS:,} seeds")
        try:
            values = sorted({_whole(s) for s in seeds})
        except (TypeError, ValueError, OverflowError):
            raise ConfigError(f"bad seeds {seeds!r}: need whole numbers") from None
        return _checked_seeds(values, seeds)
    ranges: list[tuple[int, int]] = []
    try:
        for part in seeds.split(","):
            part = part.strip()
            if "-" in part[1:]:
                lo, hi = (int(x) for x in part.split("-", 1))
            elif part:
                lo = hi = int(part)
            else:
                continue
            if hi < lo:
                raise ValueError
            ranges.append((lo, hi))
    except ValueError:
        raise ConfigError(f"bad seeds {seeds!r}: use e.g. 0-99 or 0,3,7") from None
    if sum(hi - lo + 1 for lo, hi in ranges) > MAX_SEEDS:
        raise ConfigError(f"bad seeds {seeds!r}: more than {MAX_SEEDS:,} seeds")
    return _checked_seeds(sorted(set().union(*(range(lo, hi + 1) for lo, hi in ranges))), seeds)


def _whole(value: Any) -> int:
    """int(value), refusing a fractional float (seed 2.5 is not seed 2)."""
    if isinstance(value, (float, np.floating)) and not float(value).is_integer():
        raise ValueError(value)
    return int(value)


def _checked_seeds(values: list[int], seeds: Any) -> list[int]:
    if not values or values[0] < 0:
        raise ConfigError(f"bad seeds {seeds!r}: need at least one seed >= 0")
    if len(values) > MAX_SEEDS:
        raise ConfigError(f"bad seeds {seeds!r}: more than {MAX_SEEDS:,} seeds")
    if values[-1] >= 2**63:  # stored as int64 in the run files
        raise ConfigError(f"bad seeds {seeds!r}: seeds must be below 2**63")
    return values


def compare(
    algorithms: Any,
    seeds: Iterable[int] | str,
    budget: int | Budget | None = None,
    *,
    table: str | os.PathLike | BenchmarkTable | None = None,
    protocol: str = DEFAULT_PROTOCOL,
    configs: Mapping[str, Any] | None = None,
    realizations: int | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    results: str | os.PathLike = "results",
    experiment: str | None = None,
    device: str = "auto",
    chunk_size: int | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Run every (algorithm, seed) not finished yet and return all their histories as one tidy frame.

    Args:
        algorithms: what to compare: 'rs,re'; a list of registry names, `'package.module:Class'`
            references, searcher classes or `AlgorithmSpec`s; or a mapping name -> any of those,
            e.g. `{"mine": MySearcher, "re": "re"}`. Classes defined in a notebook cell run on
            workers and Dask too (sent by value).
        seeds: run seeds, an iterable or '0-99'.
        budget: queries per run, a `Budget`, or None for the protocol's default.
        table: table name ('official', 'partial', 'surrogate'), path, saved table, or None (best available).
        protocol: 'naszilla' (default) or 'nb101' (see `nasbench_sim.harness.protocol`).
        configs: algorithm -> its config, or a mapping of settings overriding the protocol's.
        realizations: noise realizations of a partial/surrogate table (default 5; seed s uses s % realizations).
        workers: local processes (1: this process).
        scheduler: Dask scheduler address (instead of local processes).
        results: parent folder of experiments.
        experiment: folder name (default: derived from table, protocol, algorithms, budget).
        device: torch device of model-based searchers: 'auto', 'cpu' or 'cuda'.
        chunk_size: seeds stepped together in one process (default: split evenly over workers).
        progress: progress bars.

    Returns:
        One row per (run, query): `algorithm`, `seed`, `realization` and the history columns
        (`run.HISTORY_COLUMNS`) plus the regret columns. The experiment folder is in `.attrs["folder"]`.

    Raises:
        ConfigError: unknown algorithm/protocol/setting, bad seeds or budget, or a folder with another setup.
    """
    specs = resolve(algorithms)
    names = list(specs)
    proto = get_protocol(protocol)
    seed_list = parse_seeds(seeds)
    run_budget = resolve_budget(budget, proto)
    device = resolve_device(device)
    if workers < 1:
        raise ConfigError(f"workers must be >= 1, got {workers}")
    resolved: dict[str, Any] = {}
    for name in names:
        given = (configs or {}).get(name)
        base = proto.config_for(specs[name])
        if given is None:
            resolved[name] = base
        elif is_dataclass(given):
            resolved[name] = given
        else:
            resolved[name] = override(base, given, f"algorithm {name!r}")
    unknown = sorted(set(configs or {}) - set(names))
    if unknown:
        raise ConfigError(f"settings given for algorithm(s) {unknown} that are not compared (compared: {names})")
    tables = open_tables(table, realizations, progress)
    space = CellSpace.load_or_build(progress=progress)
    name = experiment or f"{tables[0].kind}-{proto.name}-{'-'.join(names)}-{run_budget.describe().split()[0]}"
    folder = Path(results) / name
    if Path(name).is_absolute() or ".." in Path(name).parts or os.sep in name.strip(os.sep):
        raise ConfigError(f"experiment name {name!r} must be a plain folder name inside {results}")
    _check_results_folder(Path(results))
    described = {n: describe_algorithm(specs[n], resolved[n]) for n in names}
    previous = _previous_styles(folder)
    for n, style in assign_styles(specs, previous).items():
        if n in described:
            described[n]["style"] = style
    meta = {
        "experiment": name,
        "protocol": proto.describe(),
        "budget": asdict(run_budget),
        "table": describe_table(tables[0]),
        "realizations": len(tables),
        "algorithms": described,
        "seeds": seed_list,
        "device": device,
        "versions": _versions(),
        "git_commit": _git_commit(),
    }
    meta = _merge_metadata(folder, meta)
    del space  # built (or found) above so that workers only load it
    space_folder = str(_space_folder())
    chunks = _chunks(
        specs, seed_list, resolved, tables, space_folder, run_budget, proto.mode, device, workers, chunk_size, folder
    )
    total = sum(len(c.seeds) for c in chunks)

    def finish(chunk: RunChunk, histories: list[pd.DataFrame]) -> None:
        for seed, realization, history in zip(chunk.seeds, chunk.realizations, histories, strict=True):
            run_meta = {
                "algorithm": chunk.algorithm,
                "seed": seed,
                "realization": realization,
                "config": meta["algorithms"][chunk.algorithm]["config"],
                "budget": asdict(chunk.budget),
                "protocol": proto.name,
                "mode": chunk.mode,
                "table": describe_table(tables[0]),
                "device": chunk.device,
            }
            write_run(run_path(folder, chunk.algorithm, seed), history, run_meta)

    if chunks:
        print_fn = (
            f"{len(names)} algorithm(s) x {len(seed_list)} seed(s): {total} run(s) to do in {len(chunks)} chunk(s)"
        )
        if progress:
            print(print_fn)
        run_tasks(
            chunks,
            run_chunk,
            on_result=finish,
            workers=workers,
            scheduler=scheduler,
            progress=progress,
            desc="run chunks",
            unit="chunk",
        )
    frame, _ = load_experiment(folder, algorithms=names, seeds=seed_list)
    frame.attrs.update(folder=str(folder), table_label=tables[0].label, protocol=proto.name)
    for n, count in dedup_breaches(frame, meta).items():
        warnings.warn(
            f"{n} declares dedup='paths' but repeated a cell's op paths {count} time(s) over its runs"
            " (see the history's path_repeat column)",
            stacklevel=2,
        )
    return frame


def _previous_styles(folder: Path) -> dict[str, Any]:
    """Styles an existing experiment already recorded (kept on a rerun with more algorithms)."""
    path = folder / "metadata.json"
    if not path.exists():
        return {}
    return {n: a["style"] for n, a in _read_metadata(path).get("algorithms", {}).items() if a.get("style")}


def _space_folder() -> Path:
    from nasbench_sim._io import data_dir
    from nasbench_sim.space.enumeration import CACHE_NAME

    return data_dir() / CACHE_NAME


def _check_results_folder(results: Path) -> None:
    for parent in (results, *results.parents):
        if parent.exists():
            if not parent.is_dir():
                raise ConfigError(f"results folder {results}: {parent} is a file, not a folder")
            break


def _chunks(
    specs: Mapping[str, AlgorithmSpec],
    seeds: list[int],
    configs: Mapping[str, Any],
    tables: list[BenchmarkTable],
    space_folder: str,
    budget: Budget,
    mode: str,
    device: str,
    workers: int,
    chunk_size: int | None,
    folder: Path,
) -> list[RunChunk]:
    """Unfinished runs grouped into lock-step chunks (batched searchers: one chunk per worker)."""
    chunks = []
    for name, spec in specs.items():
        todo = [s for s in seeds if not run_is_done(run_path(folder, name, s))]
        if not todo:
            continue
        payload = pack(spec, configs[name])
        batched = hasattr(spec.searcher, "ask_steps")
        size = chunk_size or (
            math.ceil(len(todo) / workers) if batched else max(1, min(10, math.ceil(len(todo) / workers)))
        )
        for start in range(0, len(todo), size):
            part = tuple(todo[start : start + size])
            realization = tuple(s % len(tables) for s in part)
            chunks.append(
                RunChunk(
                    algorithm=name,
                    payload=payload,
                    seeds=part,
                    table_folders=tuple(tables[r].folder for r in realization),
                    realizations=tuple(r if tables[0].kind in REALIZABLE_KINDS else -1 for r in realization),
                    space_folder=space_folder,
                    budget=budget,
                    mode=mode,
                    device=device,
                )
            )
    return chunks


def load_experiment(
    folder: str | os.PathLike, *, algorithms: Sequence[str] | None = None, seeds: Sequence[int] | None = None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Finished runs of an experiment as one tidy frame (`algorithm`, `seed`, `realization` added).

    Run files whose own description (protocol, budget, table, config) disagrees with
    the experiment's metadata are skipped with a warning.

    Args:
        folder: the experiment folder.
        algorithms, seeds: keep only these (default: all).

    Raises:
        DataFormatError: no experiment or no finished runs in `folder`.
    """
    folder = Path(folder)
    meta_path = folder / "metadata.json"
    if not meta_path.exists():
        raise DataFormatError(f"{folder}: no metadata.json; not a nasbench-sim experiment folder")
    meta = _read_metadata(meta_path)
    frames = []
    for path in sorted((folder / "runs").glob("*/seed_*.parquet")):
        algorithm = path.parent.name
        if algorithms is not None and algorithm not in algorithms:
            continue
        try:
            history, run_meta = read_run(path)
        except DataFormatError as exc:
            warnings.warn(f"skipping {exc}", stacklevel=2)
            continue
        seed = run_meta.get("seed", int(path.stem.split("_")[1]))
        if seeds is not None and seed not in seeds:
            continue
        mismatch = _run_mismatch(run_meta, meta, algorithm)
        if mismatch:
            warnings.warn(f"skipping {path}: its {mismatch} differs from the experiment's", stacklevel=2)
            continue
        history.insert(0, "realization", run_meta.get("realization", -1))
        history.insert(0, "seed", seed)
        history.insert(0, "algorithm", algorithm)
        frames.append(history)
    if not frames:
        raise DataFormatError(f"{folder}: no finished runs")
    return pd.concat(frames, ignore_index=True), meta


def _run_mismatch(run_meta: Mapping[str, Any], meta: Mapping[str, Any], algorithm: str) -> str | None:
    checks = {
        "budget": meta.get("budget"),
        "protocol": (meta.get("protocol") or {}).get("name"),
        "table": meta.get("table"),
        "config": (meta.get("algorithms", {}).get(algorithm) or {}).get("config"),
    }
    for key, expected in checks.items():
        if expected is not None and key in run_meta and run_meta[key] != expected:
            return key
    return None
