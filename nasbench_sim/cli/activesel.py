"""`nasbench-sim activesel ...`: the MNIST active-selection study and its TensorBoard.

Each study flag is one row of `STUDY_FLAGS`, which names the `StudyConfig` field it sets
(nested fields as `training.epochs`); its default is read from the config itself, so a
default is written once.

Example:
    $ nasbench-sim activesel study --small --out results/activesel-small
    $ nasbench-sim activesel dashboard results/activesel-small --dry-run
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nasbench_sim.errors import ConfigError

STUDY_QUESTION = """\
Does training NAS candidates on an actively selected subset of MNIST give the
same accuracy, and the same ranking of cells, as full data, at a lower cost?

Every candidate cell (well-known NB101 cells plus seeded random ones) is
trained under every regime with identical hyper-parameters ({fraction:.0%} parts):"""
STUDY_OUTPUT = """\
The report tests equivalence to full data per cell and per regime (TOST,
+-0.5 points), ranks cells against an independent full-data run (Kendall tau,
with the full-vs-full ceiling; also the training-speed estimate TSE), and gives
SGD steps, wall time and speed-ups. Rerunning the same command resumes."""


def study_description() -> str:
    """The `activesel study --help` text, its regimes listed from `selection.REGIMES`."""
    from nasbench_sim.activesel.config import StudyConfig
    from nasbench_sim.activesel.selection import REGIMES

    lines = [STUDY_QUESTION.format(fraction=StudyConfig().selection.random_fraction)]
    for regime in REGIMES.values():
        lines.append(f"  {regime.name:<16} {regime.description}{'' if regime.default else ' (optional)'}")
    return "\n".join([*lines, STUDY_OUTPUT])


@dataclass(frozen=True)
class StudyFlag:
    """A command-line flag that sets one `StudyConfig` field.

    Attributes:
        field: the field's path, e.g. 'random_cells' or 'training.epochs' (the flag is its last part).
        kind: type of one value ('names': a comma-separated tuple of str).
        help: what it sets.
        default_text: the default as shown in --help (None: the config's default).
    """

    field: str
    kind: type | str
    help: str
    default_text: str | None = None

    @property
    def dest(self) -> str:
        return self.field.split(".")[-1]


WHOLE_SPLIT = "the whole split, {} MNIST images"
#: The study's flags, in --help order.
STUDY_FLAGS = (
    StudyFlag("data", str, "mnist (first available source; see $NASBENCH_SIM_MNIST), digits, or a path to MNIST"),
    StudyFlag("known_cells", "names", "comma-separated named cells ({known})"),
    StudyFlag("random_cells", int, "seeded random NB101 cells added to the known ones"),
    StudyFlag("cell_seed", int, "seed of the random cells"),
    StudyFlag("seeds", int, "repetitions, each with its own subsets, reference models and initialisations"),
    StudyFlag("regimes", "names", "comma-separated regimes, full required ({regimes})"),
    StudyFlag("training.epochs", int, "training epochs of every main run"),
    StudyFlag("control_epochs", int, "epochs of the longer-training control; 0: no control"),
    StudyFlag("control_cells", int, "the first this many cells get the control"),
    StudyFlag("control_regimes", "names", "comma-separated regimes of the control"),
    StudyFlag("train_size", int, "subsample the training pool to this many images", WHOLE_SPLIT.format("50,000")),
    StudyFlag("validation_size", int, "subsample the validation split", WHOLE_SPLIT.format("10,000")),
    StudyFlag("test_size", int, "subsample the test split", WHOLE_SPLIT.format("10,000")),
    StudyFlag("training.stem_channels", int, "stem width of the NB101 network (3 stacks x 1 cell)"),
    StudyFlag("training.batch_size", int, "samples per SGD step"),
    StudyFlag("training.lr", float, "peak AdamW learning rate (cosine decay to 0)"),
    StudyFlag(
        "training.evals_per_epoch", int, "validation evaluations per epoch (a learning curve even for one epoch)"
    ),
    StudyFlag("selection.reference_models", int, "reference models whose EL2N scores are averaged"),
    StudyFlag("training.device", str, "auto (CUDA when available), cpu or cuda"),
    StudyFlag("workers", int, "parallel training processes, one torch thread each on CPU"),
)
#: Smoke-test size of `--small` (each value can still be set by its own flag).
SMALL_STUDY: dict[str, Any] = {
    "train_size": 3000,
    "validation_size": 500,
    "test_size": 500,
    "known_cells": "resnet-like,vgg-like",
    "random_cells": 1,
    "reference_models": 2,
    "control_cells": 1,
}


def _default(config: Any, path: str) -> Any:
    for part in path.split("."):
        config = getattr(config, part)
    return config


def _names(value: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in str(value).split(",") if x.strip())


def add_study_arguments(
    parser: argparse.ArgumentParser, *, out_flag: str = "--out", out_default: str | None = None
) -> None:
    """Options of an active-selection study (`STUDY_FLAGS`), `--small`, `--quiet` and the output folder."""
    from nasbench_sim.activesel.config import KNOWN_CELLS, StudyConfig
    from nasbench_sim.activesel.selection import REGIMES

    defaults = StudyConfig()
    for flag in STUDY_FLAGS:
        shown = flag.default_text or _default(defaults, flag.field)
        if isinstance(shown, tuple):
            shown = ",".join(shown)
        text = flag.help.format(known=", ".join(KNOWN_CELLS), regimes=", ".join(REGIMES))
        kind: Callable[[str], Any] = str if flag.kind == "names" else flag.kind  # type: ignore[assignment]
        parser.add_argument(
            f"--{flag.dest.replace('_', '-')}", type=kind, default=None, help=f"{text} (default: {shown})"
        )
    parser.add_argument(
        out_flag,
        default=None,
        help=f"study folder (runs, subsets, TensorBoard logs, report) (default: {out_default or defaults.out})",
    )
    parser.add_argument(
        "--small",
        action="store_true",
        help="smoke-test size (about 2.5 minutes on 2 cores): "
        + ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in SMALL_STUDY.items())
        + "; flags given explicitly still win (default: off)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars (default: off)")


def study_config_from_args(args: argparse.Namespace, *, out: str | None = None) -> Any:
    """The `StudyConfig` that `add_study_arguments` options name.

    Raises:
        ConfigError: a value the config refuses.
    """
    from nasbench_sim.activesel.config import StudyConfig

    values = dict(vars(args))
    if values.get("small"):
        for key, value in SMALL_STUDY.items():
            if values.get(key) is None:
                values[key] = value
    top: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {}
    for flag in STUDY_FLAGS:
        value = values.get(flag.dest)
        if value is None:
            continue
        value = _names(value) if flag.kind == "names" else value
        head, _, tail = flag.field.rpartition(".")
        (nested.setdefault(head, {}) if head else top)[tail] = value
    defaults = StudyConfig()
    for head, fields in nested.items():
        top[head] = dataclasses.replace(getattr(defaults, head), **fields)
    chosen_out = out if out is not None else values.get("out")
    if chosen_out is not None:
        top["out"] = chosen_out
    return StudyConfig(**top)


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The `activesel` command group."""
    active = sub.add_parser(
        "activesel",
        help="MNIST study: does an actively selected data subset train NAS candidates as well as full data?",
    )
    active_sub = active.add_subparsers(dest="activesel_command", required=True)
    study = active_sub.add_parser(
        "study",
        help="train candidate NB101 cells under every data regime; test equivalence, ranking and speed-up",
        description=study_description(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_study_arguments(study)
    study.set_defaults(handler=_cmd_activesel_study)
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
    dash.set_defaults(handler=_cmd_activesel_dashboard)


def _cmd_activesel_study(args: argparse.Namespace) -> int:
    from nasbench_sim.activesel import run_study
    from nasbench_sim.activesel.layout import StudyLayout

    config = study_config_from_args(args)
    out = run_study(config, progress=not args.quiet)
    layout = StudyLayout(out)
    summary = json.loads(layout.summary.read_text())
    print(summary["answer"])
    for budget in summary["budgets"]:
        for line in budget["verdicts"]:
            print(line)
    print(f"wrote {out}/report.html, report.md, summary.json, *.csv, *.png; TensorBoard logs in {layout.tensorboard}")
    return 0


def _cmd_activesel_dashboard(args: argparse.Namespace) -> int:
    import importlib.util
    import subprocess

    from nasbench_sim.activesel.layout import StudyLayout

    logdir = StudyLayout(args.folder).tensorboard
    if not logdir.is_dir():
        raise ConfigError(f"{logdir}: no TensorBoard logs; run `nasbench-sim activesel study` first")
    if importlib.util.find_spec("tensorboard") is None:
        raise ConfigError(f"TensorBoard is not installed for {sys.executable}: pip install 'nasbench_sim[activesel]'")
    command = [sys.executable, "-m", "tensorboard.main", "--logdir", str(logdir), "--port", str(args.port)]
    print(f"TensorBoard: http://localhost:{args.port}/  ({' '.join(command)})")
    if args.dry_run:
        return 0
    return subprocess.call(command)
