"""Run the active-selection study: reference models, subsets and training runs, resumably.

For each seed:

1. a random part of the pool (25% by default) is drawn, `reference_models`
   reference networks (the reference cell, different initialisations) are
   trained on it, and they score the remaining samples;
2. every regime's training set is built from those scores
   (`selection.build_subsets`);
3. every candidate cell is trained under every regime with identical
   hyper-parameters; within a seed a cell keeps its initialisation and
   batch-order seed across regimes (a paired design), and every run is
   evaluated on validation (the score a search would see) and on test.

A control repeats the first `control_cells` candidates for `control_epochs` epochs under
`control_regimes`. Reference models and training runs are tasks of `nasbench_sim._runner.run_tasks`
(in this process or in spawned workers with one torch thread each); every result is written
atomically (where `layout.StudyLayout` says), so an interrupted study resumes where it stopped
(Ctrl-C raises `RunInterruptedError`). Every random number that decides a
subset or a batch comes from a CPU generator, so a seed gives the same random
parts and batch orders on any device (score-based parts follow the reference
models' outputs, which can differ in the last bits between devices).

Example:
    >>> from nasbench_sim.activesel import StudyConfig, TrainConfig, run_study
    >>> from nasbench_sim.activesel.study import study_tasks
    >>> tiny = StudyConfig(known_cells=("resnet-like",), random_cells=1, seeds=2, control_cells=1)
    >>> len(study_tasks(tiny))  # 2 cells x 2 seeds x 7 regimes, plus 1 cell x 2 seeds x 3 control regimes
    34
    >>> config = StudyConfig(data="digits", known_cells=("resnet-like",), random_cells=1, seeds=2,
    ...                      training=TrainConfig(stem_channels=4, device="cpu"), out="results/demo")
    >>> run_study(config)  # doctest: +SKIP
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_sim._io import atomic_write_bytes, atomic_write_json
from nasbench_sim._nn import resolve_device
from nasbench_sim._runner import run_tasks
from nasbench_sim.activesel.config import KNOWN_CELLS, StudyConfig, candidate_cells
from nasbench_sim.activesel.data import ImageData, load_dataset
from nasbench_sim.activesel.layout import StudyLayout, read_record
from nasbench_sim.activesel.report import write_report
from nasbench_sim.activesel.selection import REGIMES, build_subsets, random_part
from nasbench_sim.activesel.train import predict_proba, steps_per_epoch, train
from nasbench_sim.errors import ConfigError, DataFormatError

#: SeedSequence tags of the streams of a seed (kept fixed so results stay reproducible).
_SUBSET_STREAM, _REFERENCE_STREAM, _RUN_STREAM = 1, 2, 3


def load_study_data(config: StudyConfig) -> ImageData:
    """The study's splits, subsampled with a fixed seed when sizes are given."""
    data = load_dataset(config.data)
    return data.subsample(np.random.default_rng(12345), config.train_size, config.validation_size, config.test_size)


_DATA_CACHE: dict[str, ImageData] = {}


def _data_key(config: StudyConfig) -> str:
    return json.dumps([config.data, config.train_size, config.validation_size, config.test_size])


def cached_data(config: StudyConfig) -> ImageData:
    """Per-process cache: a worker loads the data once for all its tasks."""
    key = _data_key(config)
    if key not in _DATA_CACHE:
        _DATA_CACHE[key] = load_study_data(config)
    return _DATA_CACHE[key]


def set_threads(config: StudyConfig) -> None:
    """One torch thread per worker process when training on the CPU."""
    import torch

    if resolve_device(config.training.device).type == "cpu":
        torch.set_num_threads(1)


def seed_int(*key: int) -> int:
    """One 32-bit seed from a key of integers (`SeedSequence(key)`): each key its own stream."""
    return int(np.random.SeedSequence(list(key)).generate_state(1)[0])


def run_seed(seed: int, cell_index: int) -> int:
    """The initialisation and batch-order seed of candidate `cell_index` at `seed`, the same in every regime."""
    return seed_int(seed, _RUN_STREAM, cell_index)


@dataclass(frozen=True)
class ReferenceTask:
    """Reference model `index` of seed `seed`: trained on the random part, scores the rest."""

    config: StudyConfig
    seed: int
    index: int

    @property
    def stem(self) -> Path:
        return StudyLayout(self.config.out).reference(self.seed, self.index)


@dataclass(frozen=True)
class RunTask:
    """One candidate cell trained under one regime for `epochs` epochs."""

    config: StudyConfig
    seed: int
    cell_index: int
    cell_name: str
    regime: str
    epochs: int

    @property
    def where(self) -> dict[str, Any]:
        """The run's keys in `StudyLayout.run` and `StudyLayout.run_log`."""
        return {
            "seed": self.seed,
            "epochs": self.epochs,
            "regime": self.regime,
            "cell_index": self.cell_index,
            "cell": self.cell_name,
        }

    @property
    def stem(self) -> Path:
        return StudyLayout(self.config.out).run(**self.where)


