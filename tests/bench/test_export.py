import base64
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from nasbench_sim.bench.conversion import convert_tfrecord
from nasbench_sim.bench.export import export_tfrecord
from nasbench_sim.bench.metrics_encoder import START_PLACEHOLDER, TOTAL_TIME_FACTOR, model_metrics_bytes
from nasbench_sim.bench.table import METRICS, BenchmarkTable, FileCells
from nasbench_sim.bench.tfrecord import ModelMetrics, decode_row, iter_tfrecord, write_tfrecord
from nasbench_sim.errors import ConfigError, DataFormatError
from nasbench_sim.space.cell import Cell
from nasbench_sim.space.sampling import random_cells

from ..conftest import SHARED

# Parameter counts on both sides of each varint length (1 to 5 bytes) and the int32 limit.
PARAMS = [0, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 268_435_455, 268_435_456, 2**31 - 1]


def keyed_table(num_cells=6, epochs=(4, 12, 36, 108), seed=0, params=None):
    """A hand-made keyed table: seeded random cells, float32 values in range, 3 repeats everywhere."""
    rng = np.random.default_rng(seed)
    cells = {c.hash: c for c in random_cells(rng, 4 * num_cells) if c.num_vertices > 2}
    chosen = [cells[h] for h in list(cells)[:num_cells]]
    labels = np.full((num_cells, 5), -1, dtype=np.int8)
    for i, cell in enumerate(chosen):
        labels[i, : cell.num_vertices - 2] = cell.labels
    data = rng.uniform(0.05, 0.99, (num_cells, 3, len(epochs), 2, 4)).astype(np.float32)
    data[..., 3] = rng.uniform(10.0, 5000.0, data.shape[:-1]).astype(np.float32)  # seconds
    file_cells = FileCells(
        hashes=np.array([c.hash for c in chosen], dtype="S32"),
        num_vertices=np.array([c.num_vertices for c in chosen], dtype=np.uint8),
        bits=np.array([c.bits for c in chosen], dtype=np.int32),
        labels=labels,
        repeat_counts=np.full((num_cells, len(epochs)), 3, dtype=np.uint8),
        epoch_order=np.tile(np.arange(len(epochs), dtype=np.int8), (num_cells, 1)),
    )
    params = np.asarray(params if params is not None else rng.integers(200_000, 40_000_000, num_cells), np.int64)
    meta = {"kind": "official", "source": "hand-made test table", "epochs": list(epochs)}
    return BenchmarkTable(data, params, meta, cells=file_cells), chosen


def reference_payload(module_hash, epochs, cell, values, params):
    """One record written the slow, obvious way: json.dumps of the official row with the hand-built protobuf."""
    order = [METRICS.index(m) for m in ("training_time", "train_accuracy", "validation_accuracy", "test_accuracy")]
    metrics = model_metrics_bytes(values[0][order], values[1][order], epochs, params)
    adjacency = "".join(str(int(x)) for x in np.asarray(cell.matrix).ravel())
    row = [module_hash, epochs, adjacency, ",".join(cell.ops), base64.b64encode(metrics).decode()]
    return json.dumps(row).encode()


#: Records the full layout skips when re-exporting each parity golden file (golden_full: 30 cells
#: without 4/12/36 epochs, 3 budgets x 3 repeats each).
GOLDEN_SKIPPED = {"golden_full.tfrecord": 270, "golden_only108.tfrecord": 0, "golden_fileorder.tfrecord": 270}


