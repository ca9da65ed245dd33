import numpy as np
import pytest

from nasbench_sim.activesel.selection import (
    SelectionConfig,
    entropy_score,
    informative_subset,
    l1_score,
    margin_score,
    random_part,
)
from nasbench_sim.errors import ConfigError


def test_l1_score_closed_form():
    # sum_k |y_k - p_k| = (1 - p_y) + sum_{k != y} p_k = 2 (1 - p_y).
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [1 / 3, 1 / 3, 1 / 3]])
    labels = np.array([0, 0, 2])
    assert l1_score(probs, labels) == pytest.approx([0.6, 1.8, 4 / 3])
    assert l1_score(probs, labels) == pytest.approx(2 * (1 - probs[np.arange(3), labels]))


def test_entropy_and_margin_closed_form():
    uniform = np.full((1, 4), 0.25)
    assert entropy_score(uniform)[0] == pytest.approx(np.log(4))
    assert entropy_score(np.array([[1.0, 0.0]]))[0] == pytest.approx(0.0, abs=1e-9)
    assert margin_score(np.array([[0.5, 0.3, 0.2]]))[0] == pytest.approx(0.8)


def test_informative_subset_adds_the_top_scored_rest_to_the_random_part():
    n = 8
    config = SelectionConfig(random_fraction=0.25, informative_fraction=0.25)
    base = np.array([0, 1])
    rest = np.arange(2, 8)
    probs = np.tile([0.9, 0.1], (6, 1))
    probs[[1, 4]] = [0.2, 0.8]  # indices 3 and 6 are confidently wrong for label 0: most informative
    subset, chosen, scores = informative_subset(base, probs, np.zeros(6, dtype=int), rest, n, config, "l1")
    assert subset.tolist() == [0, 1, 3, 6] and sorted(chosen.tolist()) == [3, 6]
    assert scores == pytest.approx([1.6, 1.6])


def test_fractions_are_checked_and_random_part_is_seeded():
    with pytest.raises(ConfigError):
        SelectionConfig(random_fraction=0.8, informative_fraction=0.5)
    a = random_part(100, SelectionConfig(), np.random.default_rng(1))
    assert a.size == 25 and np.array_equal(a, random_part(100, SelectionConfig(), np.random.default_rng(1)))
