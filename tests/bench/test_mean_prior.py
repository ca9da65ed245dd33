import numpy as np
import pytest

from nasbench_sim.bench.mean_prior import MeanPrior
from nasbench_sim.errors import DataFormatError

GRID = np.round(np.arange(-0.02, 0.0201, 0.001), 6)


def _two_node_prior():
    low = np.zeros(GRID.size)
    low[[5, 20]] = [0.3, 0.7]
    high = np.zeros(GRID.size)
    high[[20, 30]] = [0.5, 0.5]
    return MeanPrior(np.array([0.90, 0.94]), GRID, np.stack([low, high]))


def test_a_cells_prior_interpolates_the_two_nodes_around_its_level_and_clamps_beyond():
    # Catches a step in the prior at a node (a cell just above a node got the next node's prior).
    prior = _two_node_prior()
    at = prior.cell_prior(np.array([0.89, 0.90, 0.92, 0.94, 0.97]))
    assert np.allclose(at[0], prior.weights[0]) and np.allclose(at[1], prior.weights[0])
    assert np.allclose(at[2], 0.5 * prior.weights[0] + 0.5 * prior.weights[1])
    assert np.allclose(at[3], prior.weights[1]) and np.allclose(at[4], prior.weights[1])


def test_posterior_is_prior_times_gaussian_likelihood_closed_form():
    prior = MeanPrior(np.array([0.9]), np.array([-0.01, 0.0, 0.01]), np.array([[0.25, 0.5, 0.25]]))
    post = prior.posterior(np.array([0.01]), np.array([0.9]), np.array([0.005]))[0]
    expected = np.array([0.25, 0.5, 0.25]) * np.exp(-0.5 * (np.array([0.02, 0.01, 0.0]) / 0.005) ** 2)
    assert np.allclose(post, expected / expected.sum())


def test_exceedance_is_the_prior_or_posterior_mixture_of_gaussian_tails_closed_form():
    # Catches an expected tail count computed from the prior where the posterior is meant (or the reverse).
    from scipy.stats import norm

    prior = MeanPrior(np.array([0.9]), np.array([-0.01, 0.0, 0.01]), np.array([[0.25, 0.5, 0.25]]))
    level, sd, margin = np.array([0.9]), np.array([0.005]), np.array([0.008])
    tails = norm.sf((margin[0] - prior.grid) / sd[0])
    assert prior.exceedance(margin, level, sd)[0] == pytest.approx(tails @ prior.weights[0])
    post = prior.posterior(np.array([0.01]), level, sd)[0]
    assert prior.exceedance(margin, level, sd, np.array([0.01]))[0] == pytest.approx(tails @ post)


def test_samples_follow_the_posterior_and_are_seeded():
    prior = _two_node_prior()
    d, level, sd = np.full(30000, 0.004), np.full(30000, 0.90), np.full(30000, 0.006)
    draws = prior.sample(d, level, sd, np.random.default_rng(0))
    post = prior.posterior(d[:1], level[:1], sd[:1])[0]
    assert set(np.unique(draws)) <= set(GRID[post > 0])
    assert np.mean(draws == GRID[20]) == pytest.approx(post[20], abs=0.01)
    assert np.array_equal(draws, prior.sample(d, level, sd, np.random.default_rng(0)))


def test_npmle_recovers_a_skewed_two_atom_prior():
    # The fit must find a prior that no Gaussian has: most cells at the level, a fifth 1.5 points below.
    rng = np.random.default_rng(1)
    n = 20000
    delta = np.where(rng.random(n) < 0.2, -0.015, 0.0)
    d = delta + 0.002 * rng.standard_normal(n)
    fitted = MeanPrior.fit(d, np.full(n, 0.92), np.full(n, 0.002), nodes=(0.92,), grid=GRID)
    w = fitted.weights[0]
    near = lambda x: w[np.abs(GRID - x) <= 0.0011].sum()  # noqa: E731
    assert near(0.0) == pytest.approx(0.8, abs=0.03) and near(-0.015) == pytest.approx(0.2, abs=0.03)


