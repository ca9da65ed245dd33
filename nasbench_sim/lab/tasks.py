"""The lab's tasks: one estimator on one candidate and seed, a trained parent, a seed's supernet.

Every training task of a candidate starts from the initialisation and batch
order of the study's runs of that candidate and seed (`activesel.study.run_seed`),
so an estimator and the full-data reference differ only in what the estimator
changes. A task returns its record; a record's rows are (estimator label,
score, SGD steps, seconds) where seconds are what a search pays per query (SGD
and the evaluations the estimator needs; the final test evaluation is not
counted) and `fixed_steps`/`fixed_seconds` what it pays once per search (the
supernet).

Example:
    >>> from nasbench_sim.lab.config import LabConfig
    >>> from nasbench_sim.lab.tasks import lab_tasks
    >>> [t.kind for t in lab_tasks(LabConfig(estimators=("inherit",)), phase=1)][:2]
    ['parent', 'parent']
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_sim._io import atomic_write_json
from nasbench_sim._nn import resolve_device
from nasbench_sim.activesel.config import candidate_cells
from nasbench_sim.activesel.data import ImageData, Split
from nasbench_sim.activesel.layout import read_record
from nasbench_sim.activesel.study import cached_data, run_seed, seed_int, set_threads
from nasbench_sim.activesel.train import steps_per_epoch, train
from nasbench_sim.errors import ConfigError
from nasbench_sim.lab.config import SECOND_PHASE, LabConfig
from nasbench_sim.lab.curves import extrapolate
from nasbench_sim.lab.layout import LabLayout

#: SeedSequence tags of the lab's own streams (fixed so results stay reproducible).
_PARENT_STREAM, _SUPERNET_STREAM, _PROXY_STREAM, _PARENT_CHOICE = 11, 12, 13, 14


@dataclass(frozen=True)
class LabTask:
    """`kind` (an estimator, 'parent' or 'supernet') at `seed` for candidate `cell_index` (-1: none)."""

    config: LabConfig
    kind: str
    seed: int
    cell_index: int = -1

    @property
    def cell_name(self) -> str:
        return candidate_cells(self.config.study)[self.cell_index][0]

    @property
    def record(self) -> Path:
        layout = LabLayout(self.config.out)
        if self.kind == "supernet":
            return layout.supernet(self.seed).with_suffix(".json")
        if self.kind == "parent":
            return layout.parent(seed=self.seed, cell_index=self.cell_index, cell=self.cell_name).with_suffix(".json")
        return layout.run(self.kind, seed=self.seed, cell_index=self.cell_index, cell=self.cell_name)


def lab_tasks(config: LabConfig, *, phase: int) -> list[LabTask]:
    """Phase 1: every estimator that needs nothing else, the parents and the supernets; phase 2: the rest."""
    cells, seeds = range(config.study.num_cells), range(config.study.seeds)
    kinds = [k for k in config.estimators if (k in SECOND_PHASE) == (phase == 2) and k != "curve"]
    if phase == 1:
        kinds = [k for k in kinds if k != "early-stop"]
        if "early-stop" in config.estimators or "curve" in config.estimators:
            kinds.append("early-stop")  # one early-stopped run serves both
        if "inherit" in config.estimators:
            kinds.insert(0, "parent")
    tasks = [LabTask(config, k, s, c) for k in kinds for s in seeds for c in cells]
    if phase == 1 and "one-shot" in config.estimators:
        tasks = [LabTask(config, "supernet", s) for s in seeds] + tasks
    return tasks


def is_done(task: LabTask) -> bool:
    """True if the task's record reads back (a damaged one is moved aside and the task redone)."""
    return read_record(task.record) is not None


def write_record(task: LabTask, record: dict[str, Any]) -> None:
    atomic_write_json(task.record, record)


def check_resolution(data: ImageData, side: int) -> int:
    """The pooling factor that takes `data`'s images to `side` x `side`.

    Raises:
        ConfigError: `side` does not divide the images' side, or is not smaller.
    """
    full = data.train.x.shape[-1]
    if full % side or side >= full:
        raise ConfigError(f"resolution {side} must be a divisor of the images' side {full} below it")
    return full // side


