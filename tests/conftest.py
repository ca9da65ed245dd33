"""Shared fixtures: real data from ../shared (skipped when absent), stand-ins that need none, the cell space."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from nasbench_sim._io import shared_dir

# A shell that starts a command in the background without job control starts it with SIGINT ignored, and
# every process it starts would inherit that: the Ctrl-C tests then hang. Give them the default back.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

SHARED = shared_dir()
NB101 = SHARED / "data" / "nb101" if SHARED else None
INCEPTION_HASH = "28cfc7874f6d200472e1a9dcd8650aa0"
#: The Inception-like cell of the official NASBench notebook: the unpruned spec the notebook queries, and
#: the stored spec and parameter count the release returns for it (published constants, not ../shared data).
INCEPTION_SPEC = {
    "matrix": [
        [0, 1, 1, 1, 0, 1, 0],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 1, 0, 0],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 0],
    ],
    "ops": [
        "input",
        "conv1x1-bn-relu",
        "conv3x3-bn-relu",
        "conv3x3-bn-relu",
        "conv3x3-bn-relu",
        "maxpool3x3",
        "output",
    ],
}
INCEPTION_STORED = {
    "module_adjacency": [
        [0, 1, 1, 1, 1, 0, 0],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 1, 0],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 0],
    ],
    "module_operations": [
        "input",
        "conv3x3-bn-relu",
        "conv1x1-bn-relu",
        "maxpool3x3",
        "conv3x3-bn-relu",
        "conv3x3-bn-relu",
        "output",
    ],
    "trainable_parameters": 2_694_282,
}


def shared_file(*parts: str) -> Path:
    """A file under ../shared/data, or skip the test with the reason."""
    if SHARED is None:
        pytest.skip("../shared (real NB101/MNIST data) is not beside the project root")
    path = SHARED.joinpath("data", *parts)
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return path


@pytest.fixture(scope="session")
def golden() -> dict:
    """hash -> complete real record (31 cells)."""
    return json.loads(shared_file("nb101", "golden_records.json").read_text())["records"]


@pytest.fixture(scope="session")
def records() -> dict:
    """hash -> complete record, for tests of file handling rather than of real values: the 31 real golden
    records when ../shared is here, else `synthetic_records()`, a stand-in of the same shape."""
    path = NB101 / "golden_records.json" if NB101 is not None else None
    if path is not None and path.exists():
        return json.loads(path.read_text())["records"]
    return synthetic_records()


def synthetic_records(cells: int = 30, seed: int = 101) -> dict:
    """Records shaped like the golden ones, with made-up statistics (no real data).

    The Inception-like cell first (budgets 4, 12, 36, 108, its published stored spec and parameter count),
    then `cells` seeded random cells in ascending hash order (108 epochs); 3 repeats per budget; every value
    float32-exact, accuracies in [0, 1], times in seconds, as in the release.
    """
    import numpy as np

    from nasbench_sim.space import Cell, count_parameters
    from nasbench_sim.space.sampling import random_cells

    rng = np.random.default_rng(seed)

    def f32(x: float) -> float:
        return float(np.float32(x))

    def repeats(epochs: int) -> list[dict]:
        out = []
        for _ in range(3):
            test = rng.uniform(0.5, 0.7) if epochs == 4 else rng.uniform(0.80, 0.95)
            final_time = epochs * rng.uniform(8.0, 25.0)
            halfway = test * rng.uniform(0.7, 0.9)
            out.append(
                {
                    "final_test_accuracy": f32(test),
                    "final_train_accuracy": f32(min(1.0, test + rng.uniform(0.0, 0.1))),
                    "final_training_time": f32(final_time),
                    "final_validation_accuracy": f32(test + rng.uniform(-0.01, 0.01)),
                    "halfway_test_accuracy": f32(halfway),
                    "halfway_train_accuracy": f32(halfway + rng.uniform(0.0, 0.05)),
                    "halfway_training_time": f32(final_time / 2),
                    "halfway_validation_accuracy": f32(halfway + rng.uniform(-0.01, 0.01)),
                }
            )
        return out

    inception = Cell(INCEPTION_SPEC["matrix"], INCEPTION_SPEC["ops"])
    out = {
        INCEPTION_HASH: {
            "computed_statistics": {str(e): repeats(e) for e in (4, 12, 36, 108)},
            "example_query_spec": INCEPTION_SPEC,
            **INCEPTION_STORED,
        }
    }
    others = {c.hash: c for c in random_cells(rng, 3 * cells) if c.num_vertices > 2 and c != inception}
    for module_hash in sorted(others)[:cells]:
        cell = others[module_hash]
        matrix, ops = cell.matrix.tolist(), list(cell.ops)
        out[module_hash] = {
            "computed_statistics": {"108": repeats(108)},
            "example_query_spec": {"matrix": matrix, "ops": ops},
            "module_adjacency": matrix,
            "module_operations": ops,
            "trainable_parameters": count_parameters(matrix, ops),
        }
    return out


@pytest.fixture(scope="session")
def stand_in_repeat0(surrogate, tmp_path_factory) -> Path:
    """A `test108_repeat0.npy` stand-in: float32[423624] of the surrogate table's repeat-0 test accuracies."""
    import numpy as np

    path = tmp_path_factory.mktemp("repeat0") / "stand_in_repeat0.npy"
    np.save(path, np.asarray(surrogate.data[:, 0, surrogate.budget_index(108), 1, 2], dtype=np.float32))
    return path