@pytest.fixture
def golden_file(request, golden_tfrecord, tmp_path_factory) -> tuple[Path, int]:
    """(file, records a full-layout re-export skips): the parity golden file the test names (written by
    the official-format generator in ../shared/parity), or without it a stand-in in the same layout
    and record order, written by this exporter from the conftest records (a fixed point then)."""
    name = request.node.callspec.params["name"]
    if SHARED is not None and (SHARED / "parity" / name).is_file():
        return SHARED / "parity" / name, GOLDEN_SKIPPED[name]
    tmp = tmp_path_factory.mktemp("standin")
    table = convert_tfrecord(golden_tfrecord, tmp / "table", progress=False)
    layout = "only108" if name == "golden_only108.tfrecord" else "full"
    summary = export_tfrecord(table, tmp / name, layout=layout, progress=False)
    if name == "golden_fileorder.tfrecord":  # repeat-major, cells by MD5 of their hash, epochs descending
        payloads = [payload for _, payload in iter_tfrecord(tmp / name)]
        seen: dict[tuple[str, int], int] = {}
        keys = []
        for payload in payloads:
            module_hash, epochs = json.loads(payload)[:2]
            repeat = seen[module_hash, epochs] = seen.get((module_hash, epochs), -1) + 1
            keys.append((repeat, hashlib.md5(module_hash.encode()).hexdigest(), -epochs))
        write_tfrecord(tmp / name, [payloads[i] for i in sorted(range(len(payloads)), key=keys.__getitem__)])
    return tmp / name, summary.skipped


@pytest.mark.parametrize("params", PARAMS)
def test_hand_built_protobuf_equals_serialize_to_string_at_every_varint_length(params):
    halfway, final = (120.5, 0.5, 0.25, 0.125), (241.0, 0.75, 0.625, 0.5)
    message = ModelMetrics()
    for epoch, values in ((0.0, START_PLACEHOLDER[1:]), (54.0, halfway), (108.0, final)):
        data = message.evaluation_data.add()
        data.current_epoch = epoch
        data.training_time, data.train_accuracy, data.validation_accuracy, data.test_accuracy = values
    message.trainable_parameters = params
    message.total_time = final[0] * TOTAL_TIME_FACTOR
    ours = model_metrics_bytes(halfway, final, 108, params)
    assert ours == message.SerializeToString()
    assert ModelMetrics.FromString(ours) == message


@pytest.mark.parametrize("layout", ["only108", "full"])
def test_every_vectorised_record_equals_the_slow_reference_and_round_trips_bit_exact(tmp_path, space, layout):
    table, cells = keyed_table(num_cells=len(PARAMS), params=PARAMS)
    summary = export_tfrecord(table, tmp_path / "x.tfrecord", layout=layout, progress=False)
    epochs = (108,) if layout == "only108" else (4, 12, 36, 108)
    assert summary.records == len(PARAMS) * len(epochs) * 3 and summary.skipped == 0
    expected = [
        reference_payload(cell.hash, e, cell, table.data[i, r, table.epochs.index(e)].astype(np.float64), PARAMS[i])
        for i, cell in enumerate(cells)
        for e in epochs
        for r in range(3)
    ]
    assert [payload for _, payload in iter_tfrecord(tmp_path / "x.tfrecord")] == expected
    back = convert_tfrecord(tmp_path / "x.tfrecord", tmp_path / "table", progress=False)
    positions = [table.epochs.index(e) for e in epochs]
    assert np.array_equal(back.data, table.data[:, :, positions]) and back.epochs == epochs
    assert np.array_equal(back.trainable_parameters, PARAMS)
    assert back.cells.hashes.tolist() == table.cells.hashes.tolist()


def test_a_record_decodes_with_the_documented_placeholders(tmp_path):
    table, _ = keyed_table(num_cells=1, epochs=(108,))
    export_tfrecord(table, tmp_path / "x.tfrecord", progress=False)
    _, epochs, _, _, metrics = decode_row(next(iter_tfrecord(tmp_path / "x.tfrecord"))[1])
    start, halfway, final = metrics.evaluation_data
    assert epochs == 108 and len(metrics.evaluation_data) == 3
    assert (
        start.current_epoch,
        start.training_time,
        start.train_accuracy,
        start.validation_accuracy,
        start.test_accuracy,
    ) == START_PLACEHOLDER
    assert (halfway.current_epoch, final.current_epoch) == (54.0, 108.0)
    assert metrics.total_time == final.training_time * TOTAL_TIME_FACTOR
    assert final.test_accuracy == float(table.data[0, 0, 0, 1, METRICS.index("test_accuracy")])


