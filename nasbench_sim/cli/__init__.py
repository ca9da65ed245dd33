"""Command line interface: `nasbench-sim --help`; one module per command group.

Example:
    $ nasbench-sim data info
    $ nasbench-sim compare --algorithms rs,re --seeds 0-9 --table surrogate
    $ nasbench-sim query --matrix "[[0,1],[0,0]]" --ops input,output
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from collections.abc import Sequence

from nasbench_sim._runner import RunInterruptedError
from nasbench_sim.cli import activesel, compare, data, lab, run_official, surrogate
from nasbench_sim.errors import NasbenchSimError


def build_parser() -> argparse.ArgumentParser:
    """The `nasbench-sim` parser; each command sets `handler`, the function that runs it."""
    parser = argparse.ArgumentParser(
        prog="nasbench-sim",
        description="NAS-Bench-101 without TensorFlow: cell space, tabular oracle, NAS comparisons.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    data.add_parsers(sub)
    surrogate.add_parsers(sub)
    compare.add_parsers(sub)
    activesel.add_parsers(sub)
    lab.add_parsers(sub)
    run_official.add_parsers(sub)
    return parser


def describe_os_error(exc: OSError) -> str:
    """One line for an operating-system error: the path(s) and what the error number means.

    Example:
        >>> import errno
        >>> describe_os_error(OSError(errno.ENOSPC, "No space left on device", "/data/t.npy"))
        '/data/t.npy: No space left on device (ENOSPC)'
    """
    paths = ": ".join(str(p) for p in (exc.filename, exc.filename2) if p is not None)
    if exc.errno is None:
        return f"{paths + ': ' if paths else ''}{exc}"
    meaning = f"{os.strerror(exc.errno)} ({errno.errorcode.get(exc.errno, exc.errno)})"
    return f"{paths}: {meaning}" if paths else meaning


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 a clear error, 130 interrupted)."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except RunInterruptedError as exc:  # Ctrl-C inside a batch: says how much finished
        print(f"nasbench-sim: {exc}", file=sys.stderr)
        return 130
    except NasbenchSimError as exc:
        print(f"nasbench-sim: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `nasbench-sim data info | head -1`: the reader left; no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # a full disk, a read-only folder, a file where a folder should be, ...
        print(f"nasbench-sim: error: {describe_os_error(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nasbench-sim: interrupted; finished work is kept, run the same command again to resume", file=sys.stderr)
        return 130
