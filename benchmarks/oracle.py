"""Speed of the cell space and the oracle; prints JSON.

Usage:
    python benchmarks/oracle.py [--enumerate] [--table partial] [--convert-records 300000]

Measures: opening a cached table, single `Oracle.query` of a cell given as
matrix + ops (median), batch lookups/queries of 100,000 cells, optionally
enumerating the space from scratch (`--enumerate`: wall seconds, and CPU
seconds of this process and its hashing workers, which other jobs on the
machine disturb less; `benchmarks/first_run.py` times the whole first run), the peak memory
of converting a synthetic tfrecord in the official format (streaming check),
and `compat.api.NASBench(path)` on a 22-cell official-format file on a fresh
machine (a subprocess with an empty `NASBENCH_SIM_DATA`: no cached space, no
tables) with the size of the file's converted cache and the median
`NASBench.query` time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from nasbench_sim.bench import METRICS, BenchmarkTable, Oracle, open_table
from nasbench_sim.space import Cell, CellSpace
from nasbench_sim.space.cellspace import CACHE_NAME
from nasbench_sim.space.sampling import random_cells


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and its finished children."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def median_us(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter_ns()
        fn()
        times.append(time.perf_counter_ns() - t)
    return float(np.median(times) / 1000)


CONVERT_SCRIPT = """
import sys, time
from nasbench_sim.bench.conversion import convert_tfrecord

def peak_kb():  # VmHWM is reset at exec, unlike ru_maxrss which a child inherits
    return int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])

base = peak_kb()
t = time.perf_counter()
convert_tfrecord(sys.argv[1], sys.argv[2], progress=False)
print(time.perf_counter() - t, base, peak_kb())
"""


def conversion(num_records: int, space: CellSpace) -> dict:
    from nasbench_sim.bench.tfrecord import encode_row, write_tfrecord

    rng = np.random.default_rng(0)
    rows = rng.choice(len(space), size=num_records // 3, replace=False)
    stats = {
        f"{p}_{m}": 0.5
        for p in ("halfway", "final")
        for m in ("train_accuracy", "validation_accuracy", "test_accuracy", "training_time")
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "synthetic.tfrecord"

        def payloads():
            for row in rows.tolist():
                matrix, ops = space.stored_spec(row)
                payload = encode_row(space.hashes[row].decode(), 108, matrix.tolist(), ops, stats, 1000)
                for _ in range(3):
                    yield payload

        write_tfrecord(path, payloads())
        out = subprocess.run(
            [sys.executable, "-c", CONVERT_SCRIPT, str(path), str(Path(tmp) / "table")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        seconds, base_kb, peak_kb = float(out[0]), int(out[1]), int(out[2])
        return {
            "records": len(rows) * 3,
            "file_mb": round(path.stat().st_size / 2**20, 1),
            "seconds": round(seconds, 2),
            "records_per_second": round(len(rows) * 3 / seconds),
            "peak_rss_before_conversion_mb": round(base_kb / 1024, 1),
            "peak_rss_after_conversion_mb": round(peak_kb / 1024, 1),
            "note": "peak RSS (VmHWM) of the converting process; touched pages of the memory-mapped output count too",
        }


FRESH_SCRIPT = """
import json, sys, time
t0 = time.perf_counter()
from nasbench_sim.compat.api import ModelSpec, NASBench
t1 = time.perf_counter()
nb = NASBench(sys.argv[1])
t2 = time.perf_counter()
again = NASBench(sys.argv[1])
t3 = time.perf_counter()
specs = [ModelSpec(f["module_adjacency"], f["module_operations"]) for f in nb.fixed_statistics.values()]
first = []
for spec in specs:  # first query of each cell: validates, hashes, looks up
    t = time.perf_counter_ns()
    nb.query(spec)
    first.append(time.perf_counter_ns() - t)
spec = specs[0]
times = []
for _ in range(2000):
    t = time.perf_counter_ns()
    nb.query(spec)
    times.append(time.perf_counter_ns() - t)
