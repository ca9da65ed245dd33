"""Train an NB101 network on image data, with live evaluation logged to TensorBoard.

Every `log_every` SGD steps the minibatch training loss is logged; every
epoch the train/validation loss and accuracy, the learning rate, per-class
validation accuracy and a confusion-matrix image; `evals_per_epoch` times per
epoch the validation loss and accuracy (`curve/...` against SGD steps, also in
the result's `curve`, so even a one-epoch run has a learning curve); the run ends with
an HParams entry (regime, architecture, sizes) and its final metrics so runs
can be compared side by side in TensorBoard.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.activesel.data import load_digits_data
    >>> from nasbench_sim.activesel.train import TrainConfig, train
    >>> from nasbench_sim.space import Cell
    >>> cell = Cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    >>> data = load_digits_data()
    >>> result = train(cell, data, np.arange(200), TrainConfig(stem_channels=4, device="cpu"), seed=0)
    >>> result.steps, result.step_losses.shape, 0 <= result.test_accuracy <= 1
    (7, (7,), True)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from nasbench_sim._nn import resolve_device, seeded
from nasbench_sim.activesel.config import TrainConfig
from nasbench_sim.activesel.data import ImageData, Split
from nasbench_sim.space.cell import Cell
from nasbench_sim.space.network import NB101Network


@dataclass
class TrainResult:
    """Outcome of one training run.

    Attributes:
        validation_accuracy, test_accuracy: final accuracies in [0, 1].
        class_test_accuracy: (K,) test accuracy per class in [0, 1].
        steps: SGD steps taken.
        samples: training samples processed (the sum of the minibatch sizes).
        step_losses: (steps,) float32 mean cross-entropy (nats) of each minibatch.
        train_seconds: wall seconds spent in SGD steps (no evaluation, no logging).
        validation_seconds: wall seconds spent evaluating on validation (every epoch end).
        curve_seconds: wall seconds of the extra validation points within epochs (`evals_per_epoch`).
        test_seconds: wall seconds of the final test evaluation.
        history: one record per epoch (losses in nats, accuracies in [0, 1], seconds).
        curve: the validation curve: one point per evaluation (`evals_per_epoch` per epoch, the last of
            each epoch at its end): steps, epochs (fractional), validation loss (nats) and accuracy.
        model: the trained model when asked for.
    """

    validation_accuracy: float
    test_accuracy: float
    class_test_accuracy: np.ndarray
    steps: int
    samples: int
    step_losses: np.ndarray
    train_seconds: float
    validation_seconds: float
    test_seconds: float
    curve_seconds: float = 0.0
    history: list[dict[str, float]] = field(default_factory=list)
    curve: list[dict[str, float]] = field(default_factory=list)
    model: nn.Module | None = None

    @property
    def diverged(self) -> bool:
        """True if some minibatch loss was not finite (the run failed; its accuracies mean nothing)."""
        return not bool(np.isfinite(self.step_losses).all())


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
    """(N, K) float64 softmax probabilities."""
    model.eval()
    out = []
    with torch.no_grad():
        for s in range(0, len(split), batch):
            x = torch.from_numpy(split.x[s : s + batch]).to(device)
            out.append(torch.softmax(model(x), dim=1).double().cpu().numpy())
    return np.concatenate(out)


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, classes: int) -> np.ndarray:
    """(K, K) counts: row = true class, column = predicted class."""
    confusion = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(confusion, (labels, predictions), 1)
    return confusion


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


def steps_per_epoch(samples: int, batch_size: int) -> int:
    """SGD steps of one pass over `samples` (the last batch may be smaller)."""
    return max(1, math.ceil(samples / batch_size))


def cosine_optimiser(
    parameters: Iterable[nn.Parameter], config: TrainConfig, total_steps: int
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    """AdamW at `config.lr` with `config.weight_decay`, and its cosine schedule to 0 over `total_steps` steps."""
    optimiser = torch.optim.AdamW(parameters, lr=config.lr, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: 0.5 * (1 + math.cos(math.pi * step / total_steps))
    )
    return optimiser, schedule


def train(
    cell: Cell,
    data: ImageData,
    train_idx: np.ndarray,
    config: TrainConfig,
    *,
    seed: int,
    max_steps: int | None = None,
    stop_after: int | None = None,
    initialise: Callable[[nn.Module], None] | None = None,
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
        seed: seeds initialisation and batch order (CPU generators, no global state), so a
            seed gives the same initial weights and batches on any device.
        max_steps: stop after this many SGD steps (the cosine schedule spans them; the last
            epoch is then partial); None: `config.epochs` whole epochs.
        stop_after: end the run after this many SGD steps of that schedule (its first part, as early
            stopping sees it; validation and test are then evaluated there); None: the whole schedule.
        initialise: called with the freshly initialised model before the first step (e.g. to load
            inherited weights).
        log_dir: TensorBoard run folder (None: no logging).
        hparams: HParams to record with the final metrics.
        keep_model: return the trained model (for scoring).
    """
    device = resolve_device(config.device)
    init_seed, order_seed = (int(s) for s in np.random.SeedSequence(seed).generate_state(2))
    model = seeded(init_seed, lambda: build_network(cell, data, config))
    if initialise is not None:
        initialise(model)
    model = model.to(device)
    generator = torch.Generator().manual_seed(order_seed)
    x_train = torch.from_numpy(data.train.x[train_idx])
    y_train = torch.from_numpy(data.train.y[train_idx])
    per_epoch = steps_per_epoch(len(train_idx), config.batch_size)
    total = config.epochs * per_epoch if max_steps is None else max(1, int(max_steps))
    stop = total if stop_after is None else min(total, max(1, int(stop_after)))
    optimiser, schedule = cosine_optimiser(model.parameters(), config, total)
    writer = None
    if log_dir is not None:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(str(log_dir))
    k = data.num_classes
    history: list[dict[str, float]] = []
    curve: list[dict[str, float]] = []
    evals = config.evals_per_epoch  # within an epoch: after these steps of it (the epoch's end comes on top)
    within = {math.floor(j * per_epoch / evals + 0.5) for j in range(1, evals)} - {0, per_epoch}

    def evaluate(epoch_steps: int, *, at_end: bool) -> tuple[np.ndarray, float, float]:
        """Validation probabilities, loss and accuracy now; a point of the curve (and TensorBoard's)."""
        nonlocal validation_seconds, curve_seconds
        start = time.perf_counter()
        probs = predict_proba(model, data.validation, device, config.eval_batch_size)
        if at_end:
            validation_seconds += time.perf_counter() - start
        else:  # the curve's extra points are not part of the estimator's cost
            curve_seconds += time.perf_counter() - start
        model.train()
        pred = probs.argmax(1)
        loss = float(-np.log(np.clip(probs[np.arange(len(pred)), data.validation.y], 1e-12, None)).mean())
        accuracy = float((pred == data.validation.y).mean())
        point = {"steps": step, "epochs": epoch - 1 + epoch_steps / per_epoch}
        curve.append(point | {"validation_loss": loss, "validation_accuracy": accuracy})
        if writer is not None:
            writer.add_scalar("curve/validation_accuracy", accuracy, step)
            writer.add_scalar("curve/validation_loss", loss, step)
        return probs, loss, accuracy

    step_losses = np.zeros(stop, dtype=np.float32)
    step = samples = 0
    train_seconds = validation_seconds = curve_seconds = 0.0
    for epoch in range(1, math.ceil(stop / per_epoch) + 1):
        model.train()
        start = time.perf_counter()
        order = torch.randperm(len(train_idx), generator=generator)
        loss_sum, correct, seen = 0.0, 0, 0
        lr = optimiser.param_groups[0]["lr"]
        for s in range(0, len(order), config.batch_size):
            if step == stop:
                break
            idx = order[s : s + config.batch_size]
            x, y = x_train[idx].to(device), y_train[idx].to(device)
            logits = model(x)
            loss = nn.functional.cross_entropy(logits, y)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            step_losses[step] = float(loss.detach())
            step += 1
            loss_sum += float(step_losses[step - 1]) * len(idx)
            correct += int((logits.argmax(1) == y).sum())
            seen += len(idx)
            samples += len(idx)
            if writer is not None and step % config.log_every == 0:
                writer.add_scalar("loss/train_step", float(step_losses[step - 1]), step)
            in_epoch = s // config.batch_size + 1
            if in_epoch in within and step < stop:
                train_seconds += time.perf_counter() - start
                evaluate(in_epoch, at_end=False)
                start = time.perf_counter()
        train_seconds += time.perf_counter() - start
        epoch_steps = step - (epoch - 1) * per_epoch
        probs, val_loss, val_accuracy = evaluate(epoch_steps, at_end=True)
        pred = probs.argmax(1)
        record = {
            "epoch": epoch,
            "steps": step,
            "train_loss": loss_sum / seen,
            "train_accuracy": correct / seen,
            "validation_loss": val_loss,
            "validation_accuracy": val_accuracy,
            "learning_rate": lr,
            "train_seconds": train_seconds,
        }
        history.append(record)
        if writer is not None:
            writer.add_scalar("loss/train", record["train_loss"], epoch)
            writer.add_scalar("loss/validation", record["validation_loss"], epoch)
            writer.add_scalar("accuracy/train", record["train_accuracy"], epoch)
            writer.add_scalar("accuracy/validation", record["validation_accuracy"], epoch)
            writer.add_scalar("learning_rate", lr, epoch)
            confusion = confusion_matrix(data.validation.y, pred, k)
            for c in range(k):
                writer.add_scalar(f"class_accuracy/{c}", confusion[c, c] / max(confusion[c].sum(), 1), epoch)
            writer.add_figure("confusion_matrix/validation", _confusion_figure(confusion, f"epoch {epoch}"), epoch)
    start = time.perf_counter()
    test_pred = predict_proba(model, data.test, device, config.eval_batch_size).argmax(1)
    test_seconds = time.perf_counter() - start
    confusion = confusion_matrix(data.test.y, test_pred, k)
    result = TrainResult(
        validation_accuracy=history[-1]["validation_accuracy"],
        test_accuracy=float((test_pred == data.test.y).mean()),
        class_test_accuracy=np.diag(confusion) / np.maximum(confusion.sum(axis=1), 1),
        steps=step,
        samples=samples,
        step_losses=step_losses,
        train_seconds=train_seconds,
        validation_seconds=validation_seconds,
        test_seconds=test_seconds,
        curve_seconds=curve_seconds,
        history=history,
        curve=curve,
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