@pytest.fixture(scope="session")
def space():
    from nasbench_sim.space.cellspace import CellSpace

    return CellSpace.load_or_build(progress=False)


@pytest.fixture(scope="session")
def surrogate_cache(space) -> Path:
    """The surrogate table's cache folder on this machine (built once)."""
    from nasbench_sim.bench.sources import surrogate_table

    return Path(surrogate_table(progress=False).folder)


@pytest.fixture
def fresh_data(monkeypatch, tmp_path, surrogate_cache) -> Path:
    """A new user's machine: a data folder with only the cell space and the surrogate cache linked in,
    and no ../shared (so the default table is the surrogate)."""
    import os

    from nasbench_sim._io import data_dir
    from nasbench_sim.space.cellspace import CACHE_NAME

    data = tmp_path / "data"
    (data / "tables").mkdir(parents=True)
    os.symlink(data_dir() / CACHE_NAME, data / CACHE_NAME)
    os.symlink(surrogate_cache, data / "tables" / surrogate_cache.name)
    monkeypatch.setenv("NASBENCH_SIM_DATA", str(data))
    monkeypatch.setenv("NASBENCH_SIM_SHARED", "")
    monkeypatch.delenv("NASBENCH_SIM_NB101_REPEAT0", raising=False)
    return data


@pytest.fixture
def no_space(monkeypatch):
    """Fail if anything loads or enumerates the cell space (a fresh machine has none cached)."""
    from nasbench_sim.space.cellspace import CellSpace

    def refuse(*args, **kwargs):
        raise AssertionError("the cell space was loaded or built")

    monkeypatch.setattr(CellSpace, "build", refuse)
    monkeypatch.setattr(CellSpace, "load_or_build", refuse)


@pytest.fixture(scope="session")
def surrogate(space):
    """The embedded surrogate's table (realization 0): always available, no real data needed."""
    from nasbench_sim.bench.sources import surrogate_table

    return surrogate_table(progress=False)


@pytest.fixture(scope="session")
def partial(space):
    from nasbench_sim.bench.sources import partial_table

    return partial_table(shared_file("nb101", "test108_repeat0.npy"), progress=False)


def golden_payloads(records: dict) -> list[bytes]:
    """Official NB101 rows for the golden records: one per (cell, budget, repeat), as in the release."""
    from nasbench_sim.bench.tfrecord import encode_row

    rows = []
    for module_hash, record in records.items():
        for epochs, repeats in sorted(record["computed_statistics"].items(), key=lambda kv: int(kv[0])):
            for stats in repeats:
                rows.append(
                    encode_row(
                        module_hash,
                        int(epochs),
                        record["module_adjacency"],
                        record["module_operations"],
                        stats,
                        record["trainable_parameters"],
                    )
                )
    return rows


