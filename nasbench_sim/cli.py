"""Command line interface: `nasbench-sim --help`.

Example:
    $ nasbench-sim data info
    $ nasbench-sim query --matrix "[[0,1],[0,0]]" --ops input,output
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nasbench_sim._runner import RunInterruptedError
from nasbench_sim.errors import ConfigError, DataFormatError, NasbenchSimError, OutOfDomainError
from nasbench_sim.search.registry import names as algorithm_names

SPEC_HELP = """Cell as an adjacency matrix (JSON, row-major, upper triangular) and its ops.
Ops: input, conv3x3-bn-relu, conv1x1-bn-relu, maxpool3x3, output."""


def _table_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--table",
        default=None,
        help="benchmark table: official | partial | surrogate | a table folder | an official-format file (any name) | "
        "test108_repeat0.npy (default: a converted official file with complete coverage, else real partial if "
        "configured, else surrogate)",
    )


def _quiet_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nasbench-sim",
        description="NAS-Bench-101 without TensorFlow: cell space, tabular oracle, NAS comparisons.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    data = sub.add_parser("data", help="benchmark data: which table is used, convert official files")
    data_sub = data.add_subparsers(dest="data_command", required=True)
    info = data_sub.add_parser("info", help="say which table is in use and what in it is real")
    _table_arg(info)
    _quiet_arg(info)
    convert = data_sub.add_parser(
        "convert",
        help="convert an official-format file into a cached table (once per file content)",
        description="Convert nasbench_only108.tfrecord or nasbench_full.tfrecord (from the NAS-Bench-101 "
        "release), or any file in their format, into the table cache, keyed by the file's content. Streams the "
        "file; a corrupt file leaves no partial cache. Only a file covering every cell becomes the default table.",
    )
    convert.add_argument("file", help="path to the official-format file (any name)")
    _quiet_arg(convert)
    space = data_sub.add_parser("space", help="enumerate the cell space (cached) and check it against a digest")
    space.add_argument(
        "--digest", help="space_digest.json to compare with (e.g. ../shared/data/nb101/space_digest.json)"
    )
    _quiet_arg(space)

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
    _quiet_arg(fit)

    budgets = surrogate_sub.add_parser(
        "fit-budgets",
        help="fit the model of the 4/12/36-epoch budgets on the real 20k validation data (a few minutes)",
        description="Fit the MLP ensemble that models NB101's lower budgets on validation_budgets_20k.csv.gz "
        "(found in ../shared/data/nb101), report its held-out fidelity, write FILE.npz + FILE.json.",
    )
    budgets.add_argument("--out", required=True, help="output path stem (writes .npz and .json)")
    budgets.add_argument("--seed", type=int, default=0, help="seed of split, initialisation and batches (default 0)")
    _quiet_arg(budgets)

    cmp = sub.add_parser(
        "compare",
        help="compare NAS algorithms over many seeds; writes results/<experiment>/ and regret plots",
        description="Run every (algorithm, seed) not finished yet (lock-step batches of seeds on local processes "
        "or a Dask cluster), write one Parquet file per run, then plot regret curves, the final errors, a "
        "critical-difference diagram and a summary with paired tests. Re-running the same command skips "
        f"finished runs. Algorithms: {', '.join(algorithm_names())} (built-in, installed plugins of the entry-point "
        "group nasbench_sim.searchers), or package.module:Class for any importable searcher class. Protocols: naszilla (default: the BANANAS "
        "paper's), nb101 (the NAS-Bench-101 paper's).",
    )
    cmp.add_argument("--config", help="TOML file with any of the options below and one [name] table per algorithm")
    cmp.add_argument(
        "--algorithms",
        help=f"comma-separated names or package.module:Class references (default {COMPARE_DEFAULTS['algorithms']})",
    )
    cmp.add_argument("--seeds", help=f"e.g. 0-99 or 0,3,7 (default {COMPARE_DEFAULTS['seeds']})")
    cmp.add_argument("--protocol", help="naszilla (default) or nb101; recorded in the results")
    cmp.add_argument("--budget", type=int, help="queries per run (default: the protocol's; naszilla 150)")
    cmp.add_argument("--budget-seconds", type=float, help="simulated training seconds per run instead of queries")
    cmp.add_argument(
        "--realizations",
        type=int,
        help="noise realizations of a partial/surrogate table (default 5; seed s uses s %% N)",
    )
    cmp.add_argument("--experiment", help="name of the results folder (default: derived from the options)")
    cmp.add_argument("--results-dir", help="parent folder of experiments (default results)")
    cmp.add_argument("--workers", type=int, help="local worker processes (default: all cores)")
    cmp.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://HOST:8786 (instead of --workers)")
    cmp.add_argument("--device", help="torch device of model-based searchers: auto (default), cpu, cuda")
    cmp.add_argument("--no-plot", action="store_true", help="do not plot at the end")
    _table_arg(cmp)
    _quiet_arg(cmp)

    plot = sub.add_parser("plot", help="regret plots, critical-difference diagram and summary of an experiment folder")
    plot.add_argument("folder", help="results/<experiment>")
    plot.add_argument("--out", help="where to write (default: the folder itself)")

    rep = sub.add_parser(
        "reproduce",
        help="reproduce a published NB101 comparison and write published-vs-measured tables",
        description="bananas: every algorithm of the BANANAS paper's NB101 table that this package has (RS, RE, "
        "GP-BO, TPE, LS, BANANAS, REINFORCE, MCTS) plus NP-NAS, under the naszilla protocol (200 seeds x 150 "
        "queries by default), "
        "on the real partial table (and on a converted official table when one is cached). Writes "
        "reproduce.md and reproduce.json beside the runs.",
    )
    rep.add_argument(
        "paper",
        choices=["bananas", "np-nas"],
        help="bananas: the BANANAS paper's NB101 table; np-nas: NP-NAS re-tested against RE and BANANAS, with ablations",
    )
    rep.add_argument("--seeds", default="0-199", help="seeds (default 0-199)")
    rep.add_argument(
        "--algorithms",
        help="the comparison's algorithms or a subset, plus any other name or package.module:Class (default: the paper's)",
    )
    rep.add_argument("--table", default=None, help="partial (default), official, or a path")
    rep.add_argument(
        "--realizations", type=int, default=None, help="noise realizations of the partial table (default 5)"
    )
    rep.add_argument("--workers", type=int, default=None, help="local worker processes (default: all cores)")
    rep.add_argument("--results-dir", default="results", help="parent folder (default results)")
    rep.add_argument("--device", default="auto", help="auto (default), cpu or cuda")
    _quiet_arg(rep)

    active = sub.add_parser(
        "activesel",
        help="MNIST study: does an actively selected data subset train NAS candidates as well as full data?",
    )
    active_sub = active.add_subparsers(dest="activesel_command", required=True)
    study = active_sub.add_parser(
        "study",
        help="train candidate NB101 cells under every data regime; test equivalence, ranking and speed-up",
        description=STUDY_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_study_arguments(study)
    dash = active_sub.add_parser(
        "dashboard",
        help="start TensorBoard on a study folder and print its URL",
        description="Serve <folder>/tensorboard with the TensorBoard of this Python environment "
        "(python -m tensorboard.main), so it works without TensorBoard on PATH.",
    )
    dash.add_argument("folder", nargs="?", default="results/activesel", help="study folder (default: %(default)s)")
    dash.add_argument("--port", type=int, default=6006, help="port to serve on (default: %(default)s)")
    dash.add_argument(
        "--dry-run", action="store_true", help="print the command and URL without starting TensorBoard (default: off)"
    )

    query = sub.add_parser(
        "query",
        help="query one cell like the official API (samples a training repeat)",
        description=SPEC_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    query.add_argument("--matrix", required=True, help='adjacency as JSON, e.g. "[[0,1,1],[0,0,1],[0,0,0]]"')
    query.add_argument("--ops", required=True, help="comma-separated ops, e.g. input,conv3x3-bn-relu,output")
    query.add_argument("--epochs", type=int, default=108, help="training budget: 4, 12, 36 or 108 (default 108)")
    query.add_argument("--halfway", action="store_true", help="metrics at half of the budget")
    query.add_argument("--seed", type=int, default=0, help="seed of the repeat sampling (default 0)")
    query.add_argument("--json", action="store_true", help="print JSON")
    _table_arg(query)
    _quiet_arg(query)
    return parser


def _cmd_data_info(args: argparse.Namespace) -> int:
    from nasbench_sim.bench.oracle import Oracle, table_optimum
    from nasbench_sim.bench.sources import cached_tables, open_table

    table = open_table(args.table, progress=not args.quiet)
    print(table.describe())
    optimum = table_optimum(table) if table.keyed else Oracle(table).optimum
    scope = "" if table.complete else f" over the file's {table.num_cells:,} cells"
    print(
        f"optimum by mean validation{scope}: {optimum.hash} (validation {optimum.validation_accuracy:.4f}, "
        f"test {optimum.test_accuracy:.4f}); best mean test accuracy {optimum.best_test_accuracy:.4f}"
    )
    print(
        "\ntables cached on this machine (the default is the newest complete official table, else partial, else surrogate):"
    )
    for folder, meta in cached_tables():
        cover = meta.get("coverage")
        coverage = f"{cover['cells']:,} of {cover['space_cells']:,} cells" if cover else "every cell"
        note = "" if not cover or cover.get("complete") else "  [incomplete: used only when named by path]"
        if meta.get("kind") == "official" and meta.get("format_version") == 1:
            coverage, note = "legacy cache keyed by file name", "  [ignored: delete it and convert the file again]"
        in_use = "  <- shown above" if table.folder and Path(table.folder) == folder.resolve() else ""
        print(f"  {folder.name}: {meta.get('kind')}, {coverage}, {meta.get('source', '')}{note}{in_use}")
    return 0


def _cmd_data_convert(args: argparse.Namespace) -> int:
    from nasbench_sim.bench.sources import cached_official, convert_official

    table = convert_official(args.file, progress=not args.quiet)
    print(table.describe())
    print(f"cached at {table.folder} (keyed by the file's content)")
    if table.complete:
        default = cached_official()
        is_default = default is not None and default.resolve() == Path(table.folder)
        print("complete coverage: " + ("this is now the default table" if is_default else "usable as --table official"))
    else:
        print(
            f"incomplete coverage ({table.num_cells:,} of {table.coverage['space_cells']:,} cells): used only when "
            f"named (--table {args.file}); the default table is unchanged"
        )
    return 0


def _cmd_data_space(args: argparse.Namespace) -> int:
    from nasbench_sim.space.enumeration import CellSpace

    keys = ("num_unique_cells", "num_unique_by_num_vertices", "sorted_hashes_sha256")
    expected = _read_digest(args.digest, keys) if args.digest else None  # before a minute of enumeration
    space = CellSpace.load_or_build(progress=not args.quiet)
    digest = space.digest()
    print(json.dumps(digest, indent=2))
    if expected is not None:
        if any(expected[k] != digest[k] for k in keys):
            print("MISMATCH with", args.digest, file=sys.stderr)
            return 1
        print("matches", args.digest)
    return 0


def _read_digest(path: str, keys: tuple[str, ...]) -> dict:
    """A space digest JSON object holding `keys`, or DataFormatError naming what is wrong."""
    with open(path, "rb") as handle:
        raw = handle.read()
    try:
        expected = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataFormatError(f"{path}: not a JSON space digest ({exc})") from None
    missing = [k for k in keys if k not in expected] if isinstance(expected, dict) else list(keys)
    if missing:
        raise DataFormatError(f"{path}: not a space digest, it lacks {', '.join(missing)}")
    return expected


def _cmd_query(args: argparse.Namespace) -> int:
    from nasbench_sim.bench.oracle import Oracle
    from nasbench_sim.bench.sources import open_table
    from nasbench_sim.space.cell import Cell

    if args.seed < 0:
        raise ConfigError(f"--seed must be >= 0, got {args.seed}")
    try:
        matrix = json.loads(args.matrix)
    except json.JSONDecodeError as exc:
        raise OutOfDomainError(f"--matrix is not valid JSON: {exc}") from None
    cell = Cell(matrix, [op.strip() for op in args.ops.split(",")])
    table = open_table(args.table, progress=not args.quiet)
    oracle = Oracle(table, np.random.default_rng(args.seed))
    result = oracle.query(cell, epochs=args.epochs, stop_halfway=args.halfway)
    result["module_adjacency"] = result["module_adjacency"].tolist()
    result["hash"] = cell.hash
    result["table"] = table.label
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"table: {table.label}")
        for key in (
            "hash",
            "trainable_parameters",
            "train_accuracy",
            "validation_accuracy",
            "test_accuracy",
            "training_time",
        ):
            print(f"{key:>22}: {result[key]}")
    return 0


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
    from nasbench_sim.space.enumeration import CellSpace

    golden_path, validation_path = nb101_file(GOLDEN_FILE), nb101_file(VALIDATION_FILE)
    if golden_path is None or validation_path is None:
        raise DataFormatError(f"fitting needs {GOLDEN_FILE} and {VALIDATION_FILE} in ../shared/data/nb101")
    space = CellSpace.load_or_build(progress=not args.quiet)
    model, weights = fit_budget_model(
        load_validation_budgets(validation_path),
        space,
        surrogate_level(space),
        load_golden(golden_path)[ALL_BUDGETS_HASH],
        BudgetModelConfig(seed=args.seed),
        progress=not args.quiet,
    )
    model.save(args.out, weights)
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
    from nasbench_sim.space.enumeration import CellSpace

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


COMPARE_DEFAULTS = {
    "algorithms": "rs,re,gp,np",
    "seeds": "0-9",
    "protocol": "naszilla",
    "budget": None,
    "budget_seconds": None,
    "realizations": None,
    "experiment": None,
    "results_dir": "results",
    "workers": None,
    "scheduler": None,
    "device": "auto",
    "table": None,
}
#: What a TOML value of each option must be.
_OPTION_TYPES = {
    "budget": int,
    "budget_seconds": (int, float),
    "realizations": int,
    "workers": int,
}


def _compare_options(args: argparse.Namespace) -> tuple[dict, dict]:
    options = dict(COMPARE_DEFAULTS)
    sections: dict = {}
    if args.config:
        import tomllib

        try:
            with open(args.config, "rb") as handle:
                data = tomllib.load(handle)
        except FileNotFoundError:
            raise ConfigError(f"{args.config}: no such config file") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{args.config}: invalid TOML ({exc})") from None
        for key, value in data.items():
            name = key.replace("-", "_")
            if isinstance(value, dict):
                sections[key] = value
            elif name in options:
                expected = _OPTION_TYPES.get(name)
                if expected is not None and (isinstance(value, bool) or not isinstance(value, expected)):
                    raise ConfigError(f"{args.config}: option {key!r} must be a whole number, got {value!r}")
                options[name] = ",".join(map(str, value)) if isinstance(value, list) else value
            else:
                raise ConfigError(f"{args.config}: unknown option {key!r} (choices: {', '.join(COMPARE_DEFAULTS)})")
    for key in COMPARE_DEFAULTS:
        value = getattr(args, key, None)
        if value is not None:
            options[key] = value
    return options, sections


def _budget(options: dict):
    from nasbench_sim.harness.run import Budget

    if options["budget"] is not None and options["budget_seconds"] is not None:
        raise ConfigError("give either a query budget or a time budget (--budget-seconds), not both")
    if options["budget_seconds"] is not None:
        return Budget(seconds=float(options["budget_seconds"]))
    if options["budget"] is not None:
        return Budget(queries=options["budget"])
    return None


def _cmd_compare(args: argparse.Namespace) -> int:
    import os

    from nasbench_sim.harness.experiment import compare
    from nasbench_sim.harness.protocol import protocol

    options, sections = _compare_options(args)
    proto = protocol(options["protocol"])
    workers = options["workers"] if options["workers"] is not None else (os.cpu_count() or 1)
    if workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {workers}")
    print(f"protocol: {proto.name} ({proto.description})")
    frame = compare(
        options["algorithms"],
        options["seeds"],
        _budget(options),
        table=options["table"],
        protocol=proto.name,
        configs=sections,
        realizations=options["realizations"],
        workers=workers,
        scheduler=options["scheduler"],
        results=options["results_dir"],
        experiment=options["experiment"],
        device=options["device"],
        progress=not args.quiet,
    )
    folder = frame.attrs["folder"]
    print(f"results: {folder}")
    if not args.no_plot:
        _plot(folder, None)
    return 0


def _cmd_reproduce(args: argparse.Namespace) -> int:
    import os

    from nasbench_sim.harness.reproduce import reproduce_bananas, retest_np_nas

    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    common = {"seeds": args.seeds, "table": args.table, "realizations": args.realizations, "workers": workers}
    common |= {"results": args.results_dir, "device": args.device, "progress": not args.quiet}
    if args.paper == "bananas":
        report = reproduce_bananas(algorithms=args.algorithms or None, **common)
    else:
        report = retest_np_nas(**common)
    print(report.read_text())
    return 0


def _plot(folder, out) -> None:
    from nasbench_sim.harness.plots import plot_experiment

    paths = plot_experiment(folder, out)
    summary = next(p for p in paths if p.suffix == ".md")
    print(summary.read_text())
    print("wrote " + ", ".join(str(p) for p in paths))


def _cmd_plot(args: argparse.Namespace) -> int:
    _plot(args.folder, args.out)
    return 0


STUDY_DESCRIPTION = """\
Does training NAS candidates on an actively selected subset of MNIST give the
same accuracy, and the same ranking of cells, as full data, at a lower cost?

