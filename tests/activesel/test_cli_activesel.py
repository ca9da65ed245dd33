"""The activesel CLI: clear errors, honest --help, the dashboard command, and the benchmark script."""

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import pytest

from nasbench_sim.activesel import StudyConfig
from nasbench_sim.cli import build_parser, main
from nasbench_sim.cli.activesel import study_config_from_args

from .conftest import TINY_ARGS

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("flag", ["--batch-size", "--validation-size", "--test-size", "--stem-channels"])
def test_zero_sizes_are_one_clear_error_and_leave_no_folder(flag, tmp_path, capsys):
    # A zero size is refused before anything is trained or any folder is created.
    out = tmp_path / "study"
    assert main(["activesel", "study", "--data", "digits", flag, "0", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("nasbench-sim: error:") and "\n" not in err and flag[2:].replace("-", "_") in err
    assert not out.exists()


def test_cuda_without_cuda_is_one_line(tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert main(["activesel", "study", "--data", "digits", "--device", "cuda", "--out", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err.strip()
    assert "torch.cuda.is_available() is False" in err and "\n" not in err and not (tmp_path / "s").exists()


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices[name]


def test_help_states_every_default_and_renders_percent_signs(capsys):
    study = _subparser(_subparser(build_parser(), "activesel"), "study")
    for action in study._actions:
        if action.option_strings and action.dest != "help":
            assert "(default: " in action.help, action.option_strings[0]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["activesel", "study", "--help"])
    text = capsys.readouterr().out
    # argparse %-formats argument help but not a description: '%%' must appear in neither output.
    assert "%%" not in text and "(25% parts)" in text
    from nasbench_sim.activesel.selection import REGIMES

    assert all(f"  {regime.name:<16} {regime.description}" in text for regime in REGIMES.values())  # from REGIMES
    flat = " ".join(text.split())
    d = StudyConfig()
    assert f"cells added to the known ones (default: {d.random_cells})" in flat
    assert f"samples per SGD step (default: {d.training.batch_size})" in flat


def test_dashboard_help_and_command_use_this_interpreter(tiny_study, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["activesel", "dashboard", "--help"])
    text = capsys.readouterr().out
    assert "study folder (default: results/activesel)" in text and "(default: 6006)" in text
    _, out = tiny_study
    assert main(["activesel", "dashboard", str(out), "--dry-run", "--port", "6123"]) == 0
    printed = capsys.readouterr().out
    assert "http://localhost:6123/" in printed and f"{sys.executable} -m tensorboard.main --logdir" in printed


def test_dashboard_without_logs_is_a_clear_error(tmp_path, capsys):
    assert main(["activesel", "dashboard", str(tmp_path), "--dry-run"]) == 2
    assert "no TensorBoard logs" in capsys.readouterr().err


def test_small_preset_fills_only_unset_flags():
    args = build_parser().parse_args(["activesel", "study", "--small", "--train-size", "5000"])
    config = study_config_from_args(args)
    assert config.train_size == 5000 and config.validation_size == 500 and config.selection.reference_models == 2
    assert config.known_cells == ("resnet-like", "vgg-like") and config.random_cells == 1
    assert config.control_cells == 1 and config.seeds == StudyConfig().seeds


def test_benchmark_script_resumes_the_study_and_prints_json(tiny_study, tmp_path, capsys):
    # Same configuration as the tiny study -> the benchmark only rebuilds the report (no training).
    _, out = tiny_study
    spec = importlib.util.spec_from_file_location("activesel_benchmark", ROOT / "benchmarks" / "activesel.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    stamp = max(p.stat().st_mtime_ns for p in (out / "runs").rglob("*.json"))
    assert module.main([*TINY_ARGS, "--work", str(out), "--out", str(tmp_path / "docs"), "--quiet"]) == 0
    captured = capsys.readouterr()
    printed = json.loads(captured.out)
    assert captured.err.strip().splitlines()[-1] == printed["answer"]  # the verdict line comes last
    assert max(p.stat().st_mtime_ns for p in (out / "runs").rglob("*.json")) == stamp
    written = json.loads((tmp_path / "docs" / "summary.json").read_text())
    assert written["machine"]["cpus"] and printed["known_cells"] == written["known_cells"]
    assert "cells" not in printed["budgets"][0] and "cells" in written["budgets"][0]
    for name in ("accuracy.png", "ranking.png", "learning_curves.png", "picked_samples.png", "report.html"):
        assert (tmp_path / "docs" / name).exists(), name
