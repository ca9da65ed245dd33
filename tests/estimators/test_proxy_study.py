"""The proxy study: resumable chunks, the same scores with any number of workers, clear errors."""

import numpy as np
import pytest

from nasbench_sim.errors import ConfigError, DataFormatError
from nasbench_sim.estimators.proxy_study import rank_correlations, sample_rows, score_sample

SMALL = {"chunk": 2, "progress": False, "stem_channels": 8, "num_stacks": 1, "cells_per_stack": 1}
PROXIES = ["synflow", "params"]


def test_a_study_resumes_and_gives_the_same_scores_on_workers(space, tmp_path):
    rows = sample_rows(len(space), 6, seed=1)
    one = score_sample(space, rows, PROXIES, 1, tmp_path / "a", **SMALL)
    (tmp_path / "a" / "chunk_00001.npy").unlink()  # an interrupted study
    again = score_sample(space, rows, PROXIES, 1, tmp_path / "a", **SMALL)
    parallel = score_sample(space, rows, PROXIES, 1, tmp_path / "b", workers=2, **SMALL)
    for name in one:
        assert np.array_equal(one[name], again[name]) and np.array_equal(one[name], parallel[name])
    with pytest.raises(ConfigError, match="another seed"):
        score_sample(space, rows, PROXIES, 2, tmp_path / "a", **SMALL)
    (tmp_path / "a" / "chunk_00000.npy").write_bytes(b"garbage")
    with pytest.raises(DataFormatError, match="unreadable chunk"):
        score_sample(space, rows, PROXIES, 1, tmp_path / "a", **SMALL)


def test_samples_are_seeded_distinct_rows():
    rows = sample_rows(1000, 50, seed=4)
    assert len(set(rows.tolist())) == 50 and np.array_equal(rows, sample_rows(1000, 50, seed=4))
    assert np.array_equal(sample_rows(5, None, seed=0), np.arange(5))
    with pytest.raises(ConfigError, match="2 to 1000 cells"):
        sample_rows(1000, 1001, seed=0)


def test_rank_correlations_of_a_monotone_and_a_reversed_proxy():
    acc = np.linspace(0.8, 0.95, 40)
    out = rank_correlations({"up": acc**3, "down": -acc}, acc, np.random.default_rng(0), resamples=50)
    assert out["up"]["spearman"] == 1.0 and out["up"]["kendall"] == 1.0 and out["down"]["spearman"] == -1.0