Every candidate cell (well-known NB101 cells plus seeded random ones) is
trained under every regime with identical hyper-parameters:
  full             the whole pool (the 50,000 MNIST training images)
  active           random 25% + the 25% of the pool with the highest L1 error
                   sum_k |y_k - p_k| under a reference model trained on the random 25%
  random           random 25% + a random 25% (same size and epochs as active)
  random-part      the random 25% alone
  el2n             like active, scored by EL2N averaged over several reference models
  entropy-hist     random 25% + Na et al. 2021's entropy-histogram sample
  compute-matched  the whole pool for as many SGD steps as active
  entropy, margin  like active, scored by entropy or top-2 margin (optional)
The report tests equivalence to full data per cell and per regime (TOST,
+-0.5 points), ranks cells against an independent full-data run (Kendall tau,
with the full-vs-full ceiling; also the training-speed estimate TSE), and gives
SGD steps, wall time and speed-ups. Rerunning the same command resumes."""

#: Smoke-test size of `--small` (each value can still be set by its own flag).
SMALL_STUDY = {"train_size": 3000, "validation_size": 500, "test_size": 500, "known_cells": "resnet-like,vgg-like",
               "random_cells": 1, "reference_models": 2, "control_cells": 1}  # fmt: skip


def add_study_arguments(
    parser: argparse.ArgumentParser, *, out_flag: str = "--out", out_default: str | None = None
) -> None:
    """Options of an active-selection study; defaults come from StudyConfig, TrainConfig and SelectionConfig."""
    from nasbench_sim.activesel.config import KNOWN_CELLS, StudyConfig
    from nasbench_sim.activesel.selection import REGIMES

    d = StudyConfig()
    t, sel = d.training, d.selection

    def add(flag: str, kind: type, default: object, text: str) -> None:
        parser.add_argument(flag, type=kind, default=None, help=f"{text} (default: {default})")

    add("--data", str, d.data, "mnist (first available source; see $NASBENCH_SIM_MNIST), digits, or a path to MNIST")
    add("--known-cells", str, ",".join(d.known_cells), f"comma-separated named cells ({', '.join(KNOWN_CELLS)})")
    add("--random-cells", int, d.random_cells, "seeded random NB101 cells added to the known ones")
    add("--cell-seed", int, d.cell_seed, "seed of the random cells")
    add("--seeds", int, d.seeds, "repetitions, each with its own subsets, reference models and initialisations")
    add("--regimes", str, ",".join(d.regimes), f"comma-separated regimes, full required ({', '.join(REGIMES)})")
    add("--epochs", int, t.epochs, "training epochs of every main run")
    add("--control-epochs", int, d.control_epochs, "epochs of the longer-training control; 0: no control")
    add("--control-cells", int, d.control_cells, "the first this many cells get the control")
    add("--control-regimes", str, ",".join(d.control_regimes), "comma-separated regimes of the control")
    add("--train-size", int, "the whole split, 50,000 MNIST images", "subsample the training pool to this many images")
    add("--validation-size", int, "the whole split, 10,000 MNIST images", "subsample the validation split")
    add("--test-size", int, "the whole split, 10,000 MNIST images", "subsample the test split")
    add("--stem-channels", int, t.stem_channels, "stem width of the NB101 network (3 stacks x 1 cell)")
    add("--batch-size", int, t.batch_size, "samples per SGD step")
    add("--lr", float, t.lr, "peak AdamW learning rate (cosine decay to 0)")
    add("--reference-models", int, sel.reference_models, "reference models whose EL2N scores are averaged")
    add("--device", str, t.device, "auto (CUDA when available), cpu or cuda")
    add("--workers", int, d.workers, "parallel training processes, one torch thread each on CPU")
    add(out_flag, str, out_default or d.out, "study folder (runs, subsets, TensorBoard logs, report)")
    parser.add_argument(
        "--small",
        action="store_true",
        help="smoke-test size (about 2.5 minutes on 2 cores): "
        + ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in SMALL_STUDY.items())
        + "; flags given explicitly still win (default: off)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars (default: off)")


def study_config_from_args(args: argparse.Namespace, *, out: str | None = None):
    """StudyConfig from `add_study_arguments` options (ConfigError on a bad value)."""
    from dataclasses import replace

    from nasbench_sim.activesel.config import StudyConfig

    d = StudyConfig()
    values = {k: getattr(args, k) for k in vars(args)}
    if getattr(args, "small", False):
        for key, value in SMALL_STUDY.items():
            if values.get(key) is None:
                values[key] = value

    def get(key: str, default: object) -> object:
        value = values.get(key)
        return default if value is None else value

    def names(key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = values.get(key)
        return default if value is None else tuple(x.strip() for x in str(value).split(",") if x.strip())

    return StudyConfig(
        data=get("data", d.data),
        known_cells=names("known_cells", d.known_cells),
        random_cells=get("random_cells", d.random_cells),
        cell_seed=get("cell_seed", d.cell_seed),
        seeds=get("seeds", d.seeds),
        regimes=names("regimes", d.regimes),
        train_size=values.get("train_size"),
        validation_size=values.get("validation_size"),
        test_size=values.get("test_size"),
        selection=replace(d.selection, reference_models=get("reference_models", d.selection.reference_models)),
        training=replace(
            d.training,
            epochs=get("epochs", d.training.epochs),
            batch_size=get("batch_size", d.training.batch_size),
            lr=get("lr", d.training.lr),
            stem_channels=get("stem_channels", d.training.stem_channels),
            device=get("device", d.training.device),
        ),
        control_epochs=get("control_epochs", d.control_epochs),
        control_cells=get("control_cells", d.control_cells),
        control_regimes=names("control_regimes", d.control_regimes),
        workers=get("workers", d.workers),
        out=out if out is not None else get("out", d.out),
    )


def _cmd_activesel_study(args: argparse.Namespace) -> int:
    import json as _json

    from nasbench_sim.activesel import run_study

    config = study_config_from_args(args)
    out = run_study(config, progress=not args.quiet)
    summary = _json.loads((out / "summary.json").read_text())
    for budget in summary["budgets"]:
        for line in budget["verdicts"]:
            print(line)
    print(f"wrote {out}/report.html, report.md, summary.json, *.csv, *.png; TensorBoard logs in {out}/tensorboard")
    return 0


def _cmd_activesel_dashboard(args: argparse.Namespace) -> int:
    import importlib.util
    import subprocess
    from pathlib import Path

    logdir = Path(args.folder) / "tensorboard"
    if not logdir.is_dir():
        raise ConfigError(f"{logdir}: no TensorBoard logs; run `nasbench-sim activesel study` first")
    if importlib.util.find_spec("tensorboard") is None:
        raise ConfigError(f"TensorBoard is not installed for {sys.executable}: pip install 'nasbench_sim[activesel]'")
    command = [sys.executable, "-m", "tensorboard.main", "--logdir", str(logdir), "--port", str(args.port)]
    print(f"TensorBoard: http://localhost:{args.port}/  ({' '.join(command)})")
    if args.dry_run:
        return 0
    return subprocess.call(command)


COMMANDS = {
    ("data", "info"): _cmd_data_info,
    ("data", "convert"): _cmd_data_convert,
    ("data", "space"): _cmd_data_space,
    ("surrogate", "fit"): _cmd_surrogate_fit,
    ("surrogate", "fit-budgets"): _cmd_surrogate_fit_budgets,
    ("activesel", "study"): _cmd_activesel_study,
    ("activesel", "dashboard"): _cmd_activesel_dashboard,
    ("compare", None): _cmd_compare,
    ("plot", None): _cmd_plot,
    ("reproduce", None): _cmd_reproduce,
    ("query", None): _cmd_query,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 a clear error, 130 interrupted)."""
    args = build_parser().parse_args(argv)
    key = (args.command, getattr(args, f"{args.command}_command", None))
    try:
        return COMMANDS[key](args)
    except RunInterruptedError as exc:  # Ctrl-C inside a batch: says how much finished
        print(f"nasbench-sim: {exc}", file=sys.stderr)
        return 130
    except (NasbenchSimError, FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError) as exc:
        print(f"nasbench-sim: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nasbench-sim: interrupted; finished work is kept, run the same command again to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `nasbench-sim data info | head -1`: the reader left; no traceback
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
