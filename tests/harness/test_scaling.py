"""Simulated workers in comparisons and the scaling study: metadata, resumption, speed-ups, the report."""

import json

import numpy as np
import pandas as pd
import pytest

from nasbench_sim.errors import ConfigError, DataFormatError
from nasbench_sim.harness.experiment import compare
from nasbench_sim.harness.run import Budget
from nasbench_sim.harness.scaling import budget_for, compare_workers
from nasbench_sim.harness.scaling_report import load_study, speedups, time_to_target
from nasbench_sim.harness.simulator import Workers
from nasbench_sim.harness.stats import final_runs
from nasbench_sim.harness.store import read_run, run_path


def _options(tmp_path, **kwargs):
    return {"table": "surrogate", "results": tmp_path, "progress": False, "protocol": "nb101", **kwargs}


def test_simulated_workers_are_recorded_and_an_experiment_keeps_one_setting(space, tmp_path):
    frame = compare(["rs"], (0, 1), Budget(seconds=3e4), simulated_workers=4, **_options(tmp_path))
    folder = tmp_path / "surrogate-nb101-rs-30000-w4"
    assert frame.attrs["folder"] == str(folder)
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["workers"] == {"count": 4, "schedule": "async", "charge_search_time": False}
    _, run_meta = read_run(run_path(folder, "rs", 0))
    assert run_meta["workers"] == meta["workers"]
    assert frame["worker"].nunique() == 4 and frame["end_time"].max() < frame["cumulative_time"].max()
    with pytest.raises(ConfigError, match="another workers"):
        compare(["rs"], (0,), Budget(seconds=3e4), experiment=folder.name, simulated_workers=8, **_options(tmp_path))


def test_a_sequential_run_is_not_taken_for_a_parallel_one(space, tmp_path):
    # Catches a run file of one worker count counting as finished under another.
    compare(["rs"], (0,), Budget(seconds=3e4), experiment="e", **_options(tmp_path))
    sequential = run_path(tmp_path / "e", "rs", 0)
    target = tmp_path / "p"
    compare(["rs"], (0,), Budget(seconds=3e4), experiment="p", simulated_workers=2, **_options(tmp_path))
    run_path(target, "rs", 0).write_bytes(sequential.read_bytes())
    with pytest.warns(UserWarning, match="another workers"):
        frame = compare(["rs"], (0,), Budget(seconds=3e4), experiment="p", simulated_workers=2, **_options(tmp_path))
    assert frame["worker"].nunique() == 2


def test_equal_compute_divides_a_time_budget_by_the_worker_count():
    assert budget_for(Budget(seconds=8e5), 8, "compute") == Budget(seconds=1e5)
    assert budget_for(Budget(seconds=8e5), 8, "wall-clock") == Budget(seconds=8e5)
    assert budget_for(Budget(queries=50), 8, "compute") == Budget(queries=50)


def test_time_to_target_is_the_first_result_at_or_below_it_and_inf_if_never():
    h = pd.DataFrame(
        {
            "algorithm": "a",
            "workers": [1] * 3 + [2] * 3,
            "seed": 0,
            "end_time": [1.0, 2.0, 3.0, 1.0, 2.0, 3.0],
            "test_regret": [0.02, 0.004, 0.001, 0.02, 0.02, 0.009],
        }
    )
    out = time_to_target(h, 0.5).set_index("workers")["seconds"]
    assert out[1] == 2.0 and out[2] == np.inf


def test_speedup_is_the_ratio_of_median_times_and_never_when_not_reached():
    times = pd.DataFrame(
        {
            "algorithm": "a",
            "workers": [1] * 3 + [4] * 3 + [16] * 3,
            "seed": [0, 1, 2] * 3,
            "seconds": [10.0, 20.0, 30.0, 2.5, 5.0, 7.5, np.inf, np.inf, 1.0],
        }
    )
    out = speedups(times).set_index("workers")
    assert out.loc[1, "speedup"] == 1.0 and out.loc[4, "speedup"] == 4.0
    assert np.isnan(out.loc[16, "speedup"]) and out.loc[16, "reached"] == pytest.approx(1 / 3)
    assert out.loc[4, "speedup_lo"] <= 4.0 <= out.loc[4, "speedup_hi"]


