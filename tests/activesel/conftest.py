"""A tiny real study (scikit-learn digits, 2 cells, 2 seeds, every default regime), run once through the CLI,
and hand-made run tables with known answers."""

from __future__ import annotations

import pandas as pd
import pytest

#: The CI-size study: the same code path as the full MNIST study (CLI -> run_study -> report), in ~20 s.
TINY_ARGS = (
    "--data digits --known-cells resnet-like --random-cells 1 --seeds 2 --train-size 300 --validation-size 100 "
    "--test-size 100 --control-cells 1 --reference-models 2 --stem-channels 8 --batch-size 8 --device cpu"
).split()

#: Full-data test accuracy of 4 hand-made cells at 2 seeds (seed -> cell).
FULL = [[0.99, 0.98, 0.97, 0.96], [0.991, 0.979, 0.971, 0.959]]

#: Two reference models per seed: 3 s training and 1 s scoring each.
REFS = pd.DataFrame(
    [
        {"seed": s, "index": k, "train_seconds": 3.0, "scoring_seconds": 1.0, "validation_seconds": 0.5}
        for s in (0, 1)
        for k in (0, 1)
    ]
)


def hand_runs(acc: dict[str, list[list[float]]], known: int = 1) -> pd.DataFrame:
    """acc[regime][seed][cell] -> run records with simple costs: full 10 s, others 4 s (+1 s validation)."""
    rows = []
    for regime, per_seed in acc.items():
        for seed, cells in enumerate(per_seed):
            for i, a in enumerate(cells):
                full = regime == "full"
                rows.append(
                    {
                        "seed": seed,
                        "cell_index": i,
                        "cell": f"c{i}",
                        "known": i < known,
                        "regime": regime,
                        "epochs": 1,
                        "subset_size": 100 if full else 50,
                        "steps": 10 if full else 5,
                        "validation_accuracy": a,
                        "test_accuracy": a,
                        "tse": 1.0 - a,
                        "class_test_accuracy": [a] * 10,
                        "train_seconds": 10.0 if full else 4.0,
                        "validation_seconds": 1.0,
                        "test_seconds": 1.0,
                        "wall_seconds": 12.0,
                    }
                )
    return pd.DataFrame(rows)


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
