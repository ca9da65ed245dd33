"""`nasbench-sim surrogate ...`: fit the models behind the embedded surrogate table.

Example:
    $ nasbench-sim surrogate fit --data ../shared/data/nb101/test108_repeat0.npy --out /tmp/surrogate
"""

from __future__ import annotations

import argparse
import json

from nasbench_sim.cli.options import add_quiet


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The `surrogate` command group."""
    surrogate = sub.add_parser("surrogate", help="fit the NB101 surrogate that backs the embedded default table")
    surrogate_sub = surrogate.add_subparsers(dest="surrogate_command", required=True)
    fit = surrogate_sub.add_parser(
        "fit",
        help="fit the surrogate on real 108-epoch test accuracies (a few minutes on 2 cores)",
        description="Fit the MLP-ensemble surrogate on test108_repeat0.npy (or any float[423624] array of "
        "accuracies in hash order), report held-out fidelity, write FILE.npz + FILE.json.",
    )
    fit.add_argument("--data", required=True, help="path to test108_repeat0.npy")
    fit.add_argument("--out", required=True, help="output path stem (writes .npz and .json)")
    fit.add_argument("--epochs", type=int, default=None, help="training epochs per network (default 12)")
    fit.add_argument("--ensemble", type=int, default=None, help="networks in the ensemble (default 3)")
    fit.add_argument("--seed", type=int, default=0, help="seed of split, initialisation and batches")
    add_quiet(fit)
    fit.set_defaults(handler=_cmd_surrogate_fit)

    budgets = surrogate_sub.add_parser(
        "fit-budgets",
        help="fit the model of the 4/12/36-epoch budgets on the real 20k validation data (a few minutes)",
        description="Fit the MLP ensemble that models NB101's lower budgets on validation_budgets_20k.csv.gz "
        "(found in ../shared/data/nb101), report its held-out fidelity, write FILE.npz + FILE.json.",
    )
    budgets.add_argument("--out", required=True, help="output path stem (writes .npz and .json)")
    budgets.add_argument("--seed", type=int, default=0, help="seed of split, initialisation and batches (default 0)")
    add_quiet(budgets)
    budgets.set_defaults(handler=_cmd_surrogate_fit_budgets)


def _cmd_surrogate_fit_budgets(args: argparse.Namespace) -> int:
    from nasbench_sim.bench.budgets import ALL_BUDGETS_HASH, BudgetModelConfig, fit_budget_model
    from nasbench_sim.bench.calibration import (
        GOLDEN_FILE,
        VALIDATION_FILE,
        load_golden,
        load_validation_budgets,
        nb101_file,
    )
    from nasbench_sim.bench.sources import surrogate_level
    from nasbench_sim.errors import DataFormatError
    from nasbench_sim.space.cellspace import CellSpace

    golden_path, validation_path = nb101_file(GOLDEN_FILE), nb101_file(VALIDATION_FILE)
    if golden_path is None or validation_path is None:
        raise DataFormatError(f"fitting needs {GOLDEN_FILE} and {VALIDATION_FILE} in ../shared/data/nb101")
    space = CellSpace.load_or_build(progress=not args.quiet)
    model = fit_budget_model(
        load_validation_budgets(validation_path),
        space,
        surrogate_level(space),
        load_golden(golden_path)[ALL_BUDGETS_HASH],
        BudgetModelConfig(seed=args.seed),
        progress=not args.quiet,
    )
    model.save(args.out)
    print(
        json.dumps(
            {"out": args.out, "fit_seconds": model.meta["fit_seconds"], "fidelity": model.meta["fidelity"]}, indent=2
        )
    )
    return 0


def _cmd_surrogate_fit(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from nasbench_sim._io import file_sha256
    from nasbench_sim.bench.embedded_surrogate import SurrogateConfig, fit_surrogate
    from nasbench_sim.bench.partial import load_repeat0
    from nasbench_sim.space.cellspace import CellSpace

    space = CellSpace.load_or_build(progress=not args.quiet)
    values = load_repeat0(args.data, len(space))
    config = SurrogateConfig(seed=args.seed)
    if args.epochs is not None:
        config = replace(config, epochs=args.epochs)
    if args.ensemble is not None:
        config = replace(config, ensemble=args.ensemble)
    model = fit_surrogate(values, space, config, data_sha256=file_sha256(args.data), progress=not args.quiet)
    model.save(args.out)
    print(
        json.dumps(
            {"out": args.out, "fit_seconds": model.meta["fit_seconds"], "fidelity": model.meta["fidelity"]}, indent=2
        )
    )
    return 0
