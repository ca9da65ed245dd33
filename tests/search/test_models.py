import numpy as np
import pytest
from scipy.stats import spearmanr

from nasbench_sim.search.base import FitPredict
from nasbench_sim.search.models.ensemble import EnsembleConfig, MLPEnsemble
from nasbench_sim.search.models.gp import DistanceGP, DistanceGPConfig
from nasbench_sim.search.models.neural_process import NeuralProcess, NeuralProcessConfig


def _data(n, seed):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 2, (n, 12)).astype(np.float32)
    y = X[:, :4].sum(1) - X[:, 4:6].sum(1) + 0.05 * rng.standard_normal(n)
    return X, (y - y.mean()) / y.std()


MAKERS = {
    "gp": lambda rng: DistanceGP(DistanceGPConfig(lengthscale=2.0), rng),
    "np": lambda rng: NeuralProcess(NeuralProcessConfig(steps=400, hidden=32), rng, device="cpu"),
    "mlp": lambda rng: MLPEnsemble(EnsembleConfig(epochs=150, layers=3, loss="mse"), rng, device="cpu"),
}


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_surrogates_learn_a_simple_function_and_report_uncertainty(name):
    X, y = _data(120, 0)
    Xt, yt = _data(300, 1)
    model = MAKERS[name](np.random.default_rng(0))
    model.fit(X, y)
    mean, std = model.predict(Xt)
    assert mean.shape == std.shape == (300,)
    assert spearmanr(mean, yt).statistic > 0.8
    assert (std > 0).all()


@pytest.mark.parametrize("name", ["np", "mlp"])
def test_batched_fit_equals_one_at_a_time(name):
    # Catches a stacked computation that mixes networks: each model must fit exactly as alone.
    data = [_data(40, s) for s in range(3)]
    alone = []
    for k, (X, y) in enumerate(data):
        model = MAKERS[name](np.random.default_rng(k))
        model.fit(X, y)
        alone.append(model.predict(X[:7]))
    models = [MAKERS[name](np.random.default_rng(k)) for k in range(3)]
    batched = type(models[0]).fit_predict_many(
        [FitPredict(m, X, y, X[:7]) for m, (X, y) in zip(models, data, strict=True)]
    )
    for (m1, s1), (m2, s2) in zip(alone, batched, strict=True):
        assert np.array_equal(m1, m2) and np.array_equal(s1, s2)


def test_neural_process_refit_is_warm_started_and_seeded():
    X, y = _data(60, 0)
    config = NeuralProcessConfig(steps=50, refit_steps=10)
    a, b = (
        NeuralProcess(config, np.random.default_rng(5), device="cpu"),
        NeuralProcess(config, np.random.default_rng(5), device="cpu"),
    )
    for model in (a, b):
        model.fit(X, y)
        model.fit(X[:50], y[:50])
        assert model.optimiser_state[2] == 60  # 50 first-fit steps + 10 refit steps, one optimiser
    assert np.array_equal(a.predict(X)[0], b.predict(X)[0])


def test_distance_gp_interpolates_and_is_unsure_far_away():
    # Closed form: with tiny noise the posterior mean reproduces the data and the std there is ~0.
    X = np.array([[0, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 1]])
    y = np.array([1.0, 2.0, 4.0])
    gp = DistanceGP(DistanceGPConfig(), np.random.default_rng(0))
    gp.fit(X, y)
    mean, std = gp.predict(X)
    assert np.allclose(mean, y, atol=1e-4) and np.all(std < 1e-3)
    _, far = gp.predict(np.array([[0, 1, 0, 1]]))
    assert far[0] > 0.1


def test_predict_before_fit_is_a_clear_error():
    for make in MAKERS.values():
        with pytest.raises(RuntimeError, match="before fit"):
            make(np.random.default_rng(0)).predict(np.zeros((2, 12), dtype=np.float32))
