"""The first run on a fresh machine, step by step; prints JSON.

Usage:
    python benchmarks/first_run.py [--repeats 3] [--no-compare] [--whole]

Each repetition starts from a new, empty data folder (`NASBENCH_SIM_DATA`,
so no cached cell space or tables; the real data in ../shared stays
available) and times, each in its own Python process, as a new user meets
them:

1. `space`: enumerating and hashing the cell space (`CellSpace.load_or_build`);
2. `surrogate_table`: building the embedded surrogate's table, realization 0
   (`nasbench_sim.bench.sources.surrogate_table(realization=0)`);
3. `compare`: README command 1, `nasbench-sim compare --table surrogate
   --algorithms rs,re,bananas,np --seeds 0-9` (runs and figures), into a
   temporary results folder (it builds the other noise realizations it needs
   itself).

The compare process predicts the surrogate level again for the realizations
1-4 it builds (step 2 ran in another process); README command 1, one
process, predicts it once. `--whole` also times that command as one process
on a fresh data folder (`readme_command_1`: space, tables and runs).

Per step: `seconds` (the whole process: interpreter start, imports, work),
`work_seconds` (the work alone, measured inside the process) and
`cpu_seconds` (user + system CPU of the process and its workers: less
sensitive than wall time to other jobs on the machine); the medians over the
repetitions, every value, and the load average before each step (the
machine may be busy with other jobs: read the times with it).
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

ROOT = Path(__file__).resolve().parent.parent

SPACE = """
import json, time
t = time.perf_counter()
from nasbench_sim.space import CellSpace
CellSpace.load_or_build(progress=False)
print(json.dumps({"work_seconds": time.perf_counter() - t}))
"""

SURROGATE = """
import json, time
t = time.perf_counter()
from nasbench_sim.bench.sources import surrogate_table
surrogate_table(realization=0, progress=False)
print(json.dumps({"work_seconds": time.perf_counter() - t}))
"""

COMPARE_ARGS = ["--table", "surrogate", "--algorithms", "rs,re,bananas,np", "--seeds", "0-9"]  # README command 1


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], env: dict[str, str]) -> dict:
    """Run one step in a subprocess: its wall and CPU seconds, the work seconds it printed (if any), or its error."""
    load = os.getloadavg()[0]
    cpu = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        return {"error": f"exit {done.returncode}: {(done.stderr or done.stdout).strip()[-2000:]}", "load_before": load}
    result = {"seconds": seconds, "cpu_seconds": _children_cpu() - cpu, "load_before": load}
    try:
        result.update(json.loads(done.stdout.strip().splitlines()[-1]))
    except (IndexError, json.JSONDecodeError):
        pass
    return result


def one_run(with_compare: bool, whole: bool) -> dict[str, dict]:
    """The steps on a fresh data folder."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "NASBENCH_SIM_DATA": str(Path(tmp) / "data"), "PYTHONPATH": str(ROOT)}
        env.pop("NASBENCH_SIM_NB101_REPEAT0", None)
        steps = {
            "space": timed([sys.executable, "-c", SPACE], env),
            "surrogate_table": timed([sys.executable, "-c", SURROGATE], env),
        }
        command = [sys.executable, "-m", "nasbench_sim", "compare", *COMPARE_ARGS]
        if with_compare:
            steps["compare"] = timed([*command, "--results-dir", str(Path(tmp) / "results")], env)
        if whole:
            env["NASBENCH_SIM_DATA"] = str(Path(tmp) / "data-whole")
            steps["readme_command_1"] = timed([*command, "--results-dir", str(Path(tmp) / "results-whole")], env)
        return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="fresh-machine repetitions (default 3)")
    parser.add_argument("--no-compare", action="store_true", help="time the space and the table only")
    parser.add_argument("--whole", action="store_true", help="also time the compare command alone on a fresh folder")
    args = parser.parse_args()

    runs = [one_run(not args.no_compare, args.whole) for _ in range(args.repeats)]
    result: dict = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "processor": platform.machine()},
        "repeats": args.repeats,
        "compare_command": "nasbench-sim compare " + " ".join(COMPARE_ARGS) + " --results-dir <tmp>",
        "steps": {},
    }
    for step in runs[0]:
        values = [run[step] for run in runs]
        errors = [v["error"] for v in values if "error" in v]
        summary: dict = {"load_average_before": [round(v["load_before"], 2) for v in values]}
        if errors:
            summary["error"] = errors[0]
        else:
            for key in ("seconds", "work_seconds", "cpu_seconds"):
                if all(key in v for v in values):
                    summary[key] = round(float(np.median([v[key] for v in values])), 2)
                    summary[f"{key}_all"] = [round(v[key], 2) for v in values]
        result["steps"][step] = summary
    steps = [result["steps"][k] for k in ("space", "surrogate_table", "compare") if k in result["steps"]]
    if all("seconds" in s for s in steps):
        result["steps_total_seconds"] = round(sum(s["seconds"] for s in steps), 2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
