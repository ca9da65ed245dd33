import numpy as np
import pytest
from scipy.stats import spearmanr

from nasbench_sim.search.surrogates import GPSurrogate, MLPEnsemble, NeuralProcess


def _data(n, seed):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 2, (n, 12)).astype(np.float32)
    y = X[:, :4].sum(1) - X[:, 4:6].sum(1) + 0.05 * rng.standard_normal(n)
    return X, (y - y.mean()) / y.std()


@pytest.mark.parametrize(
    "make",
    [
        lambda rng: GPSurrogate(rng),
        lambda rng: NeuralProcess(rng, steps=400, hidden=64, device="cpu"),
        lambda rng: MLPEnsemble(rng, epochs=300),
    ],
    ids=["gp", "np", "mlp"],
)
def test_surrogates_learn_a_simple_function_and_report_uncertainty(make):
    X, y = _data(120, 0)
    Xt, yt = _data(300, 1)
    model = make(np.random.default_rng(0))
    model.fit(X, y)
    mean, std = model.predict(Xt)
    assert mean.shape == std.shape == (300,)
    assert spearmanr(mean, yt).statistic > 0.8
    assert (std > 0).all()


def test_neural_process_refit_is_warm_started_and_seeded():
    X, y = _data(60, 0)
    a, b = (
        NeuralProcess(np.random.default_rng(5), steps=50, device="cpu"),
        NeuralProcess(np.random.default_rng(5), steps=50, device="cpu"),
    )
    for model in (a, b):
        model.fit(X, y)
        model.fit(X[:50], y[:50])
    assert np.array_equal(a.predict(X)[0], b.predict(X)[0])
