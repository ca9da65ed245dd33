"""Which benchmark table to use: explicit choice, else the best complete one available.

Official-format files are converted once per *content*: the cache folder is
`tables/official-<sha256 prefix>/`, keyed by the file's size and SHA-256, so a
different file with the same name, or a file overwritten in place, is
converted anew and never answered from another file's table. A small index
(`tables/content-index.json`: path -> size, mtime_ns, sha256) spares
rehashing an unchanged file on every open.

Default rule (`open_table()` with no name): the most recently converted
official table whose coverage is complete (every cell, every repeat of each of
its budgets), then the real partial table if its array is configured
(`$NASBENCH_SIM_NB101_REPEAT0` or `../shared/data/nb101/test108_repeat0.npy`),
then the embedded surrogate. A table of an incomplete file (say 22 cells) is
used only when named by its path; a cell it lacks then raises
`MissingDataError` (a `KeyError`) saying how many cells the file covers.

Example:
    >>> from nasbench_sim.bench.sources import open_table
    >>> table = open_table("surrogate", progress=False)
    >>> print(table.describe().splitlines()[0])
    table: SURROGATE of NB101 (modelled, not real data)
"""

from __future__ import annotations

import errno
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_sim._checks import is_whole
from nasbench_sim._io import atomic_write_json, data_dir, file_sha256, shared_dir
from nasbench_sim.bench.budgets import load_budget_model
from nasbench_sim.bench.noise import DEFAULT_NOISE
from nasbench_sim.bench.partial import build_partial_table
from nasbench_sim.bench.table import KEYED_FORMAT_VERSION, BenchmarkTable
from nasbench_sim.errors import ConfigError, DataFileNotFoundError, DataFormatError
from nasbench_sim.space.cellspace import CellSpace

REPEAT0_ENV = "NASBENCH_SIM_NB101_REPEAT0"
TABLE_NAMES = ("official", "partial", "surrogate", "repeat0")
OFFICIAL_INDEX = "content-index.json"
_INDEX_LIMIT = 256  # paths remembered in the index
_NPY_MAGIC = b"\x93NUMPY"


def tables_dir() -> Path:
    path = data_dir() / "tables"
    path.mkdir(parents=True, exist_ok=True)
    return path


def repeat0_path() -> Path | None:
    """The configured `test108_repeat0.npy`, if any."""
    env = os.environ.get(REPEAT0_ENV)
    if env:
        return Path(env)
    shared = shared_dir()
    if shared is not None and (shared / "data/nb101/test108_repeat0.npy").is_file():
        return shared / "data/nb101/test108_repeat0.npy"
    return None


# --- official-format files: content-keyed cache ------------------------------
def official_table_path(sha256: str) -> Path:
    """Cache folder of the official-format file with this content SHA-256."""
    return tables_dir() / f"official-{sha256[:24]}"