@pytest.mark.parametrize(("name", "layout"), [("golden_full.tfrecord", "full"), ("golden_only108.tfrecord", "only108")])
def test_re_export_of_the_golden_files_is_byte_identical(tmp_path, name, layout, golden_file):
    # The golden files use the same placeholders; golden_full's 30 cells without 4/12/36 epochs are skipped.
    source, skipped = golden_file
    table = convert_tfrecord(source, tmp_path / "table", progress=False)
    summary = export_tfrecord(table, tmp_path / "again.tfrecord", layout=layout, progress=False)
    assert (tmp_path / "again.tfrecord").read_bytes() == source.read_bytes()
    assert summary.skipped == skipped


@pytest.mark.parametrize("name", ["golden_fileorder.tfrecord"])
def test_re_export_of_a_file_in_another_order_has_the_same_records_in_table_order(tmp_path, name, golden_file):
    # golden_fileorder is repeat-major with epochs descending; the export is cell-major, budgets ascending,
    # in the table's (file's first-appearance) cell order: the same records, each byte-identical.
    source, _ = golden_file
    table = convert_tfrecord(source, tmp_path / "table", progress=False)
    export_tfrecord(table, tmp_path / "again.tfrecord", layout="full", progress=False)
    ours = [payload for _, payload in iter_tfrecord(tmp_path / "again.tfrecord")]
    theirs = [payload for _, payload in iter_tfrecord(source)]
    assert ours != theirs and sorted(ours) == sorted(theirs)
    hashes = table.cells.hashes.astype(str).tolist()
    counts = table.cells.repeat_counts
    expected = [(h, e) for i, h in enumerate(hashes) for b, e in enumerate(table.epochs) for _ in range(counts[i, b])]
    assert [tuple(json.loads(p)[:2]) for p in ours] == expected
    back = convert_tfrecord(tmp_path / "again.tfrecord", tmp_path / "back", progress=False)
    assert np.array_equal(back.data, table.data, equal_nan=True)


def test_all_nan_records_are_skipped_and_partly_nan_ones_refused_leaving_the_old_file(tmp_path, space):
    table, cells = keyed_table(num_cells=3, epochs=(108,))
    data = np.array(table.data)
    data[1, 2] = np.nan  # cell 1 lacks repeat 2
    data[2] = np.nan  # cell 2 has no values at all
    sparse = BenchmarkTable(data, table.trainable_parameters, table.meta, cells=table.cells)
    summary = export_tfrecord(sparse, tmp_path / "x.tfrecord", progress=False)
    assert (summary.records, summary.skipped, summary.cells) == (5, 4, 2)
    back = convert_tfrecord(tmp_path / "x.tfrecord", tmp_path / "table", progress=False)
    assert back.cells.repeat_counts[:, 0].tolist() == [3, 2]
    before = (tmp_path / "x.tfrecord").read_bytes()
    data[0, 1, 0, 0, METRICS.index("validation_accuracy")] = np.nan  # one value of a record missing
    broken = BenchmarkTable(data, table.trainable_parameters, table.meta, cells=table.cells)
    with pytest.raises(DataFormatError, match=f"cell {cells[0].hash} at 108 epochs, repeat 1: some values are NaN"):
        export_tfrecord(broken, tmp_path / "x.tfrecord", progress=False)
    assert (tmp_path / "x.tfrecord").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table", "x.tfrecord"]  # no temporary file left


def test_a_table_without_any_value_at_the_layouts_budgets_writes_nothing(tmp_path):
    table, _ = keyed_table(num_cells=2, epochs=(108,))
    empty = BenchmarkTable(np.full_like(table.data, np.nan), table.trainable_parameters, table.meta, cells=table.cells)
    with pytest.raises(DataFormatError, match="no records to write"):
        export_tfrecord(empty, tmp_path / "x.tfrecord", progress=False)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"layout": "full108"}, ConfigError, "unknown layout 'full108' (choices: only108, full)"),
        ({"layout": None}, ConfigError, "unknown layout None"),
        ({"rows": [0, 0]}, ConfigError, "more than once"),
        ({"rows": [3]}, ConfigError, "rows must lie in [0, 2), got 3 .. 3"),
        ({"rows": [0.5]}, ConfigError, "whole numbers"),
    ],
)
def test_bad_arguments_are_one_clear_line(tmp_path, kwargs, error, message):
    table, _ = keyed_table(num_cells=2, epochs=(108,))
    with pytest.raises(error) as info:
        export_tfrecord(table, tmp_path / "x.tfrecord", progress=False, **kwargs)
    assert message in str(info.value) and "\n" not in str(info.value)
    assert not list(tmp_path.iterdir())


