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

from nasbench_sim.errors import ConfigError, NasbenchSimError, OutOfDomainError

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

    cmp = sub.add_parser(
        "compare",
        help="compare NAS algorithms over many seeds; writes results/<experiment>/ and regret plots",
        description="Run every (algorithm, seed) as an independent task (local processes or a Dask cluster), "
        "write one Parquet file per run, then plot mean regret curves and a summary table. "
        "Re-running the same command skips finished runs. Algorithms: rs, re, ls, gp, np, bananas, tpe.",
    )
    cmp.add_argument("--config", help="TOML file with any of the options below and one [name] table per algorithm")
    cmp.add_argument("--algorithms", help="comma-separated names (default rs,re,gp,np)")
    cmp.add_argument("--seeds", help="e.g. 0-99 or 0,3,7 (default 0-9)")
    cmp.add_argument("--budget", type=int, help="queries per run (default 150)")
    cmp.add_argument("--budget-seconds", type=float, help="simulated training seconds per run instead of queries")
    cmp.add_argument("--experiment", help="name of the results folder (default: derived from the options)")
    cmp.add_argument("--results-dir", help="parent folder of experiments (default results)")
    cmp.add_argument("--workers", type=int, help="local worker processes (default: all cores)")
    cmp.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://HOST:8786")
    cmp.add_argument("--device", help="torch device for NP-NAS: auto (default), cpu, cuda")
    cmp.add_argument("--no-plot", action="store_true", help="do not plot at the end")
    _table_arg(cmp)
    _quiet_arg(cmp)

    plot = sub.add_parser("plot", help="regret plots and summary table of an experiment folder")
    plot.add_argument("folder", help="results/<experiment>")
    plot.add_argument("--out", help="where to write (default: the folder itself)")

    active = sub.add_parser(
        "activesel", help="MNIST study: does an informative data subset rank architectures like full data?"
    )
    active_sub = active.add_subparsers(dest="activesel_command", required=True)
    study = active_sub.add_parser(
        "study",
        help="train candidate NB101 cells under every data regime and compare their rankings",
        description="Train each candidate architecture (known strong/weak cells plus seeded random NB101 cells, "
        "as small networks) on full data, on the active subset (random 25%% + the 25%% with the highest "
        "L1 informativeness under a reference model), on a random subset of the same size and on an "
        "entropy-scored subset; report accuracies, rank correlations, top-3 agreement and time.",
    )
    study.add_argument("--archs", type=int, default=12, help="candidate architectures (default 12)")
    study.add_argument("--seeds", type=int, default=3, help="repetitions (default 3)")
    study.add_argument("--epochs", type=int, default=3, help="training epochs of every run (default 3)")
    study.add_argument("--data", default="mnist", help="mnist (first available source), digits, or a path to MNIST")
    study.add_argument("--train-size", type=int, help="subsample the training split to this many images")
    study.add_argument("--validation-size", type=int, help="subsample the validation split")
    study.add_argument("--test-size", type=int, help="subsample the test split")
    study.add_argument("--stem-channels", type=int, default=16, help="width of the small NB101 network (default 16)")
    study.add_argument("--batch-size", type=int, default=64, help="training batch size (default 64)")
    study.add_argument(
        "--regimes", default="full,active,random,entropy", help="comma-separated regimes (full is required)"
    )
    study.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda")
    study.add_argument("--workers", type=int, default=1, help="parallel training processes (CPU)")
    study.add_argument("--out", default="results/activesel", help="output folder (default results/activesel)")
    _quiet_arg(study)
    dash = active_sub.add_parser("dashboard", help="start TensorBoard on a study folder and print its URL")
    dash.add_argument("folder", nargs="?", default="results/activesel")
    dash.add_argument("--port", type=int, default=6006)
    dash.add_argument("--dry-run", action="store_true", help="print the command and URL without starting TensorBoard")

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

    space = CellSpace.load_or_build(progress=not args.quiet)
    digest = space.digest()
    print(json.dumps(digest, indent=2))
    if args.digest:
        with open(args.digest) as handle:
            expected = json.load(handle)
        keys = ("num_unique_cells", "num_unique_by_num_vertices", "sorted_hashes_sha256")
        if any(expected[k] != digest[k] for k in keys):
            print("MISMATCH with", args.digest, file=sys.stderr)
            return 1
        print("matches", args.digest)
    return 0