def _save_npy(path: Path, array: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    atomic_write_bytes(path, buffer.getvalue())


def _run_reference(task: ReferenceTask) -> dict[str, Any]:
    set_threads(task.config)
    config = task.config
    data = cached_data(config)
    layout = StudyLayout(config.out)
    base = np.load(layout.subset(task.seed, "random-part"), allow_pickle=False)
    result = train(
        KNOWN_CELLS[config.reference_cell],
        data,
        base,
        config.training,
        seed=seed_int(task.seed, _REFERENCE_STREAM, task.index),
        keep_model=True,
        log_dir=layout.reference_log(task.seed, task.index),
        hparams={
            "regime": "reference",
            "arch": config.reference_cell,
            "seed": task.seed,
            "subset_size": int(base.size),
        },
    )
    start = time.perf_counter()
    rest = np.setdiff1d(np.arange(len(data.train)), base)
    device = resolve_device(config.training.device)
    probs = predict_proba(result.model, data.train.take(rest), device, config.training.eval_batch_size)
    record = {
        "seed": task.seed,
        "index": task.index,
        "cell": config.reference_cell,
        "subset_size": int(base.size),
        "steps": result.steps,
        "test_accuracy": result.test_accuracy,
        "validation_accuracy": result.validation_accuracy,
        "train_seconds": result.train_seconds,
        "validation_seconds": result.validation_seconds,
        "scoring_seconds": time.perf_counter() - start,
        "scored_samples": int(rest.size),
    }
    return {"record": record, "probs": probs.astype(np.float32)}


def _write_reference(task: ReferenceTask, result: dict[str, Any]) -> None:
    _save_npy(task.stem.with_suffix(".probs.npy"), result["probs"])
    atomic_write_json(task.stem.with_suffix(".json"), result["record"])  # written last: marks the task done


def _run_training(task: RunTask) -> dict[str, Any]:
    set_threads(task.config)
    config = task.config
    data = cached_data(config)
    name, cell = candidate_cells(config)[task.cell_index]
    layout = StudyLayout(config.out)
    indices = np.load(layout.subset(task.seed, task.regime), allow_pickle=False)
    training = replace(config.training, epochs=task.epochs)
    max_steps = None
    if REGIMES[task.regime].matched_steps:  # as many steps as a random part + added part subset
        n = len(data.train)
        size = config.selection.random_size(n) + config.selection.informative_size(n)
        max_steps = task.epochs * steps_per_epoch(size, training.batch_size)
    hparams = {
        "regime": task.regime,
        "arch": name,
        "seed": task.seed,
        "epochs": task.epochs,
        "subset_size": int(indices.size),
    }
    start = time.perf_counter()
    result = train(
        cell,
        data,
        indices,
        training,
        seed=run_seed(task.seed, task.cell_index),
        max_steps=max_steps,
        log_dir=layout.run_log(**task.where),
        hparams=hparams,
    )
    steps_per_full_epoch = steps_per_epoch(indices.size, training.batch_size)
    record = {
        "seed": task.seed,
        "cell_index": task.cell_index,
        "cell": name,
        "cell_hash": cell.hash,
        "known": task.cell_index < len(config.known_cells),
        "regime": task.regime,
        "epochs": task.epochs,
        "subset_size": int(indices.size),
        "steps": result.steps,
        "samples_seen": result.samples,
        "diverged": result.diverged,
        "validation_accuracy": result.validation_accuracy,
        "test_accuracy": result.test_accuracy,
        "class_test_accuracy": [float(v) for v in result.class_test_accuracy],
        # Training-speed estimate (Ru et al. 2021): the sum over epochs of the epoch's mean minibatch loss,
        # i.e. the sum of all minibatch losses / SGD steps of one full pass over the run's training set.
        "tse": float(result.step_losses.sum() / steps_per_full_epoch),
        "final_train_loss": result.history[-1]["train_loss"],
        "train_seconds": result.train_seconds,
        "validation_seconds": result.validation_seconds,
        "test_seconds": result.test_seconds,
        "wall_seconds": time.perf_counter() - start,
        "history": result.history,
        "validation_curve": result.curve,
    }
    return {"record": record, "losses": result.step_losses}


def _write_training(task: RunTask, result: dict[str, Any]) -> None:
    _save_npy(task.stem.with_suffix(".losses.npy"), result["losses"])
    atomic_write_json(task.stem.with_suffix(".json"), result["record"])  # written last: marks the task done


def _done(task: ReferenceTask | RunTask) -> bool:
    """True if the task's record reads back; a damaged one is moved aside (`.corrupt`) and the task redone."""
    return read_record(task.stem.with_suffix(".json")) is not None


def _needed_references(config: StudyConfig) -> int:
    needs = [REGIMES[r].references for r in config.regimes]
    if -1 in needs:
        return config.selection.reference_models
    return max(needs)


def _prepare_seed(config: StudyConfig, data: ImageData, seed: int) -> None:
    """The random part of a seed (drawn first: reference models train on it)."""
    path = StudyLayout(config.out).subset(seed, "random-part")
    if not path.exists():
        rng = np.random.default_rng(np.random.SeedSequence([seed, _SUBSET_STREAM]))
        _save_npy(path, random_part(len(data.train), config.selection, rng))


def _write_subsets(config: StudyConfig, data: ImageData, seed: int) -> dict[str, Any]:
    """Every regime's training set of a seed, from its reference models (cached)."""
    layout = StudyLayout(config.out)
    meta_file = layout.subsets_meta(seed)
    if meta_file.exists():
        return json.loads(meta_file.read_text())
    base = np.load(layout.subset(seed, "random-part"), allow_pickle=False)
    count = _needed_references(config)
    probs = None
    if count:
        probs = np.stack([np.load(layout.reference(seed, k).with_suffix(".probs.npy")) for k in range(count)]).astype(
            np.float64
        )
    rng = np.random.default_rng(np.random.SeedSequence([seed, _SUBSET_STREAM, 1]))
    subsets = build_subsets(config.regimes, data.train.y, base, probs, config.selection, rng)
    meta: dict[str, Any] = {"seed": seed, "regimes": {}}
    for name, subset in subsets.items():
        if name != "random-part":
            _save_npy(layout.subset(seed, name), subset.indices)
        _save_npy(layout.subset(seed, name, "added"), subset.added)
        _save_npy(layout.subset(seed, name, "added_scores"), subset.added_scores)
        meta["regimes"][name] = {
            "size": int(subset.indices.size),
            "class_counts": np.bincount(data.train.y[subset.indices], minlength=data.num_classes).tolist(),
        }
    atomic_write_json(meta_file, meta)
    return meta


def _describe(config: StudyConfig, data: ImageData) -> dict[str, Any]:
    sizes = {"train": len(data.train), "validation": len(data.validation), "test": len(data.test)}
    return {
        "config": config.identity(),
        "data": {"name": data.name, "source": data.source, "sizes": sizes},
        "candidates": [
            {"name": n, "hash": c.hash, "matrix": c.matrix.tolist(), "ops": list(c.ops)}
            for n, c in candidate_cells(config)
        ],
    }


def study_tasks(config: StudyConfig) -> list[RunTask]:
    """Every training run of the study: main runs seed by seed, then the control."""
    cells = candidate_cells(config)
    tasks = [
        RunTask(config, seed, i, name, regime, config.training.epochs)
        for seed in range(config.seeds)
        for i, (name, _) in enumerate(cells)
        for regime in config.regimes
    ]
    if config.has_control:
        tasks += [
            RunTask(config, seed, i, name, regime, config.control_epochs)
            for seed in range(config.seeds)
            for i, (name, _) in enumerate(cells[: config.control_cells])
            for regime in config.control_regimes
        ]
    return tasks


def run_study(config: StudyConfig, *, progress: bool = True, report: bool = True) -> Path:
    """Run (or resume) the study and write its report; returns the output folder.

    Args:
        config: the study.
        progress: show tqdm bars.
        report: write the report (`report.write_report`) at the end.

    Raises:
        ConfigError: CUDA asked for but absent, a pool too small for the fractions, or an output
            folder that holds a study with another configuration (then nothing is written).
        DataFormatError: the data cannot be found or read.
        RunInterruptedError: Ctrl-C; finished runs are kept and a rerun resumes.
    """
    resolve_device(config.training.device)
    data = load_study_data(config)
    if len(data.train) < 4:
        raise ConfigError(f"the training pool has {len(data.train)} images; need at least 4")
    _DATA_CACHE[_data_key(config)] = data
    layout = StudyLayout(config.out)
    description = _describe(config, data)
    previous = layout.config
    if previous.exists():
        try:
            earlier = json.loads(previous.read_text())
        except json.JSONDecodeError as exc:
            raise DataFormatError(f"{previous}: corrupt JSON ({exc})") from None
        if earlier.get("config") != description["config"]:
            raise ConfigError(
                f"{layout.root} holds a study with another configuration; use another output folder (or delete it)"
            )
    atomic_write_json(previous, description)

    for seed in range(config.seeds):
        _prepare_seed(config, data, seed)
    count = _needed_references(config)
    references = [ReferenceTask(config, seed, k) for seed in range(config.seeds) for k in range(count)]
    run_tasks(
        references,
        _run_reference,
        on_result=_write_reference,
        is_done=_done,
        workers=config.workers,
        progress=progress,
        desc="reference models",
        unit="model",
    )
    for seed in range(config.seeds):
        _write_subsets(config, data, seed)
    tasks = study_tasks(config)
    run_tasks(
        tasks,
        _run_training,
        on_result=_write_training,
        is_done=_done,
        workers=config.workers,
        progress=progress,
        desc="training runs",
        unit="run",
    )
    if report:
        write_report(layout.root, config, data=data)
    return layout.root
