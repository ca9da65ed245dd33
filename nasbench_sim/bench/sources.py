"""Which benchmark table to use: explicit choice, else the best one available.

Order when nothing is named: a converted official table if one is cached, then
the real partial table if its array is configured (`$NASBENCH_SIM_NB101_REPEAT0`
or `../shared/data/nb101/test108_repeat0.npy`), then the embedded surrogate.

Example:
    >>> from nasbench_sim.bench.sources import open_table
    >>> table = open_table("partial")  # doctest: +SKIP
    >>> print(table.describe())  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from nasbench_sim._io import data_dir, file_sha256, shared_dir
from nasbench_sim.bench.noise import DEFAULT_NOISE
from nasbench_sim.bench.partial import build_partial_table
from nasbench_sim.bench.table import BenchmarkTable
from nasbench_sim.errors import ConfigError, DataFormatError
from nasbench_sim.space.enumeration import CellSpace

REPEAT0_ENV = "NASBENCH_SIM_NB101_REPEAT0"
TABLE_NAMES = ("official", "partial", "surrogate")


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


def cached_official() -> Path | None:
    """The most recently converted official table, if any."""
    found = sorted(tables_dir().glob("official-*/meta.json"), key=lambda p: p.stat().st_mtime)
    return found[-1].parent if found else None


def official_table_path(tfrecord: str | os.PathLike) -> Path:
    return tables_dir() / f"official-{Path(tfrecord).stem}"


def convert_official(tfrecord: str | os.PathLike, *, progress: bool = True) -> BenchmarkTable:
    """Convert an official `.tfrecord` into the table cache (once)."""
    from nasbench_sim.bench.tfrecord import convert_tfrecord

    return convert_tfrecord(
        tfrecord, official_table_path(tfrecord), space=CellSpace.load_or_build(progress=progress), progress=progress
    )


def surrogate_level(space: CellSpace) -> np.ndarray:
    """(423624,) the embedded surrogate's mean test accuracy of every cell (computed once per process)."""
    from nasbench_sim.bench.embedded_surrogate import load_embedded

    model = load_embedded()
    key = f"{model.sha256}:{id(space)}"
    if key not in _LEVELS:
        _LEVELS.clear()
        _LEVELS[key] = model.predict_space(space)
    return _LEVELS[key]


_LEVELS: dict[str, np.ndarray] = {}


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
    source = Path(path) if path is not None else repeat0_path()
    if source is None:
        raise ConfigError(
            f"no real partial data configured: set ${REPEAT0_ENV} to test108_repeat0.npy or pass its path"
        )
    if not source.is_file():
        raise DataFormatError(f"{source}: no such file")

    def build() -> BenchmarkTable:
        space = CellSpace.load_or_build(progress=progress)
        return build_partial_table(source, space, level=surrogate_level(space), realization=realization)

    return cached_table(f"partial-{file_sha256(source)[:16]}-{DEFAULT_NOISE.fingerprint}-r{realization}", build)


def cached_table(name: str, build: Callable[[], BenchmarkTable]) -> BenchmarkTable:
    """The table cached as `tables_dir() / name`, built (and saved atomically) on first use."""
    cache = tables_dir() / name
    if not (cache / "meta.json").exists():
        build().save(cache)
    return BenchmarkTable.load(cache)


def surrogate_table(*, realization: int = 0, progress: bool = True) -> BenchmarkTable:
    """One noise realization of the table of the shipped surrogate, built once per machine and cached."""
    from nasbench_sim.bench.embedded_surrogate import build_surrogate_table, load_embedded

    if realization < 0:
        raise ConfigError(f"realization must be >= 0, got {realization}")
    model = load_embedded()

    def build() -> BenchmarkTable:
        space = CellSpace.load_or_build(progress=progress)
        return build_surrogate_table(model, space, realization=realization, mean=surrogate_level(space))

    return cached_table(f"surrogate-{model.sha256[:16]}-{DEFAULT_NOISE.fingerprint}-r{realization}", build)


def open_table(spec: str | os.PathLike | None = None, *, realization: int = 0, progress: bool = True) -> BenchmarkTable:
    """Open a table by name or path, or the best available one.

    Args:
        spec: None (best available), a name in `TABLE_NAMES`, a table folder,
            an official `.tfrecord` (converted once), or a repeat-0 `.npy`.
        realization: noise realization of the modelled fields of a partial or
            surrogate table (ignored by official tables and table folders).
        progress: show progress bars for first-time builds.

    Raises:
        ConfigError: unknown name, or the named source is not available.
        DataFormatError: the path exists but is not a readable source.
    """
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
            raise ConfigError(
                "no converted official table: run `nasbench-sim data convert nasbench_only108.tfrecord` first"
            )
        return BenchmarkTable.load(official)
    if text == "partial":
        return partial_table(realization=realization, progress=progress)
    if text == "surrogate":
        return surrogate_table(realization=realization, progress=progress)
    path = Path(text)
    if path.is_dir():
        return BenchmarkTable.load(path)
    if path.suffix == ".tfrecord":
        cached = official_table_path(path)
        if (cached / "meta.json").exists():
            return BenchmarkTable.load(cached)
        return convert_official(path, progress=progress)
    if path.suffix == ".npy":
        return partial_table(path, realization=realization, progress=progress)
    if not path.exists() and os.sep not in text and "." not in text:
        raise ConfigError(f"unknown table {text!r} (choices: {', '.join(TABLE_NAMES)}, or a path)")
    raise DataFormatError(f"{path}: not a table folder, .tfrecord or .npy file")
