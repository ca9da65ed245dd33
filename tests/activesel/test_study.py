"""A small real training study (CI size), read back with TensorBoard's own reader."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nasbench_sim.activesel import StudyConfig, TrainConfig, analyse, candidate_cells, run_study
from nasbench_sim.errors import ConfigError

from ..conftest import shared_file

EPOCHS = 3


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp("activesel") / "study"
    config = StudyConfig(
        data=str(shared_file("mnist", "mnist.pkl.gz")),
        archs=3,
        seeds=1,
        train_size=1500,
        validation_size=300,
        test_size=300,
        training=TrainConfig(epochs=EPOCHS, batch_size=32, stem_channels=8, device="cpu"),
        out=str(out),
    )
    run_study(config, progress=False)
    return config, out


def test_outputs_exist_and_cover_every_run(study):
    config, out = study
    results = pd.read_csv(out / "results.csv")
    assert len(results) == config.archs * config.seeds * len(config.regimes)
    assert set(results["regime"]) == {"full", "active", "random", "entropy"}
    sizes = results.groupby("regime")["subset_size"].first()
    assert sizes["full"] == 1500 and sizes["active"] == sizes["random"] == sizes["entropy"] == 750
    for name in (
        "report.html",
        "report.md",
        "ranking.csv",
        "time.csv",
        "scatter_full_vs_subset.png",
        "rank_correlation.png",
    ):
        assert (out / name).exists(), name
    assert results["test_accuracy"].between(0, 1).all()
    # Real learning happened: the best architecture on full data is well above chance.
    assert results.loc[results["regime"] == "full", "test_accuracy"].max() > 0.5


def test_tensorboard_events_have_the_expected_tags_and_steps(study):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    _, out = study
    run_dir = next((out / "tensorboard" / "seed0" / "active").iterdir())
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
        assert tag in tags["scalars"], tag
        assert [e.step for e in acc.Scalars(tag)] == list(range(1, EPOCHS + 1))
    assert "confusion_matrix/validation" in tags["images"]
    hparams_dirs = [p for p in run_dir.rglob("events.out.tfevents.*")]
    assert hparams_dirs  # add_hparams writes its own event file under the run
    informative = EventAccumulator(
        str(out / "tensorboard" / "seed0" / "informative-active"), size_guidance={"images": 0}
    ).Reload()
    assert "most_informative_samples" in informative.Tags()["images"]


def test_ranking_analysis_on_hand_made_results():
    # Two seeds, three archs: 'random' preserves the full ranking, 'active' reverses it.
    rows = []
    for seed in (0, 1):
        for k, acc in enumerate((0.9, 0.8, 0.7)):
            rows += [
                {
                    "seed": seed,
                    "arch": f"a{k}",
                    "regime": "full",
                    "test_accuracy": acc,
                    "train_seconds": 2.0,
                    "subset_size": 10,
                },
                {
                    "seed": seed,
                    "arch": f"a{k}",
                    "regime": "random",
                    "test_accuracy": acc - 0.1,
                    "train_seconds": 1.0,
                    "subset_size": 5,
                },
                {
                    "seed": seed,
                    "arch": f"a{k}",
                    "regime": "active",
                    "test_accuracy": 1.5 - acc,
                    "train_seconds": 1.0,
                    "subset_size": 5,
                },
            ]
    refs = pd.DataFrame(
        [
            {"seed": 0, "reference_seconds": 0.5, "scoring_seconds": 0.1},
            {"seed": 1, "reference_seconds": 0.5, "scoring_seconds": 0.1},
        ]
    )
    tables = analyse(pd.DataFrame(rows), refs)
    ranking = tables["ranking"].set_index("regime")
    assert ranking.loc["random", "kendall_tau"] == pytest.approx(1.0) and ranking.loc[
        "active", "kendall_tau"
    ] == pytest.approx(-1.0)
    assert ranking.loc["random", "top3_agreement"] == 1.0
    timing = tables["time"].set_index("regime")
    assert timing.loc["active", "total_seconds"] == pytest.approx(3.0 + 0.6)  # training + reference + scoring
    assert timing.loc["random", "speedup_vs_full"] == pytest.approx(2.0)
    acc = tables["accuracy"].set_index(["arch", "regime"])
    assert acc.loc[("a0", "random"), "gap_to_full_pct"] == pytest.approx(-10.0)


def test_resume_skips_finished_runs(study):
    config, out = study
    result = next((out / "runs").rglob("arch00.json"))
    stamp = result.stat().st_mtime_ns
    run_study(config, progress=False)
    assert result.stat().st_mtime_ns == stamp


def test_a_folder_with_another_configuration_is_refused(study):
    from dataclasses import replace

    config, _ = study
    with pytest.raises(ConfigError, match="another configuration"):
        run_study(replace(config, archs=4), progress=False)


def test_candidates_are_seeded_distinct_and_start_with_known_cells():
    cells = candidate_cells(8, seed=0)
    assert [n for n, _ in cells[:4]] == ["inception-like", "pool-only", "resnet-like", "conv1x1-only"]
    assert len({c.hash for _, c in cells}) == 8
    assert [c.hash for _, c in cells] == [c.hash for _, c in candidate_cells(8, seed=0)]


def test_bad_study_config():
    with pytest.raises(ConfigError, match="must include 'full'"):
        StudyConfig(regimes=("active",))
    with pytest.raises(ConfigError, match="unknown regime"):
        StudyConfig(regimes=("full", "magic"))


def test_dashboard_prints_the_url(study, capsys):
    from nasbench_sim.cli import main

    _, out = study
    assert main(["activesel", "dashboard", str(out), "--dry-run"]) == 0
    assert "http://localhost:6006/" in capsys.readouterr().out


@pytest.mark.slow
def test_larger_study_from_the_cli(tmp_path):
    """Slow: 4 architectures x 2 seeds on 3,000 MNIST images (run with `pytest -m slow`)."""
    from nasbench_sim.cli import main

    out = tmp_path / "s"
    assert main(["activesel", "study", "--archs", "4", "--seeds", "2", "--epochs", "2", "--train-size", "3000",
                 "--validation-size", "500", "--test-size", "1000", "--stem-channels", "8", "--device", "cpu",
                 "--out", str(out), "--quiet", "--data", str(shared_file("mnist", "mnist.pkl.gz"))]) == 0  # fmt: skip
    ranking = pd.read_csv(out / "ranking.csv")
    assert np.isfinite(ranking["kendall_tau"]).all()
    assert json.loads((out / "config.json").read_text())["data"]["sizes"] == [3000, 500, 1000]
    assert Path(out / "report.html").read_text().count("<table") == 3
