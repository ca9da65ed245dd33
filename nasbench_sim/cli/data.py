"""`nasbench-sim data ...` (which table is used, convert and export official-format files, the cell space) and
`nasbench-sim query`.

Example:
    $ nasbench-sim data info
    $ nasbench-sim data export surrogate surrogate_only108.tfrecord
    $ nasbench-sim query --matrix "[[0,1],[0,0]]" --ops input,output
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from nasbench_sim.cli.options import SPEC_HELP, add_quiet, add_table
from nasbench_sim.errors import ConfigError, DataFormatError, OutOfDomainError


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The `data` command group and `query`."""
    data = sub.add_parser("data", help="benchmark data: which table is used, convert official files")
    data_sub = data.add_subparsers(dest="data_command", required=True)
    info = data_sub.add_parser("info", help="say which table is in use and what in it is real")
    add_table(info)
    add_quiet(info)
    info.set_defaults(handler=_cmd_data_info)
    convert = data_sub.add_parser(
        "convert",
        help="convert an official-format file into a cached table (once per file content)",
        description="Convert nasbench_only108.tfrecord or nasbench_full.tfrecord (from the NAS-Bench-101 "
        "release), or any file in their format, into the table cache, keyed by the file's content. Streams the "
        "file; a corrupt file leaves no partial cache. Only a file covering every cell becomes the default table.",
    )
    convert.add_argument("file", help="path to the official-format file (any name)")
    add_quiet(convert)
    convert.set_defaults(handler=_cmd_data_convert)
    export = data_sub.add_parser(
        "export",
        help="write any table as an official-format NB101 .tfrecord file (readable by the official API)",
        description="Write a table (official | partial | surrogate | a table folder | an official-format file | "
        "test108_repeat0.npy) in the exact format of the NAS-Bench-101 release: one record per (cell, budget, "
        "repeat), cells in the table's order (ascending hash for partial and surrogate), budgets ascending. "
        "The start-of-training evaluation and total_time, which no table holds and the official API never "
        "returns, are placeholders. Records without values in the table are skipped. Written atomically.",
    )
    export.add_argument("table", help="the table: a name or a path, as for --table")
    export.add_argument("out", help="the .tfrecord file to write (replaced if it exists)")
    export.add_argument(
        "--layout",
        default="only108",
        help="only108 (default: 108 epochs, like nasbench_only108.tfrecord) or full (4, 12, 36 and 108 epochs, "
        "like nasbench_full.tfrecord)",
    )
    export.add_argument(  # parsed by the command, so that a bad value is one line like every other error
        "--realization", default="0", help="noise realization of a partial or surrogate table (default 0)"
    )
    add_quiet(export)
    export.set_defaults(handler=_cmd_data_export)
    space = data_sub.add_parser("space", help="enumerate the cell space (cached) and check it against a digest")
    space.add_argument(
        "--digest", help="space_digest.json to compare with (e.g. ../shared/data/nb101/space_digest.json)"
    )
    add_quiet(space)
    space.set_defaults(handler=_cmd_data_space)

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
    add_table(query)
    add_quiet(query)
    query.set_defaults(handler=_cmd_query)


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


def _cmd_data_export(args: argparse.Namespace) -> int:
    from nasbench_sim.bench.export import export_tfrecord, layout_epochs
    from nasbench_sim.bench.sources import open_table

    layout_epochs(args.layout)  # bad options are refused before a table is opened (or built)
    try:
        realization = int(args.realization)
    except ValueError:
        raise ConfigError(f"--realization must be a whole number >= 0, got {args.realization!r:.40}") from None
    table = open_table(args.table, realization=realization, progress=not args.quiet)
    summary = export_tfrecord(table, args.out, layout=args.layout, progress=not args.quiet)
    print(f"table: {table.label}")
    print(
        f"wrote {summary.records:,} records ({summary.cells:,} cells, {', '.join(map(str, summary.epochs))} epochs) "
        f"to {summary.path}: {summary.bytes / 1e6:,.1f} MB in {summary.seconds:.1f} s "
        f"({summary.records_per_second:,.0f} records/s)"
    )
    if summary.skipped:
        print(f"skipped {summary.skipped:,} (cell, budget, repeat) without values in the table")
    print("placeholders: the start-of-training evaluation and total_time (the official API never returns them)")
    if table.kind != "official":
        print("note: the file does not say that it holds modelled values; give it a name that does")
    return 0


def _cmd_data_space(args: argparse.Namespace) -> int:
    from nasbench_sim.space.cellspace import CellSpace

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
    if len(args.matrix) > 10_000:  # a 7x7 matrix is under 200 characters; deep nesting would exhaust the stack
        raise OutOfDomainError(f"--matrix is {len(args.matrix):,} characters long; a cell's matrix is at most 7x7")
    try:
        matrix = json.loads(args.matrix)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise OutOfDomainError(f"--matrix is not valid JSON: {type(exc).__name__}: {exc}") from None
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
