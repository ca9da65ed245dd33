"""A tiny real study (scikit-learn digits, 2 cells, 2 seeds, every default regime), run once through the CLI."""

from __future__ import annotations

import pytest

#: The CI-size study: the same code path as the full MNIST study (CLI -> run_study -> report), in ~20 s.
TINY_ARGS = [
    "--data", "digits", "--known-cells", "resnet-like", "--random-cells", "1", "--seeds", "2",
    "--train-size", "300", "--validation-size", "100", "--test-size", "100", "--control-cells", "1",
    "--reference-models", "2", "--stem-channels", "8", "--batch-size", "8", "--device", "cpu",
]  # fmt: skip


def tiny_config(out):
    from nasbench_sim.cli import build_parser
    from nasbench_sim.cli.activesel import study_config_from_args

    args = build_parser().parse_args(["activesel", "study", *TINY_ARGS, "--out", str(out)])
    return study_config_from_args(args)


@pytest.fixture(scope="session")
def tiny_study(tmp_path_factory):
    """(config, study folder) of the tiny study, run with `nasbench-sim activesel study`."""
    from nasbench_sim.cli import main

    out = tmp_path_factory.mktemp("activesel") / "study"
    assert main(["activesel", "study", *TINY_ARGS, "--out", str(out), "--quiet"]) == 0
    return tiny_config(out), out
