"""Comparisons of NAS algorithms over many seeds: local processes or a Dask cluster, resumable.

`compare` checks its inputs (`inputs`), records the setup in the experiment folder
(`store`, `describe`), splits the unfinished runs into lock-step chunks and runs them
(`worker`) in this process, on local processes or on Dask; an interrupted or repeated
comparison skips finished runs. A run's random streams come from
`SeedSequence(seed).spawn(2)` (searcher, oracle), so a seed gives the same trajectory
in-process, in a worker process, on Dask or in any lock-step chunk of seeds. On the
partial and surrogate tables, seed `s` uses noise realization `s % realizations` of
the modelled fields.

Example:
    >>> from nasbench_sim.harness.experiment import compare
    >>> import tempfile
    >>> frame = compare(["rs", "re"], range(2), 10, table="surrogate", results=tempfile.mkdtemp(), progress=False)
    >>> frame.groupby("algorithm").size().to_dict()
    {'re': 20, 'rs': 20}
"""

from __future__ import annotations

import math
import os
import sys
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any

import pandas as pd

from nasbench_sim._checks import whole_number
from nasbench_sim._nn import resolve_device
from nasbench_sim._runner import RunInterruptedError, run_tasks
from nasbench_sim.bench.table import BenchmarkTable
from nasbench_sim.errors import ConfigError
from nasbench_sim.harness.describe import describe_algorithm, describe_table, git_commit, versions
from nasbench_sim.harness.inputs import (
    REALIZABLE_KINDS,
    check_experiment_name,
    check_results,
    open_tables,
    parse_seeds,
    resolve_budget,
)
from nasbench_sim.harness.protocol import DEFAULT_PROTOCOL
from nasbench_sim.harness.protocol import protocol as get_protocol
from nasbench_sim.harness.run import Budget, check_budget_fits, check_workers_fit
from nasbench_sim.harness.simulator import Workers, as_workers
from nasbench_sim.harness.stats import dedup_breaches
from nasbench_sim.harness.store import (
    load_experiment,
    merge_metadata,
    previous_styles,
    run_is_done,
    run_path,
    write_run,
)
from nasbench_sim.harness.styles import assign_styles
from nasbench_sim.harness.worker import RunChunk, pack, run_chunk, space_folder
from nasbench_sim.search.registry import AlgorithmSpec, resolve
from nasbench_sim.search.settings import check_types, override
from nasbench_sim.space.cellspace import CellSpace


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
    simulated_workers: int | Workers | None = None,
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
        realizations: noise realizations of a partial/surrogate table (default `config_file.DEFAULT_REALIZATIONS`; seed s uses s % realizations).
        workers: local processes (1: this process).
        scheduler: Dask scheduler address (instead of local processes).
        results: parent folder of experiments.
        experiment: folder name (default: derived from table, protocol, algorithms, budget).
        device: torch device of model-based searchers: 'auto', 'cpu' or 'cuda'.
        chunk_size: seeds stepped together in one process (default: split evenly over workers).
        simulated_workers: parallel workers simulated inside each run (a count or a
            `simulator.Workers`; default one: the sequential protocol). A time budget is then
            simulated wall-clock seconds.
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
    device = str(resolve_device(device))
    workers = whole_number(workers, "workers")
    simulated = as_workers(simulated_workers)
    chunk_size = None if chunk_size is None else whole_number(chunk_size, "chunk_size")
    realizations = None if realizations is None else whole_number(realizations, "realizations")
    results_folder = check_results(results)
    if configs is not None and not isinstance(configs, Mapping):
        raise ConfigError(f"configs must map algorithm names to configs or settings, got {configs!r:.60}")
    resolved: dict[str, Any] = {}
    for name in names:
        given = (configs or {}).get(name)
        base = proto.config_for(specs[name])
        where = f"algorithm {name!r}"
        if given is None:
            resolved[name] = base
        elif isinstance(given, specs[name].config):
            check_types(given, where)
            resolved[name] = given
        elif isinstance(given, Mapping):
            resolved[name] = override(base, given, where)
        else:
            raise ConfigError(
                f"configs[{name!r}] must be a {specs[name].config.__name__}(...) or a mapping of its settings, "
                f"got {given!r:.60}"
            )
    unknown = sorted(set(configs or {}) - set(names))
    if unknown:
        raise ConfigError(f"settings given for algorithm(s) {unknown} that are not compared (compared: {names})")
    tables = open_tables(table, realizations, progress)
    check_budget_fits(run_budget, tables[0])
    check_workers_fit(simulated, tables[0])
    space = CellSpace.load_or_build(progress=progress)
    default = f"{tables[0].kind}-{proto.name}-{'-'.join(names)}-{run_budget.describe().split()[0]}{simulated.tag()}"
    name = check_experiment_name(default if experiment is None else experiment, results_folder)
    folder = results_folder / name
    described = {n: describe_algorithm(specs[n], resolved[n]) for n in names}
    previous = previous_styles(folder)
    for n, style in assign_styles(specs, previous).items():
        if n in described:
            described[n]["style"] = style
    meta = {
        "experiment": name,
        "protocol": proto.describe(),
        "budget": asdict(run_budget),
        "table": describe_table(tables[0]),
        "realizations": len(tables),
        "workers": simulated.recorded(),
        "algorithms": described,
        "seeds": seed_list,
        "device": device,
        "versions": versions(),
        "git_commit": git_commit(),
    }
    meta = merge_metadata(folder, meta)
    del space  # built (or found) above so that workers only load it
    space_path = str(space_folder())

    def described_run(algorithm: str, seed: int) -> dict[str, Any]:
        """What a run file must say of itself to count as this experiment's run."""
        return {
            "algorithm": algorithm,
            "seed": seed,
            "realization": seed % len(tables) if tables[0].kind in REALIZABLE_KINDS else -1,
            "config": meta["algorithms"][algorithm]["config"],
            "budget": asdict(run_budget),
            "protocol": proto.name,
            "table": describe_table(tables[0]),
            "workers": simulated.recorded(),
        }

    todo = {n: [s for s in seed_list if not run_is_done(run_path(folder, n, s), described_run(n, s))] for n in names}
    chunks = _chunks(
        specs, todo, resolved, tables, space_path, run_budget, proto.mode, device, workers, chunk_size, simulated
    )
    total = sum(len(c.seeds) for c in chunks)

    def finish(chunk: RunChunk, histories: list[pd.DataFrame]) -> None:
        for seed, history in zip(chunk.seeds, histories, strict=True):
            run_meta = {**described_run(chunk.algorithm, seed), "mode": chunk.mode, "device": chunk.device}
            write_run(run_path(folder, chunk.algorithm, seed), history, run_meta)

    if chunks:
        print_fn = (
            f"{len(names)} algorithm(s) x {len(seed_list)} seed(s): {total} run(s) to do in {len(chunks)} chunk(s)"
        )
        if progress:
            print(print_fn, file=sys.stderr)  # progress, beside the bars
        try:
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
        except RunInterruptedError as exc:  # say it in runs, the unit a user counts (a chunk holds several)
            kept = sum(run_path(folder, n, s).exists() for n in names for s in seed_list)
            raise RunInterruptedError(
                f"{exc} ({kept} of {len(names) * len(seed_list)} runs of this experiment are finished and kept)"
            ) from None
    frame, _ = load_experiment(folder, algorithms=names, seeds=seed_list)
    frame.attrs.update(folder=str(folder), table_label=tables[0].label, table_kind=tables[0].kind, protocol=proto.name)
    for n, count in dedup_breaches(frame, meta).items():
        warnings.warn(
            f"{n} declares dedup='paths' but repeated a cell's op paths {count} time(s) over its runs"
            " (see the history's path_repeat column)",
            stacklevel=2,
        )
    return frame


def _chunks(
    specs: Mapping[str, AlgorithmSpec],
    unfinished: Mapping[str, list[int]],
    configs: Mapping[str, Any],
    tables: list[BenchmarkTable],
    space_folder: str,
    budget: Budget,
    mode: str,
    device: str,
    workers: int,
    chunk_size: int | None,
    simulated: Workers,
) -> list[RunChunk]:
    """The unfinished runs (algorithm -> seeds) grouped into lock-step chunks (batched searchers: one per worker)."""
    chunks = []
    for name, spec in specs.items():
        todo = unfinished[name]
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
                    workers=simulated,
                )
            )
    return chunks
