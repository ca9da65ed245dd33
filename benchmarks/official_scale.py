"""Official-format NB101 files at full size: export, convert, open, query, and a search run on them; prints JSON.

Usage:
    python benchmarks/official_scale.py [--workdir DIR] [--layouts only108,full] [--seeds 0-19] [--no-reproduce]

Writes the real partial table (realization 0) in both official layouts
(`nasbench-sim data export partial F --layout only108|full`: 1,270,872 and
5,083,488 records, the release's record counts), then, each step in its own
Python process with a data folder of its own (no cached tables):

1. `convert`: `nasbench-sim data convert F` (what a user runs once): wall
   seconds, CPU seconds of the process and its worker, and peak resident
   memory of each (VmHWM; the worker's from `getrusage(RUSAGE_CHILDREN)`);
   `convert_tfrecord_seconds` is the conversion alone, without the first
   SHA-256 pass over the file that keys the cache;
2. `open_and_query`: `compat.api.NASBench(F)` on the converted file (first
   open: finds the cache by content, memory-maps it), then `hash_iterator()` +
   `get_metrics_from_hash` over every cell, then `query` of 100,000 random
   cells (per query, median of 20 batches); peak memory;
3. `round_trip`: the converted table against the partial table it came from,
   value for value (bit-exact, NaN where it has no value), parameters, hashes
   and cell order.

Then `reproduce bananas --table F --seeds 0-19` on the converted full-size
file and `reproduce bananas --table partial --realizations 1 --seeds 0-19`,
and whether every run's history is the same (all columns but the
searcher's wall-clock `search_seconds`). The official API gives no load time (its README: "this will take some
time"); the figure beside ours is the one measured in issue 22 on this
machine (65 s for the only108 layout).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from nasbench_sim.bench import BenchmarkTable, open_table
from nasbench_sim.bench.export import export_tfrecord

CONVERT = """
import json, os, resource, subprocess, sys, time

def peak_mb():  # VmHWM is reset at exec, unlike ru_maxrss which a child inherits
    return int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]) / 1024

def cpu(who):
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime

from nasbench_sim.bench.conversion import convert_tfrecord
from nasbench_sim.bench.sources import convert_official, content_sha256
start = time.perf_counter()
if sys.argv[1] == "cli":
    from nasbench_sim.cli import main
    code = main(["data", "convert", sys.argv[2], "--quiet"])
    assert code in (0, None), code
else:
    convert_tfrecord(sys.argv[2], sys.argv[3], progress=False)
seconds = time.perf_counter() - start
print(json.dumps({
    "seconds": round(seconds, 2),
    "cpu_seconds": round(cpu(resource.RUSAGE_SELF) + cpu(resource.RUSAGE_CHILDREN), 2),
    "peak_rss_mb": round(peak_mb(), 1),
    "worker_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
}))
"""

OPEN_AND_QUERY = """
import json, sys, time
import numpy as np

def peak_mb():
    return int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]) / 1024

start = time.perf_counter()
from nasbench_sim.compat import api
nasbench = api.NASBench(sys.argv[1])
opened = time.perf_counter() - start
start = time.perf_counter()
specs = []
for module_hash in nasbench.hash_iterator():
    fixed, computed = nasbench.get_metrics_from_hash(module_hash)
    specs.append((fixed["module_adjacency"], fixed["module_operations"]))
iterate = time.perf_counter() - start
rng = np.random.default_rng(0)
picks = rng.choice(len(specs), size=100_000, replace=False)
models = [api.ModelSpec(*specs[i]) for i in picks.tolist()]
batches = []
for batch in np.array_split(np.arange(len(models)), 20):
    start = time.perf_counter()
    for i in batch.tolist():
        nasbench.query(models[i])
    batches.append((time.perf_counter() - start) / batch.size)
print(json.dumps({
    "first_open_seconds": round(opened, 2),
    "cells": len(specs),
    "hash_iterator_and_get_metrics_from_hash_seconds": round(iterate, 2),
    "query_us_median": round(float(np.median(batches)) * 1e6, 1),
    "queries_per_second": round(1 / float(np.median(batches))),
    "peak_rss_mb": round(peak_mb(), 1),
}))
"""


def run_json(code: str, *args: str, env: dict[str, str]) -> dict:
    """Run `code` in a fresh interpreter; its last stdout line is JSON."""
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"step failed ({' '.join(args)}):\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def round_trip(converted: BenchmarkTable, partial: BenchmarkTable, epochs: tuple[int, ...]) -> dict:
    """Whether the converted table holds exactly the partial table's values at `epochs`."""
    from nasbench_sim.space import CellSpace

    budgets = [partial.epochs.index(e) for e in epochs]
    ours = np.asarray(converted.data)
    theirs = np.asarray(partial.data)[:, :, budgets]
    space = CellSpace.load_or_build(progress=False)
    return {
        "values_bit_exact": bool(
            converted.epochs == epochs
            and ours.shape == theirs.shape
            and np.array_equal(ours.astype(np.float64), theirs.astype(np.float64), equal_nan=True)
        ),
        "trainable_parameters_equal": bool(
            np.array_equal(converted.trainable_parameters, partial.trainable_parameters)
        ),
        "hashes_in_the_partial_tables_order": bool(np.array_equal(converted.cells.hashes, space.hashes)),
        "converted_dtype": str(ours.dtype),
    }


