"""Cost of the comparison harness; prints JSON.

Usage:
    python benchmarks/harness.py [--table partial] [--seeds 200] [--queries 150] [--workers 2]
                                 [--algorithms rs,re,gp,bananas,np] [--profile-seeds 20] [--device cpu]
                                 [--simulated-workers 256] [--simulated-seconds 1e7]

For each algorithm: the wall time of `--seeds` runs of `--queries` queries
under the naszilla protocol (lock-step chunks, one per worker), the
amortised search overhead per query (seconds of ask + tell, batched model fits
shared among the runs of a batch, divided by the queries), the simulated
training time the runs stand for, and a per-phase breakdown of one profiled
lock-step chunk of `--profile-seeds` runs (candidate pool, encodings, model
fit + predict, acquisition, oracle and book-keeping, the runner).

`simulator`: the cost of the simulated-workers run loop itself: one run with
`--simulated-workers` workers for `--simulated-seconds` of simulated wall-clock
(nb101 protocol, one random repeat per query), driven by a searcher that replays
pre-drawn cells, so nearly all of the time is the loop: events, oracle queries
and the history. Reported per 1,000 queries, with and without the searcher's
own ask + tell time (`--algorithms ''` runs only this).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import sys
import tempfile
import time

import numpy as np

#: Phase -> functions (file suffix, name) whose cumulative time it is.
PHASES = {
    "candidate pool": [("model_based.py", "candidates")],
    "encodings": [("raw.py", "encode")],
    "model fit + predict": [("base.py", "fit_predict_many")],
    "oracle and book-keeping": [("run.py", "_query_and_tell")],
}


def phase_breakdown(chunk) -> dict[str, float]:
    """Seconds per phase of one lock-step chunk, from cProfile's cumulative times."""
    from nasbench_sim.harness.worker import run_chunk

    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.runcall(run_chunk, chunk)
    total = time.perf_counter() - start
    stats = pstats.Stats(profiler).stats
    out = {}
    for phase, functions in PHASES.items():
        out[phase] = round(
            sum(
                v[3]
                for (file, _, name), v in stats.items()
                if any(file.endswith(f) and name == n for f, n in functions)
            ),
            2,
        )
    # ask_steps yields its model fits to the lock-step runner, so its own time holds the pool, the
    # encodings and the acquisition, but not the fits (timed above where the runner makes them).
    asking = sum(
        v[3] for (file, _, name), v in stats.items() if file.endswith("model_based.py") and name == "ask_steps"
    )
    out["acquisition and selection"] = round(asking - out["candidate pool"] - out["encodings"], 2)
    out["runner and rest"] = round(total - sum(out.values()), 2)
    out["total (profiled)"] = round(total, 2)
    return out


class _Replay:
    """A searcher that proposes pre-drawn random cells in turn (its own cost is a list lookup)."""

    def __init__(self, rng: np.random.Generator, count: int = 4096) -> None:
        from nasbench_sim.space.sampling import random_cell

        self.cells = [random_cell(rng) for _ in range(count)]
        self.asked = 0

    def ask(self):
        self.asked += 1
        return self.cells[self.asked % len(self.cells)]

    def tell(self, proposal, validation_accuracy: float) -> None:
        pass


def simulator_cost(table, workers: int, seconds: float) -> dict:
    """Seconds per 1,000 queries of the run loop with `workers` simulated workers (see the module docstring)."""
    from nasbench_sim.bench import Oracle
    from nasbench_sim.harness.run import Budget, run_search
    from nasbench_sim.harness.simulator import Workers

    searcher = _Replay(np.random.default_rng(0))
    oracle = Oracle(table, np.random.default_rng(1))
    start = time.perf_counter()
    history = run_search(searcher, oracle, Budget(seconds=seconds), workers=Workers(count=workers))
    wall = time.perf_counter() - start
    queries = len(history)
    searching = float(history["search_seconds"].sum())
    return {
        "simulated_workers": workers,
        "simulated_seconds": seconds,
        "queries": queries,
        "wall_seconds": round(wall, 2),
        "run_loop_seconds_per_1000_queries": round(1000 * wall / queries, 4),
        "without_searcher_seconds_per_1000_queries": round(1000 * (wall - searching) / queries, 4),
        "simulated_wall_clock_reached": round(float(history["end_time"].max()), 1),
        "goal_seconds_per_1000_queries": 1.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", default="partial")
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--queries", type=int, default=150)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--algorithms", default="rs,re,ls,gp,bananas,np")
    parser.add_argument("--profile-seeds", type=int, default=20, help="runs in the profiled chunk (0: skip)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--simulated-workers", type=int, default=256)
    parser.add_argument("--simulated-seconds", type=float, default=1e7)
    args = parser.parse_args()

    import torch

    from nasbench_sim.harness.experiment import compare
    from nasbench_sim.harness.inputs import open_tables
    from nasbench_sim.harness.protocol import protocol
    from nasbench_sim.harness.run import Budget
    from nasbench_sim.harness.worker import RunChunk, pack, space_folder
    from nasbench_sim.search.registry import algorithm

    proto = protocol("naszilla")
    tables = open_tables(args.table, None, progress=False)
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "torch": torch.__version__},
        "table": tables[0].label,
        "protocol": proto.name,
        "seeds": args.seeds,
        "queries": args.queries,
        "workers": args.workers,
        "device": args.device,
        "algorithms": {},
    }
    result["simulator"] = simulator_cost(tables[0], args.simulated_workers, args.simulated_seconds)
    print(json.dumps({"simulator": result["simulator"]}), file=sys.stderr, flush=True)
    for name in filter(None, args.algorithms.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            frame = compare(
                [name],
                range(args.seeds),
                args.queries,
                table=args.table,
                workers=args.workers,
                results=tmp,
                device=args.device,
                progress=False,
            )
            wall = time.perf_counter() - start
        final = frame[frame["query"] == frame["query"].max()]
        entry = {
            "wall_seconds": round(wall, 1),
            "amortised_search_seconds_per_query": round(float(frame["search_seconds"].mean()), 5),
            "worker_seconds_per_query": round(wall * args.workers / len(frame), 5),
            "simulated_training_hours_per_run": round(float(final["cumulative_time"].mean()) / 3600, 1),
            "mean_test_error_pct": round(float(100 * (1 - final["incumbent_mean_test"]).mean()), 3),
        }
        if args.profile_seeds > 0 and name not in ("rs", "re", "ls"):
            seeds = tuple(range(args.profile_seeds))
            chunk = RunChunk(
                name,
                pack(algorithm(name), proto.config_for(name)),
                seeds,
                tuple(tables[s % len(tables)].folder for s in seeds),
                tuple(s % len(tables) for s in seeds),
                str(space_folder()),
                Budget(queries=args.queries),
                proto.mode,
                args.device,
            )
            entry["phases_seconds"] = phase_breakdown(chunk)
            entry["phases_runs"] = args.profile_seeds
        result["algorithms"][name] = entry
        print(json.dumps({name: entry}), file=sys.stderr, flush=True)  # progress; stdout is one JSON document
    result["goal_amortised_search_seconds_per_query"] = 0.02
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
