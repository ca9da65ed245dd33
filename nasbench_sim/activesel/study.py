"""The active-selection study: does an informative subset rank architectures like full training?

For each seed: train a reference network on a random 25% of the training set,
score the remaining samples, and build the regimes (`selection.REGIMES`).
Then every candidate architecture is trained under every regime with the same
hyper-parameters and evaluated on validation and test. Each training run is
an independent task (local processes), written atomically as JSON, so an
interrupted study resumes. Results, plots, `report.md` and `report.html` go
to the output folder; TensorBoard event files to `<out>/tensorboard/`.

Example:
    >>> from nasbench_sim.activesel.study import StudyConfig, run_study
    >>> run_study(StudyConfig(data="digits", archs=3, seeds=1, out="results/activesel-demo"))  # doctest: +SKIP
"""

from __future__ import annotations

import html
import json
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from tqdm.auto import tqdm

from nasbench_sim._io import atomic_write_bytes, atomic_write_figure, atomic_write_json
from nasbench_sim._nn import resolve_device
from nasbench_sim.activesel.data import ImageData, load_dataset
from nasbench_sim.activesel.selection import (
    REGIMES,
    SelectionConfig,
    informative_subset,
    random_part,
    random_subset,
)
from nasbench_sim.activesel.train import TrainConfig, log_informative_samples, predict_proba, train
from nasbench_sim.errors import ConfigError
from nasbench_sim.space.cell import CONV1X1, CONV3X3, INPUT, MAXPOOL3X3, OUTPUT, Cell
from nasbench_sim.space.sampling import random_cell

#: Known-strong and known-weak cells that every candidate set starts with.
INCEPTION_LIKE = Cell(
    [[0, 1, 1, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1],
     [0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0]],
    [INPUT, CONV3X3, CONV1X1, MAXPOOL3X3, CONV3X3, CONV3X3, OUTPUT],
)  # fmt: skip
RESNET_LIKE = Cell([[0, 1, 0, 1], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]], [INPUT, CONV3X3, CONV3X3, OUTPUT])
POOL_ONLY = Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], [INPUT, MAXPOOL3X3, OUTPUT])
CONV1X1_ONLY = Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], [INPUT, CONV1X1, OUTPUT])
KNOWN_CELLS = [
    ("inception-like", INCEPTION_LIKE),
    ("pool-only", POOL_ONLY),
    ("resnet-like", RESNET_LIKE),
    ("conv1x1-only", CONV1X1_ONLY),
]


@dataclass(frozen=True, kw_only=True)
class StudyConfig:
    """A whole study.

    Attributes:
        data: 'mnist' (first available source), 'digits', or a path to MNIST.
        archs: candidate architectures (4 known ones, then seeded random cells).
        seeds: repetitions (each with its own reference model, subsets and inits).
        regimes: regimes to compare; must include 'full'.
        train_size, validation_size, test_size: subsample the splits (None: whole).
        selection: fractions of the subsets.
        training: hyper-parameters, identical for every run.
        reference_cell: architecture of the reference model ('resnet-like' by default).
        arch_seed: seed of the random candidate cells.
        workers: local processes for the training tasks.
        out: output folder.
    """

    data: str = "mnist"
    archs: int = 12
    seeds: int = 3
    regimes: tuple[str, ...] = ("full", "active", "random", "entropy")
    train_size: int | None = None
    validation_size: int | None = None
    test_size: int | None = None
    selection: SelectionConfig = field(default_factory=SelectionConfig)
    training: TrainConfig = field(default_factory=TrainConfig)
    reference_cell: str = "resnet-like"
    arch_seed: int = 0
    workers: int = 1
    out: str = "results/activesel"

    def __post_init__(self) -> None:
        unknown = [r for r in self.regimes if r not in REGIMES]
        if unknown:
            raise ConfigError(f"unknown regime(s) {unknown} (choices: {', '.join(REGIMES)})")
        if "full" not in self.regimes:
            raise ConfigError("regimes must include 'full' (the ranking every other regime is compared with)")
        if self.archs < 2 or self.seeds < 1:
            raise ConfigError("need archs >= 2 and seeds >= 1")
        if self.reference_cell not in dict(KNOWN_CELLS):
            raise ConfigError(
                f"unknown reference_cell {self.reference_cell!r} (choices: {', '.join(dict(KNOWN_CELLS))})"
            )


