import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nasbench_sim.activesel.selection import (
    REGIMES,
    SelectionConfig,
    build_subsets,
    el2n_score,
    entropy_histogram_sample,
    entropy_score,
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


def test_el2n_closed_form():
    # ||p - onehot||_2 for p = (0.7, 0.2, 0.1), label 0: sqrt(0.3^2 + 0.2^2 + 0.1^2).
    assert el2n_score(np.array([[0.7, 0.2, 0.1]]), np.array([0]))[0] == pytest.approx(np.sqrt(0.14))
    # A confident wrong prediction has the maximum, sqrt(2).
    assert el2n_score(np.array([[0.0, 1.0]]), np.array([0]))[0] == pytest.approx(np.sqrt(2))


def test_entropy_and_margin_closed_form():
    uniform = np.full((1, 4), 0.25)
    assert entropy_score(uniform)[0] == pytest.approx(np.log(4))
    assert entropy_score(np.array([[1.0, 0.0]]))[0] == pytest.approx(0.0, abs=1e-9)
    assert margin_score(np.array([[0.5, 0.3, 0.2]]))[0] == pytest.approx(0.8)


def test_fractions_are_checked_and_random_part_is_seeded():
    with pytest.raises(ConfigError):
        SelectionConfig(random_fraction=0.8, informative_fraction=0.5)
    with pytest.raises(ConfigError, match="reference_models"):
        SelectionConfig(reference_models=0)
    a = random_part(100, SelectionConfig(), np.random.default_rng(1))
    assert a.size == 25 and np.array_equal(a, random_part(100, SelectionConfig(), np.random.default_rng(1)))


def test_histogram_sampler_keeps_sparse_bins_at_a_higher_rate():
    # 900 easy samples in one dense bin, 100 hard ones spread over 10 sparse bins: Na et al.'s P1 weights
    # (max_count - count + 1, shared by the bin) favour the sparse bins, unlike a uniform draw (10% hard).
    entropy = np.concatenate([np.full(900, 1e-6), 10.0 ** np.repeat(np.arange(-4.5, 0.5, 0.5), 10)])
    picks = entropy_histogram_sample(entropy, 200, 0.5, np.random.default_rng(0))
    assert len(set(picks.tolist())) == 200
    hard_share = np.mean(picks >= 900)
    assert hard_share > 0.4
    again = entropy_histogram_sample(entropy, 200, 0.5, np.random.default_rng(0))
    assert np.array_equal(picks, again)


def _probs(rng, k, r, c=3):
    p = rng.random((k, r, c)) + 1e-3
    return p / p.sum(axis=2, keepdims=True)


def test_top_regimes_take_the_highest_scores_and_el2n_averages_references():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 40)
    base = np.arange(10)
    probs = _probs(rng, 3, 30)
    subsets = build_subsets(["active", "el2n"], labels, base, probs, SelectionConfig(reference_models=3), rng)
    rest = np.arange(10, 40)
    l1 = l1_score(probs[0], labels[rest])
    assert sorted(subsets["active"].added.tolist()) == sorted(rest[np.argsort(-l1)[:10]].tolist())
    assert subsets["active"].added_scores == pytest.approx(np.sort(l1)[::-1][:10])
    el2n = np.mean([el2n_score(p, labels[rest]) for p in probs], axis=0)
    assert sorted(subsets["el2n"].added.tolist()) == sorted(rest[np.argsort(-el2n)[:10]].tolist())


def test_adding_a_regime_changes_no_other_subset():
    # Each random draw has its own spawned stream; otherwise asking for entropy-hist would move random's draw.
    rng_args = dict(
        labels=np.arange(60) % 3, base=np.arange(15), reference_probs=_probs(np.random.default_rng(1), 1, 45)
    )
    one = build_subsets(["random"], config=SelectionConfig(), rng=np.random.default_rng(5), **rng_args)
    both = build_subsets(["entropy-hist", "random"], config=SelectionConfig(), rng=np.random.default_rng(5), **rng_args)
    assert np.array_equal(one["random"].indices, both["random"].indices)


def test_regimes_needing_references_say_so():
    with pytest.raises(ConfigError, match="needs reference-model probabilities"):
        build_subsets(
            ["active"], np.zeros(8, dtype=int), np.arange(2), None, SelectionConfig(), np.random.default_rng(0)
        )


@settings(max_examples=30, deadline=None)
@given(n=st.integers(8, 200), seed=st.integers(0, 10_000), rf=st.floats(0.1, 0.5), inf=st.floats(0.1, 0.5))
def test_subsets_are_sorted_unique_contain_the_base_and_have_the_stated_sizes(n, seed, rf, inf):
    rng = np.random.default_rng(seed)
    config = SelectionConfig(random_fraction=rf, informative_fraction=inf)
    base = random_part(n, config, rng)
    labels = rng.integers(0, 3, n)
    probs = _probs(rng, 1, n - base.size)
    subsets = build_subsets(list(REGIMES), labels, base, probs, config, rng)
    for name, subset in subsets.items():
        idx = subset.indices
        assert np.all(np.diff(idx) > 0) and idx.min() >= 0 and idx.max() < n, name
        assert np.isin(base, idx).all(), name
        assert len(subset.added) == len(subset.added_scores)
    k = config.informative_size(n)
    for name in ("active", "random", "el2n", "entropy-hist", "entropy", "margin"):
        assert subsets[name].indices.size == base.size + k
    assert subsets["full"].indices.size == n and np.array_equal(subsets["random-part"].indices, base)


def test_every_regime_has_its_own_colour_and_the_defaults_come_from_the_regimes():
    from nasbench_sim.activesel.config import DEFAULT_REGIMES

    colours = [r.colour for r in REGIMES.values()]
    assert len(set(colours)) == len(colours) and all(c.startswith("#") for c in colours)
    assert DEFAULT_REGIMES == tuple(name for name, r in REGIMES.items() if r.default)
    assert {"entropy", "margin"}.isdisjoint(DEFAULT_REGIMES) and DEFAULT_REGIMES[0] == "full"
