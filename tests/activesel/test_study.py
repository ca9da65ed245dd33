"""The study runner on the tiny digits study (see conftest.py): outputs, resume, subsets, TensorBoard."""

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from nasbench_sim.activesel import REGIMES, StudyConfig, TrainConfig, candidate_cells, load_results, run_study
from nasbench_sim.activesel.layout import load_losses
from nasbench_sim.activesel.study import load_study_data, study_tasks
from nasbench_sim.errors import ConfigError


def test_every_run_is_recorded_with_its_losses(tiny_study):
    config, out = tiny_study
    runs, references = load_results(out)
    main = runs[runs["epochs"] == 1]
    assert len(main) == config.num_cells * config.seeds * len(config.regimes)
    control = runs[runs["epochs"] == 2]
    assert len(control) == config.control_cells * config.seeds * len(config.control_regimes)
    assert len(references) == config.seeds * config.selection.reference_models
    for _, record in runs.iterrows():
        losses = load_losses(out, record)
        assert losses.shape == (record["steps"],) and np.isfinite(losses).all()
        # TSE = sum over epochs of the epoch's mean minibatch loss (catches a sum/mean mix-up)
        per_epoch = -(-record["subset_size"] // 8)
        assert record["tse"] == pytest.approx(losses.sum() / per_epoch, rel=1e-5)
        assert len(record["class_test_accuracy"]) == 10
    assert runs["test_accuracy"].between(0, 1).all()
    # Real learning happened: full-data training beats chance (10%) clearly.
    assert runs.loc[runs["regime"] == "full", "test_accuracy"].max() > 0.3


def test_subset_sizes_and_sgd_steps_per_regime(tiny_study):
    _, out = tiny_study
    runs, _ = load_results(out)
    first = runs[(runs["epochs"] == 1) & (runs["seed"] == 0)].groupby("regime").first()
    assert first.loc["full", "subset_size"] == 300 and first.loc["full", "steps"] == 38  # ceil(300 / 8)
    for regime in ("active", "random", "el2n", "entropy-hist"):
        assert first.loc[regime, "subset_size"] == 150 and first.loc[regime, "steps"] == 19
    assert first.loc["random-part", "subset_size"] == 75 and first.loc["random-part", "steps"] == 10
    # The compute-matched control sees the whole pool but only as many steps as active.
    assert first.loc["compute-matched", "subset_size"] == 300 and first.loc["compute-matched", "steps"] == 19
    assert first.loc["compute-matched", "samples_seen"] == 19 * 8 and first.loc["full", "samples_seen"] == 300
    control = runs[(runs["epochs"] == 2) & (runs["seed"] == 0)].groupby("regime").first()
    assert control.loc["full", "steps"] == 76 and control.loc["active", "steps"] == 38


def test_subsets_share_the_random_part_and_differ_in_the_added_part(tiny_study):
    config, out = tiny_study
    folder = out / "subsets" / "seed0"
    base = np.load(folder / "random-part.npy")
    subsets = {r: np.load(folder / f"{r}.npy") for r in config.regimes}
    for regime in ("active", "random", "el2n", "entropy-hist"):
        s = subsets[regime]
        assert np.all(np.diff(s) > 0) and np.isin(base, s).all(), regime  # sorted, unique, contain the base
    assert not np.array_equal(subsets["active"], subsets["random"])
    # Active adds the remaining samples the first reference model finds hardest (largest L1 error).
    rest = np.setdiff1d(np.arange(300), base)
    probs = np.load(out / "references" / "seed0" / "ref0.probs.npy")
    labels = load_study_data(config).train.y
    l1 = 2 * (1 - probs[np.arange(len(rest)), labels[rest]])
    added = np.load(folder / "active.added.npy")
    assert l1[np.searchsorted(rest, added)].min() >= np.sort(l1)[-len(added)] - 1e-6
    # Seeds draw different random parts.
    assert not np.array_equal(base, np.load(out / "subsets" / "seed1" / "random-part.npy"))


def test_a_cell_keeps_its_initialisation_across_regimes(tiny_study):
    # Paired design: same cell and seed -> same first minibatch loss only if init and data order match;
    # full and compute-matched share both (same pool, same seed), so their first losses are equal.
    _, out = tiny_study
    runs, _ = load_results(out)
    row = runs[(runs["seed"] == 0) & (runs["cell_index"] == 0) & (runs["epochs"] == 1)].set_index("regime")
    first = {r: load_losses(out, row.loc[r].to_dict() | {"regime": r})[0] for r in ("full", "compute-matched")}
    assert first["full"] == pytest.approx(first["compute-matched"], rel=1e-6)


def test_resume_reruns_only_missing_runs(tiny_study):
    config, out = tiny_study
    results = sorted((out / "runs").rglob("*.json"))
    stamps = {p: p.stat().st_mtime_ns for p in results}
    missing = results[3]
    before = json.loads(missing.read_text())
    missing.unlink()
    run_study(config, progress=False)
    assert all(p.stat().st_mtime_ns == stamps[p] for p in results if p != missing)
    after = json.loads(missing.read_text())
    # Same seed, same process kind: the rerun reproduces the lost run exactly.
    assert after["test_accuracy"] == before["test_accuracy"] and after["tse"] == before["tse"]


def test_a_folder_with_another_configuration_is_refused(tiny_study):
    config, _ = tiny_study
    with pytest.raises(ConfigError, match="another configuration"):
        run_study(replace(config, random_cells=2), progress=False)
    # workers is not part of the identity: resuming with more workers is allowed.
    assert replace(config, workers=2).identity() == config.identity()


def test_tensorboard_events_have_the_expected_tags(tiny_study):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    _, out = tiny_study
    run_dir = out / "tensorboard" / "seed0" / "e2" / "full" / "00-resnet-like"
    acc = EventAccumulator(str(run_dir), size_guidance={"images": 0, "scalars": 0}).Reload()
    tags = acc.Tags()
    for tag in (
        "loss/train",
        "loss/validation",
        "accuracy/train",
        "accuracy/validation",
        "learning_rate",
        "class_accuracy/0",
    ):
        assert [e.step for e in acc.Scalars(tag)] == [1, 2], tag
    assert [e.step for e in acc.Scalars("loss/train_step")] == [50]  # log_every = 50; 38 steps x 2 epochs
    assert "confusion_matrix/validation" in tags["images"]


def test_workers_give_the_same_results_as_one_process(tmp_path):
    # Spawned workers must reproduce the in-process runs exactly (seeds travel with the task, not global state).
    base = StudyConfig(
        data="digits",
        known_cells=("resnet-like", "pool-only"),
        random_cells=0,
        seeds=1,
        regimes=("full", "random"),
        train_size=120,
        validation_size=60,
        test_size=60,
        control_epochs=0,
        training=TrainConfig(stem_channels=4, batch_size=16, device="cpu"),
        out=str(tmp_path / "one"),
    )
    run_study(base, progress=False, report=False)
    run_study(replace(base, workers=2, out=str(tmp_path / "two")), progress=False, report=False)
    one, _ = load_results(tmp_path / "one")
    two, _ = load_results(tmp_path / "two")
    cols = ["cell", "regime", "validation_accuracy", "test_accuracy", "tse", "steps"]
    pd.testing.assert_frame_equal(one[cols], two[cols])


def test_cuda_without_cuda_is_one_config_error_before_any_file(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    config = StudyConfig(data="digits", training=TrainConfig(device="cuda"), out=str(tmp_path / "s"))
    with pytest.raises(ConfigError, match=r"torch.cuda.is_available\(\) is False") as info:
        run_study(config, progress=False)
    assert "\n" not in str(info.value)
    assert not (tmp_path / "s").exists()


def test_study_tasks_cover_main_runs_and_the_control():
    config = StudyConfig(random_cells=2, seeds=2, control_cells=2)
    tasks = study_tasks(config)
    assert len(tasks) == 6 * 2 * len(config.regimes) + 2 * 2 * 3
    assert {t.regime for t in tasks} == set(config.regimes) <= set(REGIMES)
    names = [n for n, _ in candidate_cells(config)]
    assert {t.cell_name for t in tasks if t.epochs == 2} == set(names[:2])


@pytest.mark.slow
def test_small_study_on_real_mnist(tmp_path):
    """Slow (about 2.5 min on 2 cores): the `--small` preset on real MNIST, from the CLI (`pytest -m slow`)."""
    from nasbench_sim.cli import main

    from ..conftest import shared_file

    out = tmp_path / "s"
    mnist = str(shared_file("mnist", "mnist.pkl.gz"))
    assert (
        main(["activesel", "study", "--small", "--data", mnist, "--device", "cpu", "--out", str(out), "--quiet"]) == 0
    )
    runs, references = load_results(out)
    summary = json.loads((out / "summary.json").read_text())
    assert len(runs) == 3 * 2 * 7 + 1 * 2 * 3 and len(references) == 2 * 2
    # 3,000 images, one epoch (94 steps): the known cells reached about 89% in the measured run.
    assert summary["known_cells"]["mean_full_test_accuracy_pct"] > 80
    assert summary["budgets"][0]["ranking"][0]["cross_seed"]
