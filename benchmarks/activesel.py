"""The active-selection study as a benchmark: runs it, writes the report, prints a JSON summary.

Usage:
    python benchmarks/activesel.py                 # the full study (see README; hours on 2 CPU cores)
    python benchmarks/activesel.py --small         # smoke test of the same code path (a few minutes)
    python benchmarks/activesel.py --workers 2     # two training processes (one torch thread each)

Options are those of `nasbench-sim activesel study` (every default is in
`--help`). The study folder (runs, subsets, TensorBoard logs) is --work;
rerunning the same command resumes it. The JSON summary, the report
(Markdown, HTML, CSV) and the figures are written to --out (default
docs/activesel; with --small, <work>/report so a smoke test never overwrites
the committed results), and the summary, minus the per-cell rows, is printed
with the report's folder (the written summary holds no path of this machine).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from nasbench_sim.cli.activesel import add_study_arguments, study_config_from_args

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_study_arguments(
        parser, out_flag="--work", out_default="results/activesel; with --small results/activesel-small"
    )
    parser.add_argument(
        "--out",
        default=None,
        help="folder for summary.json, the report and figures (default: docs/activesel; with --small <work>/report)",
    )
    args = parser.parse_args(argv)

    import torch

    from nasbench_sim._io import atomic_write_json
    from nasbench_sim.activesel import run_study, write_report
    from nasbench_sim.activesel.study import load_study_data
    from nasbench_sim.errors import NasbenchSimError

    work = args.work or ("results/activesel-small" if args.small else "results/activesel")
    out = Path(args.out or (Path(work) / "report" if args.small else "docs/activesel"))
    start = time.perf_counter()
    try:
        config = study_config_from_args(args, out=work)
        run_study(config, progress=not args.quiet)
        write_report(work, config, data=load_study_data(config), dest=out)
    except NasbenchSimError as exc:
        print(f"activesel benchmark: error: {exc}", file=sys.stderr)
        return 2
    summary = json.loads((out / "summary.json").read_text())
    summary["machine"] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
    summary["benchmark_wall_seconds_this_invocation"] = round(time.perf_counter() - start, 1)
    atomic_write_json(out / "summary.json", summary)
    summary["report"] = str(out)
    for budget in summary["budgets"]:  # the printed summary leaves out the long per-cell and per-class rows
        budget.pop("cells", None)
        budget.pop("class_accuracy_pct", None)
    summary.pop("candidates", None)
    print(json.dumps(summary, indent=2))
    print(summary["answer"], file=sys.stderr)  # the verdict, last; stdout stays one JSON document
    return 0


if __name__ == "__main__":
    sys.exit(main())
