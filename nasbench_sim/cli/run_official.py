"""`nasbench-sim run-official`: run an unmodified script written for the official `nasbench` API.

Example:
    $ nasbench-sim run-official example.py --table surrogate
    $ nasbench-sim run-official search.py --table partial --realization 2 -- --budget 100
"""

from __future__ import annotations

import argparse

from nasbench_sim.cli.options import add_table
from nasbench_sim.errors import ConfigError


def _add_options(parser: argparse.ArgumentParser) -> None:
    add_table(parser)
    parser.add_argument(
        "--realization", type=int, default=0, help="noise realization of a partial or surrogate table (default 0)"
    )


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The `run-official` command."""
    run = sub.add_parser(
        "run-official",
        usage="nasbench-sim run-official SCRIPT [--table TABLE] [--realization K] [-- SCRIPT_ARGS ...]",
        help="run a script written for the official nasbench API (from nasbench import api) on these tables",
        description="Run SCRIPT as `python SCRIPT SCRIPT_ARGS...` would, with `nasbench` and `nasbench.api` "
        "answered by nasbench_sim.compat.api for this run only: api.NASBench(path) for a path that does not exist "
        "uses --table in its place (one line on stderr names it); a path that exists is read as the official API "
        "reads it. A real nasbench package, where one is importable, is never shadowed: the script runs with it. "
        "The exit status is the script's; an exception it raises prints as its own traceback. The options may "
        "come before or after SCRIPT; the script's arguments come after --.",
    )
    _add_options(run)
    run.add_argument(
        "words",
        nargs=argparse.REMAINDER,
        metavar="SCRIPT ...",
        help="the Python script, then any of the options above, then -- and the script's arguments",
    )
    run.set_defaults(handler=_cmd_run_official)


def _split(args: argparse.Namespace) -> tuple[argparse.Namespace, str, list[str]]:
    """(this command's options, SCRIPT, the script's arguments) from SCRIPT [options] [-- ARGS]."""
    words = list(args.words[1:] if args.words[:1] == ["--"] else args.words)
    if not words:
        raise ConfigError("run-official needs a SCRIPT: nasbench-sim run-official SCRIPT [--table TABLE] [-- ARGS]")
    script, rest = words[0], words[1:]
    cut = rest.index("--") if "--" in rest else len(rest)
    ours, script_args = rest[:cut], rest[cut + 1 :]
    options = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    _add_options(options)
    try:
        parsed, unknown = options.parse_known_args(ours, argparse.Namespace(**vars(args)))
    except argparse.ArgumentError as exc:
        raise ConfigError(f"run-official: {exc}") from None
    if unknown:
        raise ConfigError(
            f"run-official: {' '.join(unknown)!r} is not an option of run-official; the script's arguments go after --"
        )
    return parsed, script, script_args


def _cmd_run_official(args: argparse.Namespace) -> int:
    from nasbench_sim.compat.run import run_official

    options, script, script_args = _split(args)
    return run_official(script, script_args, table=options.table, realization=options.realization)
