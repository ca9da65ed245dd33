"""Batch parsing of official-format files: the first bad record in file order is named, whatever the batching."""

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nasbench_sim.bench import conversion
from nasbench_sim.bench.conversion import convert_tfrecord
from nasbench_sim.bench.tfrecord import encode_row, iter_record_blocks, masked_crc32c, write_tfrecord
from nasbench_sim.errors import DataFormatError

from ..conftest import golden_payloads, only108


@pytest.fixture(params=["one process, one block", "pool, small blocks"])
def batching(request, monkeypatch):
    """Convert in one block in-process, or in blocks of ~1 kB with the cell checks in a second process."""
    if request.param.startswith("pool"):
        monkeypatch.setattr(conversion, "_POOL_BYTES", 0)
        monkeypatch.setattr(conversion, "_BLOCK_BYTES", 1024)
    return request.param


def _row(records, module_hash, *, epochs=108, cell_of=None, hash_as=None, **changes):
    record = records[module_hash]
    source = records[cell_of] if cell_of is not None else record
    stats = {**record["computed_statistics"]["108"][0], **changes}
    return encode_row(hash_as or module_hash, epochs, source["module_adjacency"], source["module_operations"], stats, 1)


def _framed(payload: bytes) -> bytes:
    length = struct.pack("<Q", len(payload))
    return length + struct.pack("<I", masked_crc32c(length)) + payload + struct.pack("<I", masked_crc32c(payload))


def _offset(payloads, index) -> int:
    return sum(len(_framed(p)) for p in payloads[:index])


def test_blocks_of_any_size_give_the_same_records_and_errors(records, tmp_path):
    payloads = golden_payloads(only108(records, 5))
    path = tmp_path / "x.tfrecord"
    write_tfrecord(path, payloads)
    whole = [(o, p) for b in iter_record_blocks(path) for o, p in zip(b.offsets, b.payloads, strict=True)]
    for size in (1, 7, 12, 100, 1000):
        blocks = list(iter_record_blocks(path, block_bytes=size))
        assert [(o, p) for b in blocks for o, p in zip(b.offsets, b.payloads, strict=True)] == whole
        assert all(b.error is None for b in blocks)


@settings(max_examples=40, deadline=None)
@given(cut=st.integers(0, 2000), size=st.sampled_from([1, 5, 64, 1 << 20]))
def test_a_cut_file_fails_at_the_same_offset_with_any_block_size(records, tmp_path_factory, cut, size):
    payloads = golden_payloads(only108(records, 3))
    raw = b"".join(map(_framed, payloads))
    path = tmp_path_factory.mktemp("cut") / "x.tfrecord"
    path.write_bytes(raw[: min(cut, len(raw))])

    def outcome(block_bytes):
        blocks = list(iter_record_blocks(path, block_bytes=block_bytes))
        error = next((str(b.error) for b in blocks if b.error is not None), None)
        return [o for b in blocks for o in b.offsets], error

    assert outcome(size) == outcome(1 << 24)


def test_the_pool_converts_exactly_what_one_process_converts(golden_tfrecord, golden_table, tmp_path, monkeypatch):
    monkeypatch.setattr(conversion, "_POOL_BYTES", 0)
    monkeypatch.setattr(conversion, "_BLOCK_BYTES", 4096)
    table = convert_tfrecord(golden_tfrecord, tmp_path / "t", progress=False)
    assert np.array_equal(table.data, golden_table.data, equal_nan=True)
    assert np.array_equal(table.trainable_parameters, golden_table.trainable_parameters)
    for field in ("hashes", "num_vertices", "bits", "labels", "repeat_counts", "epoch_order"):
        assert np.array_equal(getattr(table.cells, field), getattr(golden_table.cells, field)), field


def _hashes(records):
    return list(records)


@pytest.mark.parametrize(
    ("faults", "named"),
    [
        # (record index -> fault), the fault whose record must be named
        ({2: "value", 4: "hash"}, 2),
        ({2: "hash", 4: "value"}, 2),
        ({2: "hash", 5: "crc"}, 2),
        ({3: "json", 1: "hash"}, 1),
        ({4: "fourth repeat", 6: "hash"}, 4),
        ({6: "fourth repeat", 2: "forged"}, 2),
        ({3: "hash and value"}, 3),
    ],
)
def test_the_first_bad_record_in_file_order_is_named(records, tmp_path, batching, faults, named):
    # Catches a batch's checks run in phases (values, then cells, then framing) naming a later record.
    h = _hashes(records)
    payloads = [_row(records, h[i]) for i in range(8)]
    for index, fault in faults.items():
        if fault == "value":
            payloads[index] = _row(records, h[index], final_test_accuracy=7.0)
        elif fault == "hash":
            payloads[index] = _row(records, h[index], hash_as="f" * 32)
        elif fault == "hash and value":
            payloads[index] = _row(records, h[index], hash_as="f" * 32, final_test_accuracy=7.0)
        elif fault == "json":
            payloads[index] = b"not json"
        elif fault == "fourth repeat":
            payloads[index - 3 : index + 1] = [payloads[index - 3]] * 4
        elif fault == "forged":
            payloads[index] = _row(records, h[0], cell_of=h[1])
            payloads[0] = _row(records, h[0])
    raw = bytearray(b"".join(map(_framed, payloads)))
    crc = [i for i, fault in faults.items() if fault == "crc"]
    if crc:
        raw[_offset(payloads, crc[0]) + 20] ^= 0xFF
    path = tmp_path / "x.tfrecord"
    path.write_bytes(bytes(raw))
    with pytest.raises(DataFormatError, match=f"byte offset {_offset(payloads, named)}") as caught:
        convert_tfrecord(path, tmp_path / "t", progress=False)
    if faults.get(named) in ("hash", "hash and value"):
        assert "does not match its adjacency and ops" in str(caught.value)
    assert not (tmp_path / "t").exists()


def test_a_negative_parameter_count_names_its_record(records, tmp_path, batching):
    # Catches -5 parameters passing every record check and failing later without file or offset.
    h = _hashes(records)
    record = records[h[1]]
    stats = record["computed_statistics"]["108"][0]
    bad = encode_row(h[1], 108, record["module_adjacency"], record["module_operations"], stats, -5)
    payloads = [_row(records, h[0]), bad]
    write_tfrecord(tmp_path / "x.tfrecord", payloads)
    with pytest.raises(
        DataFormatError, match=f"byte offset {_offset(payloads, 1)}: trainable_parameters -5 is negative"
    ):
        convert_tfrecord(tmp_path / "x.tfrecord", tmp_path / "t", progress=False)
