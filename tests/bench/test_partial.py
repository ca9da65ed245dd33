import numpy as np
import pytest

from nasbench_sim.bench.partial import build_partial_table
from nasbench_sim.errors import DataFormatError

from ..conftest import shared_file


def test_partial_table_keeps_the_real_values(partial):
    real = np.load(shared_file("nb101", "test108_repeat0.npy"))
    assert partial.kind == "partial" and partial.epochs == (4, 12, 36, 108)
    assert np.array_equal(partial.data[:, 0, 3, 1, 2], real.astype(np.float32))
    # The mean over repeats is modelled around the real value: close to it, never equal to it everywhere.
    mean = partial.mean("test_accuracy")
    ok = real > 0.85
    assert np.corrcoef(mean[ok], real[ok])[0, 1] > 0.8 and np.abs(mean[ok] - real[ok]).mean() < 0.005
    assert "validation_accuracy" in partial.meta["modelled_fields"]
    assert "modelled" in partial.describe()
    # The official best mean-of-3 test accuracy is 94.32%; repeat 0 alone reaches 94.66%.
    assert 0.940 < np.nanmax(mean) < 0.946


def test_partial_table_matches_golden_repeat0(partial, golden, space):
    # The shared array is in hash order: repeat 0 of each golden record must line up with its row.
    for module_hash, record in golden.items():
        row = space.index_of_hash(module_hash)
        assert partial.data[row, 0, 3, 1, 2] == np.float32(
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
        build_partial_table(path, space, level=np.full(len(space), 0.9))


def test_missing_or_garbage_file(space, tmp_path):
    level = np.full(len(space), 0.9)
    with pytest.raises(DataFormatError, match="no such file"):
        build_partial_table(tmp_path / "none.npy", space, level=level)
    (tmp_path / "junk.npy").write_bytes(b"junk")
    with pytest.raises(DataFormatError, match="not a readable"):
        build_partial_table(tmp_path / "junk.npy", space, level=level)


def test_realizations_differ_only_in_modelled_fields(stand_in_repeat0, surrogate, space):
    # Catches a realization that changes the given repeat-0 values, or two realizations drawn alike.
    level = surrogate.mean("test_accuracy")
    one, other = (build_partial_table(stand_in_repeat0, space, level=level, realization=r) for r in (0, 1))
    assert other.meta["realization"] == 1 and one.meta["realization"] == 0
    given = np.load(stand_in_repeat0)
    assert np.array_equal(one.data[:, 0, 0, 1, 2], given) and np.array_equal(other.data[:, 0, 0, 1, 2], given)
    assert not np.array_equal(other.data[:, 1, 0, 1, 2], one.data[:, 1, 0, 1, 2])


def test_modelled_validation_spread_matches_the_real_one(partial):
    # Per accuracy band, the spread of (validation of a random repeat - real repeat-0 test): modelled vs real.
    from nasbench_sim.bench.calibration import load_validation_budgets, table_spread_checks

    repeat0 = np.load(shared_file("nb101", "test108_repeat0.npy"))
    frame = load_validation_budgets(shared_file("nb101", "validation_budgets_20k.csv.gz"))
    checks = [c for c in table_spread_checks(partial, repeat0, frame) if c["cells"] >= 1000]
    assert len(checks) == 5
    for check in checks:
        # Both spreads: the plain sd catches a repeat-sd law inflated by heavy-tailed outliers.
        assert 0.8 <= check["robust_sd_ratio"] <= 1.2 and 0.8 <= check["sd_ratio"] <= 1.2, check


def test_spread_check_bootstrap_interval_brackets_the_ratio():
    # Catches an interval computed on one side only (real or modelled) or on unpaired resamples.
    from nasbench_sim.bench.calibration import spread_checks

    rng = np.random.default_rng(0)
    repeat0 = np.full(400, 0.91)
    real = 0.004 * rng.standard_normal(400)
    same = spread_checks(repeat0, real, real.copy(), bands=[(0.9, 0.92)], rng=np.random.default_rng(1))[0]
    assert same["sd_ratio_ci90"] == [1.0, 1.0]
    wider = spread_checks(repeat0, real, 1.5 * real, bands=[(0.9, 0.92)], rng=np.random.default_rng(1))[0]
    assert wider["sd_ratio_ci90"] == [1.5, 1.5]
    noisy = spread_checks(repeat0, real, 0.004 * rng.standard_normal(400), bands=[(0.9, 0.92)], rng=rng)[0]
    low, high = noisy["sd_ratio_ci90"]
    assert low < noisy["sd_ratio"] < high and high - low < 0.3
    assert "sd_ratio_ci90" not in spread_checks(repeat0, real, real, bands=[(0.9, 0.92)])[0]
