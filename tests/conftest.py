"""Shared fixtures: real data from ../shared (skipped when absent), the cached cell space."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nasbench_sim._io import shared_dir

SHARED = shared_dir()
NB101 = SHARED / "data" / "nb101" if SHARED else None
INCEPTION_HASH = "28cfc7874f6d200472e1a9dcd8650aa0"


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
def space():
    from nasbench_sim.space.enumeration import CellSpace

    return CellSpace.load_or_build(progress=False)


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
def golden_tfrecord(golden, tmp_path_factory) -> Path:
    from nasbench_sim.bench.tfrecord import write_tfrecord

    path = tmp_path_factory.mktemp("official") / "nasbench_golden.tfrecord"
    write_tfrecord(path, golden_payloads(golden))
    return path


@pytest.fixture(scope="session")
def golden_table(golden_tfrecord, space, tmp_path_factory):
    from nasbench_sim.bench.tfrecord import convert_tfrecord

    return convert_tfrecord(golden_tfrecord, tmp_path_factory.mktemp("tables") / "golden", space=space, progress=False)
