"""Options shared by several commands: the table to use, progress bars, cell specs.

Example:
    >>> import argparse
    >>> from nasbench_sim.cli.options import add_quiet
    >>> parser = argparse.ArgumentParser(); add_quiet(parser)
    >>> parser.parse_args(["--quiet"]).quiet
    True
"""

from __future__ import annotations

import argparse
import os
import sys

SPEC_HELP = """Cell as an adjacency matrix (JSON, row-major, upper triangular) and its ops.
Ops: input, conv3x3-bn-relu, conv1x1-bn-relu, maxpool3x3, output."""


def add_table(parser: argparse.ArgumentParser) -> None:
    """`--table`: which benchmark table a command reads."""
    parser.add_argument(
        "--table",
        default=None,
        help="benchmark table: official | partial | surrogate | a table folder | an official-format file (any name) | "
        "test108_repeat0.npy (default: a converted official file with complete coverage, else real partial if "
        "configured, else surrogate)",
    )


def add_quiet(parser: argparse.ArgumentParser) -> None:
    """`--quiet`: no progress bars."""
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def say(text: str) -> None:
    """Print a line of a command's report; if the reader has gone (`| head -1`), the work goes on silently."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