@pytest.fixture(scope="session")
def golden_tfrecord(records, tmp_path_factory) -> Path:
    """An official-format file of `records` (31 cells, every budget and repeat they have)."""
    from nasbench_sim.bench.tfrecord import write_tfrecord

    path = tmp_path_factory.mktemp("official") / "nasbench_golden.tfrecord"
    write_tfrecord(path, golden_payloads(records))
    return path


@pytest.fixture(scope="session")
def golden_table(golden_tfrecord, tmp_path_factory):
    from nasbench_sim.bench.conversion import convert_tfrecord

    return convert_tfrecord(golden_tfrecord, tmp_path_factory.mktemp("tables") / "golden", progress=False)


def only108(records: dict, cells: int | None = None) -> dict:
    """The first `cells` golden records with their 108-epoch repeats only (like nasbench_only108)."""
    return {
        h: {**r, "computed_statistics": {"108": r["computed_statistics"]["108"]}}
        for h, r in list(records.items())[:cells]
    }


@pytest.fixture(scope="session")
def small_tfrecord(records, tmp_path_factory) -> Path:
    """A 22-cell official-format file of `records` (108 epochs, 3 repeats each), named without `.tfrecord`."""
    from nasbench_sim.bench.tfrecord import write_tfrecord

    path = tmp_path_factory.mktemp("official") / "nasbench_22cells.data"
    write_tfrecord(path, golden_payloads(only108(records, 22)))
    return path


def keyed_copy(table, space, order=None):
    """A keyed (file-layout) table with every cell of the space, holding a dense table's values.

    Args:
        table: a dense table (rows = space rows).
        space: the cell space.
        order: space rows in the order of the keyed table's rows (default: ascending hash, like the release file).
    """
    import numpy as np

    from nasbench_sim.bench.table import NUM_REPEATS, BenchmarkTable, FileCells

    order = np.arange(len(space)) if order is None else np.asarray(order)
    budgets = len(table.epochs)
    cells = FileCells(
        hashes=np.asarray(space.hashes)[order],
        num_vertices=np.asarray(space.num_vertices)[order],
        bits=np.asarray(space.bits)[order],
        labels=np.asarray(space.labels)[order],
        repeat_counts=np.full((order.size, budgets), NUM_REPEATS, dtype=np.uint8),
        epoch_order=np.tile(np.arange(budgets, dtype=np.int8), (order.size, 1)),
    )
    meta = {"kind": "official", "source": "keyed copy of a dense table (test)", "epochs": list(table.epochs)}
    return BenchmarkTable(
        np.asarray(table.data)[order], np.asarray(table.trainable_parameters)[order], meta, cells=cells
    )


def kill_and_list_survivors(
    process, *, workers: int, start_timeout: float = 120.0, exit_timeout: float = 30.0
) -> list[str]:
    """SIGKILL a subprocess once `workers` pool workers run under it; the command lines of its
    descendants still alive `exit_timeout` seconds later (`nasbench_sim.testing.processes`)."""
    pytest.importorskip("psutil")
    from nasbench_sim.testing.processes import kill_after_workers

    survivors = kill_after_workers(process, workers=workers, start_timeout=start_timeout, exit_timeout=exit_timeout)
    assert survivors is not None, (
        f"{workers} workers did not start within {start_timeout} s (exit {process.returncode})"
    )
    return survivors


def ctrl_c(process, *, workers: int, start_timeout: float = 120.0, exit_timeout: float = 30.0) -> tuple[int, str]:
    """Ctrl-C to the process group once `workers` pool workers exist (0: as soon as the first one starts);
    the exit code and stderr. `process` has its own session and `stderr=subprocess.PIPE`."""
    import subprocess

    pytest.importorskip("psutil")
    from nasbench_sim.testing.processes import interrupt_after, pool_workers

    try:
        code = interrupt_after(
            process,
            lambda: len(pool_workers(process)) >= max(workers, 1),
            settle=1.0 if workers else 0.0,
            start_timeout=start_timeout,
            exit_timeout=exit_timeout,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"no exit within the time limit ({exc.timeout} s)") from None
    return code, process.stderr.read().decode(errors="replace")
