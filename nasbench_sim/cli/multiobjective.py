"""`nasbench-sim compare --objectives A,B`: multi-objective searchers over many seeds, scored against the exact front.

Example:
    $ nasbench-sim compare --objectives test_error_repeat0,params --seeds 0-49 --budget 500 --table partial
"""

from __future__ import annotations

import argparse
from pathlib import Path

from nasbench_sim._io import atomic_write_bytes, atomic_write_json
from nasbench_sim.cli.options import say
from nasbench_sim.errors import ConfigError

#: Searchers run when --algorithms is not given.
DEFAULT_ALGORITHMS = "mo-rs,mo-re,nsga2,pls,parego"
DEFAULT_BUDGET = 500
#: compare options that a multi-objective comparison does not use (it runs in this process).
_UNUSED = ("config", "protocol", "budget_seconds", "workers", "scheduler", "device")


def run_compare(args: argparse.Namespace) -> int:
    """Run the comparison the compare options describe, with `--objectives`; write the report and figures."""
    from nasbench_sim.harness.inputs import open_tables, parse_seeds
    from nasbench_sim.multiobjective.objectives import check_objectives
    from nasbench_sim.multiobjective.registry import resolve
    from nasbench_sim.multiobjective.report import figures, report_markdown
    from nasbench_sim.multiobjective.run import Scoring, run_experiment

    given = [f"--{name.replace('_', '-')}" for name in _UNUSED if getattr(args, name, None) not in (None, False)]
    if given:
        raise ConfigError(f"{', '.join(given)}: not used by a multi-objective comparison (--objectives)")
    objectives = check_objectives([name.strip() for name in args.objectives.split(",")])
    algorithms = [name.strip() for name in (args.algorithms or DEFAULT_ALGORITHMS).split(",")]
    seeds = parse_seeds(args.seeds or "0-9")
    queries = DEFAULT_BUDGET if args.budget is None else args.budget
    tables = open_tables(args.table or "partial", args.realizations, progress=not args.quiet)
    table = tables[0]
    names = [resolve(item)[0] for item in algorithms]
    name = args.experiment or f"{table.kind}-mo-{'-'.join(objectives)}-{'-'.join(names)}-{queries}"
    folder = Path(args.results_dir or "results") / name
    say(f"objectives (minimised): {', '.join(objectives)}; table: {table.label}; {len(tables)} realization(s)")
    frame = run_experiment(tables, objectives, algorithms, seeds, queries, folder, progress=not args.quiet)
    meta = {"objectives": objectives, "queries": queries, "table": table.label, "algorithms": names,
            "seeds": seeds, "realizations": len(tables)}  # fmt: skip
    atomic_write_json(folder / "metadata.json", meta)
    report = report_markdown(frame, meta)
    atomic_write_bytes(folder / "summary.md", report.encode())
    if not args.no_plot:
        figures(frame, Scoring.of(tables[min(seeds) % len(tables)], objectives), folder)
    say(report.splitlines()[0])
    say(f"results: {folder}")
    return 0
