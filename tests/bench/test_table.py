import json

import numpy as np
import pytest

from nasbench_sim.bench.table import BenchmarkTable, FileCells, coverage
from nasbench_sim.errors import DataFormatError


def _keyed(repeat_counts: list[list[int]], epochs=(12, 108)) -> BenchmarkTable:
    """A tiny keyed table of len(repeat_counts) cells (all 2-vertex input->output, fake hashes)."""
    counts = np.array(repeat_counts, dtype=np.uint8)
    n = counts.shape[0]
    cells = FileCells(
        hashes=np.array([f"{i:032x}" for i in range(n)], dtype="S32"),
        num_vertices=np.full(n, 2, dtype=np.uint8),
        bits=np.ones(n, dtype=np.int32),
        labels=np.full((n, 5), -1, dtype=np.int8),
        repeat_counts=counts,
        epoch_order=np.tile(np.arange(len(epochs), dtype=np.int8)[::-1], (n, 1)),
    )
    data = np.full((n, 3, len(epochs), 2, 4), 0.5, dtype=np.float32)
    meta = {"kind": "official", "source": "tiny", "epochs": list(epochs)}
    return BenchmarkTable(data, np.arange(n, dtype=np.int64), meta, cells=cells)


def test_coverage_counts_cells_budgets_and_repeats():
    cover = coverage(np.array([[3, 3], [0, 3], [0, 2]], dtype=np.uint8), (12, 108))
    assert cover["cells"] == 3 and cover["records"] == 11 and not cover["complete"]
    assert cover["by_budget"] == {
        "12": {"cells": 1, "repeats": {"3": 1}},
        "108": {"cells": 3, "repeats": {"2": 1, "3": 2}},
    }


def test_keyed_table_round_trips_and_names_its_coverage(tmp_path):
    table = _keyed([[3, 3], [0, 2]])
    table.save(tmp_path / "t")
    meta = json.loads((tmp_path / "t" / "meta.json").read_text())
    assert meta["format_version"] == 2 and meta["coverage"]["cells"] == 2  # format 2: never read as dense
    loaded = BenchmarkTable.load(tmp_path / "t")
    assert loaded.keyed and loaded.cells.rows() == {f"{0:032x}": 0, f"{1:032x}": 1}
    assert np.array_equal(loaded.cells.repeat_counts, table.cells.repeat_counts)
    matrix, ops = loaded.cells.stored_spec(1)
    assert matrix.tolist() == [[0, 1], [0, 0]] and ops == ["input", "output"] and matrix.flags.writeable
    assert "covering 2 of 423,624 cells" in loaded.label
    text = loaded.describe()
    assert (
        "coverage: 2 of 423,624 cells" in text
        and "  12 epochs: 1 cell, 3 repeats each\n  108 epochs: 2 cells, 1 cell with 3 repeats, 1 cell with 2 repeats"
        in text
    )


def test_dense_tables_keep_format_1(tmp_path):
    data = np.full((2, 3, 1, 2, 4), 0.9, dtype=np.float32)
    BenchmarkTable(data, np.array([1, 2]), {"kind": "demo", "epochs": [108]}).save(tmp_path / "d")
    meta = json.loads((tmp_path / "d" / "meta.json").read_text())
    assert meta["format_version"] == 1 and "hashes" not in meta["arrays"]
    assert not BenchmarkTable.load(tmp_path / "d").keyed