def candidate_cells(count: int, seed: int) -> list[tuple[str, Cell]]:
    """The known cells, then distinct seeded random NB101 cells, `count` in all."""
    cells = list(KNOWN_CELLS[:count])
    seen = {cell.hash for _, cell in cells}
    rng = np.random.default_rng(seed)
    while len(cells) < count:
        cell = random_cell(rng)
        if cell.hash not in seen:
            seen.add(cell.hash)
            cells.append((f"random-{len(cells) - len(KNOWN_CELLS) + 1}", cell))
    return cells


def _data(config: StudyConfig) -> ImageData:
    data = load_dataset(config.data)
    rng = np.random.default_rng(12345)
    return data.subsample(rng, config.train_size, config.validation_size, config.test_size)


@dataclass(frozen=True)
class _Task:
    config: StudyConfig
    seed: int
    arch_index: int
    regime: str
    indices_file: str
    result_file: str


def _run_task(task: _Task) -> dict[str, Any]:
    import torch

    if resolve_device(task.config.training.device).type == "cpu":
        torch.set_num_threads(1)
    data = _cached_data(task.config)
    name, cell = candidate_cells(task.config.archs, task.config.arch_seed)[task.arch_index]
    indices = np.load(task.indices_file, allow_pickle=False)
    log_dir = Path(task.config.out) / "tensorboard" / f"seed{task.seed}" / task.regime / f"{task.arch_index:02d}-{name}"
    hparams = {"regime": task.regime, "arch": name, "seed": task.seed, "subset_size": int(indices.size)}
    run_seed = int(np.random.SeedSequence([task.seed, task.arch_index]).generate_state(1)[0])
    result = train(cell, data, indices, task.config.training, seed=run_seed, log_dir=log_dir, hparams=hparams)
    record = {
        "seed": task.seed,
        "arch_index": task.arch_index,
        "arch": name,
        "arch_hash": cell.hash,
        "regime": task.regime,
        "subset_size": int(indices.size),
        "validation_accuracy": result.validation_accuracy,
        "test_accuracy": result.test_accuracy,
        "train_seconds": result.train_seconds,
    }
    atomic_write_json(task.result_file, record)
    return record


_DATA_CACHE: dict[str, ImageData] = {}


def _cached_data(config: StudyConfig) -> ImageData:
    key = json.dumps([config.data, config.train_size, config.validation_size, config.test_size])
    if key not in _DATA_CACHE:
        _DATA_CACHE[key] = _data(config)
    return _DATA_CACHE[key]


def _prepare_seed(config: StudyConfig, data: ImageData, seed: int, folder: Path) -> dict[str, Any]:
    """Reference model, scores and the subsets of one seed (cached on disk)."""
    meta_file = folder / "reference.json"
    if meta_file.exists():
        return json.loads(meta_file.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7]))
    n = len(data.train)
    base = random_part(n, config.selection, rng)
    np.save(folder / "full.npy", np.arange(n), allow_pickle=False)
    info: dict[str, Any] = {"seed": seed, "reference_seconds": 0.0, "scoring_seconds": 0.0}
    if any(REGIMES[r] for r in config.regimes):
        ref_cell = dict(KNOWN_CELLS)[config.reference_cell]
        ref = train(
            ref_cell, data, base, config.training, seed=seed, keep_model=True,
            log_dir=Path(config.out) / "tensorboard" / f"seed{seed}" / "reference",
            hparams={"regime": "reference", "arch": config.reference_cell, "seed": seed, "subset_size": int(base.size)},
        )  # fmt: skip
        info["reference_seconds"] = ref.train_seconds
        info["reference_test_accuracy"] = ref.test_accuracy
        start = time.perf_counter()
        rest = np.setdiff1d(np.arange(n), base)
        probs = predict_proba(ref.model, data.train.take(rest), resolve_device(config.training.device))
        info["scoring_seconds"] = time.perf_counter() - start
        for regime in config.regimes:
            if REGIMES[regime]:
                subset, chosen, scores = informative_subset(
                    base, probs, data.train.y[rest], rest, n, config.selection, REGIMES[regime]
                )
                np.save(folder / f"{regime}.npy", subset, allow_pickle=False)
                log_informative_samples(
                    Path(config.out) / "tensorboard" / f"seed{seed}" / f"informative-{regime}",
                    data.train,
                    chosen,
                    scores,
                )
    size = base.size + max(1, round(config.selection.informative_fraction * n))
    np.save(folder / "random.npy", random_subset(n, min(size, n), rng), allow_pickle=False)
    atomic_write_json(meta_file, info)
    return info


