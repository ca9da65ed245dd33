"""Exact FLOPs of every cell and the exact Pareto fronts of objective pairs over the whole space; prints JSON.

Usage:
    python benchmarks/pareto.py [--table partial] [--pairs test_error_repeat0:params,test_error_repeat0:flops]

Times `space_costs(space, "flops")` (every cell's FLOPs from the cell
structure) and, per pair, the objective columns and the exact front over all
423,624 cells (`multiobjective.exact_front`), and reports each front's size,
its two ends and the hypervolume of the front itself (normalised: the front's
ideal point to 0, its nadir to 1, reference point `front.REFERENCE` = 1.1):
the most a search can reach. The default pairs use repeat 0's test error, real
in the partial table.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from nasbench_sim.bench import open_table
from nasbench_sim.multiobjective import exact_front, hypervolume, normalise, objective_matrix
from nasbench_sim.multiobjective.front import REFERENCE
from nasbench_sim.space import CellSpace
from nasbench_sim.space.space_costs import space_costs

DEFAULT_PAIRS = "test_error_repeat0:params,test_error_repeat0:flops,test_error:params,test_error:train_time"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", default="partial")
    parser.add_argument("--pairs", default=DEFAULT_PAIRS)
    args = parser.parse_args()
    space = CellSpace.load_or_build(progress=False)
    table = open_table(args.table, progress=False)
    start = time.perf_counter()
    flops = space_costs(space, "flops")
    result: dict = {
        "table": table.label,
        "space_flops": {
            "seconds": round(time.perf_counter() - start, 3),
            "min": int(flops.min()),
            "median": int(np.median(flops)),
            "max": int(flops.max()),
            "unit": "multiply-accumulates of one 32x32 image",
        },
        "fronts": {},
    }
    for pair in args.pairs.split(","):
        names = pair.split(":")
        start = time.perf_counter()
        points = objective_matrix(table, names, space=space)
        columns = time.perf_counter() - start
        start = time.perf_counter()
        front = exact_front(points)
        seconds = time.perf_counter() - start
        ideal, nadir = points[front].min(axis=0), points[front].max(axis=0)
        ends = [points[front[0]].tolist(), points[front[-1]].tolist()]
        result["fronts"][pair] = {
            "columns_seconds": round(columns, 3),
            "front_seconds": round(seconds, 3),
            "cells_with_values": int((~np.isnan(points).any(axis=1)).sum()),
            "front_size": int(front.size),
            "ends": [dict(zip(names, end, strict=True)) for end in ends],
            "ends_hashes": [space.hashes[front[0]].decode(), space.hashes[front[-1]].decode()],
            "normalised_hypervolume": round(
                hypervolume(normalise(points[front], ideal, nadir), reference=[REFERENCE] * 2), 6
            ),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
