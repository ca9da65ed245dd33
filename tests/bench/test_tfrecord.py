import json
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nasbench_sim.bench.conversion import convert_tfrecord
from nasbench_sim.bench.table import METRICS, POINTS
from nasbench_sim.bench.tfrecord import (
    decode_row,
    encode_row,
    is_tfrecord,
    iter_tfrecord,
    masked_crc32c,
    write_tfrecord,
)
from nasbench_sim.errors import DataFormatError

from ..conftest import INCEPTION_HASH, golden_payloads, only108


def test_framing_round_trip_and_offsets(tmp_path):
    path = tmp_path / "x.tfrecord"
    write_tfrecord(path, [b"a", b"bcd"])
    assert list(iter_tfrecord(path)) == [(0, b"a"), (17, b"bcd")]  # 8 + 4 + 1 + 4 = 17 bytes per 1-byte record
    assert is_tfrecord(path)


def test_rows_decode_like_the_official_reader(records):
    payload = golden_payloads({INCEPTION_HASH: records[INCEPTION_HASH]})[0]
    module_hash, epochs, adjacency, ops, metrics = decode_row(payload)
    assert module_hash == INCEPTION_HASH and epochs == 4  # budgets in ascending order
    assert adjacency.tolist() == records[INCEPTION_HASH]["module_adjacency"]
    assert ops == records[INCEPTION_HASH]["module_operations"]
    assert len(metrics.evaluation_data) == 3 and metrics.trainable_parameters == 2_694_282
    # The row is JSON with the official field order.
    assert json.loads(payload)[0] == INCEPTION_HASH


def test_converted_table_is_keyed_by_the_files_cells_and_equals_every_record_value(golden_table, records):
    # The table holds the file's 31 cells only (not 423,624 rows), each value exactly.
    assert golden_table.kind == "official" and golden_table.keyed
    assert golden_table.num_cells == len(records) == 31 and not golden_table.complete
    assert golden_table.epochs == (4, 12, 36, 108) and golden_table.data.dtype == np.float32
    rows = golden_table.cells.rows()
    assert list(rows) == list(records)  # file order of first appearance
    for module_hash, record in records.items():
        row = rows[module_hash]
        assert golden_table.trainable_parameters[row] == record["trainable_parameters"]
        matrix, ops = golden_table.cells.stored_spec(row)
        assert matrix.tolist() == record["module_adjacency"] and ops == record["module_operations"]
        for epochs, repeats in record["computed_statistics"].items():
            b = golden_table.epochs.index(int(epochs))
            assert golden_table.cells.repeat_counts[row, b] == len(repeats)
            for r, stats in enumerate(repeats):
                for p, point in enumerate(POINTS):
                    for m, metric in enumerate(METRICS):
                        # float32 storage is exact for the release's values: equal as doubles.
                        assert float(golden_table.data[row, r, b, p, m]) == stats[f"{point}_{metric}"]
    # A budget the cell lacks stays NaN and has no repeats.
    other = next(h for h in records if h != INCEPTION_HASH)
    assert (
        np.isnan(golden_table.data[rows[other], :, 0]).all() and golden_table.cells.repeat_counts[rows[other], 0] == 0
    )


def test_file_order_of_cells_and_budgets_is_kept(records, tmp_path):
    # The official API iterates hashes and a cell's epochs in file order; the table must keep both.
    payloads = golden_payloads(records)[::-1]  # cells descending, epochs descending, repeats reversed
    path = tmp_path / "reversed.tfrecord"
    write_tfrecord(path, payloads)
    table = convert_tfrecord(path, tmp_path / "t", progress=False)
    assert list(table.cells.rows()) == list(records)[::-1]
    row = table.cells.rows()[INCEPTION_HASH]
    assert [table.epochs[b] for b in table.cells.epoch_order[row] if b >= 0] == [108, 36, 12, 4]
    last_repeat = records[INCEPTION_HASH]["computed_statistics"]["108"][-1]
    assert float(table.data[row, 0, 3, 1, 2]) == last_repeat["final_test_accuracy"]  # repeats in file order


def test_only108_file_gets_one_budget(records, tmp_path):
    path = tmp_path / "only108.tfrecord"
    write_tfrecord(path, golden_payloads(only108(records)))
    table = convert_tfrecord(path, tmp_path / "t", progress=False)
    assert table.epochs == (108,) and table.data.shape == (31, 3, 1, 2, 4)