def downsampled(data: ImageData, side: int) -> ImageData:
    """Every split average-pooled to `side` x `side` (`check_resolution`)."""
    k = check_resolution(data, side)

    def pool(split: Split) -> Split:
        n, c = split.x.shape[:2]
        return Split(split.x.reshape(n, c, side, k, side, k).mean(axis=(3, 5)).astype(np.float32), split.y)

    return ImageData(pool(data.train), pool(data.validation), pool(data.test), f"{data.name}@{side}", data.source)


def parent_cell(config: LabConfig, cell_index: int):
    """The parent of candidate `cell_index`: a one-edit neighbour, the same at every seed."""
    from nasbench_sim.lab.inherit import parent_of

    cell = candidate_cells(config.study)[cell_index][1]
    return parent_of(cell, np.random.default_rng([config.study.cell_seed, _PARENT_CHOICE, cell_index]))


def _row(label: str, score: float, steps: int, seconds: float, **fixed: float) -> dict[str, Any]:
    return {"estimator": label, "score": float(score), "steps": int(steps), "seconds": float(seconds)} | {
        "fixed_steps": int(fixed.get("fixed_steps", 0)),
        "fixed_seconds": float(fixed.get("fixed_seconds", 0.0)),
    }


def run_task(task: LabTask) -> dict[str, Any]:
    """Run one task in this process; returns its record (weights are written beside it first)."""
    config = task.config
    set_threads(config.study)
    data = cached_data(config.study)
    training = config.study.training
    everything = np.arange(len(data.train))
    per_epoch = steps_per_epoch(len(everything), training.batch_size)
    base = {"kind": task.kind, "seed": task.seed, "cell_index": task.cell_index}
    if task.kind == "supernet":
        return base | _supernet(task, data)
    name, cell = candidate_cells(config.study)[task.cell_index]
    base |= {"cell": name, "cell_hash": cell.hash}
    seed = run_seed(task.seed, task.cell_index)
    fraction_steps = max(1, round(config.fraction * per_epoch))
    if task.kind == "parent":
        return base | _parent(task, data)
    if task.kind in ("epoch-fraction", "stem", "stacks", "resolution"):
        settings, images, steps = training, data, None
        if task.kind == "epoch-fraction":
            steps = fraction_steps
        elif task.kind == "stem":
            settings = replace(training, stem_channels=config.stem_channels)
        elif task.kind == "stacks":
            settings = replace(training, num_stacks=config.num_stacks)
        else:
            images = downsampled(data, config.resolution)
        result = train(cell, images, everything, settings, seed=seed, max_steps=steps)
        cost = result.train_seconds + result.validation_seconds
        return base | {"rows": [_row(task.kind, result.validation_accuracy, result.steps, cost)]}
    if task.kind == "early-stop":
        return base | _early_stop(task, data, cell, seed)
    if task.kind == "inherit":
        return base | _inherit(task, data, cell, seed, fraction_steps)
    if task.kind == "one-shot":
        return base | _one_shot(task, data, cell)
    if task.kind == "zero-cost":
        return base | _zero_cost(task, data, cell, seed)
    raise ConfigError(f"unknown lab task {task.kind!r}")


def _early_stop(task: LabTask, data: ImageData, cell, seed: int) -> dict[str, Any]:
    config, training = task.config, task.config.study.training
    per_epoch = steps_per_epoch(len(data.train), training.batch_size)
    total = training.epochs * per_epoch
    stop = max(1, round(config.early_fraction * total))
    evals = max(1, math.ceil(config.curve_points * per_epoch / stop))  # curve_points points within the first `stop`
    result = train(
        cell, data, np.arange(len(data.train)), replace(training, evals_per_epoch=evals), seed=seed, stop_after=stop
    )
    t = np.array([p["epochs"] for p in result.curve])
    y = np.array([p["validation_accuracy"] for p in result.curve])
    fit = extrapolate(t, y, at=float(training.epochs))
    early = result.train_seconds + result.validation_seconds
    return {
        "rows": [
            _row("early-stop", result.validation_accuracy, result.steps, early),
            _row("curve", fit.prediction, result.steps, early + result.curve_seconds),
        ],
        "curve": result.curve,
        "fit": {"c": fit.c, "a": fit.a, "alpha": fit.alpha, "fitted": fit.fitted},
    }