print(json.dumps({"import": t1 - t0, "first_open": t2 - t1, "second_open": t3 - t2, "cells": len(nb.hash_iterator()),
                  "query_us": sorted(times)[len(times) // 2] / 1000, "first_query_us": sorted(first)[len(first) // 2] / 1000}))
"""


def fresh_machine_compat(space: CellSpace, num_cells: int = 22) -> dict:
    """`compat.api.NASBench(path)` on a small official-format file, in a subprocess with an empty data folder."""
    from nasbench_sim.bench.tfrecord import encode_row, write_tfrecord

    rows = np.random.default_rng(1).choice(len(space), size=num_cells, replace=False)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "nasbench_small.tfrecord"
        payloads = []
        for k, row in enumerate(rows.tolist()):
            matrix, ops = space.stored_spec(row)
            for r in range(3):
                stats = {f"{p}_{m}": 0.5 + 0.01 * r + 1e-4 * k for p in ("halfway", "final") for m in METRICS[:3]}
                stats.update(halfway_training_time=500.0 + r, final_training_time=1000.0 + r)
                payloads.append(encode_row(space.hashes[row].decode(), 108, matrix.tolist(), ops, stats, 1000))
        write_tfrecord(path, payloads)
        data = Path(tmp) / "fresh_data"
        env = {**os.environ, "NASBENCH_SIM_DATA": str(data), "NASBENCH_SIM_SHARED": ""}
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", FRESH_SCRIPT, str(path)], capture_output=True, text=True, check=True, env=env
        ).stdout
        process_seconds = time.perf_counter() - start
        measured = json.loads(out.strip().splitlines()[-1])
        cache = next((data / "tables").glob("official-*/meta.json")).parent
        return {
            "file_cells": measured["cells"],
            "file_bytes": path.stat().st_size,
            "first_open_seconds": round(measured["first_open"], 3),
            "second_open_seconds": round(measured["second_open"], 4),
            "import_seconds": round(measured["import"], 3),
            "whole_subprocess_seconds": round(process_seconds, 2),
            "cache_bytes": sum(f.stat().st_size for f in cache.iterdir()),
            "cell_space_built": (data / CACHE_NAME).exists(),
            "compat_query_median_us": round(measured["query_us"], 2),
            "compat_first_query_of_a_cell_median_us": round(measured["first_query_us"], 2),
            "note": "fresh NASBENCH_SIM_DATA: no cached cell space or tables; first open converts the file",
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", default=None, help="table to query (default: best available)")
    parser.add_argument("--enumerate", action="store_true", help="also time enumerating the space from scratch")
    parser.add_argument(
        "--convert-records", type=int, default=300_000, help="records in the synthetic tfrecord (0: skip)"
    )
    args = parser.parse_args()

    space = CellSpace.load_or_build(progress=False)
    table = open_table(args.table, progress=False)
    result: dict = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "processor": platform.machine()}
    }
    result["table"] = table.label

    folder = table.folder
    if folder is not None:
        open_times = []
        for _ in range(5):
            t = time.perf_counter()
            loaded = BenchmarkTable.load(folder)
            float(loaded.data[123, 0, 0, 1, 2])
            open_times.append(time.perf_counter() - t)
        result["open_cached_table_seconds"] = round(float(np.median(open_times)), 4)

    oracle = Oracle(table, np.random.default_rng(0), space=space)
    cells = random_cells(np.random.default_rng(1), 2000)
    specs = [(c.original_matrix, list(c.original_ops)) for c in cells]
    it = iter(specs * 10)

    def one_query():
        matrix, ops = next(it)
        oracle.query(Cell(matrix, ops))

    result["query_matrix_ops_median_us"] = round(median_us(one_query, 20000), 2)
    row_cells = [space.cell(int(r)) for r in np.random.default_rng(2).integers(0, len(space), 2000)]
    it_cells = iter(row_cells * 10)
    result["index_lookup_median_us"] = round(median_us(lambda: space.index(next(it_cells)), 20000), 2)

    batch = random_cells(np.random.default_rng(3), 10_000) * 10
    t = time.perf_counter()
    space.indices(batch)
    result["batch_index_100k_seconds"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    oracle.query_batch(batch)
    result["batch_query_100k_seconds"] = round(time.perf_counter() - t, 3)

    if args.enumerate:
        cpu = cpu_seconds()
        t = time.perf_counter()
        CellSpace.build(progress=False)
        result["enumerate_space_seconds"] = round(time.perf_counter() - t, 1)
        result["enumerate_space_cpu_seconds"] = round(cpu_seconds() - cpu, 1)
        result["load_average_1min"] = round(os.getloadavg()[0], 2)
    if args.convert_records:
        result["convert_tfrecord"] = conversion(args.convert_records, space)
    result["compat_small_file_fresh_machine"] = fresh_machine_compat(space)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
