"""The answer, verdicts and JSON summary on hand-made run tables with known answers."""

import json
import re

import pandas as pd
import pytest

from nasbench_sim.activesel.config import StudyConfig
from nasbench_sim.activesel.stats import analyse
from nasbench_sim.activesel.summary import answer, ranking_matches_full, summary, verdict

from .conftest import FULL, REFS, hand_runs

CONFIG = StudyConfig(
    known_cells=("resnet-like",), random_cells=3, seeds=2, regimes=("full", "active", "random"), control_epochs=0
)
CLOSE = [[a - 0.001 for a in s] for s in FULL]  # -0.1 points everywhere, same order: equivalent, ranks like full
REVERSED = [[0.96, 0.97, 0.98, 0.99], [0.959, 0.971, 0.979, 0.991]]  # reversed order: mean gap 0, spread ±3 points


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", text.strip()) if s]


def test_summary_is_valid_json_without_nan_and_the_verdict_has_units():
    runs = hand_runs({"full": FULL, "active": CLOSE})
    analyses = analyse(runs, REFS, CONFIG)
    text = json.dumps(summary(analyses, CONFIG, runs, REFS), allow_nan=False)
    assert "NaN" not in text
    sentence = verdict(analyses[0], "active")
    assert "equivalent to full data within ±0.5 points" in sentence and "x amortised over 150 queries" in sentence


def test_answer_is_one_sentence_computed_from_the_results():
    good = answer(analyse(hand_runs({"full": FULL, "active": CLOSE}), REFS, CONFIG))
    bad = answer(analyse(hand_runs({"full": FULL, "active": REVERSED}), REFS, CONFIG))
    for text in (good, bad):
        assert len(_sentences(text)) == 1 and text.endswith(".") and "nan" not in text.lower(), text
        assert "active subset (50 of 100 images)" in text and "ranks 4 cells" in text
    assert "as well as an independent full-data run" in good and "its test accuracy is equivalent" in good
    assert "mean gap -0.10 points" in good and " and its test accuracy" in good
    assert "worse than an independent full-data run" in bad and "Kendall tau -1.00" in bad
    assert "is not shown equivalent" in bad and "mean gap +0.00 points" in bad


def test_answer_names_the_control_budget_and_a_study_without_active():
    config = StudyConfig(
        known_cells=("resnet-like",),
        random_cells=3,
        seeds=2,
        regimes=("full", "random"),
        control_regimes=("full", "random"),
        control_cells=2,
    )
    runs = hand_runs({"full": FULL, "random": CLOSE})
    control = runs[runs["cell_index"] < 2].assign(epochs=2)
    text = answer(analyse(pd.concat([runs, control], ignore_index=True), REFS, config))
    assert text.startswith("Training on the random subset") and "; with 2 epochs (2 cells)" in text
    assert len(_sentences(text)) == 1
    only_full = StudyConfig(known_cells=("resnet-like",), random_cells=3, regimes=("full",), control_epochs=0)
    assert "full data only" in answer(analyse(hand_runs({"full": FULL}), REFS, only_full))


@pytest.mark.parametrize(
    "tau, ceiling, sd, expected",
    [(0.86, 0.87, 0.02, True), (0.90, 0.87, 0.02, True), (0.80, 0.87, 0.02, False), (0.86, 0.87, float("nan"), False)],
)
def test_ranking_matches_full_within_the_ceiling_sd(tau, ceiling, sd, expected):
    assert ranking_matches_full(tau, ceiling, sd) is expected