def _parent(task: LabTask, data: ImageData) -> dict[str, Any]:
    from nasbench_sim.lab.inherit import save_state

    config = task.config
    parent = parent_cell(config, task.cell_index)
    seed = seed_int(task.seed, _PARENT_STREAM, task.cell_index)
    result = train(parent, data, np.arange(len(data.train)), config.study.training, seed=seed, keep_model=True)
    save_state(result.model, task.record.with_suffix(".npz"))
    return {
        "parent_hash": parent.hash,
        "parent_matrix": parent.matrix.tolist(),
        "parent_ops": list(parent.ops),
        "validation_accuracy": result.validation_accuracy,
        "steps": result.steps,
        "seconds": result.train_seconds + result.validation_seconds,
    }


def _inherit(task: LabTask, data: ImageData, cell, seed: int, steps: int) -> dict[str, Any]:
    from nasbench_sim.lab.inherit import inherit, load_state

    parent_task = LabTask(task.config, "parent", task.seed, task.cell_index)
    state = load_state(parent_task.record.with_suffix(".npz"))
    share: list[float] = []
    result = train(
        cell,
        data,
        np.arange(len(data.train)),
        task.config.study.training,
        seed=seed,
        max_steps=steps,
        initialise=lambda model: share.append(inherit(model, state)),
    )
    parent = json.loads(parent_task.record.read_text())
    cost = result.train_seconds + result.validation_seconds
    return {
        "rows": [_row("inherit", result.validation_accuracy, result.steps, cost)],
        "inherited_share": share[0],
        "parent_hash": parent["parent_hash"],
        "parent_validation_accuracy": parent["validation_accuracy"],
    }


def _supernet(task: LabTask, data: ImageData) -> dict[str, Any]:
    from nasbench_sim.lab.inherit import save_state
    from nasbench_sim.lab.supernet import train_supernet

    config = task.config
    seed = seed_int(task.seed, _SUPERNET_STREAM)
    device = resolve_device(config.study.training.device)
    trained = train_supernet(data, config.study.training, epochs=config.supernet_epochs, seed=seed, device=device)
    save_state(trained.model, task.record.with_suffix(".npz"))
    return {"steps": trained.steps, "seconds": trained.train_seconds}


def _one_shot(task: LabTask, data: ImageData, cell) -> dict[str, Any]:
    import torch

    from nasbench_sim.lab.inherit import load_state
    from nasbench_sim.lab.supernet import build_supernet, score

    supernet = LabTask(task.config, "supernet", task.seed)
    record = json.loads(supernet.record.read_text())
    model = build_supernet(data, task.config.study.training)
    state = load_state(supernet.record.with_suffix(".npz"))
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    device = resolve_device(task.config.study.training.device)
    start = time.perf_counter()
    value = score(model.to(device), cell, data.validation, device, task.config.study.training.eval_batch_size)
    seconds = time.perf_counter() - start
    fixed = {"fixed_steps": record["steps"], "fixed_seconds": record["seconds"]}
    return {"rows": [_row("one-shot", value, 0, seconds, **fixed)]}


def _zero_cost(task: LabTask, data: ImageData, cell, seed: int) -> dict[str, Any]:
    from nasbench_sim.estimators.zero_cost import PROXIES, score_batch

    config, training = task.config, task.config.study.training
    rng = np.random.default_rng([task.seed, _PROXY_STREAM])  # one batch per seed, the same for every cell
    pick = rng.choice(len(data.train), size=min(config.proxy_batch, len(data.train)), replace=False)
    start = time.perf_counter()
    scores = score_batch(
        cell,
        data.train.x[pick],
        data.train.y[pick],
        seed=seed,
        device=str(resolve_device(training.device)),
        in_channels=data.train.x.shape[1],
        stem_channels=training.stem_channels,
        num_stacks=training.num_stacks,
        cells_per_stack=training.cells_per_stack,
        bn_momentum=training.bn_momentum,
    )
    seconds = time.perf_counter() - start  # all proxies come from one pass: each is charged the whole pass
    return {"rows": [_row(f"zero-cost: {p}", scores[p], 0, seconds) for p in PROXIES]}
