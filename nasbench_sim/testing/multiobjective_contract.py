"""`check_multiobjective_searcher`: the contract a multi-objective searcher keeps to run like a built-in one.

The rules (each failure is one line naming its rule):

- `constructor`: built as `cls(config, rng)` from a frozen keyword-only config dataclass.
- `valid_cells`: `ask()` returns only valid NB101 cells, told two or three objectives.
- `seeded`: the same seed gives the same cells; `seeds_differ`: different seeds give different ones.
- `global_rng`: no draws from a hidden global stream (`random`, `numpy.random`).
- `resume`: pickled mid-run (cloudpickle) and restored, it continues exactly as an uninterrupted run.
- `no_table`: it never opens or queries a benchmark table (it learns only from `tell`).

The objectives it is told are synthetic (from each cell's structure and hash), so
the check needs no table and no enumeration of the space: a second per searcher.

Example:
    >>> from nasbench_sim.testing import check_multiobjective_searcher
    >>> report = check_multiobjective_searcher("mo-re", queries=30)
    >>> [rule for rule, failure in report.items() if failure]
    []
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
from collections.abc import Callable
from typing import Any
from unittest import mock

import cloudpickle
import numpy as np

from nasbench_sim.multiobjective.registry import resolve
from nasbench_sim.space.cell import Cell

MO_RULES = ("constructor", "valid_cells", "seeded", "seeds_differ", "global_rng", "resume", "no_table")


def synthetic_objectives(cell: Cell, m: int) -> np.ndarray:
    """(m,) made-up objectives of a cell: a hash-derived 'error', its edges, its vertices (all minimised)."""
    error = int(cell.hash[:8], 16) % 1000 / 10.0
    return np.array([error, float(cell.num_edges), float(-cell.num_vertices)][:m])


def _trajectory(make: Callable[[int], Any], seed: int, queries: int, m: int, cut: int | None = None) -> list[str]:
    """Hashes asked in `queries` steps; with `cut`, pickled and restored after `cut` steps."""
    searcher = make(seed)
    asked = []
    for step in range(queries):
        if step == cut:
            searcher = cloudpickle.loads(cloudpickle.dumps(searcher))
        cell = searcher.ask()
        if not isinstance(cell, Cell):
            raise TypeError(f"ask() returned {type(cell).__name__}, not a Cell")
        asked.append(cell.hash)
        searcher.tell(cell, synthetic_objectives(cell, m))
    return asked


def check_multiobjective_searcher(
    searcher: str | Callable[[np.random.Generator], Any], queries: int = 120
) -> dict[str, str | None]:
    """Check a multi-objective searcher against the rules above.

    Args:
        searcher: a name or `'package.module:Class'` (`multiobjective.registry.resolve`),
            or a function rng -> a new searcher.
        queries: steps per run (enough to pass any initial random phase).

    Returns:
        rule -> None (kept) or the one-line failure.
    """
    report: dict[str, str | None] = dict.fromkeys(MO_RULES)
    if isinstance(searcher, str):
        _, config_class, searcher_class = resolve(searcher)
        params = getattr(config_class, "__dataclass_params__", None)
        if params is None or not params.frozen or not all(f.kw_only for f in dataclasses.fields(config_class)):
            report["constructor"] = f"{config_class.__name__} is not a frozen keyword-only dataclass"

        def make(seed: int) -> Any:
            return searcher_class(config_class(), np.random.default_rng(seed))
    else:

        def make(seed: int) -> Any:
            return searcher(np.random.default_rng(seed))

    try:
        for m in (2, 3):
            _trajectory(make, 0, queries, m)
    except Exception as exc:  # the contract reports, never raises
        report["valid_cells"] = f"{type(exc).__name__}: {exc}"
        return report
    checks: list[tuple[str, Callable[[], str | None]]] = [
        ("seeded", lambda: None if _trajectory(make, 1, queries, 2) == first else "the same seed gave different cells"),
        ("seeds_differ", lambda: "seeds 1 and 2 gave the same cells" if _trajectory(make, 2, queries, 2) == first else None),
        ("global_rng", lambda: _global_draws(make, queries)),
        ("resume", lambda: None if _trajectory(make, 1, queries, 2, cut=queries // 2) == first
         else "pickled and restored mid-run, it continued differently"),
        ("no_table", lambda: _uses_a_table(make, queries)),
    ]  # fmt: skip
    try:
        first = _trajectory(make, 1, queries, 2)
    except Exception as exc:  # the contract reports, never raises
        report["valid_cells"] = f"{type(exc).__name__}: {exc}"
        return report
    for rule, check in checks:
        try:
            report[rule] = check()
        except Exception as exc:
            report[rule] = f"it failed while checked ({type(exc).__name__}: {exc})"
    return report


def _global_draws(make: Callable[[int], Any], queries: int) -> str | None:
    states = random.getstate(), np.random.get_state()[1].copy()
    _trajectory(make, 3, queries, 2)
    if random.getstate() != states[0] or not np.array_equal(np.random.get_state()[1], states[1]):
        return "it drew from the global random or numpy.random stream"
    return None


def _uses_a_table(make: Callable[[int], Any], queries: int) -> str | None:
    """A run with every way to a table (open_table under each name it has, loading, the oracle) refusing."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise _TableUsedError("a benchmark table was used")

    targets = (
        "nasbench_sim.bench.sources.open_table",
        "nasbench_sim.bench.open_table",
        "nasbench_sim.open_table",
        "nasbench_sim.bench.table.BenchmarkTable.load",
        "nasbench_sim.bench.oracle.Oracle.__init__",
    )
    with contextlib.ExitStack() as stack:
        for target in targets:
            stack.enter_context(mock.patch(target, refuse))
        try:
            _trajectory(make, 4, queries, 2)
        except _TableUsedError as exc:
            return str(exc)
    return None


class _TableUsedError(Exception):
    """Raised by the patched table entry points inside `_uses_a_table`."""