def content_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes, from the index when the file cannot have changed since it was hashed.

    The index keeps the file's inode, size, mtime and ctime: a replacement of the same size
    with its mtime restored (`cp -p`, `rsync -t`) has a new ctime (which user space cannot
    set), so it is hashed again.

    Raises:
        DataFileNotFoundError: no such file.
    """
    path = Path(path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise DataFileNotFoundError(errno.ENOENT, "no such file", str(path)) from None
    key = str(path.resolve())
    index = _read_index()
    entry = index.get(key)
    stamp = {"inode": stat.st_ino, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "ctime_ns": stat.st_ctime_ns}
    if entry and all(entry.get(k) == v for k, v in stamp.items()):
        return str(entry["sha256"])
    sha = file_sha256(path)
    index.pop(key, None)
    index[key] = {**stamp, "sha256": sha}
    kept = {p: e for p, e in index.items() if Path(p).exists()}
    _write_index(dict(list(kept.items())[-_INDEX_LIMIT:]))
    return sha


def _read_index() -> dict[str, Any]:
    try:
        index = json.loads((tables_dir() / OFFICIAL_INDEX).read_text())
    except (FileNotFoundError, json.JSONDecodeError):  # a lost or torn index only costs a rehash
        return {}
    return index.get("files", {}) if isinstance(index, dict) else {}


def _write_index(files: dict[str, Any]) -> None:
    atomic_write_json(
        tables_dir() / OFFICIAL_INDEX,
        {"about": "path -> size, mtime_ns, sha256 of official-format files (spares rehashing)", "files": files},
    )


def convert_official(tfrecord: str | os.PathLike, *, progress: bool = True) -> BenchmarkTable:
    """The keyed table of an official-format file, converted once per file content.

    Needs no cell space (`convert_tfrecord` checks every hash from the stored cells).

    Raises:
        DataFileNotFoundError: no such file.
        DataFormatError: not an official-format file, or corrupt.
    """
    from nasbench_sim.bench.conversion import convert_tfrecord

    path = Path(tfrecord)
    sha = content_sha256(path)
    folder = official_table_path(sha)
    if (folder / "meta.json").exists():
        table = BenchmarkTable.load(folder)
        if table.meta.get("source_sha256") == sha and table.meta.get("format_version") == KEYED_FORMAT_VERSION:
            return table
    return convert_tfrecord(path, folder, expected_sha256=sha, progress=progress)


def official_tables() -> list[tuple[Path, dict[str, Any]]]:
    """(folder, meta) of every converted official-format file, oldest conversion first (reads meta.json only)."""
    found = []
    for meta_path in tables_dir().glob("official-*/meta.json"):
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if meta.get("format_version") == KEYED_FORMAT_VERSION and "coverage" in meta:
            found.append((meta_path.parent, meta))
    return sorted(found, key=lambda item: (str(item[1].get("converted_at", "")), item[0].stat().st_mtime))


def cached_tables() -> list[tuple[Path, dict[str, Any]]]:
    """(folder, meta) of every table cached on this machine: converted files, partial, surrogate (meta.json only)."""
    found = []
    for meta_path in sorted(tables_dir().glob("*/meta.json")):
        try:
            found.append((meta_path.parent, json.loads(meta_path.read_text())))
        except (OSError, json.JSONDecodeError):
            continue
    return found


def cached_official() -> Path | None:
    """The most recently converted official table with complete coverage, if any."""
    complete = [folder for folder, meta in official_tables() if meta["coverage"].get("complete")]
    return complete[-1] if complete else None


# --- partial and surrogate ------------------------------------------------------
def surrogate_level(space: CellSpace, *, progress: bool = False) -> np.ndarray:
    """(423624,) the embedded surrogate's mean test accuracy of every cell (computed once per process).

    Args:
        space: the cell space.
        progress: show a progress bar while predicting (several seconds).
    """
    from nasbench_sim.bench.embedded_surrogate import load_embedded

    model = load_embedded()
    key = f"{model.sha256}:{id(space)}"
    if key not in _LEVELS:
        _LEVELS.clear()
        _LEVELS[key] = model.predict_space(space, progress=progress)
    return _LEVELS[key]


_LEVELS: dict[str, np.ndarray] = {}
#: Bump when the way tables are built from the same models changes (names their caches).
TABLE_BUILD = 2


def budget_base(space: CellSpace, level: np.ndarray) -> np.ndarray:
    """(423624, 3) the budget model's predictions of every cell (computed once per process)."""
    from nasbench_sim.bench.budgets import predict_space

    model = load_budget_model()
    key = f"budgets:{model.sha256}:{id(space)}"
    if key not in _LEVELS:
        _LEVELS[key] = predict_space(model, space, level)
    return _LEVELS[key]


def _repeat0_source(path: str | os.PathLike | None, what: str) -> Path:
    """`path`, else the configured repeat-0 array, checked to exist.

    Raises:
        ConfigError: none given and none configured (the message names `what` table needs it).
        DataFormatError: no such file.
    """
    source = Path(path) if path is not None else repeat0_path()
    if source is None:
        raise ConfigError(f"no real {what} data configured: set ${REPEAT0_ENV} to test108_repeat0.npy or pass its path")
    if not source.is_file():
        raise DataFormatError(f"{source}: no such file")
    return source


def partial_table(
    path: str | os.PathLike | None = None, *, realization: int = 0, progress: bool = True
) -> BenchmarkTable:
    """One noise realization of the real partial table, built from the repeat-0 array once and cached.

    Args:
        path: `test108_repeat0.npy` (default: the configured one).
        realization: which noise realization of the modelled fields (>= 0).
        progress: progress bars for a first-time build.
    """
    if realization < 0:
        raise ConfigError(f"realization must be >= 0, got {realization}")
    source = _repeat0_source(path, "partial")

    budgets = load_budget_model()

    def build() -> BenchmarkTable:
        space = CellSpace.load_or_build(progress=progress)
        level = surrogate_level(space, progress=progress)
        base = budget_base(space, level)
        return build_partial_table(
            source, space, level=level, realization=realization, budget_model=budgets, budget_base=base
        )

    fingerprint = f"{DEFAULT_NOISE.fingerprint}-{budgets.sha256[:8]}-v{TABLE_BUILD}"
    name = f"partial-{file_sha256(source)[:16]}-{fingerprint}-r{realization}"
    return cached_table(name, build, label=f"real partial (realization {realization})", progress=progress)


def cached_table(
    name: str, build: Callable[[], BenchmarkTable], *, label: str = "", progress: bool = True
) -> BenchmarkTable:
    """The table cached as `tables_dir() / name`, built (and saved atomically) on first use.

    Args:
        name: the cache folder's name.
        build: makes the table.
        label: what the table is, for the lines announcing a build (e.g. "surrogate, realization 0").
        progress: announce a first-time build on stderr and show the build's progress bars.
    """
    cache = tables_dir() / name
    if not (cache / "meta.json").exists():
        start = time.perf_counter()
        if progress:
            print(f"building the {label or name} table once (cached in {cache}) ...", file=sys.stderr, flush=True)
        build().save(cache)
        if progress:
            size = sum(f.stat().st_size for f in cache.iterdir()) / 1e6
            print(
                f"built the {label or name} table: {size:.0f} MB in {time.perf_counter() - start:.0f} s",
                file=sys.stderr,
            )
    return BenchmarkTable.load(cache)


