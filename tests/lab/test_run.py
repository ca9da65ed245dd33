import json

import pandas as pd
import pytest

from nasbench_sim.activesel.config import StudyConfig, TrainConfig
from nasbench_sim.cli import main
from nasbench_sim.errors import ConfigError
from nasbench_sim.lab.config import LabConfig
from nasbench_sim.lab.report import REFERENCE
from nasbench_sim.lab.run import run_lab


def _config(out, **lab):
    study = StudyConfig(
        data="digits",
        known_cells=("resnet-like",),
        random_cells=2,
        regimes=("full", "random"),
        control_epochs=0,
        training=TrainConfig(stem_channels=6, device="cpu"),
        out=str(out / "study"),
    )
    lab.setdefault("resolution", 4)
    return LabConfig(study=study, out=str(out), **lab)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    out = tmp_path_factory.mktemp("lab")
    config = _config(out)
    run_lab(config, progress=False)
    return config, out


def test_the_report_lists_every_estimator_with_tau_pick_and_cost(lab):
    _, out = lab
    table = pd.read_csv(out / "estimators.csv")
    labels = set(table["estimator"])
    expected = {REFERENCE, "data subset: random", "epoch-fraction", "stem", "stacks", "resolution", "early-stop"}
    expected |= {"curve", "inherit", "one-shot", "zero-cost: synflow", "zero-cost: naswot", "zero-cost: params"}
    assert expected <= labels
    assert table.iloc[0]["estimator"] == REFERENCE and table.iloc[0]["speedup_amortised"] == 1.0
    assert (table["cells"] == 3).all() and (table["seeds"] == 2).all()
    assert table["pick_full_pct"].between(0, 100).all()
    one_shot = table[table["estimator"] == "one-shot"].iloc[0]
    assert one_shot["fixed_steps_per_search"] > 0 and one_shot["steps_per_cell"] == 0
    assert (out / "tau_vs_cost.png").stat().st_size > 0
    text = (out / "report.md").read_text()
    assert text.splitlines()[0].startswith(tuple(labels)) and "ceiling" in text.splitlines()[0]


def test_inheritance_really_starts_from_the_parent(lab):
    _, out = lab
    records = [json.loads(p.read_text()) for p in (out / "runs" / "inherit").rglob("*.json")]
    assert len(records) == 6
    assert all(0 < r["inherited_share"] <= 1 for r in records)
    assert all(r["parent_hash"] != r["cell_hash"] for r in records)


def test_a_rerun_trains_nothing_and_writes_the_same_report(lab):
    config, out = lab
    before = {p: p.stat().st_mtime_ns for p in (out / "runs").rglob("*.json")}
    report = (out / "estimators.csv").read_text()
    run_lab(config, progress=False)
    assert {p: p.stat().st_mtime_ns for p in (out / "runs").rglob("*.json")} == before
    assert (out / "estimators.csv").read_text() == report


def test_a_folder_of_another_lab_is_refused_before_anything_is_written(lab):
    _, out = lab
    before = sorted(p for p in out.rglob("*"))
    with pytest.raises(ConfigError, match="another configuration"):
        run_lab(_config(out, fraction=0.5), progress=False)
    assert sorted(p for p in out.rglob("*")) == before


def test_a_resolution_that_does_not_divide_the_images_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="divisor"):
        run_lab(_config(tmp_path, resolution=3), progress=False)
    assert not (tmp_path / "config.json").exists()


def test_the_command_line_runs_a_lab_and_prints_its_answer(tmp_path, capsys):
    code = main(
        [
            "lab",
            "--data",
            "digits",
            "--known-cells",
            "resnet-like",
            "--random-cells",
            "2",
            "--stem-channels",
            "6",
            "--regimes",
            "full",
            "--estimators",
            "zero-cost,epoch-fraction",
            "--device",
            "cpu",
            "--quiet",
            "--out",
            str(tmp_path / "lab"),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "ceiling" in printed and "report.md" in printed
    assert (tmp_path / "lab" / "study" / "config.json").exists()
