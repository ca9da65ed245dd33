"""Performance predictors on real labels: any `fit/predict` model trained on n random cells, scored on held-out cells.

The metric set of White et al. (NeurIPS 2021), on two test sets per seed:
`random` (cells drawn uniformly from the space, none in the training set) and
`neighbourhood` (one-edit neighbours of random training cells, the cells a local
search or an evolution would query next). Metrics: MAE (percentage points of
accuracy), Spearman, Kendall tau, and precision at top 10 / 20 (the share of the
predicted 10 / 20 best test cells that are among the true 10 / 20 best; of all of them in a
smaller test set).

Targets are the accuracy in percent minus 100 (the searchers' targets). The
project's surrogates fit the seeds of one training size as one batched
computation where they can (`search.base.fit_predict_many`).

Example:
    >>> import numpy as np
    >>> from nasbench_sim.estimators.predictors import evaluate_predictors, predictors
    >>> from nasbench_sim.space.cellspace import CellSpace
    >>> space = CellSpace.load_or_build(progress=False)
    >>> accuracy = np.random.default_rng(0).uniform(0.8, 0.95, len(space))  # stand-in labels
    >>> frame = evaluate_predictors(predictors(["gp"]), accuracy, space, sizes=[20], seeds=[0], test_size=50)
    >>> sorted(frame["test_set"].unique())
    ['neighbourhood', 'random']
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from nasbench_sim.errors import ConfigError
from nasbench_sim.search.base import FitPredict, fit_predict_many
from nasbench_sim.space.cellspace import CellSpace
from nasbench_sim.space.raw import CellBatch
from nasbench_sim.space.sampling import neighbours

METRICS = ("mae", "spearman", "kendall", "precision_at_10", "precision_at_20")


@dataclass(frozen=True)
class Predictor:
    """A model to evaluate: `factory(rng)` builds a fresh one with `fit(X, y)` / `predict(X) -> (mean, std)`.

    Attributes:
        name: its label.
        factory: builds the model from a numpy Generator.
        encoding: the cell encoding it is fitted on (`space.encodings.ENCODINGS`).
    """

    name: str
    factory: Callable[[np.random.Generator], Any]
    encoding: str


def predictors(names: Sequence[str], *, device: str = "cpu") -> dict[str, Predictor]:
    """Built-in predictors by name: `np` (NP-NAS's Neural Process ensemble), `gp` (GP-BO's distance GP),
    `mlp` (BANANAS' MLP ensemble), `rf` (scikit-learn random forest, 100 trees), `hgb` (scikit-learn
    histogram gradient boosting), each with its searcher's encoding (path encoding for the forests).

    Raises:
        ConfigError: an unknown name (the message lists the choices).
    """
    from nasbench_sim.search.model_based import BananasConfig, GPBOConfig, NPNASConfig
    from nasbench_sim.search.models.ensemble import MLPEnsemble
    from nasbench_sim.search.models.gp import DistanceGP
    from nasbench_sim.search.models.neural_process import NeuralProcess
    from nasbench_sim.search.predictor import build_model

    def sklearn(make: Callable[[], Any]) -> Callable[[np.random.Generator], Any]:
        return lambda rng: build_model(make(), rng)

    def forest() -> Any:
        from sklearn.ensemble import RandomForestRegressor

        return RandomForestRegressor(n_estimators=100)

    def boosting() -> Any:
        from sklearn.ensemble import HistGradientBoostingRegressor

        return HistGradientBoostingRegressor()

    table = {
        "np": Predictor(
            "NP-NAS (NP ensemble)", lambda r: NeuralProcess(NPNASConfig().model, r, device=device), "truncated_path"
        ),
        "gp": Predictor(
            "GP-BO (distance GP)", lambda r: DistanceGP(GPBOConfig().model, r, device=device), "raw_categorical"
        ),
        "mlp": Predictor(
            "BANANAS (MLP ensemble)", lambda r: MLPEnsemble(BananasConfig().model, r, device=device), "truncated_path"
        ),
        "rf": Predictor("random forest", sklearn(forest), "path"),
        "hgb": Predictor("gradient boosting", sklearn(boosting), "path"),
    }
    unknown = [n for n in names if n not in table]
    if unknown:
        raise ConfigError(f"unknown predictor {unknown[0]!r} (choices: {', '.join(table)})")
    return {n: table[n] for n in names}


def held_out_rows(space: CellSpace, train: np.ndarray, rng: np.random.Generator, size: int) -> dict[str, np.ndarray]:
    """The two test sets of one seed (module docstring), none of their rows in `train`.

    `random` holds `size` rows; `neighbourhood` holds `size` rows drawn without replacement from
    all one-edit neighbours of the training cells, or all of them where there are fewer.
    """
    taken = set(train.tolist())
    random_rows = [r for r in rng.permutation(len(space))[: size + len(train)].tolist() if r not in taken][:size]
    near = sorted({space.index(c) for r in train.tolist() for c in neighbours(space.cell(int(r)))} - taken)
    picked = rng.choice(len(near), size=min(size, len(near)), replace=False) if near else []
    return {"random": np.array(random_rows), "neighbourhood": np.array(near)[picked]}


def scores(predicted: np.ndarray, true: np.ndarray) -> dict[str, float]:
    """The metrics of one prediction (both in target units: accuracy % - 100).

    Example:
        >>> out = scores(np.arange(30.0), np.arange(30.0) + 1.0)
        >>> out["mae"], out["kendall"], out["precision_at_10"]
        (1.0, 1.0, 1.0)
    """
    out = {
        "mae": float(np.mean(np.abs(predicted - true))),
        "spearman": float(stats.spearmanr(predicted, true).statistic),
        "kendall": float(stats.kendalltau(predicted, true).statistic),
    }
    for k in (10, 20):
        top_true = set(np.argsort(-true, kind="stable")[:k].tolist())
        top_pred = np.argsort(-predicted, kind="stable")[:k].tolist()
        out[f"precision_at_{k}"] = len(top_true.intersection(top_pred)) / min(k, len(true))
    return out


def evaluate_predictors(
    models: Mapping[str, Predictor],
    accuracy: np.ndarray,
    space: CellSpace,
    *,
    sizes: Sequence[int],
    seeds: Sequence[int],
    test_size: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Train every model on n random cells per seed and score it on both test sets.

    Args:
        models: name -> `Predictor`.
        accuracy: (len(space),) accuracies in [0, 1], by row (the labels).
        space: the cell space.
        sizes: training-set sizes n.
        seeds: seeds; with training size n, seed s draws its cells from `SeedSequence([s, n]).spawn(2)[0]`
            and model k from the second's k-th child.
        test_size: cells per test set.
        progress: called with 1 after each (model, n).

    Returns:
        One row per (model, n, seed, test set): the `METRICS` and the seconds of the fit + predict (a share of
        the batched computation).
    """
    rows = []
    for n in sizes:
        data = []
        for seed in seeds:
            data_seq, model_seq = np.random.SeedSequence([seed, n]).spawn(2)
            rng = np.random.default_rng(data_seq)
            train = rng.choice(len(space), size=n, replace=False)
            tests = held_out_rows(space, train, rng, test_size)
            data.append((seed, train, tests, dict(zip(models, model_seq.spawn(len(models)), strict=True))))
        for name, model in models.items():
            requests = []
            for _, train, tests, model_seqs in data:
                model_rng = np.random.default_rng(model_seqs[name])
                candidates = np.concatenate([tests["random"], tests["neighbourhood"]])
                requests.append(
                    FitPredict(
                        model.factory(model_rng),
                        _encode(space, train, model.encoding),
                        100.0 * accuracy[train] - 100.0,
                        _encode(space, candidates, model.encoding),
                    )
                )
            start = time.perf_counter()
            answers = fit_predict_many(requests)
            share = (time.perf_counter() - start) / len(requests)
            for (seed, _, tests, _), (mean, _) in zip(data, answers, strict=True):
                offset = 0
                for test_set, test in tests.items():
                    predicted = np.asarray(mean, dtype=np.float64)[offset : offset + len(test)]
                    offset += len(test)
                    row = {"model": name, "label": model.name}
                    row |= {"n": n, "seed": seed, "test_set": test_set, "test_cells": len(test), "seconds": share}
                    rows.append(row | scores(predicted, 100.0 * accuracy[test] - 100.0))
            if progress is not None:
                progress(1)
    return pd.DataFrame(rows)


def _encode(space: CellSpace, rows: np.ndarray, encoding: str) -> np.ndarray:
    return CellBatch.from_cells([space.cell(int(r)) for r in rows]).encode(encoding)
