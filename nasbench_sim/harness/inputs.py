"""A comparison's inputs checked at the door: seeds, budget, tables, results folder.

Example:
    >>> from nasbench_sim.harness.inputs import parse_seeds
    >>> parse_seeds("0-3,7")
    [0, 1, 2, 3, 7]
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_sim._checks import is_whole
from nasbench_sim.bench.table import BenchmarkTable
from nasbench_sim.errors import ConfigError
from nasbench_sim.harness.config_file import DEFAULT_REALIZATIONS, MAX_REALIZATIONS
from nasbench_sim.harness.protocol import Protocol
from nasbench_sim.harness.run import Budget

#: Tables with selectable noise realizations (their number: `config_file.DEFAULT_REALIZATIONS`).
REALIZABLE_KINDS = ("partial", "surrogate")
#: Seeds in one comparison at most (more is a typo such as 0-99999999; expanding it would exhaust memory).
MAX_SEEDS = 100_000


def resolve_budget(budget: int | Budget | None, proto: Protocol) -> Budget:
    """A budget argument as a `Budget` (None: the protocol's default; a whole number: queries)."""
    if budget is None:
        return proto.default_budget
    if isinstance(budget, Budget):
        return budget
    if not is_whole(budget):
        raise ConfigError(f"budget must be a whole number of queries or a Budget, got {budget!r}")
    return Budget(queries=int(budget))


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
    if not 1 <= count <= MAX_REALIZATIONS:
        raise ConfigError(
            f"realizations must be 1 to {MAX_REALIZATIONS}, got {count} (each is a table of about "
            f"{_gigabytes(first)} GB built once)"
        )
    if count > DEFAULT_REALIZATIONS and progress:
        print(
            f"{count} noise realizations of the {first.kind} table: up to {_gigabytes(first, count)} GB in "
            f"{Path(first.folder).parent if first.folder else 'the data folder'} (each built once, then cached)",
            file=sys.stderr,
        )
    return [first] + [open_table(first.kind, realization=r, progress=progress) for r in range(1, count)]


def _gigabytes(table: BenchmarkTable, count: int = 1) -> str:
    return f"{count * (table.data.nbytes + table.trainable_parameters.nbytes) / 1e9:.1f}"


def parse_seeds(seeds: Iterable[int] | str) -> list[int]:
    """'0-99' / '0,3,7' / '0-4,10' or an iterable of whole numbers -> sorted unique seeds in [0, 2**63).

    Raises:
        ConfigError: not whole numbers, a negative seed, none, or more than `MAX_SEEDS` (checked
            before a range is expanded).
    """
    if isinstance(seeds, (bytes, bytearray, memoryview)):
        raise ConfigError(f"bad seeds {bytes(seeds)!r}: give a str such as '0-99' or whole numbers, not bytes")
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


def check_results_folder(results: Path) -> None:
    """Refuse a results folder that is, or lies inside, a file."""
    for parent in (results, *results.parents):
        if parent.exists():
            if not parent.is_dir():
                raise ConfigError(f"results folder {results}: {parent} is a file, not a folder")
            break


def check_experiment_name(name: Any, results: Path) -> str:
    """`name` if it can name an experiment folder directly inside `results`.

    Raises:
        ConfigError: not a str, empty, '.', '..', a path, or holding a NUL or a control character.
    """
    if not isinstance(name, str):
        raise ConfigError(f"experiment name must be a str, got {name!r:.40}")
    plain = name not in ("", ".", "..") and not Path(name).is_absolute() and len(Path(name).parts) == 1
    if not plain or "/" in name or os.sep in name or any(ord(c) < 32 for c in name):
        raise ConfigError(f"experiment name {name!r:.60} must be a plain folder name inside {results}")
    return name


def check_results(results: Any) -> Path:
    """The results folder argument as a Path (a str or path without NUL that is not inside a file).

    Raises:
        ConfigError: another type, a NUL, or a file in the way.
    """
    if not isinstance(results, (str, os.PathLike)) or "\x00" in os.fspath(results):
        raise ConfigError(f"results must be a folder path, got {results!r:.60}")
    path = Path(results)
    check_results_folder(path)
    return path