def test_a_saved_prior_loads_equal_and_a_corrupt_one_is_refused(tmp_path):
    prior = _two_node_prior()
    prior.save(tmp_path / "prior")
    assert MeanPrior.load(tmp_path / "prior") == prior
    (tmp_path / "prior.json").write_text('{"sha256": "0"}')
    with pytest.raises(DataFormatError, match="does not match its recorded sha256"):
        MeanPrior.load(tmp_path / "prior")


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (np.full((1, 3), 0.5), "sum to 1"),
        (np.array([[1.5, -0.5, 0.0]]), "non-negative"),
        (np.ones((2, 3)) / 3, "match"),
    ],
)
def test_malformed_weights_are_refused_with_one_line(weights, message):
    with pytest.raises(DataFormatError, match=message):
        MeanPrior(np.array([0.9]), np.array([-0.01, 0.0, 0.01]), weights)


def test_a_node_no_cell_informs_is_refused_not_left_undefined():
    # Catches the 0/0 of an EM update at a node with no cells near it (its weights became NaN).
    with pytest.raises(ValueError, match=r"near the node levels \[0.94\]"):
        MeanPrior.fit(np.zeros(3), np.full(3, 0.90), np.full(3, 0.002), nodes=(0.90, 0.94), grid=GRID)


def test_npmle_with_two_nodes_gives_each_node_its_own_prior():
    # Catches a wrong interpolation weighting in the EM update (one node cannot): cells at the low
    # node sit at the level, cells at the high node 1 point above it, cells halfway are a mixture.
    rng = np.random.default_rng(2)
    level = np.concatenate([np.full(8000, 0.90), np.full(8000, 0.94), np.full(4000, 0.92)])
    high = (level == 0.94) | ((level == 0.92) & (rng.random(level.size) < 0.5))
    d = np.where(high, 0.01, 0.0) + 0.002 * rng.standard_normal(level.size)
    fitted = MeanPrior.fit(d, level, np.full(level.size, 0.002), nodes=(0.90, 0.94), grid=GRID)
    near = lambda w, x: w[np.abs(GRID - x) <= 0.0011].sum()  # noqa: E731
    assert near(fitted.weights[0], 0.0) > 0.95 and near(fitted.weights[1], 0.01) > 0.95


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input_is_refused_not_drawn_at_the_grid_edge(bad):
    # A NaN repeat 0 once became delta = -6 points (argmax of an all-NaN row).
    prior = _two_node_prior()
    d = np.array([0.0, bad])
    with pytest.raises(ValueError, match="must be finite"):
        prior.sample(d, np.full(2, 0.9), np.full(2, 0.003), np.random.default_rng(0))
    with pytest.raises(ValueError, match="must be finite"):
        MeanPrior.fit(d, np.full(2, 0.9), np.full(2, 0.003), nodes=(0.9,), grid=GRID)
    with pytest.raises(ValueError, match="no cells"):
        MeanPrior.fit(np.array([]), np.array([]), np.array([]), nodes=(0.9,), grid=GRID)


def test_the_shipped_grid_covers_every_deviation_a_trained_cell_can_have():
    # Catches a grid that stopped at +3 points: a cell at level 81% with a real 90% repeat 0 was
    # given modelled repeats 6 points below it (the prior piled up at the grid's edge).
    from nasbench_sim.bench.mean_prior import GRID as SHIPPED
    from nasbench_sim.bench.noise import DEFAULT_NOISE

    assert SHIPPED[0] <= 0.80 - 0.95 and SHIPPED[-1] >= 0.95 - 0.80
    mean, _ = DEFAULT_NOISE.posterior_mean(np.array([0.90, 0.88]), np.array([0.81, 0.82]))
    assert np.all(mean > np.array([0.88, 0.86]))
