"""Model-based searchers: BANANAS, GP-BO and NP-NAS, one machinery with different parts.

Each round: after `num_init` random cells (never two with the same dedup key),
fit the surrogate on every evaluated cell (encoding -> target), build a
candidate pool by mutating the best cells (minus cells already evaluated),
score it with the acquisition function and queue the `batch_size` best
candidates. Defaults are naszilla's BANANAS settings (10 initial cells, 10 per
round, pools of 100 naszilla mutations of the best cell).

Targets are the validation error in percent, negated so that higher is
better (`100 * accuracy - 100`), as naszilla's predictors see it.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.search.model_based import Bananas, BananasConfig
    >>> from nasbench_sim.search.models.ensemble import EnsembleConfig
    >>> config = BananasConfig(num_init=5, batch_size=3, model=EnsembleConfig(members=2, epochs=5))
    >>> searcher = Bananas(config, np.random.default_rng(0), device="cpu")
    >>> for _ in range(8):
    ...     cell = searcher.ask(); searcher.tell(cell, 0.9 + 0.001 * cell.num_edges)
    >>> len(searcher.observed)
    8
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from nasbench_sim.errors import ConfigError
from nasbench_sim.search.acquisition import ACQUISITIONS
from nasbench_sim.search.base import (
    FitPredict,
    Query,
    SearcherBase,
    as_query,
    drive,
    unseen_random_cell,
)
from nasbench_sim.search.models.ensemble import EnsembleConfig, MLPEnsemble
from nasbench_sim.search.models.gp import DistanceGP, DistanceGPConfig
from nasbench_sim.search.models.neural_process import NeuralProcess, NeuralProcessConfig
from nasbench_sim.search.simple import MutationConfig
from nasbench_sim.space.cell import Cell
from nasbench_sim.space.dedup import dedup_key
from nasbench_sim.space.encodings import ENCODINGS
from nasbench_sim.space.raw import CellBatch, mutate_raw
from nasbench_sim.space.sampling import random_cell

#: naszilla's mutation: each of the 21 edges flips with 1/21, each of the 5 ops changes with 1/5.
NASZILLA_MUTATION = MutationConfig(edge_probability=1 / 21, op_probability=1 / 5)


@dataclass(frozen=True, kw_only=True)
class PoolConfig:
    """How the candidate pool of a round is built.

    Parents are the best evaluated cells in order; each gets `mutations_per_parent`
    mutations until the pool holds `min_candidates` (None: every parent is used).
    Candidates already evaluated, or already in the pool, are dropped (by `dedup`).

    Attributes:
        num_parents: best cells that may be mutated.
        mutations_per_parent: mutation attempts per parent.
        min_candidates: stop adding parents once the pool is this large (None: never).
        num_random: random cells added to the pool.
        subsample: score only this many pool members drawn with replacement (None: all).
        mutation: how a parent is mutated.
    """

    num_parents: int = 5
    mutations_per_parent: int = 100
    min_candidates: int | None = 100
    num_random: int = 0
    subsample: int | None = None
    mutation: MutationConfig = NASZILLA_MUTATION

    def __post_init__(self) -> None:
        if self.num_parents < 1 or self.mutations_per_parent < 1 or self.num_random < 0:
            raise ConfigError("need num_parents >= 1, mutations_per_parent >= 1, num_random >= 0")
        if (self.min_candidates is not None and self.min_candidates < 1) or (
            self.subsample is not None and self.subsample < 1
        ):
            raise ConfigError("min_candidates and subsample must be >= 1 (or None)")


@dataclass(frozen=True, kw_only=True)
class ModelSearchConfig:
    """Settings every model-based searcher shares.

    Attributes:
        num_init: random cells before the first model fit.
        batch_size: cells evaluated per model fit.
        dedup: never evaluate two cells with the same key ('cell' or 'paths').
        encoding: cell encoding of the surrogate (see `nasbench_sim.space.encodings.ENCODINGS`).
        acquisition: 'its' (independent Thompson sampling), 'ucb', 'ei', 'mean', 'random',
            or a callable `(mean, std, best) -> (B,) score` (higher is better).
        beta: UCB exploration weight.
        pool: how candidates are generated.
    """

    num_init: int = 10
    batch_size: int = 10
    dedup: str = "paths"
    encoding: str = "truncated_path"
    acquisition: str | Callable[[np.ndarray, np.ndarray, float], np.ndarray] = "its"
    beta: float = 0.5
    pool: PoolConfig = PoolConfig()

    def __post_init__(self) -> None:
        if self.num_init < 1 or self.batch_size < 1:
            raise ConfigError("num_init and batch_size must be >= 1")
        dedup_key(self.dedup)
        if self.encoding not in ENCODINGS:
            raise ConfigError(f"unknown encoding {self.encoding!r} (choices: {', '.join(ENCODINGS)})")
        if not callable(self.acquisition) and self.acquisition not in ACQUISITIONS:
            raise ConfigError(f"unknown acquisition {self.acquisition!r} (choices: {', '.join(ACQUISITIONS)})")


def to_target(validation_accuracy: np.ndarray) -> np.ndarray:
    """Negated validation error in percent (higher is better)."""
    return 100.0 * np.asarray(validation_accuracy, dtype=np.float64) - 100.0


def _mean_std(prediction: Any, size: int, model: Any) -> tuple[np.ndarray, np.ndarray]:
    """A model's prediction for `size` candidates as (mean, std), or one line naming the problem."""
    if isinstance(prediction, tuple) and len(prediction) == 2:
        mean = np.asarray(prediction[0], dtype=np.float64)
        std = np.asarray(prediction[1], dtype=np.float64)
        if mean.shape == std.shape == (size,):
            return mean, std
    described = f"{type(prediction).__name__} of shape {np.shape(prediction)}"
    raise ConfigError(
        f"{type(model).__name__}.predict must return (mean, std) of shape ({size},) each, got {described}"
    )


