import numpy as np
import pytest

from nasbench_sim.bench.exchangeability import (
    compare_repeats,
    counts_above,
    counts_between_worlds,
    mutation_pairs,
    neighbour_rows,
    repeat_statistics,
)
from nasbench_sim.space.sampling import neighbours


def test_counts_above_are_strict():
    assert counts_above(np.array([0.94, 0.9400001, 0.95]), (0.94,)) == {"0.94": 2}


def test_a_repeat_shrunk_towards_the_level_shows_a_thin_top(space):
    # The check's point: a modelled repeat drawn with too little spread at the top has fewer cells above
    # the thresholds than an exchangeable one, which matches within sampling noise.
    rng = np.random.default_rng(0)
    level = rng.uniform(0.85, 0.935, len(space))
    real = level + rng.normal(0, 0.004, len(space))
    twin = level + rng.normal(0, 0.004, len(space))  # exchangeable with `real`
    thin = level + 0.7 * rng.normal(0, 0.004, len(space))
    pairs = mutation_pairs(space, rng.choice(len(space), 300, replace=False), rng)
    stats = {
        name: repeat_statistics(v, level, pairs, {}) for name, v in {"real": real, "twin": twin, "thin": thin}.items()
    }
    same, shrunk = compare_repeats(stats["real"], stats["twin"]), compare_repeats(stats["real"], stats["thin"])
    assert 0.85 < same["count_ratio_above_0.935"] < 1.15
    assert shrunk["count_ratio_above_0.935"] < 0.8 and shrunk["best_difference"] < 0
    assert set(stats["real"]["level_bands"]) == {"0-0.85", "0.85-0.88", "0.88-0.9", "0.9-0.92", "0.92-0.93", "0.93-1"}
    assert stats["real"]["level_bands"]["0-0.85"]["cells"] == 0  # every level here is above 0.85


def test_mutation_pairs_and_neighbours_are_one_edit_apart(space):
    rng = np.random.default_rng(1)
    rows = np.array([0, 1000, 300_000])
    pairs = mutation_pairs(space, rows, rng)
    assert pairs.shape == (3, 2) and (pairs[:, 0] == rows).all()
    around = neighbour_rows(space, rows[:1])
    assert sorted(around[0].tolist()) == sorted(space.indices(neighbours(space.cell(0))).tolist())
    with pytest.raises(KeyError):
        around[1000]


def test_the_real_count_is_placed_in_between_world_sds():
    # Closed form: worlds counting 8, 10, 12 (mean 10, SD 2) put a real count of 14 at +2 SD; chance SD sqrt(14).
    worlds = [{"counts_above": {"0.94": n}} for n in (8, 10, 12)]
    found = counts_between_worlds({"counts_above": {"0.94": 14}}, worlds)["0.94"]
    assert found["modelled_mean"] == 10 and found["between_world_sd"] == 2 and found["real_in_sd"] == 2
    assert found["chance_sd"] == pytest.approx(14**0.5)
