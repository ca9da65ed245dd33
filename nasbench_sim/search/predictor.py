"""Your own predictor in the model-based loop: any `fit(X, y)` / `predict(X)` model, any acquisition.

`ModelBased` is the loop BANANAS, GP-BO and NP-NAS run (`PoolSearcher`: random
start, a pool of mutations of the best cells, an acquisition, `batch_size`
cells per fit) with the surrogate taken from its config. The model may be

- an estimator object (scikit-learn style): each run gets its own copy
  (`sklearn.base.clone` where it has `get_params`, else a deep copy);
- a class: instantiated with no arguments;
- a factory `model(rng) -> object`, called with the run's model stream.

A copy whose `random_state` parameter is None gets one from the run's model
stream, so runs are seeded. A scikit-learn-style model (one with `get_params`)
is wrapped by `MeanStdModel`, which takes the std from `predict(X, return_std=True)`
(Gaussian processes), else from the spread of its `estimators_` (forests,
bagging), else 0; any other model's `predict` must return `(mean, std)`, (B,) each.

The acquisition is a name of `nasbench_sim.search.acquisition.ACQUISITIONS` or a
callable `(mean, std, best) -> score`, higher is better, in target units (the
validation error in percent, negated).

BANANAS, GP-BO and NP-NAS are this loop with a factory of their models (same
trajectories, `tests/search/test_predictor.py`); they keep their own classes and
named configs, so protocols and `--set` can address their settings.

Example:
    >>> import numpy as np
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> from nasbench_sim.search.predictor import model_based
    >>> spec = model_based(RandomForestRegressor(n_estimators=20), name="rf", encoding="adjacency",
    ...                    acquisition=lambda mean, std, best: mean + std, num_init=4, batch_size=2)
    >>> searcher = spec.searcher(spec.make_config(), np.random.default_rng(0), device="cpu")
    >>> for _ in range(6):
    ...     cell = searcher.ask(); searcher.tell(cell, 0.9 + 0.001 * cell.num_edges)
    >>> len(searcher.observed), type(searcher.model).__name__
    (6, 'MeanStdModel')
"""

from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasbench_sim.errors import ConfigError
from nasbench_sim.search.model_based import ModelSearchConfig, PoolSearcher
from nasbench_sim.search.registry import AlgorithmSpec


@dataclass(frozen=True, kw_only=True)
class ModelBasedConfig(ModelSearchConfig):
    """The model-based loop's settings (see `ModelSearchConfig`) and the surrogate.

    Attributes:
        model: an estimator object, a class, or a factory `model(rng) -> estimator` (module docstring).
    """

    model: Any = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.model is None:
            raise ConfigError("a model-based searcher needs model= (an estimator, a class or a factory(rng))")
        if not (callable(self.model) or _has_fit_predict(self.model)):
            raise ConfigError(f"model {self.model!r:.60} has no fit/predict and is not a class or a factory")


def _has_fit_predict(obj: Any) -> bool:
    return callable(getattr(obj, "fit", None)) and callable(getattr(obj, "predict", None))


class MeanStdModel:
    """A model whose `predict` returns the mean alone, made to return `(mean, std)`.

    Args:
        model: the fitted-in-place estimator.
    """

    def __init__(self, model: Any) -> None:
        self.model = model

    def fit(self, X: np.ndarray, y: np.ndarray) -> None:
        """Fit the wrapped model on (N, D) encodings and (N,) targets."""
        self.model.fit(X, y)

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(B,) mean and (B,) std for (B, D) encodings."""
        if "return_std" in inspect.signature(self.model.predict).parameters:
            mean, std = self.model.predict(X, return_std=True)
        elif getattr(self.model, "estimators_", None) is not None:
            members = np.stack([np.asarray(m.predict(X), dtype=np.float64) for m in self.model.estimators_])
            mean, std = np.asarray(self.model.predict(X), dtype=np.float64), members.std(axis=0)
        else:
            out = self.model.predict(X)
            mean, std = out if isinstance(out, tuple) and len(out) == 2 else (out, np.zeros(np.shape(out)))
        return np.asarray(mean, dtype=np.float64).reshape(-1), np.asarray(std, dtype=np.float64).reshape(-1)


def build_model(model: Any, rng: np.random.Generator) -> Any:
    """This run's own surrogate from a config's `model` (see the module docstring).

    Returns:
        An object with `fit(X, y)` and `predict(X) -> (mean, std)`.
    """
    if isinstance(model, type):
        made = model()
    elif _has_fit_predict(model):
        made = _copy(model)
    else:
        made = model(rng)
        if not _has_fit_predict(made):
            raise ConfigError(f"the model factory {model!r:.60} returned {made!r:.60}, which has no fit/predict")
    params = getattr(made, "get_params", None)
    if not callable(params):
        return made  # the protocol's own form: predict returns (mean, std)
    if "random_state" in params(deep=False) and params(deep=False)["random_state"] is None:
        made.set_params(random_state=int(rng.integers(2**31 - 1)))
    return MeanStdModel(made)


def _copy(model: Any) -> Any:
    if callable(getattr(model, "get_params", None)):
        from sklearn.base import clone

        try:
            return clone(model)
        except (TypeError, RuntimeError):
            pass
    return copy.deepcopy(model)


class ModelBased(PoolSearcher):
    """The model-based loop around the model of its config (see the module docstring)."""

    config: ModelBasedConfig
    config_class = ModelBasedConfig

    def __init__(self, config: ModelBasedConfig, rng: np.random.Generator, *, device: str = "auto") -> None:
        super().__init__(config, rng, device=device)
        self.model = build_model(config.model, self.model_rng)


def model_based(
    model: Any,
    *,
    name: str,
    encoding: str = "adjacency",
    acquisition: Any = "its",
    label: str | None = None,
    color: str | None = None,
    marker: str | None = None,
    **settings: Any,
) -> AlgorithmSpec:
    """An algorithm (for `compare`, `register`, ...) running `model` in the model-based loop.

    Args:
        model: an estimator object, a class or a factory `model(rng)`.
        name: the algorithm's name (result folders, tables).
        encoding: a name of `nasbench_sim.space.encodings.ENCODINGS`.
        acquisition: a name of `ACQUISITIONS` or a callable `(mean, std, best) -> (B,) score`.
        label, color, marker: how plots show it.
        **settings: other `ModelBasedConfig` fields (num_init, batch_size, pool, dedup, beta).

    Raises:
        ConfigError: an unknown setting, encoding or acquisition, or no usable model.
    """
    known = set(ModelBasedConfig.__dataclass_fields__) - {"model", "encoding", "acquisition"}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise ConfigError(f"unknown setting(s) {', '.join(unknown)} (choices: {', '.join(sorted(known))})")
    config = ModelBasedConfig(model=model, encoding=encoding, acquisition=acquisition, **settings)
    return AlgorithmSpec(name, ModelBased, ModelBasedConfig, label=label, color=color, marker=marker, default=config)