class PoolSearcher(SearcherBase):
    """Surrogate + acquisition over a mutation pool (see the module docstring).

    Subclasses set `model` (a `Surrogate`) in their constructor. Streams: the
    initial cells and the pool draw from `pool_rng`, the acquisition from
    `acquisition_rng`, the model from its own. Pools are built as arrays
    (`nasbench_sim.space.raw`): only the chosen candidates become `Cell`s.
    """

    config: ModelSearchConfig
    model: Any

    def __init__(self, config: ModelSearchConfig, rng: np.random.Generator, *, device: str = "auto") -> None:
        super().__init__(config, rng, device=device)
        self.pool_rng, self.acquisition_rng, self.model_rng = rng.spawn(3)
        self.key = dedup_key(config.dedup)
        self.evaluated = CellBatch.empty()  # the evaluated cells as arrays, in order
        self.queue: list[Cell] = []
        if callable(config.acquisition):
            self.acquisition = config.acquisition
        else:
            self.acquisition = partial(ACQUISITIONS[config.acquisition], rng=self.acquisition_rng, beta=config.beta)

    def tell(self, proposal: Cell | Query, validation_accuracy: float) -> None:
        super().tell(proposal, validation_accuracy)
        self.evaluated = CellBatch.concat([self.evaluated, CellBatch.from_cells([as_query(proposal).cell])])

    def candidates(self) -> CellBatch:
        """This round's pool: new mutations of the best cells (plus random cells), deduplicated."""
        c = self.config.pool
        seen = self.taken(self.config.dedup)
        parts: list[CellBatch] = []
        taken: set = set()
        size = 0

        def add(batch: CellBatch, index: Iterable[int], keys: list) -> None:
            nonlocal size
            keep = []
            for i in index:
                if keys[i] not in seen and keys[i] not in taken:
                    taken.add(keys[i])
                    keep.append(i)
            parts.append(batch.take(keep))
            size += len(keep)

        parents = np.argsort(-np.asarray(self.observed.values), kind="stable")[: c.num_parents]
        form = self.evaluated.take(parents)
        children = mutate_raw(
            form.edges,
            form.labels,
            self.pool_rng,
            c.mutations_per_parent,
            edge_probability=c.mutation.edge_probability_value,
            op_probability=c.mutation.op_probability_value,
        )
        keys = children.keys(self.config.dedup).tolist()
        for p in range(len(parents)):
            if c.min_candidates is not None and size >= c.min_candidates:
                break
            block = range(p * c.mutations_per_parent, (p + 1) * c.mutations_per_parent)
            add(children, [i for i in block], keys)
        if c.num_random:
            randoms = CellBatch.from_cells([random_cell(self.pool_rng) for _ in range(c.num_random)])
            add(randoms, range(len(randoms)), randoms.keys(self.config.dedup).tolist())
        pool = CellBatch.concat(parts)
        if len(pool) == 0:
            pool = CellBatch.from_cells([unseen_random_cell(self.pool_rng, seen, self.config.dedup)])
        if c.subsample is not None:
            pool = pool.take(self.pool_rng.integers(0, len(pool), c.subsample))
        return pool

    def ask_steps(self) -> Generator[FitPredict, tuple[np.ndarray, np.ndarray], Cell]:
        """`ask` as a generator that yields its model fit (see `nasbench_sim.search.base`).

        Cells in flight (simulated parallel workers) are excluded like evaluated ones: never
        queued twice, never in the pool; the model is fitted on the results back so far.
        """
        seen = self.taken(self.config.dedup)
        while self.queue:  # a queued candidate may have become a duplicate since
            cell = self.queue.pop(0)
            if self.key(cell) not in seen:
                return cell
        if len(self.observed) < self.config.num_init:
            return unseen_random_cell(self.pool_rng, seen, self.config.dedup)
        pool = self.candidates()
        y = to_target(self.observed.values)
        name = self.config.encoding
        prediction = yield FitPredict(self.model, self.evaluated.encode(name), y, pool.encode(name))
        mean, std = _mean_std(prediction, len(pool), self.model)
        score = np.asarray(self.acquisition(mean, std, float(y.max())), dtype=np.float64)
        if score.shape != mean.shape or not np.isfinite(score).all():
            raise ConfigError(
                f"the acquisition {self.config.acquisition!r:.60} must return {mean.shape[0]} finite scores,"
                f" got shape {score.shape}"
            )
        keys = pool.keys(self.config.dedup)
        chosen: list[int] = []
        for i in np.argsort(-score, kind="stable").tolist():
            if keys[i] not in {keys[j] for j in chosen}:  # a subsampled pool can hold a cell twice
                chosen.append(i)
            if len(chosen) == self.config.batch_size:
                break
        self.queue = [pool.cell(i) for i in chosen]
        return self.queue.pop(0)

    def ask(self) -> Cell:
        return drive(self.ask_steps())