def _cmd_query(args: argparse.Namespace) -> int:
    from nasbench_sim.bench.oracle import Oracle
    from nasbench_sim.bench.sources import open_table
    from nasbench_sim.space.cell import Cell

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


ALGORITHMS: dict[str, tuple[type, type]] = {}  # filled by _algorithms() on first use (imports torch)


def _algorithms() -> dict[str, tuple[type, type]]:
    """The only name -> (searcher class, config class) table of the package."""
    if not ALGORITHMS:
        from nasbench_sim import search

        ALGORITHMS.update(
            {
                "rs": (search.RandomSearch, search.RandomSearchConfig),
                "re": (search.RegularizedEvolution, search.EvolutionConfig),
                "ls": (search.LocalSearch, search.LocalSearchConfig),
                "gp": (search.GPBO, search.GPBOConfig),
                "np": (search.NPNAS, search.NPNASConfig),
                "bananas": (search.Bananas, search.BananasConfig),
                "tpe": (search.TPE, search.TPEConfig),
            }
        )
    return ALGORITHMS


ALGORITHM_NAMES = ("rs", "re", "ls", "gp", "np", "bananas", "tpe")
COMPARE_DEFAULTS = {
    "algorithms": "rs,re,gp,np",
    "seeds": "0-9",
    "budget": 150,
    "budget_seconds": None,
    "experiment": None,
    "results_dir": "results",
    "workers": None,
    "scheduler": None,
    "device": "auto",
    "table": None,
}


def parse_seeds(text: str) -> list[int]:
    """'0-99' / '0,3,7' / '0-4,10' -> sorted unique seeds."""
    seeds: set[int] = set()
    try:
        for part in str(text).split(","):
            part = part.strip()
            if "-" in part:
                lo, hi = (int(x) for x in part.split("-"))
                if hi < lo:
                    raise ValueError
                seeds.update(range(lo, hi + 1))
            elif part:
                seeds.add(int(part))
    except ValueError:
        raise ConfigError(f"bad --seeds {text!r}: use e.g. 0-99 or 0,3,7") from None
    if not seeds or min(seeds) < 0:
        raise ConfigError(f"bad --seeds {text!r}: need at least one seed >= 0")
    return sorted(seeds)


def make_config(config_cls: type, values: dict, name: str):
    """Build a frozen config dataclass, naming unknown keys and bad values."""
    import dataclasses

    fields = {f.name for f in dataclasses.fields(config_cls)}
    unknown = set(values) - fields
    if unknown:
        raise ConfigError(
            f"unknown setting(s) {sorted(unknown)} for algorithm {name!r} (choices: {', '.join(sorted(fields)) or 'none'})"
        )
    try:
        return config_cls(**values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"bad setting for algorithm {name!r}: {exc}") from None


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
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{args.config}: invalid TOML ({exc})") from None
        for key, value in data.items():
            if isinstance(value, dict):
                sections[key] = value
            elif key.replace("-", "_") in options:
                options[key.replace("-", "_")] = ",".join(map(str, value)) if isinstance(value, list) else value
            else:
                raise ConfigError(f"{args.config}: unknown option {key!r} (choices: {', '.join(COMPARE_DEFAULTS)})")
    for key in COMPARE_DEFAULTS:
        value = getattr(args, key, None)
        if value is not None:
            options[key] = value
    return options, sections