def test_values_float32_cannot_hold_are_stored_as_float64(records, tmp_path):
    # Bit-exact values: a file with a value float32 would round must not be silently rounded.
    record = records[INCEPTION_HASH]
    stats = {**record["computed_statistics"]["108"][0], "final_test_accuracy": 0.1}  # 0.1 is not a float32
    payload = encode_row(INCEPTION_HASH, 108, record["module_adjacency"], record["module_operations"], stats, 7)
    path = tmp_path / "f64.tfrecord"
    write_tfrecord(path, [payload])
    table = convert_tfrecord(path, tmp_path / "t", progress=False)
    assert table.data.dtype == np.float64 and float(table.data[0, 0, 0, 1, 2]) == 0.1
    assert table.meta["values_dtype"] == "float64"


def test_conversion_needs_no_cell_space(golden_tfrecord, tmp_path, no_space):
    # A small file on a fresh machine: converting must not enumerate the space (about 60 s).
    table = convert_tfrecord(golden_tfrecord, tmp_path / "t", progress=False)
    assert table.num_cells == 31


def _bad_copy(src, tmp_path, mutate):
    data = bytearray(src.read_bytes())
    mutate(data)
    path = tmp_path / "bad.tfrecord"
    path.write_bytes(bytes(data))
    return path


def _huge_length(data: bytearray) -> None:
    """First record claims 2**62 payload bytes, with a valid length CRC."""
    length = struct.pack("<Q", 1 << 62)
    data[:12] = length + struct.pack("<I", masked_crc32c(length))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.__delitem__(slice(len(d) - 10, None)), "truncated record at byte offset"),
        (lambda d: d.__setitem__(40, d[40] ^ 0xFF), r"corrupt record data \(CRC mismatch\) at byte offset 0"),
        (lambda d: d.__setitem__(2, d[2] ^ 0x01), r"corrupt record length \(CRC mismatch\) at byte offset 0"),
        (lambda d: d.extend(b"\x01\x02\x03"), "truncated record header at byte offset"),
        # A huge length with a valid CRC: a clear error, not a MemoryError.
        (_huge_length, r"truncated record at byte offset 0: needs 4611686018427387904 payload bytes"),
    ],
)
def test_corrupt_files_name_the_offset_and_leave_no_cache(golden_tfrecord, tmp_path, mutate, message):
    path = _bad_copy(golden_tfrecord, tmp_path, mutate)
    out = tmp_path / "table"
    with pytest.raises(DataFormatError, match=message):
        convert_tfrecord(path, out, progress=False)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp leftovers


def test_malformed_row_and_hash_that_does_not_match_its_cell(tmp_path, records):
    path = tmp_path / "x.tfrecord"
    write_tfrecord(path, [b"not json"])
    with pytest.raises(DataFormatError, match="malformed NB101 row at byte offset 0"):
        convert_tfrecord(path, tmp_path / "t", progress=False)
    record = records[INCEPTION_HASH]
    stats = record["computed_statistics"]["108"][0]
    good = encode_row(INCEPTION_HASH, 108, record["module_adjacency"], record["module_operations"], stats, 1)
    wrong = encode_row("f" * 32, 108, record["module_adjacency"], record["module_operations"], stats, 1)
    write_tfrecord(path, [good, wrong])
    with pytest.raises(
        DataFormatError, match=f"byte offset {12 + len(good) + 4}: module hash 'f{{32}}' does not match"
    ):
        convert_tfrecord(path, tmp_path / "t", progress=False)


def test_more_than_three_repeats_and_non_budget_epochs_are_refused(records, tmp_path):
    record = records[INCEPTION_HASH]
    stats = record["computed_statistics"]["108"][0]
    row = encode_row(INCEPTION_HASH, 108, record["module_adjacency"], record["module_operations"], stats, 1)
    path = tmp_path / "x.tfrecord"
    write_tfrecord(path, [row] * 4)
    with pytest.raises(DataFormatError, match="more than 3 repeats"):
        convert_tfrecord(path, tmp_path / "t", progress=False)
    odd = encode_row(INCEPTION_HASH, 54, record["module_adjacency"], record["module_operations"], stats, 1)
    write_tfrecord(path, [odd])
    with pytest.raises(DataFormatError, match="54 epochs is not an NB101 budget"):
        convert_tfrecord(path, tmp_path / "t", progress=False)


# --- property tests: every input either parses or raises DataFormatError ----------------------------
@pytest.fixture(scope="module")
def small_file_bytes(records) -> bytes:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.tfrecord"
        write_tfrecord(path, golden_payloads(only108(records, 2)))
        return path.read_bytes()