@dataclass(frozen=True, kw_only=True)
class BananasConfig(ModelSearchConfig):
    """BANANAS (White et al. 2021) as in naszilla: truncated path encoding, MLP ensemble, ITS.

    Attributes:
        model: the ensemble's settings.
    """

    model: EnsembleConfig = field(default_factory=EnsembleConfig)


class Bananas(PoolSearcher):
    config: BananasConfig

    def __init__(self, config: BananasConfig, rng: np.random.Generator, *, device: str = "auto") -> None:
        super().__init__(config, rng, device=device)
        self.model = MLPEnsemble(config.model, self.model_rng, device=device)


@dataclass(frozen=True, kw_only=True)
class GPBOConfig(ModelSearchConfig):
    """naszilla's GP-BO: a distance-kernel GP on the raw categorical encoding, UCB (beta 0.5).

    One cell per round; the pool is 95 mutations of each of the 5 best cells,
    from which 200 are drawn with replacement and scored.

    Attributes:
        model: the GP's fixed hyper-parameters.
    """

    batch_size: int = 1
    encoding: str = "raw_categorical"
    acquisition: str = "ucb"
    beta: float = 0.5
    pool: PoolConfig = PoolConfig(mutations_per_parent=95, min_candidates=None, subsample=200)
    model: DistanceGPConfig = field(default_factory=DistanceGPConfig)


class GPBO(PoolSearcher):
    config: GPBOConfig

    def __init__(self, config: GPBOConfig, rng: np.random.Generator, *, device: str = "auto") -> None:
        super().__init__(config, rng, device=device)
        self.model = DistanceGP(config.model, self.model_rng, device=device)


@dataclass(frozen=True, kw_only=True)
class NPNASConfig(ModelSearchConfig):
    """NP-NAS: an ensemble of attentive Neural Processes with UCB acquisition.

    The pool, cadence and batch size are BANANAS' (10 initial cells, 10 per
    round, naszilla mutations of the best cells), so comparisons with it isolate
    the model and the acquisition. The encoding (BANANAS' truncated path
    encoding) was chosen among 6 variants on tuning seeds 1000-1029, with the
    same tuning budget as BANANAS (`benchmarks/tuning.py`, `docs/tuning.json`).

    Attributes:
        model: the Neural Process settings.
    """

    encoding: str = "truncated_path"
    acquisition: str = "ucb"
    beta: float = 1.0
    model: NeuralProcessConfig = field(default_factory=NeuralProcessConfig)


class NPNAS(PoolSearcher):
    config: NPNASConfig

    def __init__(self, config: NPNASConfig, rng: np.random.Generator, *, device: str = "auto") -> None:
        super().__init__(config, rng, device=device)
        self.model = NeuralProcess(config.model, self.model_rng, device=device)
