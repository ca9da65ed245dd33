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

import numpy as np

from nasbench_sim.errors import NasbenchSimError, OutOfDomainError

SPEC_HELP = """Cell as an adjacency matrix (JSON, row-major, upper triangular) and its ops.
Ops: input, conv3x3-bn-relu, conv1x1-bn-relu, maxpool3x3, output."""


def _table_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--table",
        default=None,
        help="benchmark table: official | partial | surrogate | a table folder | an official .tfrecord | "
        "test108_repeat0.npy (default: converted official if cached, else real partial if configured, else surrogate)",
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
        help="convert an official .tfrecord into a cached table (once; opening it later takes < 1 s)",
        description="Convert nasbench_only108.tfrecord or nasbench_full.tfrecord (from the NAS-Bench-101 "
        "release) into the table cache. Streams the file; a corrupt file leaves no partial cache.",
    )
    convert.add_argument("file", help="path to the .tfrecord file")
    _quiet_arg(convert)
    space = data_sub.add_parser("space", help="enumerate the cell space (cached) and check it against a digest")
    space.add_argument(
        "--digest", help="space_digest.json to compare with (e.g. ../shared/data/nb101/space_digest.json)"
    )
    _quiet_arg(space)

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
    from nasbench_sim.bench.oracle import Oracle
    from nasbench_sim.bench.sources import open_table

    table = open_table(args.table, progress=not args.quiet)
    print(table.describe())
    optimum = Oracle(table).optimum
    print(
        f"optimum by mean validation: {optimum.hash} (validation {optimum.validation_accuracy:.4f}, "
        f"test {optimum.test_accuracy:.4f}); best mean test accuracy {optimum.best_test_accuracy:.4f}"
    )
    return 0


def _cmd_data_convert(args: argparse.Namespace) -> int:
    from nasbench_sim.bench.sources import convert_official, official_table_path

    table = convert_official(args.file, progress=not args.quiet)
    print(table.describe())
    print(f"cached at {official_table_path(args.file)}")
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


COMMANDS = {
    ("data", "info"): _cmd_data_info,
    ("data", "convert"): _cmd_data_convert,
    ("data", "space"): _cmd_data_space,
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
