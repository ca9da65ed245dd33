import numpy as np
import pytest

from nasbench_sim.bench import Oracle, open_table, sources
from nasbench_sim.bench.repeat0_world import build_repeat0_table
from nasbench_sim.errors import ConfigError, MissingDataError
from nasbench_sim.harness.experiment import compare
from nasbench_sim.harness.plots import plot_experiment
from nasbench_sim.harness.run import Budget


@pytest.fixture(scope="module")
def world(space, tmp_path_factory):
    """A repeat-0 world from a made-up repeat-0 array (the real one in ../shared is not needed)."""
    folder = tmp_path_factory.mktemp("repeat0")
    values = np.random.default_rng(0).uniform(0.8, 0.95, len(space))
    np.save(folder / "repeat0.npy", values)
    table = build_repeat0_table(folder / "repeat0.npy", space)
    table.save(folder / "table")
    return folder / "table", values


def test_every_query_answers_the_real_value_as_signal_and_score(world, space):
    folder, values = world
    table = open_table(folder)
    oracle = Oracle(table, 0, space=space)
    for row in (0, 7, 423_623):
        result = oracle.query_row(row)
        assert result["validation_accuracy"] == result["test_accuracy"] == np.float32(values[row])
        assert np.isnan(result["training_time"]) and np.isnan(result["train_accuracy"])
    assert table.kind == "repeat0" and table.meta["modelled_fields"] == [] and "no validation split" in table.label
    with pytest.raises(MissingDataError):  # no halfway values in this world
        oracle.query_row(0, stop_halfway=True)


def test_compare_and_plot_run_on_it_and_say_what_it_is(world, tmp_path):
    folder, _ = world
    frame = compare("rs,re", "0-1", 12, table=folder, results=tmp_path, experiment="r0", progress=False)
    assert (frame["validation_accuracy"] == frame["test_accuracy"]).all()
    written = {p.name for p in plot_experiment(tmp_path / "r0")}
    assert "regret_vs_queries.png" in written and "regret_vs_time.png" not in written  # no clock in this world
    summary = (tmp_path / "r0" / "summary.md").read_text()
    assert "REAL repeat-0 world" in summary and "real repeat-0 test error of the incumbent" in summary


def test_a_time_budget_is_refused_rather_than_never_ending(world, tmp_path):
    # Catches --budget-seconds on a world without training times looping forever (NaN never reaches it).
    folder, _ = world
    with pytest.raises(ConfigError, match="has no training times: give a query budget"):
        compare("rs", "0", Budget(seconds=1e5), table=folder, results=tmp_path, progress=False)


def test_the_name_needs_the_real_array_and_says_how_to_give_it(monkeypatch):
    monkeypatch.setattr(sources, "repeat0_path", lambda: None)
    with pytest.raises(ConfigError, match="no real repeat-0 data configured"):
        open_table("repeat0", progress=False)


def test_multiobjective_runs_take_its_real_error_but_refuse_training_time(world, space):
    from nasbench_sim.multiobjective.run import Scoring

    folder, values = world
    table = open_table(folder)
    scoring = Scoring.of(table, ["test_error", "params"], space)
    assert np.allclose(scoring.points[:, 0], 100 * (1 - values.astype(np.float32)), atol=1e-4)
    with pytest.raises(ConfigError, match="has no values of train_time"):
        Scoring.of(table, ["test_error", "train_time"], space)


def test_reproduce_on_it_sets_no_published_number_beside_another_quantity(world, tmp_path):
    # Catches the real world's one-repeat test error being compared with the paper's mean of 3 (validation seen).
    from nasbench_sim.harness.reproduce import reproduce_bananas

    folder, _ = world
    report = reproduce_bananas(
        seeds="0-1", algorithms="rs,re", table=str(folder), results=tmp_path, progress=False, queries=8
    )
    text = report.read_text()
    assert "real repeat-0 test error, the value the searcher saw" in text
    assert "published %" not in text and "Measured minus published" not in text


def test_a_modelled_single_repeat_world_says_it_is_modelled(space):
    from nasbench_sim.bench.repeat0_world import single_repeat_world
    from nasbench_sim.harness.plots import _reported

    values = np.full(len(space), 0.9)
    world = single_repeat_world(values, space, {"kind": "modelled-repeat", "source": "made up"})
    assert world.label.startswith("MODELLED single-repeat world") and world.num_repeats == 1
    assert "one repeat's test error" in _reported("modelled-repeat", 94.0)
    assert "mean-of-3" in _reported("partial", 94.0)
