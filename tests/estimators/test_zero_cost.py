"""Zero-cost proxies with data: seeded, no global state, and their definitions on degenerate batches."""

import numpy as np
import torch

from nasbench_sim.estimators.zero_cost import score_batch
from nasbench_sim.space import Cell

CELL = Cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
NET = {"in_channels": 1, "stem_channels": 4, "num_stacks": 1, "cells_per_stack": 1}


def _batch(n=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 1, 16, 16), dtype=np.float32), np.arange(n) % 10


def test_the_same_seed_gives_the_same_scores_and_the_global_generator_is_untouched():
    x, y = _batch()
    before = torch.get_rng_state()
    a, b = score_batch(CELL, x, y, seed=1, **NET), score_batch(CELL, x, y, seed=1, **NET)
    c = score_batch(CELL, x, y, seed=2, **NET)
    assert a == b and a["snip"] != c["snip"]
    assert torch.equal(torch.get_rng_state(), before)
    assert a["grad_norm"] > 0 and a["snip"] > 0 and a["params"] > 0


def test_naswot_of_a_batch_of_one_image_repeated_is_singular():
    # Identical images have identical activation codes: K is a rank-one matrix, log|det K| = -inf; distinct
    # random images give a finite score.
    x, y = _batch()
    same = np.repeat(x[:1], 8, axis=0)
    assert score_batch(CELL, same, y, seed=0, **NET)["naswot"] == -np.inf
    assert np.isfinite(score_batch(CELL, x, y, seed=0, **NET)["naswot"])


def test_precision_at_k_of_a_perfect_predictor_is_one_even_on_a_small_test_set():
    # Regression: precision@20 of a perfect prediction of 10 cells came out 0.5 (divided by k, not by 10).
    from nasbench_sim.estimators.predictors import scores

    out = scores(np.arange(10.0), np.arange(10.0))
    assert out["precision_at_10"] == out["precision_at_20"] == 1.0
