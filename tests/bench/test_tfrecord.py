import json

import numpy as np
import pytest

from nasbench_sim.bench.table import METRICS, POINTS
from nasbench_sim.bench.tfrecord import convert_tfrecord, decode_row, iter_tfrecord, write_tfrecord
from nasbench_sim.errors import DataFormatError

from ..conftest import INCEPTION_HASH, golden_payloads


def test_framing_round_trip_and_offsets(tmp_path):
    path = tmp_path / "x.tfrecord"
    write_tfrecord(path, [b"a", b"bcd"])
    assert list(iter_tfrecord(path)) == [(0, b"a"), (17, b"bcd")]  # 8 + 4 + 1 + 4 = 17 bytes per 1-byte record


def test_rows_decode_like_the_official_reader(golden):
    payload = golden_payloads({INCEPTION_HASH: golden[INCEPTION_HASH]})[0]
    module_hash, epochs, adjacency, ops, metrics = decode_row(payload)
    assert module_hash == INCEPTION_HASH and epochs == 4  # budgets in ascending order
    assert adjacency.tolist() == golden[INCEPTION_HASH]["module_adjacency"]
    assert ops == golden[INCEPTION_HASH]["module_operations"]
    assert len(metrics.evaluation_data) == 3 and metrics.trainable_parameters == 2_694_282
    # The row is JSON with the official field order.
    assert json.loads(payload)[0] == INCEPTION_HASH


def test_converted_table_equals_every_golden_value(golden_table, golden, space):
    assert golden_table.kind == "official"
    assert golden_table.epochs == (4, 12, 36, 108)
    for module_hash, record in golden.items():
        row = space.index_of_hash(module_hash)
        assert golden_table.trainable_parameters[row] == record["trainable_parameters"]
        for epochs, repeats in record["computed_statistics"].items():
            b = golden_table.epochs.index(int(epochs))
            for r, stats in enumerate(repeats):
                for p, point in enumerate(POINTS):
                    for m, metric in enumerate(METRICS):
                        # float32 storage is exact for the release's values.
                        assert golden_table.data[row, r, b, p, m] == np.float32(stats[f"{point}_{metric}"])
    # Cells absent from the file stay NaN.
    assert np.isnan(golden_table.data[space.index_of_hash(space.hashes[1].decode())]).all()


def test_only108_file_gets_one_budget(golden, space, tmp_path):
    records = {h: {**r, "computed_statistics": {"108": r["computed_statistics"]["108"]}} for h, r in golden.items()}
    path = tmp_path / "only108.tfrecord"
    write_tfrecord(path, golden_payloads(records))
    table = convert_tfrecord(path, tmp_path / "t", space=space, progress=False)
    assert table.epochs == (108,)


def _bad_copy(src, tmp_path, mutate):
    data = bytearray(src.read_bytes())
    mutate(data)
    path = tmp_path / "bad.tfrecord"
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.__delitem__(slice(len(d) - 10, None)), "truncated record at byte offset"),
        (lambda d: d.__setitem__(40, d[40] ^ 0xFF), r"corrupt record data \(CRC mismatch\) at byte offset 0"),
        (lambda d: d.__setitem__(2, d[2] ^ 0x01), r"corrupt record length \(CRC mismatch\) at byte offset 0"),
        (lambda d: d.extend(b"\x01\x02\x03"), "truncated record header at byte offset"),
    ],
)
def test_corrupt_files_name_the_offset_and_leave_no_cache(golden_tfrecord, space, tmp_path, mutate, message):
    path = _bad_copy(golden_tfrecord, tmp_path, mutate)
    out = tmp_path / "table"
    with pytest.raises(DataFormatError, match=message):
        convert_tfrecord(path, out, space=space, progress=False)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp leftovers


def test_malformed_row_and_unknown_hash(space, tmp_path):
    path = tmp_path / "x.tfrecord"
    write_tfrecord(path, [b"not json"])
    with pytest.raises(DataFormatError, match="malformed NB101 row at byte offset 0"):
        convert_tfrecord(path, tmp_path / "t", space=space, progress=False)
    row = json.dumps(["f" * 32, 108, "0100", "input,output", ""]).encode()
    write_tfrecord(path, [row])
    with pytest.raises(DataFormatError, match="byte offset 0"):
        convert_tfrecord(path, tmp_path / "t", space=space, progress=False)