def _parse_or_format_error(path, out) -> str:
    try:
        convert_tfrecord(path, out, progress=False)
    except DataFormatError:
        return "error"
    return "ok"


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_truncated_or_bit_flipped_files_parse_or_raise_data_format_error(small_file_bytes, tmp_path_factory, data):
    # Catches any other exception (MemoryError, struct.error, IndexError, ...) escaping the reader.
    raw = bytearray(small_file_bytes)
    cut = data.draw(st.integers(0, len(raw)), label="truncate at")
    raw = raw[:cut]
    for position in data.draw(st.lists(st.integers(0, max(len(raw) * 8 - 1, 0)), max_size=4), label="flip bits"):
        if raw:
            raw[position // 8] ^= 1 << (position % 8)
    tmp = tmp_path_factory.mktemp("fuzz")
    path = tmp / "x.tfrecord"
    path.write_bytes(bytes(raw))
    outcome = _parse_or_format_error(path, tmp / "t")
    assert outcome in ("ok", "error")
    if outcome == "ok":
        assert bytes(raw) == small_file_bytes[: len(raw)]  # only an intact prefix of whole records parses


@settings(max_examples=60, deadline=None)
@given(
    payload=st.binary(max_size=64),
    length=st.one_of(st.none(), st.integers(0, 2**64 - 1)),
    valid_length_crc=st.booleans(),
)
def test_any_record_length_is_bounded_by_the_file(tmp_path_factory, payload, length, valid_length_crc):
    # Catches a length with a valid CRC trusted and read (a MemoryError for 2**60).
    header = struct.pack("<Q", len(payload) if length is None else length)
    crc = masked_crc32c(header) ^ (0 if valid_length_crc else 1)
    path = tmp_path_factory.mktemp("len") / "x.tfrecord"
    path.write_bytes(header + struct.pack("<I", crc) + payload + struct.pack("<I", masked_crc32c(payload)))
    honest = valid_length_crc and (length is None or length == len(payload))
    try:
        records = list(iter_tfrecord(path))
    except DataFormatError:
        assert not honest
        return
    assert honest and records == [(0, payload)]


@settings(max_examples=80, deadline=None)
@given(
    payload=st.one_of(
        st.binary(max_size=200),
        st.text(max_size=200).map(str.encode),
        st.recursive(
            st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=40)),
            lambda children: st.lists(children, max_size=6),
            max_leaves=12,
        ).map(lambda value: json.dumps(value).encode()),
    )
)
def test_any_payload_in_valid_framing_converts_or_raises_data_format_error(tmp_path_factory, payload):
    # Malformed rows (wrong JSON shape or types, bad base64/protobuf) must never escape as TypeError etc.
    tmp = tmp_path_factory.mktemp("row")
    write_tfrecord(tmp / "x.tfrecord", [payload])
    assert _parse_or_format_error(tmp / "x.tfrecord", tmp / "t") == "error"


def test_a_later_record_of_a_hash_with_another_cell_is_refused(records, tmp_path):
    # Catches only a hash's first record being checked: a later one with another matrix was filed under it.
    record = records[INCEPTION_HASH]
    other = next(r for h, r in records.items() if h != INCEPTION_HASH)
    stats = record["computed_statistics"]["108"][0]
    good = encode_row(INCEPTION_HASH, 108, record["module_adjacency"], record["module_operations"], stats, 1)
    forged = encode_row(INCEPTION_HASH, 108, other["module_adjacency"], other["module_operations"], stats, 1)
    path = tmp_path / "forged.tfrecord"
    write_tfrecord(path, [good, forged])
    with pytest.raises(DataFormatError, match=r"byte offset \d+: module hash \w+ was stored at byte offset 0"):
        convert_tfrecord(path, tmp_path / "t", progress=False)
    assert not (tmp_path / "t").exists()


@pytest.mark.parametrize(("field", "value"), [("final_test_accuracy", 7.0), ("final_training_time", -1.0)])
def test_impossible_values_name_their_byte_offset(records, tmp_path, field, value):
    # Catches an accuracy of 7.0 accepted (the optimum became 7.0).
    record = records[INCEPTION_HASH]
    stats = {**record["computed_statistics"]["108"][0], field: value}
    path = tmp_path / "bad.tfrecord"
    write_tfrecord(
        path, [encode_row(INCEPTION_HASH, 108, record["module_adjacency"], record["module_operations"], stats, 1)]
    )
    with pytest.raises(DataFormatError, match=r"byte offset 0: \w+ -?[\d.]+ is outside"):
        convert_tfrecord(path, tmp_path / "t", progress=False)


def test_a_full_disk_is_an_os_error_and_leaves_no_scratch(golden_tfrecord, tmp_path, monkeypatch):
    # Catches `data convert` into a nearly full folder dying with SIGBUS (a sparse memory map) and
    # leaving its `.tmp` folder behind to keep the disk full.
    import errno
    import os

    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", full)
    with pytest.raises(OSError, match="No space left on device") as caught:
        convert_tfrecord(golden_tfrecord, tmp_path / "t", progress=False)
    assert caught.value.filename.endswith("data.npy") and not list(tmp_path.iterdir())