def surrogate_table(*, realization: int = 0, progress: bool = True) -> BenchmarkTable:
    """One noise realization of the table of the shipped surrogate, built once per machine and cached."""
    from nasbench_sim.bench.embedded_surrogate import build_surrogate_table, load_embedded

    if realization < 0:
        raise ConfigError(f"realization must be >= 0, got {realization}")
    model = load_embedded()

    budgets = load_budget_model()

    def build() -> BenchmarkTable:
        space = CellSpace.load_or_build(progress=progress)
        level = surrogate_level(space, progress=progress)
        base = budget_base(space, level)
        return build_surrogate_table(
            model, space, realization=realization, mean=level, budget_model=budgets, budget_base=base
        )

    fingerprint = f"{DEFAULT_NOISE.fingerprint}-{budgets.sha256[:8]}-v{TABLE_BUILD}"
    name = f"surrogate-{model.sha256[:16]}-{fingerprint}-r{realization}"
    return cached_table(name, build, label=f"surrogate (realization {realization})", progress=progress)


def repeat0_table(path: str | os.PathLike | None = None, *, progress: bool = True) -> BenchmarkTable:
    """The fully real repeat-0 world (`bench.repeat0_world`) of the repeat-0 array, built once and cached.

    Raises:
        ConfigError: no repeat-0 array configured.
        DataFormatError: the array is missing or malformed.
    """
    from nasbench_sim.bench.repeat0_world import build_repeat0_table

    source = _repeat0_source(path, "repeat-0")

    def build() -> BenchmarkTable:
        return build_repeat0_table(source, CellSpace.load_or_build(progress=progress))

    name = f"repeat0-{file_sha256(source)[:16]}-v{TABLE_BUILD}"
    return cached_table(name, build, label="real repeat-0 world", progress=progress)


# --- choosing -------------------------------------------------------------------------
def open_table(spec: str | os.PathLike | None = None, *, realization: int = 0, progress: bool = True) -> BenchmarkTable:
    """Open a table by name or path, or the best complete one available.

    Args:
        spec: None (best available, see the module docstring), a name in
            `TABLE_NAMES`, a table folder, an official-format file (any name;
            recognised by its TFRecord header, converted once per content), or
            a repeat-0 `.npy` (recognised by the NumPy magic).
        realization: noise realization of the modelled fields of a partial or
            surrogate table (ignored by official tables and table folders).
        progress: show progress bars for first-time builds.

    Raises:
        ConfigError: unknown name, or the named source is not available.
        DataFileNotFoundError: a path that does not exist.
        DataFormatError: the path exists but is not a readable source.
    """
    if not (spec is None or isinstance(spec, (str, os.PathLike))):
        raise ConfigError(f"a table is a name or a path, got {type(spec).__name__} {spec!r:.40}")
    if not is_whole(realization) or realization < 0:
        raise ConfigError(f"realization must be a whole number >= 0, got {realization!r:.40}")
    if spec is None:
        official = cached_official()
        if official is not None:
            return BenchmarkTable.load(official)
        if repeat0_path() is not None:
            return partial_table(realization=realization, progress=progress)
        return surrogate_table(realization=realization, progress=progress)
    text = str(spec)
    if text == "official":
        official = cached_official()
        if official is None:
            partial_files = [meta.get("source_path", str(folder)) for folder, meta in official_tables()]
            raise ConfigError(
                "no converted official table covers the whole space: run `nasbench-sim data convert "
                "nasbench_only108.tfrecord` first"
                + (
                    f" (converted files with partial coverage, usable by path: {', '.join(partial_files)})"
                    if partial_files
                    else ""
                )
            )
        return BenchmarkTable.load(official)
    if text == "partial":
        return partial_table(realization=realization, progress=progress)
    if text == "surrogate":
        return surrogate_table(realization=realization, progress=progress)
    if text == "repeat0":
        return repeat0_table(progress=progress)
    path = Path(text)
    if path.is_dir():
        return BenchmarkTable.load(path)
    if not path.exists():
        if os.sep not in text and "." not in text:
            raise ConfigError(f"unknown table {text!r} (choices: {', '.join(TABLE_NAMES)}, or a path)")
        raise DataFileNotFoundError(errno.ENOENT, "no such file", text)
    return _open_file(path, realization=realization, progress=progress)


def _open_file(path: Path, *, realization: int, progress: bool) -> BenchmarkTable:
    """A table from a file, recognised by its content rather than its name."""
    from nasbench_sim.bench.tfrecord import is_tfrecord

    with open(path, "rb") as handle:
        start = handle.read(len(_NPY_MAGIC))
    if start == _NPY_MAGIC:
        return partial_table(path, realization=realization, progress=progress)
    if is_tfrecord(path):
        return convert_official(path, progress=progress)
    raise DataFormatError(
        f"{path}: not a table folder, an official-format TFRecord file (no valid record header) "
        "or a .npy array" + (" (the file is empty)" if not start else "")
    )