def _cmd_compare(args: argparse.Namespace) -> int:
    import os
    from pathlib import Path

    from nasbench_sim.bench.sources import open_table
    from nasbench_sim.harness.experiment import RunSpec, compare
    from nasbench_sim.harness.run import Budget
    from nasbench_sim.space.enumeration import CACHE_NAME, CellSpace

    options, sections = _compare_options(args)
    names = [n.strip() for n in str(options["algorithms"]).split(",") if n.strip()]
    unknown = [n for n in names + list(sections) if n not in ALGORITHM_NAMES]
    if unknown:
        raise ConfigError(f"unknown algorithm(s) {unknown} (choices: {', '.join(ALGORITHM_NAMES)})")
    seeds = parse_seeds(options["seeds"])
    budget = (
        Budget(seconds=float(options["budget_seconds"]))
        if options["budget_seconds"]
        else Budget(queries=int(options["budget"]))
    )
    registry = _algorithms()
    configs = {name: make_config(registry[name][1], sections.get(name, {}), name) for name in names}
    if options["device"] not in ("auto", "cpu", "cuda"):
        raise ConfigError(f"bad --device {options['device']!r} (choices: auto, cpu, cuda)")
    CellSpace.load_or_build(progress=not args.quiet)
    from nasbench_sim._io import data_dir

    table = open_table(options["table"], progress=not args.quiet)
    if not table.complete:
        raise ConfigError(
            f"{table.label}: a comparison needs a table that covers every cell "
            "(searchers query cells the file lacks); use --table official, partial or surrogate"
        )
    experiment = options["experiment"] or f"{table.kind}-{'-'.join(names)}-{budget.describe().split()[0]}"
    folder = Path(options["results_dir"]) / experiment
    specs = [
        RunSpec(
            name,
            registry[name][0],
            configs[name],
            seed,
            budget,
            table.folder,
            str(data_dir() / CACHE_NAME),
            options["device"],
        )
        for seed in seeds
        for name in names
    ]
    workers = options["workers"] or os.cpu_count() or 1
    print(f"table: {table.label}")
    print(f"{len(names)} algorithms x {len(seeds)} seeds, budget {budget.describe()} -> {folder}")
    compare(specs, folder, table=table, workers=int(workers), scheduler=options["scheduler"], progress=not args.quiet)
    if not args.no_plot:
        _plot(folder, None)
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


def _cmd_activesel_study(args: argparse.Namespace) -> int:
    from nasbench_sim.activesel import StudyConfig, TrainConfig, run_study

    config = StudyConfig(
        data=args.data,
        archs=args.archs,
        seeds=args.seeds,
        regimes=tuple(r.strip() for r in args.regimes.split(",") if r.strip()),
        train_size=args.train_size,
        validation_size=args.validation_size,
        test_size=args.test_size,
        training=TrainConfig(
            epochs=args.epochs, batch_size=args.batch_size, stem_channels=args.stem_channels, device=args.device
        ),
        workers=args.workers,
        out=args.out,
    )
    out = run_study(config, progress=not args.quiet)
    print((out / "report.md").read_text())
    print(f"wrote {out}/report.html, report.md, *.csv, *.png; TensorBoard logs in {out}/tensorboard")
    return 0


def _cmd_activesel_dashboard(args: argparse.Namespace) -> int:
    import shutil
    import subprocess
    from pathlib import Path

    logdir = Path(args.folder) / "tensorboard"
    if not logdir.is_dir():
        raise ConfigError(f"{logdir}: no TensorBoard logs; run `nasbench-sim activesel study` first")
    command = [shutil.which("tensorboard") or "tensorboard", "--logdir", str(logdir), "--port", str(args.port)]
    print(f"TensorBoard: http://localhost:{args.port}/  ({' '.join(command)})")
    if args.dry_run:
        return 0
    try:
        return subprocess.call(command)
    except FileNotFoundError:
        raise ConfigError("tensorboard is not installed: pip install tensorboard") from None


COMMANDS = {
    ("data", "info"): _cmd_data_info,
    ("data", "convert"): _cmd_data_convert,
    ("data", "space"): _cmd_data_space,
    ("surrogate", "fit"): _cmd_surrogate_fit,
    ("activesel", "study"): _cmd_activesel_study,
    ("activesel", "dashboard"): _cmd_activesel_dashboard,
    ("compare", None): _cmd_compare,
    ("plot", None): _cmd_plot,
    ("query", None): _cmd_query,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    key = (args.command, getattr(args, f"{args.command}_command", None))
    try:
        return COMMANDS[key](args)
    except NasbenchSimError as exc:
        print(f"nasbench-sim: error: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"nasbench-sim: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
