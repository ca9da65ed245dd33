"""Train an NB101 network on image data, with live evaluation logged to TensorBoard.

Every epoch logs train/validation loss and accuracy, the learning rate,
per-class validation accuracy and a confusion-matrix image; the run ends with
an HParams entry (regime, architecture, sizes) and its final metrics so runs
can be compared side by side in TensorBoard.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.activesel.data import load_digits_data
    >>> from nasbench_sim.activesel.train import TrainConfig, train
    >>> from nasbench_sim.space import Cell
    >>> cell = Cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    >>> data = load_digits_data()
    >>> result = train(cell, data, np.arange(200), TrainConfig(epochs=1), seed=0)  # doctest: +SKIP
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from nasbench_sim._nn import resolve_device, seeded
from nasbench_sim.activesel.data import ImageData, Split
from nasbench_sim.space.cell import Cell
from nasbench_sim.space.network import NB101Network


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """Identical for every regime and architecture of a study.

    Attributes:
        epochs: passes over the (sub)set.
        batch_size: samples per step.
        lr: peak Adam learning rate, cosine-decayed to 0 over training.
        weight_decay: AdamW weight decay.
        stem_channels, num_stacks, cells_per_stack: size of the NB101 network.
        bn_momentum: batch-norm momentum (PyTorch convention; the official 0.003
            leaves running statistics near their init after a few epochs).
        device: 'auto' (CUDA when available), 'cpu' or 'cuda'.
        eval_batch_size: samples per evaluation batch.
    """

    epochs: int = 3
    batch_size: int = 64
    lr: float = 5e-3
    weight_decay: float = 1e-4
    stem_channels: int = 16
    num_stacks: int = 3
    cells_per_stack: int = 1
    bn_momentum: float = 0.1
    device: str = "auto"
    eval_batch_size: int = 1000


@dataclass
class TrainResult:
    """Final accuracies in [0, 1], seconds spent, per-epoch history, and the trained model."""

    validation_accuracy: float
    test_accuracy: float
    train_seconds: float
    history: list[dict[str, float]] = field(default_factory=list)
    model: nn.Module | None = None


def build_network(cell: Cell, data: ImageData, config: TrainConfig) -> NB101Network:
    return NB101Network(
        cell,
        in_channels=data.train.x.shape[1],
        num_classes=data.num_classes,
        stem_channels=config.stem_channels,
        num_stacks=config.num_stacks,
        cells_per_stack=config.cells_per_stack,
        bn_momentum=config.bn_momentum,
    )


def predict_proba(model: nn.Module, split: Split, device: torch.device, batch: int = 1000) -> np.ndarray:
    """(N, K) softmax probabilities."""
    model.eval()
    out = []
    with torch.no_grad():
        for s in range(0, len(split), batch):
            x = torch.from_numpy(split.x[s : s + batch]).to(device)
            out.append(torch.softmax(model(x), dim=1).double().cpu().numpy())
    return np.concatenate(out)


def _confusion_figure(confusion: np.ndarray, title: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 4))
    ax.imshow(confusion, cmap="Blues")
    ax.set(xlabel="predicted", ylabel="true", title=title)
    k = confusion.shape[0]
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    return fig


def train(
    cell: Cell,
    data: ImageData,
    train_idx: np.ndarray,
    config: TrainConfig,
    *,
    seed: int,
    log_dir: str | Path | None = None,
    hparams: dict[str, Any] | None = None,
    keep_model: bool = False,
) -> TrainResult:
    """Train on `data.train[train_idx]`, evaluating on validation each epoch and on test at the end.

    Args:
        cell: the architecture.
        data: the splits.
        train_idx: (M,) training indices (the regime's subset).
        config: training settings.
        seed: seeds initialisation and batch order (torch generators, no global state).
        log_dir: TensorBoard run folder (None: no logging).
        hparams: HParams to record with the final metrics.
        keep_model: return the trained model (for scoring).
    """
    device = resolve_device(config.device)
    seeds = np.random.SeedSequence(seed).generate_state(2)
    model = seeded(int(seeds[0]), lambda: build_network(cell, data, config).to(device))
    generator = torch.Generator().manual_seed(int(seeds[1]))
    x_train = torch.from_numpy(data.train.x[train_idx])
    y_train = torch.from_numpy(data.train.y[train_idx])
    steps_per_epoch = max(1, math.ceil(len(train_idx) / config.batch_size))
    total = config.epochs * steps_per_epoch
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: 0.5 * (1 + math.cos(math.pi * step / total)))
    writer = None
    if log_dir is not None:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(str(log_dir))
    history = []
    start = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        model.train()
        order = torch.randperm(len(train_idx), generator=generator)
        loss_sum, correct = 0.0, 0
        lr = optimiser.param_groups[0]["lr"]
        for s in range(0, len(order), config.batch_size):
            idx = order[s : s + config.batch_size]
            x, y = x_train[idx].to(device), y_train[idx].to(device)
            logits = model(x)
            loss = nn.functional.cross_entropy(logits, y)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            loss_sum += float(loss.detach()) * len(idx)
            correct += int((logits.argmax(1) == y).sum())
        probs = predict_proba(model, data.validation, device, config.eval_batch_size)
        pred = probs.argmax(1)
        val_loss = float(-np.log(np.clip(probs[np.arange(len(pred)), data.validation.y], 1e-12, None)).mean())
        record = {
            "epoch": epoch,
            "train_loss": loss_sum / len(train_idx),
            "train_accuracy": correct / len(train_idx),
            "validation_loss": val_loss,
            "validation_accuracy": float((pred == data.validation.y).mean()),
            "learning_rate": lr,
            "seconds": time.perf_counter() - start,
        }
        history.append(record)
        if writer is not None:
            writer.add_scalar("loss/train", record["train_loss"], epoch)
            writer.add_scalar("loss/validation", record["validation_loss"], epoch)
            writer.add_scalar("accuracy/train", record["train_accuracy"], epoch)
            writer.add_scalar("accuracy/validation", record["validation_accuracy"], epoch)
            writer.add_scalar("learning_rate", lr, epoch)
            k = data.num_classes
            confusion = np.zeros((k, k), dtype=np.int64)
            np.add.at(confusion, (data.validation.y, pred), 1)
            for c in range(k):
                writer.add_scalar(f"class_accuracy/{c}", confusion[c, c] / max(confusion[c].sum(), 1), epoch)
            writer.add_figure("confusion_matrix/validation", _confusion_figure(confusion, f"epoch {epoch}"), epoch)
    train_seconds = time.perf_counter() - start
    test_pred = predict_proba(model, data.test, device, config.eval_batch_size).argmax(1)
    result = TrainResult(
        validation_accuracy=history[-1]["validation_accuracy"],
        test_accuracy=float((test_pred == data.test.y).mean()),
        train_seconds=train_seconds,
        history=history,
        model=model if keep_model else None,
    )
    if writer is not None:
        metrics = {
            "hparam/validation_accuracy": result.validation_accuracy,
            "hparam/test_accuracy": result.test_accuracy,
        }
        writer.add_hparams(dict(hparams or {}), metrics, run_name=".")
        writer.close()
    return result


def log_informative_samples(
    log_dir: str | Path, split: Split, indices: np.ndarray, scores: np.ndarray, count: int = 16
) -> None:
    """Image grid of the most informative samples, titled with label and score."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from torch.utils.tensorboard import SummaryWriter

    count = min(count, len(indices))
    cols = 4
    rows = math.ceil(count / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.6, rows * 1.8))
    for ax in np.atleast_1d(axes).ravel():
        ax.axis("off")
    for k, ax in enumerate(np.atleast_1d(axes).ravel()[:count]):
        i = indices[k]
        ax.imshow(split.x[i, 0], cmap="gray")
        ax.set_title(f"y={split.y[i]} s={scores[k]:.2f}", fontsize=7)
    with SummaryWriter(str(log_dir)) as writer:
        writer.add_figure("most_informative_samples", fig, 0)
