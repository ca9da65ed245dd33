"""The recipe of the modelled tables (the real partial table and the surrogate table): level -> noise -> budgets -> provenance.

Both tables are built the same way from each cell's *level* (the embedded
surrogate's prediction of its mean test accuracy):

1. one seeded random stream per noise realization, `SeedSequence([seed, realization])`;
2. the 108-epoch block from the noise model (`bench.noise`): around the level,
   or, given the real repeat-0 test accuracies, around each cell's posterior
   mean with repeat 0 kept exactly;
3. with a budget model, the 4, 12 and 36-epoch budgets (`bench.budgets`) from
   the same stream;
4. the metadata: what the table is built from, which fields are real and
   which modelled, the noise model, its seed and the budget model.

`Provenance` holds what differs between the two tables.

Example:
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> from nasbench_sim.bench.modelled import Provenance, build_modelled_table
    >>> cells = SimpleNamespace(
    ...     labels=np.array([[0, 1, -1, -1, -1]]), bits=np.array([0b1011]), trainable_parameters=np.array([2_000_000])
    ... )
    >>> demo = Provenance(kind="demo", seed=1, origin={"source": "a made-up level"})
    >>> table = build_modelled_table(cells, demo, level=np.array([0.93]))
    >>> table.epochs, table.meta["real_fields"], round(float(table.mean("test_accuracy")[0]), 4)
    ((108,), ['trainable_parameters (computed exactly)'], 0.93)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasbench_sim.bench.budgets import BUDGETS, BudgetModel, predict_space, with_lower_budgets
from nasbench_sim.bench.noise import DEFAULT_NOISE, CellFeatures, NoiseModel
from nasbench_sim.bench.table import BenchmarkTable
from nasbench_sim.errors import ConfigError
from nasbench_sim.nb101 import EPOCHS

#: The field every modelled table has from the cell itself.
COMPUTED_FIELD = "trainable_parameters (computed exactly)"
#: The modelled field a budget model adds.
BUDGETS_FIELD = f"every value at {', '.join(map(str, BUDGETS[:-1]))} and {BUDGETS[-1]} epochs (budget model)"


@dataclass(frozen=True, kw_only=True)
class Provenance:
    """What one kind of modelled table is, as its metadata records it.

    Attributes:
        kind: the table kind ("partial", "surrogate").
        seed: first entry of the seed of its noise streams (the realization is the second).
        origin: metadata entries naming what it is built from: `source` (a description)
            plus the paths and SHA-256s of its inputs.
        real_fields: fields that are real data (besides `COMPUTED_FIELD`).
        modelled_fields: modelled fields of the 108-epoch budget (`BUDGETS_FIELD` is added with a budget model).
    """

    kind: str
    seed: int
    origin: Mapping[str, Any]
    real_fields: tuple[str, ...] = ()
    modelled_fields: tuple[str, ...] = ()


def build_modelled_table(
    space: Any,
    provenance: Provenance,
    *,
    level: np.ndarray,
    repeat0: np.ndarray | None = None,
    noise: NoiseModel = DEFAULT_NOISE,
    realization: int = 0,
    budget_model: BudgetModel | None = None,
    budget_base: np.ndarray | None = None,
) -> BenchmarkTable:
    """One noise realization of a modelled table (dense: one row per cell of `space`, in row order).

    Args:
        space: the `CellSpace` (structure and parameter counts), or anything with its
            `labels`, `bits` and `trainable_parameters` (and, with a budget model and no
            `budget_base`, `num_vertices`).
        provenance: what the table is (see `Provenance`).
        level: (N,) each cell's structural prior of its mean test accuracy in [0, 1].
        repeat0: (N,) real repeat-0 test accuracies, kept exactly (None: the mean over
            repeats is the level).
        noise: the noise model of the fields the sources lack.
        realization: which noise realization (>= 0; each has its own seeded stream).
        budget_model: models the 4, 12 and 36-epoch budgets (None: the table has 108 epochs only).
        budget_base: (N, 3) the budget model's predictions of every cell if already
            computed (`budgets.predict_space`).

    Raises:
        ConfigError: a negative realization.
    """
    if realization < 0:
        raise ConfigError(f"realization must be >= 0, got {realization}")
    rng = np.random.default_rng(np.random.SeedSequence([provenance.seed, realization]))
    features = CellFeatures.from_space(space)
    if repeat0 is None:
        data = noise.sample_around_mean(level, features, rng)
    else:
        data = noise.sample_partial(repeat0, level, features, rng)
    modelled = list(provenance.modelled_fields)
    if budget_model is not None:
        base = predict_space(budget_model, space, level) if budget_base is None else budget_base
        data = with_lower_budgets(data, base, budget_model, rng)
        modelled.append(BUDGETS_FIELD)
    meta = {
        "kind": provenance.kind,
        **provenance.origin,
        "epochs": list(EPOCHS) if budget_model is not None else [EPOCHS[-1]],
        "real_fields": [*provenance.real_fields, COMPUTED_FIELD],
        "modelled_fields": modelled,
        "noise_model": noise.to_dict(),
        "noise_seed": [provenance.seed, realization],
        "realization": realization,
    }
    if budget_model is not None:
        meta["budget_model"] = {"sha256": budget_model.sha256, "fidelity": budget_model.meta["fidelity"]}
    return BenchmarkTable(data, np.asarray(space.trainable_parameters), meta)
