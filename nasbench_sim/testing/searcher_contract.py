"""`check_searcher`: the contract every searcher must keep to run in the harness like a built-in one.

The rules (each failure is reported in one line naming its rule):

- `constructor`: built as `cls(config, rng, device=...)` from its frozen config dataclass.
- `valid_cells`: `ask()` returns only valid NB101 cells (a `Cell`, or a `Query` of one).
- `budget`: asks only for NB101 budgets (4, 12, 36, 108 epochs); a query budget gives exactly that many
  queries and a seconds budget stops at the first query past it.
- `seeded`: the same seed gives the same trajectory (cells and values), in both query modes.
- `seeds_differ`: different seeds give different trajectories.
- `global_rng`: no draws from a hidden global stream (`random`, `numpy.random`, torch's default generator).
- `lockstep`: a run stepped in a lock-step batch with other runs equals the same run alone.
- `picklable`: the searcher and its config travel to a worker (cloudpickle) and run the same there,
  and its state mid-run can be pickled.
- `resume`: pickled mid-run and restored, it continues exactly as an uninterrupted run.
- `no_table`: it never opens or queries a benchmark table (it learns only from `tell`).
- `dedup`: a searcher whose config declares `dedup='paths'` never repeats path-equivalent cells.
- `parallel`: with 4 simulated workers (results in completion order, several proposals in flight) it
  runs to exactly its query budget, seed-exact, never repeats path-equivalent cells in flight if it
  declares `dedup='paths'`, and returns None from `ask()` only while something is in flight.

Runs on `SyntheticOracle` (no enumeration of the space, no table), a few seconds per searcher.

Example:
    >>> from nasbench_sim.testing import check_searcher
    >>> sorted(check_searcher("rs", queries=8))[:3]
    ['budget', 'constructor', 'dedup']
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import random
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import numpy as np

from nasbench_sim.errors import ContractError, OutOfDomainError
from nasbench_sim.harness.run import Budget, run_lockstep
from nasbench_sim.harness.simulator import Workers
from nasbench_sim.search.base import as_query
from nasbench_sim.search.registry import AlgorithmSpec, as_spec
from nasbench_sim.testing.synthetic import BudgetError, SyntheticOracle

RULES = (
    "constructor",
    "valid_cells",
    "budget",
    "seeded",
    "seeds_differ",
    "global_rng",
    "lockstep",
    "picklable",
    "resume",
    "no_table",
    "dedup",
    "parallel",
)


class _RuleBrokenError(Exception):
    """A rule is broken (internal: becomes one line of the report)."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


class _Table:
    """Records any use of a benchmark table while active."""

    def __init__(self) -> None:
        self.touched: list[str] = []

    @contextlib.contextmanager
    def watch(self) -> Iterator[None]:
        from nasbench_sim.bench import oracle, sources, table

        def trap(name: str) -> Callable[..., Any]:
            def refuse(*args: Any, **kwargs: Any) -> Any:
                self.touched.append(name)
                raise _RuleBrokenError("no_table", f"the searcher called {name}; a searcher learns only from tell()")

            return refuse

        with contextlib.ExitStack() as stack:
            stack.enter_context(mock.patch.object(table.BenchmarkTable, "load", trap("BenchmarkTable.load")))
            stack.enter_context(mock.patch.object(sources, "open_table", trap("open_table")))
            readers = [m for m, v in vars(oracle.Oracle).items() if inspect.isfunction(v) and not m.startswith("_")]
            for method in ["__init__", *readers]:  # every way into a table
                stack.enter_context(mock.patch.object(oracle.Oracle, method, trap(f"Oracle.{method}")))
            yield


def _proposal_error(exc: BaseException) -> _RuleBrokenError:
    if isinstance(exc, _RuleBrokenError):
        return exc
    if isinstance(exc, BudgetError):
        return _RuleBrokenError("budget", f"budget overrun: {exc}")
    if isinstance(exc, OutOfDomainError):
        return _RuleBrokenError("valid_cells", f"out-of-space proposal: {exc}")
    text = str(exc).splitlines()[0] if str(exc) else ""
    return _RuleBrokenError("valid_cells", f"ask()/tell() raised {type(exc).__name__}: {text}")