def test_a_layout_budget_the_table_lacks_is_named(tmp_path):
    table, _ = keyed_table(num_cells=2, epochs=(108,))
    with pytest.raises(ConfigError, match=r"layout full needs budgets \[4, 12, 36, 108\] epochs; this table"):
        export_tfrecord(table, tmp_path / "x.tfrecord", layout="full", progress=False)


def test_an_unwritable_out_names_its_path_and_leaves_nothing(tmp_path):
    table, _ = keyed_table(num_cells=2, epochs=(108,))
    (tmp_path / "file").write_text("a file where a folder should be")
    with pytest.raises(OSError) as info:
        export_tfrecord(table, tmp_path / "file" / "x.tfrecord", progress=False)
    assert str(tmp_path / "file") in str(info.value)
    with pytest.raises(IsADirectoryError, match=str(tmp_path)):
        export_tfrecord(table, tmp_path, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_a_write_error_mid_file_names_out_and_removes_the_temporary_file(tmp_path, monkeypatch):
    import nasbench_sim.bench.export as export

    table, _ = keyed_table(num_cells=2, epochs=(108,))

    def full_disk(handle, *args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export, "_write_block", full_disk)
    with pytest.raises(OSError, match="No space left on device") as info:
        export_tfrecord(table, tmp_path / "x.tfrecord", progress=False)
    assert info.value.filename == str(tmp_path / "x.tfrecord")
    assert not list(tmp_path.iterdir())


def test_a_dense_table_subset_round_trips_with_the_spaces_stored_cells(tmp_path, surrogate, space):
    # Rows in a non-ascending order: the file follows the order given.
    rows = np.concatenate([np.arange(400_000, 423_624, 2_953), np.arange(0, 400_000, 19_993)])
    summary = export_tfrecord(surrogate, tmp_path / "x.tfrecord", layout="full", rows=rows, progress=False)
    assert summary.records == rows.size * 4 * 3
    back = convert_tfrecord(tmp_path / "x.tfrecord", tmp_path / "table", progress=False)
    assert back.cells.hashes.tolist() == np.asarray(space.hashes)[rows].tolist()
    assert np.array_equal(back.data, np.asarray(surrogate.data)[rows])
    assert np.array_equal(back.trainable_parameters, np.asarray(surrogate.trainable_parameters)[rows])
    for i, row in enumerate(rows[:5].tolist()):
        matrix, ops = space.stored_spec(row)
        stored = back.cells.stored_spec(i)
        assert stored[0].tolist() == matrix.tolist() and stored[1] == ops


def test_a_dense_table_of_the_wrong_size_is_refused(tmp_path, space):
    data = np.full((2, 3, 1, 2, 4), 0.5, dtype=np.float32)
    table = BenchmarkTable(data, np.array([1, 2]), {"kind": "demo", "epochs": [108]})
    with pytest.raises(DataFormatError, match="one row per cell of the space"):
        export_tfrecord(table, tmp_path / "x.tfrecord", progress=False, space=space)


def test_the_two_vertex_cell_is_written_like_the_release(tmp_path):
    cell = Cell([[0, 1], [0, 0]], ["input", "output"])
    cells = FileCells(
        np.array([cell.hash], "S32"),
        np.array([2], np.uint8),
        np.array([cell.bits], np.int32),
        np.full((1, 5), -1, np.int8),
        np.full((1, 1), 3, np.uint8),
        np.zeros((1, 1), np.int8),
    )
    table = BenchmarkTable(np.full((1, 3, 1, 2, 4), 0.5, np.float32), np.array([5]), {"epochs": [108]}, cells=cells)
    export_tfrecord(table, tmp_path / "x.tfrecord", progress=False)
    row = json.loads(next(iter_tfrecord(tmp_path / "x.tfrecord"))[1])
    assert row[:4] == [cell.hash, 108, "0100", "input,output"]
