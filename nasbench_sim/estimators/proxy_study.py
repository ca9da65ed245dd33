"""Data-free proxies over a seeded sample of NB101 (or the whole space), resumable, and their rank correlations.

Cells are scored in chunks (`chunk` cells each, in order), each chunk on a
worker process with its own random stream (`SeedSequence(seed).spawn`), and
written as `chunk_NNNNN.npy` ((proxies, cells) float64) beside `setup.json`:
an interrupted study resumes at the first missing chunk, and the scores do not
depend on the number of workers.

Example:
    >>> import tempfile
    >>> import numpy as np
    >>> from nasbench_sim.estimators.proxy_study import sample_rows, score_sample
    >>> from nasbench_sim.space.cellspace import CACHE_NAME, CellSpace
    >>> space = CellSpace.load_or_build(progress=False)
    >>> rows = sample_rows(len(space), 4, seed=0)
    >>> scores = score_sample(space, rows, ["params", "flops"], 0, tempfile.mkdtemp(), chunk=2, progress=False)
    >>> scores["params"].shape
    (4,)
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_sim._io import atomic_write_bytes, atomic_write_json, data_dir
from nasbench_sim._runner import run_tasks
from nasbench_sim.errors import ConfigError, DataFormatError
from nasbench_sim.space.cellspace import CACHE_NAME, CellSpace

#: Version of the proxies' definitions in `data_free`: chunks scored under another one are not reused.
DEFINITION = 1
#: Published Spearman correlations with NB101's test accuracy over all cells (Abdelfattah et al., ICLR 2021,
#: their repository's NB101 notebook); only synflow needs no data among them.
PUBLISHED_SPEARMAN = {
    "synflow": 0.372,
    "grasp": 0.448,
    "jacob_cov": 0.378,
    "fisher": 0.257,
    "grad_norm": 0.198,
    "snip": 0.164,
}


def sample_rows(total: int, cells: int | None, seed: int) -> np.ndarray:
    """`cells` distinct rows of a `total`-cell space drawn uniformly without replacement (None: every row).

    Raises:
        ConfigError: more cells than the space holds, or fewer than 2.
    """
    if cells is None:
        return np.arange(total)
    if not 2 <= cells <= total:
        raise ConfigError(f"the sample must hold 2 to {total} cells, got {cells}")
    return np.sort(np.random.default_rng(seed).choice(total, size=cells, replace=False))


@dataclass(frozen=True)
class _Chunk:
    index: int
    rows: tuple[int, ...]
    proxies: tuple[str, ...]
    seed: Any  # numpy SeedSequence of this chunk
    space_folder: str
    device: str
    network: tuple[tuple[str, int], ...]


_SPACE: dict[str, CellSpace] = {}


def _score_chunk(chunk: _Chunk) -> np.ndarray:
    import torch

    from nasbench_sim.estimators.data_free import score_cells

    torch.set_num_threads(1)
    if chunk.space_folder not in _SPACE:
        _SPACE[chunk.space_folder] = CellSpace.load(chunk.space_folder)
    space = _SPACE[chunk.space_folder]
    cells = [space.cell(r) for r in chunk.rows]
    scores = score_cells(
        cells, chunk.proxies, np.random.default_rng(chunk.seed), device=chunk.device, **dict(chunk.network)
    )
    return np.stack([scores[p] for p in chunk.proxies])


def score_sample(
    space: CellSpace,
    rows: np.ndarray,
    proxies: Sequence[str],
    seed: int,
    folder: str | os.PathLike,
    *,
    chunk: int = 50,
    workers: int = 1,
    device: str = "cpu",
    progress: bool = True,
    **network: int,
) -> dict[str, np.ndarray]:
    """Score `rows` of `space` with every proxy, resuming from the chunks already in `folder`.

    Args:
        space: the cell space; workers load the saved one from the data folder's cache, so it must be that
            one (`CellSpace.load_or_build()`): checked by its size.
        rows: (N,) rows to score.
        proxies: names from `data_free.PROXIES`.
        seed: the study's seed (chunk k draws from `SeedSequence(seed).spawn(chunks)[k]`).
        folder: where the chunks and `setup.json` go.
        chunk: cells per chunk.
        workers: local processes.
        device: torch device of synflow.
        progress: a progress bar over chunks.
        **network: `NB101Network` sizes (default: NB101's full size).

    Returns:
        proxy -> (N,) float64 scores, in the order of `rows`.

    Raises:
        ConfigError: `folder` holds a study with another setup (use another folder).
        DataFormatError: a chunk file that does not read back as its shape says.
    """
    from nasbench_sim.estimators.data_free import PROXIES

    unknown = [p for p in proxies if p not in PROXIES]
    if unknown:
        raise ConfigError(f"unknown proxy {unknown[0]!r} (choices: {', '.join(PROXIES)})")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rows = np.asarray(rows, dtype=np.int64)
    if len(space) != len(CellSpace.load(data_dir() / CACHE_NAME)):
        raise ConfigError("score_sample needs the saved cell space (CellSpace.load_or_build())")
    setup = {
        "definition": DEFINITION,
        "rows_sha256": _digest(rows),
        "cells": len(rows),
        "proxies": list(proxies),
        "seed": seed,
        "chunk": chunk,
        "network": dict(sorted(network.items())),
    }
    setup_path = folder / "setup.json"
    if setup_path.exists():
        old = json.loads(setup_path.read_text())
        if old != setup:
            differs = next(k for k in setup if old.get(k) != setup[k])
            raise ConfigError(f"{folder} holds proxy scores with another {differs}; use another folder")
    else:
        atomic_write_json(setup_path, setup)
    starts = range(0, len(rows), chunk)
    seeds = np.random.SeedSequence(seed).spawn(len(starts))
    tasks = [
        _Chunk(
            k,
            tuple(rows[s : s + chunk].tolist()),
            tuple(proxies),
            seeds[k],
            str(data_dir() / CACHE_NAME),
            device,
            tuple(sorted(network.items())),
        )
        for k, s in enumerate(starts)
    ]

    def path(task: _Chunk) -> Path:
        return folder / f"chunk_{task.index:05d}.npy"

    def save(task: _Chunk, result: np.ndarray) -> None:
        import io

        buffer = io.BytesIO()
        np.save(buffer, result, allow_pickle=False)
        atomic_write_bytes(path(task), buffer.getvalue())

    run_tasks(
        tasks,
        _score_chunk,
        on_result=save,
        is_done=lambda t: path(t).exists(),
        workers=workers,
        progress=progress,
        desc="proxy chunks",
        unit="chunk",
    )
    parts = []
    for task in tasks:
        try:
            part = np.load(path(task), allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise DataFormatError(f"{path(task)}: unreadable chunk ({exc}); delete it to recompute it") from None
        if part.shape != (len(proxies), len(task.rows)) or part.dtype != np.float64:
            raise DataFormatError(
                f"{path(task)}: a chunk of shape {part.shape}, expected {(len(proxies), len(task.rows))}"
            )
        parts.append(part)
    scores = np.concatenate(parts, axis=1)
    return {p: scores[i] for i, p in enumerate(proxies)}


def _digest(rows: np.ndarray) -> str:
    import hashlib

    return hashlib.sha256(np.ascontiguousarray(rows, dtype="<i8").tobytes()).hexdigest()


def rank_correlations(
    scores: dict[str, np.ndarray], accuracy: np.ndarray, rng: np.random.Generator, *, resamples: int = 1000
) -> dict[str, dict[str, float]]:
    """Per proxy: Spearman and Kendall tau with `accuracy`, and a 95% bootstrap interval of Spearman over cells.

    Args:
        scores: proxy -> (N,) scores (higher predicted better).
        accuracy: (N,) accuracies of the same cells.
        rng: the bootstrap's stream.
    """
    from scipy import stats

    n = len(accuracy)
    picks = rng.integers(0, n, size=(resamples, n))
    out = {}
    for name, values in scores.items():
        rho = float(stats.spearmanr(values, accuracy).statistic)
        boot = [stats.spearmanr(values[p], accuracy[p]).statistic for p in picks]
        low, high = np.nanpercentile(boot, [2.5, 97.5])
        out[name] = {
            "spearman": round(rho, 4),
            "spearman_ci95": [round(float(low), 4), round(float(high), 4)],
            "kendall": round(float(stats.kendalltau(values, accuracy).statistic), 4),
        }
    return out
