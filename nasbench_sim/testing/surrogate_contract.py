"""`check_surrogate`: the `fit(X, y)` / `predict(X) -> (mean, std)` contract of a model-based searcher's model.

Rules: `fit` accepts (N, D) float32 encodings and (N,) targets; `predict` returns two (B,) arrays,
finite, std >= 0; neither changes its inputs; a second `fit` on other data works.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.testing import check_surrogate
    >>> class Mean:
    ...     def fit(self, X, y): self.m = float(np.mean(y))
    ...     def predict(self, X): return np.full(len(X), self.m), np.ones(len(X))
    >>> sorted(check_surrogate(Mean()))
    ['finite', 'fit', 'inputs_unchanged', 'refit', 'shapes']
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nasbench_sim.errors import ContractError


def check_surrogate(model: Any, *, dim: int = 36, raise_on_failure: bool = True) -> dict[str, str | None]:
    """Check a surrogate object against the fit/predict contract.

    Args:
        model: what `nasbench_sim.search.predictor.model_based` takes: an object with `fit(X, y)`
            and `predict(X) -> (mean, std)`, a scikit-learn-style estimator (checked as the loop
            wraps it, `MeanStdModel`), a class or a factory `model(rng)`.
        dim: encoding width D of the test data.
        raise_on_failure: raise `ContractError` listing every broken rule.

    Returns:
        rule -> None where it holds, else a one-line message.
    """
    from nasbench_sim.search.predictor import build_model

    rng = np.random.default_rng(0)
    model = build_model(model, np.random.default_rng(1))
    X = (rng.random((30, dim)) < 0.3).astype(np.float32)
    y = -100.0 * (0.1 - 0.05 * X[:, :5].mean(axis=1)) + 0.1 * rng.standard_normal(30)
    C = (rng.random((12, dim)) < 0.3).astype(np.float32)
    report: dict[str, str | None] = dict.fromkeys(("fit", "shapes", "finite", "inputs_unchanged", "refit"))
    copies = (X.copy(), y.copy(), C.copy())
    try:
        model.fit(X, y)
        out = model.predict(C)
    except Exception as exc:
        report["fit"] = f"fit/predict raised {type(exc).__name__}: {exc}"
    else:
        if not (isinstance(out, tuple) and len(out) == 2):
            report["shapes"] = f"predict must return (mean, std), got {type(out).__name__}"
        else:
            mean, std = (np.asarray(a, dtype=np.float64) for a in out)
            if mean.shape != (len(C),) or std.shape != (len(C),):
                report["shapes"] = f"predict of {len(C)} rows returned shapes {mean.shape} and {std.shape}"
            elif not (np.isfinite(mean).all() and np.isfinite(std).all() and (std >= 0).all()):
                report["finite"] = "predict returned a non-finite mean or std, or std < 0"
        if not all(np.array_equal(a, b) for a, b in zip((X, y, C), copies, strict=True)):
            report["inputs_unchanged"] = "fit or predict changed its input arrays"
        try:
            model.fit(X[:10] * 1, y[:10] + 1.0)
            model.predict(C)
        except Exception as exc:
            report["refit"] = f"a second fit raised {type(exc).__name__}: {exc}"
    failures = {k: v for k, v in report.items() if v is not None}
    if failures and raise_on_failure:
        raise ContractError("\n".join(f"{type(model).__name__}: {k}: {v}" for k, v in failures.items()))
    return report