def test_keyed_table_missing_arrays_or_inconsistent_shapes_are_refused(tmp_path):
    table = _keyed([[3, 3]])
    table.save(tmp_path / "t")
    (tmp_path / "t" / "bits.npy").unlink()
    meta = json.loads((tmp_path / "t" / "meta.json").read_text())
    meta["arrays"].remove("bits")
    (tmp_path / "t" / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(DataFormatError, match="keyed table lacks bits"):
        BenchmarkTable.load(tmp_path / "t")
    with pytest.raises(DataFormatError, match="inconsistent shapes"):
        FileCells(**{**table.cells.arrays(), "bits": np.ones(5, dtype=np.int32)})


def test_describe_shows_quality_figures_from_the_metadata():
    data = np.full((1, 3, 1, 2, 4), 0.9, dtype=np.float32)
    fidelity = {"spearman": 0.9667, "kendall_tau": 0.8443, "r2": 0.4179, "top1000_overlap": 0.573, "num_cells": 42362}
    text = BenchmarkTable(data, np.array([1]), {"kind": "surrogate", "epochs": [108], "surrogate_fidelity": fidelity})
    assert (
        "fidelity on 42,362 held-out cells: Spearman 0.967, Kendall tau 0.844, 1000-best overlap 0.573, R^2 0.418"
        in text.describe()
    )
    checks = {"within_cell_sd": {"real": 0.0032, "modelled": 0.0031}, "passed": True}
    partial = BenchmarkTable(data, np.array([1]), {"kind": "partial", "epochs": [108], "noise_checks": checks})
    assert 'noise-model checks:\n  within_cell_sd: {"modelled": 0.0031, "real": 0.0032}\n  passed: true' in (
        partial.describe()
    )


def _saved(tmp_path, value=0.9):
    data = np.full((4, 3, 1, 2, 4), value, dtype=np.float32)
    data[..., 3] = 1000.0  # training seconds
    folder = tmp_path / "t"
    BenchmarkTable(data, np.arange(4), {"kind": "demo", "epochs": [108]}).save(folder)
    return folder


def test_a_flipped_bit_in_a_cached_array_is_refused(tmp_path):
    # Catches one flipped bit in data.npy turning the optimum into 3.2e38.
    folder = _saved(tmp_path)
    raw = bytearray((folder / "data.npy").read_bytes())
    raw[-7] ^= 0x40
    (folder / "data.npy").write_bytes(bytes(raw))
    with pytest.raises(DataFormatError, match=r"does not match its checksum.*delete .* to rebuild it"):
        BenchmarkTable.load(folder)


def test_an_array_of_another_dtype_or_an_empty_file_is_refused(tmp_path):
    # Catches an int8 array of the right shape read as accuracies of 99, and an EOFError traceback.
    folder = _saved(tmp_path)
    np.save(folder / "data.npy", np.full((4, 3, 1, 2, 4), 99, dtype=np.int8))
    with pytest.raises(DataFormatError, match=r"data\.npy"):
        BenchmarkTable.load(folder)
    (folder / "data.npy").write_bytes(b"")
    with pytest.raises(DataFormatError, match=r"data\.npy"):
        BenchmarkTable.load(folder)


def test_a_same_size_replacement_with_its_mtime_restored_is_seen(tmp_path):
    # Catches a stale answer after `cp -p` / `rsync -t` of another file of the same size over the cache.
    import os

    folder = _saved(tmp_path)
    BenchmarkTable.load(folder)  # verified once: later opens only compare the file's stamp
    other = _saved(tmp_path / "other", value=0.8)
    before = os.stat(folder / "data.npy")
    (folder / "data.npy").write_bytes((other / "data.npy").read_bytes())
    os.utime(folder / "data.npy", ns=(before.st_atime_ns, before.st_mtime_ns))
    with pytest.raises(DataFormatError, match="does not match its checksum"):
        BenchmarkTable.load(folder)


@pytest.mark.parametrize("value", [7.0, -0.1, np.inf])
def test_impossible_values_are_never_written(tmp_path, value):
    # Catches an accuracy of 7.0 becoming the optimum.
    with pytest.raises(DataFormatError, match="train_accuracy holds"):
        _saved(tmp_path, value=value)
    assert not (tmp_path / "t").exists()


def test_a_table_written_before_checksums_is_range_checked(tmp_path):
    folder = _saved(tmp_path)
    meta = json.loads((folder / "meta.json").read_text())
    del meta["checks"]
    (folder / "meta.json").write_text(json.dumps(meta))
    data = np.load(folder / "data.npy")
    data[0, 0, 0, 1, 2] = 3.0e38
    np.save(folder / "data.npy", data)
    with pytest.raises(DataFormatError, match="test_accuracy holds"):
        BenchmarkTable.load(folder)
