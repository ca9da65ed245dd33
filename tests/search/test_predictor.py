"""The model-based loop around a user's model and acquisition (`nasbench_sim.search.predictor`)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import Ridge

from nasbench_sim.errors import ConfigError
from nasbench_sim.search.model_based import (
    GPBO,
    NPNAS,
    Bananas,
    BananasConfig,
    GPBOConfig,
    NPNASConfig,
    PoolConfig,
)
from nasbench_sim.search.models.ensemble import EnsembleConfig, MLPEnsemble
from nasbench_sim.search.models.gp import DistanceGP
from nasbench_sim.search.models.neural_process import NeuralProcess, NeuralProcessConfig
from nasbench_sim.search.predictor import MeanStdModel, ModelBased, ModelBasedConfig, build_model, model_based
from nasbench_sim.testing import check_searcher


def _trajectory(searcher, n: int) -> list[str]:
    hashes = []
    for _ in range(n):
        cell = searcher.ask()
        searcher.tell(cell, 0.85 + 0.01 * cell.num_edges - 0.002 * cell.ops.count("maxpool3x3"))
        hashes.append(cell.hash)
    return hashes


def _builtin_and_generic(name: str):
    """A built-in model-based searcher and the generic loop given its model as a factory."""
    pool = PoolConfig(mutations_per_parent=20, min_candidates=None, subsample=40)
    if name == "bananas":
        model = EnsembleConfig(members=2, epochs=10, layers=3)
        config = BananasConfig(num_init=4, batch_size=3, model=model)
        return Bananas, config, lambda rng: MLPEnsemble(model, rng, device="cpu")
    if name == "gp":
        config = GPBOConfig(num_init=4, pool=pool)
        return GPBO, config, lambda rng: DistanceGP(config.model, rng, device="cpu")
    model = NeuralProcessConfig(members=2, steps=20, refit_steps=5, hidden=16)
    config = NPNASConfig(num_init=4, batch_size=3, model=model)
    return NPNAS, config, lambda rng: NeuralProcess(model, rng, device="cpu")


@pytest.mark.parametrize("name", ["bananas", "gp", "np"])
def test_each_builtin_is_the_loop_with_a_factory_of_its_model(name):
    # Catches the generic loop drifting from the built-in one (a different stream for the model or pool).
    cls, config, factory = _builtin_and_generic(name)
    shared = {f: getattr(config, f) for f in ("num_init", "batch_size", "encoding", "acquisition", "beta", "pool")}
    spec = model_based(factory, name="mine", **shared)
    mine = spec.searcher(spec.make_config(), np.random.default_rng(7), device="cpu")
    builtin = cls(config, np.random.default_rng(7), device="cpu")
    assert _trajectory(mine, 10) == _trajectory(builtin, 10)


def test_a_random_forest_in_the_loop_keeps_the_searcher_contract():
    spec = model_based(RandomForestRegressor(n_estimators=10), name="rf", num_init=4, batch_size=3)
    report = check_searcher(spec, queries=12)
    assert all(message is None for message in report.values())


def test_a_callable_acquisition_is_called_with_mean_std_and_best_only():
    seen = []

    def lowest_std(mean, std, best):
        seen.append((mean.shape, std.shape, type(best)))
        return -std

    spec = model_based(RandomForestRegressor(n_estimators=5), name="rf", acquisition=lowest_std, num_init=3)
    searcher = spec.searcher(spec.make_config(), np.random.default_rng(0), device="cpu")
    _trajectory(searcher, 5)
    assert seen and all(m == s and len(m) == 1 and b is float for m, s, b in seen)


def test_each_run_gets_its_own_seeded_copy_of_an_estimator_object():
    # Catches two runs sharing (and refitting) one estimator, or an unseeded forest.
    forest = RandomForestRegressor(n_estimators=3)
    a = build_model(forest, np.random.default_rng(1))
    b = build_model(forest, np.random.default_rng(1))
    assert isinstance(a, MeanStdModel) and a.model is not forest and a.model is not b.model
    assert forest.random_state is None and a.model.random_state == b.model.random_state is not None


def test_the_std_comes_from_return_std_the_members_or_is_zero():
    X = np.arange(12, dtype=np.float32).reshape(6, 2)
    y = np.array([0.0, 1, 0, 1, 0, 1])
    forest = MeanStdModel(RandomForestRegressor(n_estimators=4, random_state=0))
    forest.fit(X, y)
    mean, std = forest.predict(X)
    assert mean.shape == std.shape == (6,) and std.max() > 0
    ridge = MeanStdModel(Ridge())
    ridge.fit(X, y)
    assert np.all(ridge.predict(X)[1] == 0)


def test_a_model_whose_predict_is_not_mean_and_std_is_refused_in_one_line():
    class MeanOnly:
        def fit(self, X, y):
            self.m = float(np.mean(y))

        def predict(self, X):
            return np.full(len(X), self.m)

    spec = model_based(MeanOnly, name="bad", num_init=2)
    searcher = spec.searcher(spec.make_config(), np.random.default_rng(0), device="cpu")
    with pytest.raises(ConfigError, match=r"MeanOnly.predict must return \(mean, std\)"):
        _trajectory(searcher, 3)


def test_bad_settings_name_the_problem():
    with pytest.raises(ConfigError, match="unknown setting"):
        model_based(Ridge(), name="r", num_inits=3)
    with pytest.raises(ConfigError, match="unknown acquisition"):
        model_based(Ridge(), name="r", acquisition="pi")
    with pytest.raises(ConfigError, match="needs model="):
        ModelBasedConfig()
    with pytest.raises(ConfigError, match="no fit/predict"):
        ModelBased(ModelBasedConfig(model=lambda rng: 3), np.random.default_rng(0), device="cpu")
