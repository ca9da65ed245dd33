"""`check_surrogate` passes the project's models and names what a broken model does wrong."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench_sim.errors import ContractError
from nasbench_sim.testing import check_surrogate


class Mean:
    def fit(self, X, y):
        self.m = float(np.mean(y))

    def predict(self, X):
        return np.full(len(X), self.m), np.ones(len(X))


class OneArray(Mean):
    def predict(self, X):
        return np.full(len(X), self.m)


class Mutates(Mean):
    def fit(self, X, y):
        y -= y.mean()
        super().fit(X, y)


class NegativeStd(Mean):
    def predict(self, X):
        return np.full(len(X), self.m), -np.ones(len(X))


def test_the_project_surrogates_pass():
    from nasbench_sim.search.models.gp import DistanceGP, DistanceGPConfig

    assert not any(check_surrogate(Mean()).values())
    gp = DistanceGP(DistanceGPConfig(), np.random.default_rng(0), device="cpu")
    assert not any(check_surrogate(gp, dim=26).values())


@pytest.mark.parametrize(
    ("model", "rule"), [(OneArray(), "shapes"), (Mutates(), "inputs_unchanged"), (NegativeStd(), "finite")]
)
def test_a_broken_surrogate_fails_its_rule(model, rule):
    assert check_surrogate(model, raise_on_failure=False)[rule] is not None
    with pytest.raises(ContractError, match=rule):
        check_surrogate(model)