class _Checker:
    def __init__(self, spec: AlgorithmSpec, config: Any, queries: int, device: str) -> None:
        self.spec, self.config, self.queries, self.device = spec, config, queries, device

    def make(self, seed: int, spec: AlgorithmSpec | None = None, config: Any = None) -> Any:
        spec = spec or self.spec
        return spec.searcher(
            config if config is not None else self.config, np.random.default_rng(seed), device=self.device
        )

    def runs(
        self,
        seeds: list[int],
        *,
        mode: str = "single",
        budget: Budget | None = None,
        make=None,
        workers: Workers | None = None,
    ) -> list:
        make = make or self.make
        searchers = [make(s) for s in seeds]
        oracles = [SyntheticOracle(np.random.default_rng(s + 1000)) for s in seeds]
        try:
            return run_lockstep(searchers, oracles, budget or Budget(queries=self.queries), mode=mode, workers=workers)
        except Exception as exc:
            raise _proposal_error(exc) from None

    def trajectory(self, seed: int, **kwargs: Any) -> list[tuple[str, float]]:
        (history,) = self.runs([seed], **kwargs)
        return list(zip(history["hash"], history["validation_accuracy"], strict=True))

    def manual(self, seed: int, searcher: Any = None, oracle: Any = None, steps: int | None = None):
        """Ask/query/tell by hand in 'mean' mode; returns (searcher, oracle, trajectory)."""
        searcher = searcher if searcher is not None else self.make(seed)
        oracle = oracle if oracle is not None else SyntheticOracle(np.random.default_rng(seed + 1000))
        out = []
        for _ in range(self.queries if steps is None else steps):
            try:
                proposal = searcher.ask()
                query = as_query(proposal)
                result = oracle.query_mean_row(oracle.row(query.cell), query.epochs)
                searcher.tell(proposal, result["validation_accuracy"])
            except Exception as exc:
                raise _proposal_error(exc) from None
            out.append((query.cell.hash, result["validation_accuracy"]))
        return searcher, oracle, out


def _first_difference(a: list, b: list) -> int:
    return next((i + 1 for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)) + 1)


def _check_constructor(c: _Checker) -> None:
    config_cls = c.spec.config
    if not (dataclasses.is_dataclass(config_cls) and config_cls.__dataclass_params__.frozen):
        raise _RuleBrokenError("constructor", f"config class {config_cls.__qualname__} must be a frozen dataclass")
    try:
        c.make(0)
    except Exception as exc:
        raise _RuleBrokenError(
            "constructor", f"{c.spec.searcher.__qualname__}(config, rng, device=...) raised {type(exc).__name__}: {exc}"
        ) from None


def _check_valid_cells_and_budget(c: _Checker) -> None:
    (history,) = c.runs([0])
    if len(history) != c.queries:
        raise _RuleBrokenError("budget", f"budget overrun: {len(history)} queries under a budget of {c.queries}")
    seconds = 6_000.0
    (timed,) = c.runs([0], budget=Budget(seconds=seconds))
    times = timed["cumulative_time"].to_numpy()
    if not (times[-1] >= seconds and (len(times) == 1 or times[-2] < seconds)):
        raise _RuleBrokenError("budget", f"budget overrun: a {seconds:g} s budget ran to {times[-1]:g} s")


def _check_seeded(c: _Checker) -> None:
    for mode in ("single", "mean"):
        a, b = c.trajectory(3, mode=mode), c.trajectory(3, mode=mode)
        if a != b:
            raise _RuleBrokenError(
                "seeded",
                f"seed 3 gave two trajectories ({mode} mode), first differing at query {_first_difference(a, b)}",
            )


def _check_seeds_differ(c: _Checker) -> None:
    if [h for h, _ in c.trajectory(1)] == [h for h, _ in c.trajectory(2)]:
        raise _RuleBrokenError("seeds_differ", "seeds 1 and 2 gave the same cells: the searcher ignores its rng")


def _check_global_rng(c: _Checker) -> None:
    import torch

    def state() -> tuple[float, float, float]:
        return np.random.random(), random.random(), torch.rand(1).item()

    def reseed() -> None:
        np.random.seed(123)
        random.seed(123)
        torch.manual_seed(123)

    reseed()
    expected = state()
    reseed()
    c.runs([0], budget=Budget(queries=min(c.queries, 12)))
    got = state()
    used = [name for name, x, y in zip(("numpy.random", "random", "torch"), expected, got, strict=True) if x != y]
    if used:
        raise _RuleBrokenError(
            "global_rng", f"hidden global RNG: drew from {', '.join(used)}'s global state; use the rng given"
        )


def _check_lockstep(c: _Checker) -> None:
    together = c.runs([4, 5, 6], mode="mean")[1]
    alone = c.runs([5], mode="mean")[0]
    if together["hash"].tolist() != alone["hash"].tolist():
        at = _first_difference(together["hash"].tolist(), alone["hash"].tolist())
        raise _RuleBrokenError(
            "lockstep", f"a run in a lock-step batch differs from the same run alone (query {at}): shared state"
        )


