"""`nasbench-sim compare`, `plot` and `reproduce`: comparisons of NAS algorithms over many seeds.

Example:
    $ nasbench-sim compare --algorithms rs,re --seeds 0-9 --budget 50 --table surrogate
    $ nasbench-sim plot results/surrogate-naszilla-rs-re-50
"""

from __future__ import annotations

import argparse

from nasbench_sim.cli.options import add_quiet, add_table, say
from nasbench_sim.errors import ConfigError
from nasbench_sim.harness.config_file import (
    COMPARE_DEFAULTS,
    DEFAULT_REALIZATIONS,
    MAX_REALIZATIONS,
    compare_options,
    options_budget,
    worker_counts,
)
from nasbench_sim.search.registry import names as algorithm_names


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """`compare`, `plot` and `reproduce`."""
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
        help=f"noise realizations of a partial/surrogate table (default {DEFAULT_REALIZATIONS}, at most {MAX_REALIZATIONS}; seed s uses s %% N)",
    )
    cmp.add_argument("--experiment", help="name of the results folder (default: derived from the options)")
    cmp.add_argument("--results-dir", help="parent folder of experiments (default results)")
    cmp.add_argument("--workers", type=int, help="local worker processes (default: all cores)")
    cmp.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://HOST:8786 (instead of --workers)")
    cmp.add_argument("--device", help="torch device of model-based searchers: auto (default), cpu, cuda")
    cmp.add_argument("--no-plot", action="store_true", help="do not plot at the end")
    cmp.add_argument(
        "--simulated-workers",
        help="parallel workers simulated in each run (a query occupies one for its training time; results come "
        "back in completion order; a time budget is then simulated wall-clock). Several counts, e.g. 1,8,64,256, "
        "run a scaling study: regret vs wall-clock per count and speed-ups (default 1: the sequential protocol)",
    )
    cmp.add_argument(
        "--schedule",
        choices=["async", "sync"],
        help="async (default): a free worker gets a query at once; sync: synchronous batches "
        "(Hyperband and BOHB always run so)",
    )
    cmp.add_argument(
        "--charge-search-time",
        action="store_true",
        help="add the searcher's measured ask time to the simulated clock (results then depend on the machine)",
    )
    cmp.add_argument(
        "--equal",
        choices=["compute", "wall-clock"],
        help="scaling study: compute (default: a time budget is divided by the worker count) or wall-clock",
    )
    cmp.add_argument(
        "--target",
        type=float,
        help="scaling study: test regret (%%) whose time to reach defines the speed-up "
        "(default: the 75th percentile of the one-worker runs' final regrets)",
    )
    cmp.add_argument(
        "--objectives",
        help="multi-objective comparison of two or more of test_error, test_error_repeat0, params, flops, "
        "train_time (all minimised), scored against the exact Pareto front; algorithms mo-rs, mo-re, nsga2, pls, parego "
        "(default all), budget 500 queries",
    )
    add_table(cmp)
    add_quiet(cmp)
    cmp.set_defaults(handler=_cmd_compare)

    plot = sub.add_parser("plot", help="regret plots, critical-difference diagram and summary of an experiment folder")
    plot.add_argument("folder", help="results/<experiment>")
    plot.add_argument("--out", help="where to write (default: the folder itself)")
    plot.set_defaults(handler=_cmd_plot)

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
        "--realizations",
        type=int,
        default=None,
        help=f"noise realizations of the partial table (default {DEFAULT_REALIZATIONS})",
    )
    rep.add_argument("--workers", type=int, default=None, help="local worker processes (default: all cores)")
    rep.add_argument("--results-dir", default="results", help="parent folder (default results)")
    rep.add_argument("--device", default="auto", help="auto (default), cpu or cuda")
    add_quiet(rep)
    rep.set_defaults(handler=_cmd_reproduce)


def _cmd_compare(args: argparse.Namespace) -> int:
    import os

    if args.objectives is not None:
        from nasbench_sim.cli.multiobjective import run_compare

        parallel = ("simulated_workers", "schedule", "charge_search_time", "equal", "target")
        given = [f"--{o.replace('_', '-')}" for o in parallel if getattr(args, o) not in (None, False)]
        if given:
            raise ConfigError(f"{', '.join(given)}: multi-objective runs have no simulated workers (yet)")

        return run_compare(args)

    from nasbench_sim.harness.experiment import compare
    from nasbench_sim.harness.protocol import protocol
    from nasbench_sim.harness.simulator import Workers

    options, sections = compare_options(args.config, vars(args))
    proto = protocol(options["protocol"])
    workers = options["workers"] if options["workers"] is not None else (os.cpu_count() or 1)
    if workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {workers}")
    say(f"protocol: {proto.name} ({proto.description})")
    counts = worker_counts(options)
    common = {
        "table": options["table"],
        "protocol": proto.name,
        "configs": sections,
        "realizations": options["realizations"],
        "workers": workers,
        "scheduler": options["scheduler"],
        "results": options["results_dir"],
        "experiment": options["experiment"],
        "device": options["device"],
        "progress": not args.quiet,
    }
    if counts is not None and len(counts) > 1:
        return _scaling(options, counts, proto, common)
    study_only = [f"--{o}" for o in ("equal", "target") if options[o] is not None]
    if study_only:
        raise ConfigError(f"{', '.join(study_only)} apply to a scaling study: give several --simulated-workers counts")
    simulated = Workers(
        count=counts[0] if counts else 1,
        schedule=options["schedule"],
        charge_search_time=options["charge_search_time"],
    )
    if not simulated.sequential:
        say(f"simulated workers: {simulated.count} per run ({simulated.schedule})")
    frame = compare(
        options["algorithms"], options["seeds"], options_budget(options), simulated_workers=simulated, **common
    )
    folder = frame.attrs["folder"]
    say(f"results: {folder}")
    if not args.no_plot:
        _plot(folder, None)
    return 0


def _scaling(options: dict, counts: list[int], proto, common: dict) -> int:
    from nasbench_sim.harness.scaling import compare_workers

    budget = options_budget(options) or proto.default_budget
    folder = compare_workers(
        options["algorithms"],
        options["seeds"],
        budget,
        counts=counts,
        equal=options["equal"] or "compute",
        schedule=options["schedule"],
        charge_search_time=options["charge_search_time"],
        target=options["target"],
        **common,
    )
    say((folder / "scaling.md").read_text())
    say(f"results: {folder}")
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
    say(report.read_text())
    return 0


def _plot(folder, out) -> None:
    from pathlib import Path

    from nasbench_sim.harness.plots import plot_experiment
    from nasbench_sim.harness.scaling_report import SETUP_NAME

    if (Path(folder) / SETUP_NAME).exists():  # a scaling study: its report (each w<N>/ plots on its own)
        from nasbench_sim.harness.scaling_report import write_report

        paths = write_report(folder)
        say(paths[-1].read_text())
        say("wrote " + ", ".join(str(p) for p in paths))
        return

    paths = plot_experiment(folder, out)
    summary = next(p for p in paths if p.suffix == ".md")
    say(summary.read_text())
    say("wrote " + ", ".join(str(p) for p in paths))


def _cmd_plot(args: argparse.Namespace) -> int:
    _plot(args.folder, args.out)
    return 0