def test_a_scaling_study_resumes_and_writes_its_report(space, tmp_path):
    kwargs = {"counts": (4, 16), "results": tmp_path, "experiment": "s", **_options(tmp_path)}
    del kwargs["results"]
    folder = compare_workers(["rs", "asha"], range(3), Budget(seconds=2e5), results=tmp_path, **kwargs)
    setup, history = load_study(folder)
    assert setup["counts"] == [1, 4, 16] and sorted(history["workers"].unique()) == [1, 4, 16]
    # equal compute: each count's wall-clock budget is 2e5 / count
    ends = history.groupby(["workers", "seed"])["start_time"].max().groupby("workers").max()
    assert all(ends[c] < 2e5 / c for c in (1, 4, 16))
    report = (folder / "scaling.md").read_text()
    assert report.startswith("Speed-up at 16 simulated workers") and "ASHA" in report
    table = pd.read_csv(folder / "scaling.csv")
    one = table.loc[table["workers"] == 1, "speedup"]
    assert set(table["workers"]) == {1, 4, 16} and ((one == 1) | one.isna()).all()  # NaN: never reached
    # Seeds 0-2 run on realizations 0-2: the spread of the per-realization means is the between-realization SD.
    rs1 = final_runs(history[(history["algorithm"] == "rs") & (history["workers"] == 1)])
    expected = rs1.groupby("realization")["test_error_pct"].mean().std(ddof=1)
    got = table.loc[(table["algorithm"] == "rs") & (table["workers"] == 1), "between-realization SD"].iloc[0]
    assert got == pytest.approx(expected) and "between-realization SD" in report
    stamp = (folder / "w4" / "runs" / "rs" / "seed_0000.parquet").stat().st_mtime_ns
    compare_workers(["rs", "asha"], range(3), Budget(seconds=2e5), results=tmp_path, **kwargs)
    assert (folder / "w4" / "runs" / "rs" / "seed_0000.parquet").stat().st_mtime_ns == stamp
    with pytest.raises(ConfigError, match="another equal"):
        compare_workers(["rs"], range(3), Budget(seconds=2e5), results=tmp_path, equal="wall-clock", **kwargs)


def test_a_folder_that_is_not_a_study_is_a_clear_error(tmp_path):
    with pytest.raises(DataFormatError, match="not a scaling study"):
        load_study(tmp_path)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"counts": "8"}, "worker counts"), ({"counts": (0,)}, "simulated workers"), ({"equal": "time"}, "unknown equal")],
)
def test_bad_study_options_are_one_clear_line(tmp_path, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        compare_workers(["rs"], range(2), Budget(seconds=1e4), results=tmp_path, **kwargs)


def test_workers_are_a_workers_or_a_count(space, tmp_path):
    with pytest.raises(ConfigError, match="simulated workers"):
        compare(["rs"], (0,), 5, simulated_workers=0, **_options(tmp_path))
    frame = compare(["rs"], (0,), 5, simulated_workers=Workers(count=2, schedule="sync"), **_options(tmp_path))
    assert frame.attrs["folder"].endswith("-w2-sync")


def test_the_default_target_is_reached_by_most_one_worker_runs_so_the_speedup_is_finite():
    # Regression: a median target with an even number of seeds was reached by half of the runs only, so the
    # one-worker median time was never and every speed-up came out as "never".
    from nasbench_sim.harness.scaling_report import default_target

    rows = []
    for seed in range(4):
        for workers, scale in ((1, 1.0), (8, 1 / 8)):
            for k, regret in enumerate([0.02, 0.01, 0.004 + 0.001 * seed]):
                rows.append(
                    {
                        "algorithm": "a",
                        "workers": workers,
                        "seed": seed,
                        "query": k + 1,
                        "end_time": (k + 1) * 100.0 * scale,
                        "test_regret": regret,
                        "incumbent_mean_test": 0.94,
                        "incumbent_repeat0_test": 0.94,
                    }
                )
    history = pd.DataFrame(rows)
    target = default_target(history)
    out = speedups(time_to_target(history, target)).set_index("workers")
    assert out.loc[8, "speedup"] == pytest.approx(8.0)


def test_a_bad_schedule_leaves_no_study_behind(space, tmp_path):
    # Regression: the setup file was written before the schedule was checked, so the corrected command was
    # then refused ("another schedule").
    with pytest.raises(ConfigError, match="unknown schedule"):
        compare_workers(["rs"], range(2), Budget(seconds=1e4), results=tmp_path, experiment="s", schedule="bogus")
    with pytest.raises(ConfigError, match="target must be"):
        compare_workers(["rs"], range(2), Budget(seconds=1e4), results=tmp_path, experiment="s", target="x")
    assert not (tmp_path / "s").exists()


def test_a_parallel_run_file_in_a_sequential_experiment_is_skipped_when_loading(space, tmp_path):
    from nasbench_sim.harness.store import load_experiment

    compare(["rs"], (0,), Budget(seconds=3e4), experiment="seq", **_options(tmp_path))
    compare(["rs"], (1,), Budget(seconds=3e4), experiment="par", simulated_workers=2, **_options(tmp_path))
    run_path(tmp_path / "seq", "rs", 1).write_bytes(run_path(tmp_path / "par", "rs", 1).read_bytes())
    with pytest.warns(UserWarning, match="workers differs"):
        frame, _ = load_experiment(tmp_path / "seq")
    assert set(frame["seed"]) == {0}
