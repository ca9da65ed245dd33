"""The report's figures: one list, each drawn for the tiny study, and a ranking axis zoomed to the data."""

import re

import numpy as np
import pandas as pd
import pytest

from nasbench_sim.activesel.config import StudyConfig
from nasbench_sim.activesel.figures import FIGURES, TAU_BOUND, TAU_ZOOM_NOTE, ranking_figure, tau_axis_limits
from nasbench_sim.activesel.stats import analyse

from .conftest import FULL, REFS, hand_runs


def test_the_report_shows_every_figure_of_the_list_in_its_order(tiny_study):
    _, out = tiny_study
    files = [f.file for f in FIGURES]
    assert len(set(files)) == len(files) and all(f.caption for f in FIGURES)
    page = (out / "report.html").read_text()
    assert re.findall(r'<img src="([^"]+)"', page) == files


def test_tau_axis_limits_cover_the_data_and_stay_just_past_minus_one_to_one():
    table = pd.DataFrame({"kendall_tau": [0.87, 0.82, np.nan], "kendall_tau_sd": [0.02, np.nan, np.nan]})
    low, high = tau_axis_limits(table)
    assert 0.7 < low < 0.82 and 0.89 < high < 1.0
    widest = (-TAU_BOUND, TAU_BOUND)
    assert tau_axis_limits(pd.DataFrame({"kendall_tau": [np.nan], "kendall_tau_sd": [np.nan]})) == widest
    assert tau_axis_limits(pd.DataFrame({"kendall_tau": [-0.99, 0.99], "kendall_tau_sd": [0.5, 0.5]})) == widest


def test_ranking_axis_is_zoomed_to_the_data_with_the_ceiling_marked():
    # The full-vs-full ceiling is 1.0 and one regime swaps two cells (tau 2/3): -1..1 would squash them together.
    swapped = [[s[1], s[0], s[2], s[3]] for s in FULL]
    config = StudyConfig(known_cells=("resnet-like",), random_cells=3, regimes=("full", "random"), control_epochs=0)
    analysis = analyse(hand_runs({"full": FULL, "random": swapped}), REFS, config)[0]
    fig = ranking_figure(analysis)
    ax = fig.axes[0]
    low, high = ax.get_ylim()
    assert 0.5 < low < 2 / 3 and 1.0 < high <= TAU_BOUND  # the -1..1 axis would squash the two regimes together
    assert TAU_ZOOM_NOTE in ax.get_ylabel()
    ceilings = [line for line in ax.get_lines() if line.get_label().startswith("ceiling")]
    assert len(ceilings) == 1 and ceilings[0].get_ydata()[0] == pytest.approx(1.0)
    import matplotlib.pyplot as plt

    plt.close(fig)
