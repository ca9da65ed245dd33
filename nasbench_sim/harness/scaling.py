"""How searchers scale with simulated parallel workers: one comparison per worker count, then speed-ups.

`compare_workers` runs `compare` once per worker count into
`<results>/<name>/w<count>/` (each an ordinary experiment folder: resumable,
seed-exact, `nasbench-sim plot` draws it), then writes the scaling report
(`nasbench_sim.harness.scaling_report`). By default every count gets the same
compute: a time budget of B seconds becomes B / count of simulated wall-clock,
so a searcher that scales perfectly reaches the same regret `count` times sooner.
With `equal="wall-clock"` every count gets B seconds of wall-clock instead.

The speed-up and the report: `nasbench_sim.harness.scaling_report`.

Example:
    >>> import tempfile
    >>> from nasbench_sim.harness.run import Budget
    >>> from nasbench_sim.harness.scaling import compare_workers
    >>> folder = compare_workers(["rs"], range(3), Budget(seconds=4e4), counts=(1, 4), table="surrogate",
    ...                          results=tempfile.mkdtemp(), progress=False)
    >>> sorted(p.name for p in folder.iterdir())[:3]
    ['regret_vs_wallclock.pdf', 'regret_vs_wallclock.png', 'scaling.csv']
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from nasbench_sim._checks import whole_number
from nasbench_sim._io import atomic_write_json
from nasbench_sim.errors import ConfigError
from nasbench_sim.harness.experiment import compare
from nasbench_sim.harness.inputs import check_experiment_name, check_results, parse_seeds
from nasbench_sim.harness.run import Budget
from nasbench_sim.harness.scaling_report import SETUP_NAME, write_report
from nasbench_sim.harness.simulator import Workers
from nasbench_sim.harness.store import read_metadata

#: How the budget is shared out over worker counts.
EQUAL = ("compute", "wall-clock")
DEFAULT_COUNTS = (1, 8, 64, 256)


def compare_workers(
    algorithms: Any,
    seeds: Iterable[int] | str,
    budget: Budget,
    *,
    counts: Sequence[int] = DEFAULT_COUNTS,
    equal: str = "compute",
    schedule: str = "async",
    charge_search_time: bool = False,
    target: float | None = None,
    results: str | os.PathLike = "results",
    experiment: str | None = None,
    progress: bool = True,
    **compare_options: Any,
) -> Path:
    """Compare searchers at several simulated worker counts and write the scaling report.

    Args:
        algorithms, seeds: as for `compare`.
        budget: a time budget (seconds of simulated training per run at one worker) or a
            query budget (the same number of queries at every count).
        counts: worker counts, e.g. (1, 8, 64, 256); 1 is added if missing (the speed-up baseline).
        equal: 'compute' (a time budget is divided by the count) or 'wall-clock' (the same for all).
        schedule, charge_search_time: as in `simulator.Workers`.
        target: test regret in percent whose time to reach defines the speed-up (default: the
            75th percentile of the one-worker runs' final test regrets, which 3 in 4 of them reach).
        results: parent folder; the study goes to `<results>/<experiment>/`.
        experiment: the study's folder name (default: derived from the options).
        progress: progress bars.
        **compare_options: passed to `compare` (table, protocol, configs, workers, device...).

    Returns:
        The study's folder (`scaling.md`, `scaling.csv`, `scaling.json`, figures, one folder per count).

    Raises:
        ConfigError: bad counts, `equal` or budget (and whatever `compare` refuses).
    """
    if not isinstance(budget, Budget):
        raise ConfigError(f"budget must be a Budget(queries=...) or Budget(seconds=...), got {budget!r:.60}")
    if equal not in EQUAL:
        raise ConfigError(f"unknown equal={equal!r} (choices: {', '.join(EQUAL)})")
    if isinstance(counts, (str, bytes)) or not isinstance(counts, Iterable):
        raise ConfigError(f"counts must be worker counts such as (1, 8, 64), got {counts!r:.60}")
    worker_counts = sorted({1, *(whole_number(c, "simulated workers") for c in counts)})
    seed_list = parse_seeds(seeds)
    parent = check_results(results)
    protocol = compare_options.get("protocol", "naszilla")
    name = experiment or f"scaling-{protocol}-{budget.describe().split()[0]}-{equal}"
    folder = parent / check_experiment_name(name, parent)
    workers = [Workers(count=c, schedule=schedule, charge_search_time=charge_search_time) for c in worker_counts]
    if target is not None and (isinstance(target, bool) or not isinstance(target, (int, float)) or not target >= 0):
        raise ConfigError(f"target must be a test regret in percent >= 0, got {target!r:.40}")
    setup = {
        "counts": worker_counts,
        "equal": equal,
        "budget": {"queries": budget.queries, "seconds": budget.seconds},
        "schedule": schedule,
        "charge_search_time": charge_search_time,
        "target_pct": target,
    }
    folder.mkdir(parents=True, exist_ok=True)
    setup_path = folder / SETUP_NAME
    if setup_path.exists():
        old = read_metadata(setup_path)
        keys = ("equal", "budget", "schedule", "charge_search_time")
        differs = next((k for k in keys if old.get(k) != setup[k]), None)
        if differs is not None:
            raise ConfigError(f"{folder} holds a scaling study with another {differs}; use another experiment name")
        setup["counts"] = sorted(set(worker_counts) | set(old.get("counts", [])))
    atomic_write_json(setup_path, setup)
    for simulated in workers:
        compare(
            algorithms,
            seed_list,
            budget_for(budget, simulated.count, equal),
            results=folder,
            experiment=f"w{simulated.count}",
            simulated_workers=simulated,
            progress=progress,
            **compare_options,
        )
    write_report(folder)
    return folder


def budget_for(budget: Budget, count: int, equal: str) -> Budget:
    """The budget of one worker count: a time budget / count under equal compute, else unchanged.

    Example:
        >>> budget_for(Budget(seconds=8e5), 8, "compute")
        Budget(queries=None, seconds=100000.0)
    """
    if budget.seconds is None or equal == "wall-clock":
        return budget
    return replace(budget, seconds=budget.seconds / count)
