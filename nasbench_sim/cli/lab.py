"""`nasbench-sim lab`: every cheap way to rank NB101 cells, against full training, on the same MNIST cells.

Example:
    $ nasbench-sim lab --data digits --known-cells resnet-like --random-cells 3 --out results/lab-digits
"""

from __future__ import annotations

import argparse
import json
import textwrap

from nasbench_sim.cli.activesel import add_study_arguments, study_config_from_args

#: The study regimes and control the lab runs underneath unless told otherwise.
LAB_REGIMES = "full,active,random"
LAB_CONTROL_EPOCHS = 0


def _description() -> str:
    from nasbench_sim.lab.config import ESTIMATORS

    lines = [
        textwrap.fill(
            "Runs an active-selection study underneath (its cells, seeds, data, training; regimes "
            f"{LAB_REGIMES} and no control unless --regimes / --control-epochs say otherwise), then every "
            "estimator below on the same cells and seeds, and reports Kendall tau against an independent "
            "full-training run (with its CI over seeds and the full-vs-full ceiling), Spearman, top-k overlap, "
            "the pick's full-data accuracy and the cost per query, amortised. Rerunning resumes.",
            width=88,
        ),
        "",
    ]
    lines += [f"  {name:<15} {text}" for name, text in ESTIMATORS.items()]
    return "\n".join(lines)


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The `lab` command."""
    from nasbench_sim.lab.config import LabConfig

    defaults = LabConfig()
    lab = sub.add_parser(
        "lab",
        help="performance-estimation lab: every cheap estimator against full training on the study's cells",
        description=_description(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_study_arguments(lab, out_flag="--study-out", out_default="<out>/study")
    lab.add_argument("--out", default=defaults.out, help="lab folder (default: %(default)s)")
    lab.add_argument(
        "--estimators",
        default=",".join(defaults.estimators),
        help="comma-separated estimators (default: all: %(default)s)",
    )
    options = (
        ("--fraction", float, "fraction", "epochs of epoch-fraction and inherit"),
        ("--lab-stem-channels", int, "stem_channels", "stem width of the stem estimator"),
        ("--lab-stacks", int, "num_stacks", "stacks of the stacks estimator"),
        ("--resolution", int, "resolution", "image side of the resolution estimator"),
        ("--early-fraction", float, "early_fraction", "share of the full schedule early-stop and curve train"),
        ("--curve-points", int, "curve_points", "validation points the curve is fitted to"),
        ("--supernet-epochs", int, "supernet_epochs", "epochs of the one-shot supernet"),
        ("--queries", int, "queries", "search length the fixed costs are amortised over"),
    )
    for flag, kind, field, text in options:
        lab.add_argument(
            flag, type=kind, default=None, dest=f"lab_{field}", help=f"{text} (default: {getattr(defaults, field)})"
        )
    lab.set_defaults(handler=_cmd_lab)


def _cmd_lab(args: argparse.Namespace) -> int:
    from nasbench_sim.lab.config import LabConfig
    from nasbench_sim.lab.run import run_lab

    if args.regimes is None:
        args.regimes = LAB_REGIMES
    if args.control_epochs is None:
        args.control_epochs = LAB_CONTROL_EPOCHS
    study_out = args.study_out or f"{args.out}/study"
    study = study_config_from_args(args, out=study_out)
    values = {k[4:]: v for k, v in vars(args).items() if k.startswith("lab_") and v is not None}
    estimators = tuple(x.strip() for x in args.estimators.split(",") if x.strip())
    config = LabConfig(study=study, estimators=estimators, workers=study.workers, out=args.out, **values)
    out = run_lab(config, progress=not args.quiet)
    summary = json.loads((out / "lab.json").read_text())
    print(summary["answer"])
    print(f"wrote {out}/report.md, lab.json, estimators.csv; the study underneath is in {study.out}")
    return 0
