import numpy as np
import pytest

from nasbench_sim.bench.partial import build_partial_table
from nasbench_sim.errors import DataFormatError

from ..conftest import shared_file


def test_partial_table_keeps_the_real_values(partial):
    real = np.load(shared_file("nb101", "test108_repeat0.npy"))
    assert partial.kind == "partial" and partial.epochs == (108,)
    assert np.array_equal(partial.data[:, 0, 0, 1, 2], real.astype(np.float32))
    assert np.allclose(partial.mean("test_accuracy"), real, atol=1e-6)
    assert "validation_accuracy" in partial.meta["modelled_fields"]
    assert "modelled" in partial.describe()


def test_partial_table_matches_golden_repeat0(partial, golden, space):
    # The shared array is in hash order: repeat 0 of each golden record must line up with its row.
    for module_hash, record in golden.items():
        row = space.index_of_hash(module_hash)
        assert partial.data[row, 0, 0, 1, 2] == np.float32(
            record["computed_statistics"]["108"][0]["final_test_accuracy"]
        )


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros(10), "expected float"),
        (np.full(423624, 2.0), r"in \[0, 1\]"),
        (np.zeros(423624, dtype=np.int64), "expected float"),
    ],
)
def test_bad_arrays_are_rejected(space, tmp_path, array, message):
    path = tmp_path / "bad.npy"
    np.save(path, array)
    with pytest.raises(DataFormatError, match=message):
        build_partial_table(path, space)


def test_missing_or_garbage_file(space, tmp_path):
    with pytest.raises(DataFormatError, match="no such file"):
        build_partial_table(tmp_path / "none.npy", space)
    (tmp_path / "junk.npy").write_bytes(b"junk")
    with pytest.raises(DataFormatError, match="not a readable"):
        build_partial_table(tmp_path / "junk.npy", space)