def _check_picklable(c: _Checker) -> None:
    import cloudpickle

    try:
        spec, config = cloudpickle.loads(cloudpickle.dumps((c.spec, c.config)))
    except Exception as exc:
        raise _RuleBrokenError("picklable", f"non-picklable spec or config: {type(exc).__name__}: {exc}") from None
    shipped = c.trajectory(2, make=lambda seed: c.make(seed, spec, config))
    if shipped != c.trajectory(2):
        raise _RuleBrokenError(
            "picklable", "the searcher sent to a worker (cloudpickle) runs differently from the original"
        )
    searcher, _, _ = c.manual(0, steps=max(1, c.queries // 2))
    try:
        cloudpickle.dumps(searcher)
    except Exception as exc:
        raise _RuleBrokenError("picklable", f"non-picklable state: {type(exc).__name__}: {exc}") from None


def _check_resume(c: _Checker) -> None:
    import cloudpickle

    _, _, whole = c.manual(7)
    half = max(1, c.queries // 2)
    searcher, oracle, first = c.manual(7, steps=half)
    try:
        searcher, oracle = cloudpickle.loads(cloudpickle.dumps((searcher, oracle)))
    except Exception as exc:
        raise _RuleBrokenError("resume", f"cannot pickle the searcher mid-run: {type(exc).__name__}: {exc}") from None
    _, _, rest = c.manual(7, searcher, oracle, steps=c.queries - half)
    if first + rest != whole:
        at = _first_difference(first + rest, whole)
        raise _RuleBrokenError("resume", f"resume drift: restored after query {half}, the run differs at query {at}")


def _check_dedup(c: _Checker) -> None:
    if getattr(c.config, "dedup", None) != "paths":
        return
    (history,) = c.runs([0], mode="mean")
    repeats = history.loc[history["path_repeat"], "query"].tolist()
    if repeats:
        raise _RuleBrokenError(
            "dedup", f"declares dedup='paths' but repeated path-equivalent cells at queries {repeats[:5]}"
        )


def _check_parallel(c: _Checker) -> None:
    workers = Workers(count=4)
    try:
        first, again = (c.runs([8], mode="mean", workers=workers)[0] for _ in range(2))
    except _RuleBrokenError as broken:
        raise _RuleBrokenError("parallel", f"with 4 simulated workers: {broken}") from None
    if len(first) != c.queries:
        raise _RuleBrokenError(
            "parallel", f"with 4 simulated workers: {len(first)} results under a budget of {c.queries}"
        )
    if first["hash"].tolist() != again["hash"].tolist():
        raise _RuleBrokenError("parallel", "with 4 simulated workers the same seed gave two trajectories")
    if getattr(c.config, "dedup", None) == "paths" and first["path_repeat"].any():
        at = first.loc[first["path_repeat"], "query"].tolist()[:5]
        raise _RuleBrokenError(
            "parallel", f"declares dedup='paths' but proposed path-equivalent cells in flight (results {at})"
        )


_CHECKS: dict[str, Callable[[_Checker], None]] = {
    "constructor": _check_constructor,
    "valid_cells": _check_valid_cells_and_budget,
    "seeded": _check_seeded,
    "seeds_differ": _check_seeds_differ,
    "global_rng": _check_global_rng,
    "lockstep": _check_lockstep,
    "picklable": _check_picklable,
    "resume": _check_resume,
    "dedup": _check_dedup,
    "parallel": _check_parallel,
}


def check_searcher(
    algorithm: Any,
    *,
    config: Any = None,
    queries: int = 20,
    device: str = "cpu",
    raise_on_failure: bool = True,
) -> dict[str, str | None]:
    """Check a searcher against the contract (see the module docstring).

    Args:
        algorithm: a searcher class, an `AlgorithmSpec`, a registry name or `'package.module:Class'`.
        config: the config to check it with (default: the spec's default; small settings run faster).
        queries: queries per run.
        device: torch device of model-based searchers.
        raise_on_failure: raise `ContractError` listing every broken rule (else only return them).

    Returns:
        rule -> None where it holds, else the one-line message of the failure.

    Raises:
        ContractError: a rule is broken (one line per rule, `name: rule: message`).
    """
    spec = as_spec(algorithm)
    checker = _Checker(spec, config if config is not None else spec.make_config(), queries, device)
    report: dict[str, str | None] = dict.fromkeys(RULES)
    table = _Table()
    with table.watch():
        for rule, check in _CHECKS.items():
            if rule != "constructor" and report["constructor"] is not None:
                report[rule] = "not checked: the searcher cannot be built"
                continue
            try:
                check(checker)
            except _RuleBrokenError as broken:
                if report.get(broken.rule) is None:
                    report[broken.rule] = str(broken)
            except Exception as exc:  # a failure of the searcher's own code outside ask/tell
                report[rule] = f"raised {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    if table.touched and report["no_table"] is None:
        report["no_table"] = f"the searcher called {table.touched[0]}; a searcher learns only from tell()"
    failures = {rule: message for rule, message in report.items() if message is not None}
    if failures and raise_on_failure:
        raise ContractError("\n".join(f"{spec.name}: {rule}: {message}" for rule, message in failures.items()))
    return report