def run_study(config: StudyConfig, *, progress: bool = True) -> Path:
    """Run (or resume) the study and write results, plots and reports; returns the output folder."""
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    data = _cached_data(config)
    previous = out / "config.json"
    if previous.exists() and json.loads(previous.read_text()).get("config") != _jsonable(asdict(config)):
        raise ConfigError(f"{out} holds a study with another configuration; use another --out (or delete it)")
    atomic_write_json(
        out / "config.json",
        {"config": _jsonable(asdict(config)), "data": {"name": data.name, "source": data.source,
         "sizes": [len(data.train), len(data.validation), len(data.test)]},
         "candidates": [{"name": n, "hash": c.hash, "matrix": c.matrix.tolist(), "ops": list(c.ops)}
                        for n, c in candidate_cells(config.archs, config.arch_seed)]},
    )  # fmt: skip
    references = []
    tasks = []
    for seed in range(config.seeds):
        folder = out / "subsets" / f"seed{seed}"
        references.append(_prepare_seed(config, data, seed, folder))
        for regime in config.regimes:
            for arch in range(config.archs):
                result = out / "runs" / f"seed{seed}" / regime / f"arch{arch:02d}.json"
                tasks.append(_Task(config, seed, arch, regime, str(folder / f"{regime}.npy"), str(result)))
    todo = [t for t in tasks if not Path(t.result_file).exists()]
    bar = tqdm(total=len(tasks), initial=len(tasks) - len(todo), desc="training runs", unit="run", disable=not progress)
    if config.workers <= 1 or len(todo) <= 1:
        for task in todo:
            _run_task(task)
            bar.update(1)
    else:
        with ProcessPoolExecutor(max_workers=config.workers, mp_context=get_context("spawn")) as pool:
            for future in as_completed([pool.submit(_run_task, t) for t in todo]):
                future.result()
                bar.update(1)
    bar.close()
    results = pd.DataFrame([json.loads(Path(t.result_file).read_text()) for t in tasks])
    write_report(results, pd.DataFrame(references), config, out)
    return out


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj


