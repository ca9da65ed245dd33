"""An experiment folder on disk: one Parquet file per run, `metadata.json`, read back as one tidy frame.

Layout of `results/<experiment>/`:
    metadata.json                        protocol, budget, table, algorithms, versions, git commit
    runs/<algorithm>/seed_<seed>.parquet one history per run (+ regret columns and run metadata)

Every file is written atomically; an unreadable run file is moved aside (`*.corrupt`)
so that its run is redone; `metadata.json` is merged under a lock, refusing to mix setups.

Example:
    >>> from pathlib import Path
    >>> from nasbench_sim.harness.store import run_path
    >>> run_path(Path("results/exp"), "re", 7).as_posix()
    'results/exp/runs/re/seed_0007.parquet'
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from nasbench_sim._io import atomic_write_bytes, atomic_write_json, locked
from nasbench_sim.errors import ConfigError, DataFormatError


def run_path(folder: Path, algorithm: str, seed: int) -> Path:
    """The Parquet file of one run."""
    return Path(folder) / "runs" / algorithm / f"seed_{seed:04d}.parquet"


def write_run(path: Path, history: pd.DataFrame, run_meta: Mapping[str, Any]) -> None:
    """Atomically write a run's history as Parquet, with its description in the schema metadata."""
    table = pa.Table.from_pandas(history, preserve_index=False)
    meta = {**run_meta, "wall_seconds": history.attrs.get("wall_seconds"), "content_sha256": content_digest(history)}
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"nasbench_sim": json.dumps(meta).encode()})
    buffer = io.BytesIO()
    pq.write_table(table, buffer, write_page_checksum=True)
    atomic_write_bytes(path, buffer.getvalue())


def read_run(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A run's history and its description.

    Raises:
        DataFormatError: unreadable file.
    """
    try:
        table = pq.read_table(path, page_checksum_verification=True)
        meta = json.loads((table.schema.metadata or {}).get(b"nasbench_sim", b"{}"))
    except (OSError, pa.ArrowException, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataFormatError(f"{path}: unreadable run file ({exc})") from None
    if not isinstance(meta, dict):
        raise DataFormatError(f"{path}: run file without its description")
    try:
        history = table.to_pandas()
    except Exception as exc:  # a damaged pandas schema entry fails in whichever way its bytes decode
        raise DataFormatError(f"{path}: unreadable run file ({type(exc).__name__}: {exc})") from None
    recorded = meta.get("content_sha256")
    if recorded is not None and recorded != content_digest(history):
        raise DataFormatError(f"{path}: the history does not match its recorded checksum (a damaged file)")
    return history, meta


def content_digest(history: pd.DataFrame) -> str:
    """SHA-256 of a history's column names, dtypes and values (the footer's schema is outside page checksums)."""
    digest = hashlib.sha256(json.dumps([list(map(str, history.columns)), list(map(str, history.dtypes))]).encode())
    digest.update(pd.util.hash_pandas_object(history, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def run_is_done(path: Path, expected: Mapping[str, Any] | None = None) -> bool:
    """True if `path` holds a readable run whose description matches `expected`.

    A file that does not read back (truncated, a flipped byte caught by the page checksums)
    is moved aside as `*.corrupt`, one of another setup (algorithm, seed, realization,
    config, budget, protocol or table differ: e.g. copied from another experiment) as
    `*.foreign`, each with a warning; its run is then redone.
    """
    if not path.exists():
        return False
    try:
        _, meta = read_run(path)
    except DataFormatError:
        _move_aside(path, ".corrupt", "is unreadable (truncated or corrupt)")
        return False
    differs = next((k for k, v in (expected or {}).items() if meta.get(k) != v), None)
    if differs is not None:
        _move_aside(path, ".foreign", f"holds a run with another {differs} ({meta.get(differs)!r:.60})")
        return False
    return True


def _move_aside(path: Path, suffix: str, why: str) -> None:
    aside = path.with_suffix(path.suffix + suffix)
    os.replace(path, aside)
    warnings.warn(f"{path} {why}; moved to {aside.name} and the run is redone", stacklevel=3)


def read_metadata(path: Path) -> dict[str, Any]:
    """An experiment's `metadata.json`.

    Raises:
        DataFormatError: not JSON, or not a JSON object.
    """
    try:
        meta = json.loads(path.read_text())
    except json.JSONDecodeError:
        raise DataFormatError(f"{path}: corrupt metadata.json (not JSON); move it away to start afresh") from None
    if not isinstance(meta, dict):
        raise DataFormatError(f"{path}: metadata.json does not hold a JSON object; move it away to start afresh")
    return meta


def merge_metadata(folder: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """Merge `meta` into the experiment's metadata.json under a lock, refusing to mix setups."""
    path = folder / "metadata.json"
    with locked(folder / ".metadata.lock"):
        if path.exists():
            old = read_metadata(path)
            for key in ("protocol", "budget", "table", "realizations", "workers"):
                if old.get(key) != meta.get(key):
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


def previous_styles(folder: Path) -> dict[str, Any]:
    """Styles an existing experiment already recorded (kept on a rerun with more algorithms)."""
    path = folder / "metadata.json"
    if not path.exists():
        return {}
    return {n: a["style"] for n, a in read_metadata(path).get("algorithms", {}).items() if a.get("style")}


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
    meta = read_metadata(meta_path)
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
        named = re.fullmatch(r"seed_(\d+)", path.stem)
        if named is None:
            warnings.warn(f"skipping {path}: not a run file name (seed_<number>.parquet)", stacklevel=2)
            continue
        seed = int(named.group(1))
        if run_meta.get("seed", seed) != seed or run_meta.get("algorithm", algorithm) != algorithm:
            warnings.warn(
                f"skipping {path}: it holds the run of {run_meta.get('algorithm')!r} seed {run_meta.get('seed')!r}"
                " (a renamed copy?)",
                stacklevel=2,
            )
            continue
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
        "workers": meta.get("workers"),
    }
    for key, expected in checks.items():
        if key == "workers":  # None on both sides: the sequential protocol (files written before workers existed)
            if run_meta.get(key) != expected:
                return key
        elif expected is not None and key in run_meta and run_meta[key] != expected:
            return key
    return None