def reproduce(table: str, seeds: str, out: Path, env: dict[str, str], *extra: str) -> float:
    start = time.perf_counter()
    command = [
        sys.executable,
        "-m",
        "nasbench_sim",
        "reproduce",
        "bananas",
        "--table",
        table,
        "--seeds",
        seeds,
        "--quiet",
    ]
    subprocess.run([*command, "--results-dir", str(out), *extra], check=True, env=env, capture_output=True)
    return time.perf_counter() - start


def same_runs(a: Path, b: Path) -> dict:
    """Compare every run file of two reproduce folders (all columns but `search_seconds`)."""
    runs_a = sorted(p.relative_to(a) for p in a.glob("*/runs/*/*.parquet"))
    runs_b = sorted(p.relative_to(b) for p in b.glob("*/runs/*/*.parquet"))
    names_a = sorted((p.parts[-2], p.parts[-1]) for p in runs_a)
    names_b = sorted((p.parts[-2], p.parts[-1]) for p in runs_b)
    identical = 0
    differing = []
    for pa, pb in zip(runs_a, runs_b, strict=False):
        fa, fb = pd.read_parquet(a / pa), pd.read_parquet(b / pb)
        keep = [c for c in fa.columns if c != "search_seconds"]  # the searcher's wall-clock seconds
        if fa.columns.tolist() == fb.columns.tolist() and fa[keep].equals(fb[keep]):
            identical += 1
        else:
            differing.append(f"{pa.parts[-2]}/{pa.parts[-1]}")
    return {
        "runs": len(runs_a),
        "same_run_files": names_a == names_b,
        "identical_histories": identical,
        "differing": differing[:10],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", help="folder for the files (default: a temporary one, removed)")
    parser.add_argument("--layouts", default="only108,full")
    parser.add_argument("--seeds", default="0-19")
    parser.add_argument("--no-reproduce", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.workdir or tmp)
        work.mkdir(parents=True, exist_ok=True)
        partial = open_table("partial", progress=False)
        result: dict = {
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "official_api": {
                "published_load_time": "none: the official README says 'this will take some time'",
                "measured_in_issue_22": "65 s to load a 1,270,872-record only108-layout file on this 2-core machine",
                "release_files": {"nasbench_only108.tfrecord": "499 MB", "nasbench_full.tfrecord": "1.95 GB"},
            },
            "layouts": {},
        }
        for layout in args.layouts.split(","):
            path = work / f"partial_{layout}.tfrecord"
            start = time.perf_counter()
            summary = export_tfrecord(partial, path, layout=layout, progress=False)
            exported = time.perf_counter() - start
            data = work / f"data_{layout}"
            env = {**os.environ, "NASBENCH_SIM_DATA": str(data)}
            step: dict = {
                "records": summary.records,
                "file_mb": round(path.stat().st_size / 1e6, 1),
                "export_seconds": round(exported, 2),
                "convert_tfrecord": run_json(CONVERT, "direct", str(path), str(work / f"direct_{layout}"), env=env),
                "data_convert_cli": run_json(CONVERT, "cli", str(path), env=env),
                "open_and_query": run_json(OPEN_AND_QUERY, str(path), env=env),
            }
            converted = BenchmarkTable.load(work / f"direct_{layout}")
            step["round_trip"] = round_trip(converted, partial, converted.epochs)
            step["round_trip"]["epochs"] = list(converted.epochs)
            result["layouts"][layout] = step
            if layout == "full" and not args.no_reproduce:
                official = reproduce(str(path), args.seeds, work / "reproduce_official", env)
                on_partial = reproduce(
                    "partial", args.seeds, work / "reproduce_partial", dict(os.environ), "--realizations", "1"
                )
                result["reproduce_bananas"] = {
                    "seeds": args.seeds,
                    "official_file_seconds": round(official, 1),
                    "partial_table_seconds": round(on_partial, 1),
                    **same_runs(work / "reproduce_official", work / "reproduce_partial"),
                }
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