def analyse(results: pd.DataFrame, references: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Tables of the study.

    Returns:
        accuracy: per arch and regime, mean/SE of test accuracy (%) and the gap to full;
        ranking: per regime, Kendall tau / Spearman with the full-data ranking and
            top-3 agreement, mean and SE over seeds;
        time: per regime, training seconds per seed (incl. reference model and
            scoring for score-based regimes), mean test accuracy, speed-up vs full.
    """
    res = results.assign(test_pct=100 * results["test_accuracy"])
    acc = res.groupby(["arch", "regime"], sort=False)["test_pct"].agg(["mean", "sem"]).reset_index()
    full = acc[acc["regime"] == "full"].set_index("arch")["mean"]
    acc["gap_to_full_pct"] = acc["mean"] - acc["arch"].map(full)
    acc = acc.rename(columns={"mean": "test_accuracy_pct", "sem": "se_pct"})

    rows = []
    for regime in res["regime"].unique():
        if regime == "full":
            continue
        taus, rhos, top3 = [], [], []
        for _, group in res.groupby("seed"):
            table = group.pivot(index="arch", columns="regime", values="test_accuracy")
            taus.append(stats.kendalltau(table[regime], table["full"]).statistic)
            rhos.append(stats.spearmanr(table[regime], table["full"]).statistic)
            k = min(3, len(table))
            top3.append(len(set(table[regime].nlargest(k).index) & set(table["full"].nlargest(k).index)) / k)
        rows.append({
            "regime": regime, "kendall_tau": np.mean(taus), "kendall_tau_se": _se(taus), "spearman": np.mean(rhos),
            "spearman_se": _se(rhos), "top3_agreement": np.mean(top3), "top3_agreement_se": _se(top3), "seeds": len(taus),
        })  # fmt: skip
    ranking = pd.DataFrame(rows)

    per_seed = res.groupby(["regime", "seed"], sort=False)["train_seconds"].sum().reset_index()
    extra = references.set_index("seed")[["reference_seconds", "scoring_seconds"]].sum(axis=1)
    per_seed["total_seconds"] = per_seed["train_seconds"] + np.where(
        per_seed["regime"].map(lambda r: REGIMES[r] is not None), per_seed["seed"].map(extra), 0.0
    )
    time_table = per_seed.groupby("regime", sort=False)[["train_seconds", "total_seconds"]].mean().reset_index()
    time_table["mean_test_accuracy_pct"] = time_table["regime"].map(res.groupby("regime")["test_pct"].mean())
    time_table["subset_size"] = time_table["regime"].map(res.groupby("regime")["subset_size"].mean())
    full_time = float(time_table.loc[time_table["regime"] == "full", "total_seconds"].iloc[0])
    time_table["speedup_vs_full"] = full_time / time_table["total_seconds"]
    return {"accuracy": acc, "ranking": ranking, "time": time_table}


def _se(values: list[float]) -> float:
    values = [v for v in values if np.isfinite(v)]
    return float(np.std(values, ddof=1) / np.sqrt(len(values))) if len(values) > 1 else float("nan")


def write_report(
    results: pd.DataFrame, references: pd.DataFrame, config: StudyConfig, out: Path
) -> dict[str, pd.DataFrame]:
    """CSV + Markdown + plots + a static HTML report."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tables = analyse(results, references)
    _write_text(out / "results.csv", results.to_csv(index=False))
    for name, table in tables.items():
        _write_text(out / f"{name}.csv", table.to_csv(index=False))
    regimes = [r for r in config.regimes if r != "full"]
    colors = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7"]
    res = results.assign(test_pct=100 * results["test_accuracy"])
    means = res.groupby(["arch", "regime"])["test_pct"].mean().unstack()

    fig, axes = plt.subplots(1, len(regimes), figsize=(4 * len(regimes), 4), squeeze=False)
    for ax, regime, color in zip(axes[0], regimes, colors, strict=False):
        ax.scatter(means["full"], means[regime], color=color)
        lo, hi = float(np.nanmin(means.values)), float(np.nanmax(means.values))
        ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="y = x")
        ax.set(xlabel="full-data test accuracy (%)", ylabel=f"{regime} test accuracy (%)", title=f"{regime} vs full")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    _save_fig(fig, out / "scatter_full_vs_subset.png")

    ranking = tables["ranking"]
    fig, ax = plt.subplots(figsize=(6, 4))
    x = np.arange(len(ranking))
    ax.bar(
        x - 0.2,
        ranking["kendall_tau"],
        0.4,
        yerr=ranking["kendall_tau_se"],
        label="Kendall tau",
        color=colors[0],
        capsize=3,
    )
    ax.bar(x + 0.2, ranking["spearman"], 0.4, yerr=ranking["spearman_se"], label="Spearman", color=colors[1], capsize=3)
    ax.set_xticks(x, ranking["regime"])
    ax.set(
        ylabel="rank correlation with full-data ranking",
        title="Architecture ranking vs full training (± SE over seeds)",
    )
    ax.axhline(0, color="k", lw=0.8)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    _save_fig(fig, out / "rank_correlation.png")

    timing = tables["time"]
    fig, ax = plt.subplots(figsize=(6, 4))
    for k, row in timing.iterrows():
        ax.scatter(
            row["total_seconds"],
            row["mean_test_accuracy_pct"],
            color=colors[k % len(colors)],
            s=50,
            label=row["regime"],
        )
    ax.set(xlabel="training seconds per seed (incl. reference model + scoring)", ylabel="mean test accuracy over archs (%)",
           title="Cost vs accuracy per regime")  # fmt: skip
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    _save_fig(fig, out / "time_vs_accuracy.png")

    md = [
        f"# Active-selection study ({config.data}, {config.archs} architectures x {config.seeds} seeds, {config.training.epochs} epochs)",
        "",
    ]
    for name, table in tables.items():
        md += [f"## {name}", "", table.to_markdown(index=False, floatfmt=".3f"), ""]
    _write_text(out / "report.md", "\n".join(md))
    body = [f"<h1>{html.escape(md[0][2:])}</h1>"]
    for name, table in tables.items():
        body += [f"<h2>{name}</h2>", table.to_html(index=False, float_format=lambda v: f"{v:.3f}")]
    for image in ("scatter_full_vs_subset.png", "rank_correlation.png", "time_vs_accuracy.png"):
        body.append(f'<p><img src="{image}" style="max-width:100%"></p>')
    page = "<!doctype html><meta charset='utf-8'><title>Active-selection study</title><body style='font-family:sans-serif'>"
    _write_text(out / "report.html", page + "\n".join(body) + "</body>")
    return tables


def _write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def _save_fig(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    atomic_write_figure(fig, path, dpi=130, bbox_inches="tight")
    plt.close(fig)
