from unittest import mock

import numpy as np
import pytest

from nasbench_sim.errors import ConfigError
from nasbench_sim.multiobjective import run as run_module
from nasbench_sim.multiobjective.registry import build_searcher
from nasbench_sim.multiobjective.run import Scoring, run_experiment, run_multiobjective


@pytest.fixture(scope="module")
def scoring(surrogate, space):
    return Scoring.of(surrogate, ["test_error", "params"], space)


class _FrontWalker:
    """Asks exactly the exact front's cells, then random ones: the found set reaches the front."""

    def __init__(self, rows, space):
        self.cells = [space.cell(r) for r in rows]

    def ask(self):
        return self.cells.pop(0)

    def tell(self, cell, objectives):
        pass


def test_history_columns_and_what_the_searcher_is_told(surrogate, space, scoring):
    history = run_multiobjective(
        build_searcher("mo-rs", np.random.default_rng(0)), surrogate, scoring, 25, np.random.default_rng(1), space
    )
    assert list(history.columns) == [
        "query", "hash", "row", "seen_test_error", "score_test_error", "seen_params", "score_params",
        "hypervolume", "hypervolume_ratio", "igd", "igd_plus", "search_seconds",
    ]  # fmt: skip
    # Parameters are exact; the error the searcher sees is a validation error, scored by the mean test error.
    assert np.array_equal(history["seen_params"], space.trainable_parameters[history["row"]].astype(float))
    assert np.array_equal(history["score_params"], history["seen_params"])
    assert not np.array_equal(history["seen_test_error"], history["score_test_error"])
    assert history["hypervolume"].is_monotonic_increasing and history["igd_plus"].is_monotonic_decreasing
    assert (history["igd"] >= history["igd_plus"]).all()  # IGD+ counts only where a point is worse
    assert (history["hypervolume_ratio"] <= 1 + 1e-12).all()


def test_finding_the_whole_exact_front_scores_ratio_1_and_igd_plus_0(surrogate, space, scoring):
    from nasbench_sim.multiobjective.front import exact_front

    rows = exact_front(scoring.points).tolist()
    history = run_multiobjective(
        _FrontWalker(rows, space), surrogate, scoring, len(rows), np.random.default_rng(0), space
    )
    assert history["hypervolume_ratio"].iloc[-1] == pytest.approx(1.0)
    assert history["igd_plus"].iloc[-1] == pytest.approx(0.0, abs=1e-12) == history["igd"].iloc[-1]


def test_experiments_resume_and_each_seed_is_the_same_alone_or_with_others(surrogate, tmp_path):
    names = ["test_error", "flops"]
    both = run_experiment(surrogate, names, ["mo-re", "pls"], [0, 1], 40, tmp_path / "a", progress=False)
    alone = run_experiment(surrogate, names, ["pls"], [1], 40, tmp_path / "b", progress=False)
    drop = ["algorithm", "seed", "search_seconds"]
    one = both[(both["algorithm"] == "pls") & (both["seed"] == 1)].drop(columns=drop).reset_index(drop=True)
    assert one.equals(alone.drop(columns=drop))
    with mock.patch.object(run_module, "run_multiobjective", side_effect=AssertionError("ran again")):
        again = run_experiment(surrogate, names, ["mo-re", "pls"], [0, 1], 40, tmp_path / "a", progress=False)
    assert again.equals(both)


def test_bad_experiments_are_one_clear_error(surrogate, golden_table, tmp_path):
    with pytest.raises(ConfigError, match="unknown multi-objective searcher 'bananas'"):
        run_experiment(surrogate, ["test_error", "params"], ["bananas"], [0], 5, tmp_path)
    with pytest.raises(ConfigError, match="queries must be >= 1"):
        run_experiment(surrogate, ["test_error", "params"], ["mo-rs"], [0], 0, tmp_path)
    with pytest.raises(ConfigError, match="need a dense table"):
        run_experiment(golden_table, ["test_error", "params"], ["mo-rs"], [0], 5, tmp_path)
    with pytest.raises(ConfigError, match="one error objective"):
        Scoring.of(surrogate, ["test_error", "test_error_repeat0"])


def test_three_objectives_are_scored_with_a_three_dimensional_hypervolume(surrogate, space):
    scoring = Scoring.of(surrogate, ["test_error", "params", "train_time"], space)
    history = run_multiobjective(
        build_searcher("nsga2", np.random.default_rng(0), population_size=6), surrogate, scoring, 20,
        np.random.default_rng(1), space,
    )  # fmt: skip
    assert scoring.front.shape[1] == 3 and history["hypervolume"].is_monotonic_increasing
    assert 0 < history["hypervolume_ratio"].iloc[-1] <= 1


def test_seeds_run_on_their_own_realization_and_the_summary_gives_its_sd(surrogate, tmp_path):
    # Seed s must use table s % R and record it, so the summary can give the between-realization SD.
    from nasbench_sim.harness.store import read_run
    from nasbench_sim.multiobjective.report import final_runs, summary_table

    frame = run_experiment([surrogate, surrogate], ["test_error", "params"], ["mo-rs"], [0, 1, 2, 3], 6, tmp_path)
    assert list(frame.groupby("seed")["realization"].first()) == [0, 1, 0, 1]
    _, meta = read_run(tmp_path / "runs" / "mo-rs" / "seed_0001.parquet")
    assert meta["realization"] == 1 and meta["realizations"] == 2
    final = final_runs(frame)
    table = summary_table(final).iloc[0]
    by_world = final.groupby("realization")["hypervolume_ratio"].mean()
    assert table["between-realization SD"] == pytest.approx(by_world.std(ddof=1))
    single = summary_table(final.drop(columns="realization")).iloc[0]
    assert np.isnan(single["between-realization SD"])
