import json

import numpy as np
import pandas as pd
import pytest

from nasbench_sim._io import data_dir
from nasbench_sim.errors import ConfigError
from nasbench_sim.harness.experiment import RunSpec, compare, load_experiment, read_run, run_path, run_task
from nasbench_sim.harness.plots import plot_experiment, summary_table
from nasbench_sim.harness.run import Budget
from nasbench_sim.search import EvolutionConfig, RandomSearch, RandomSearchConfig, RegularizedEvolution
from nasbench_sim.space.enumeration import CACHE_NAME


def _specs(table, seeds=(0, 1, 2), queries=30):
    space_folder = str(data_dir() / CACHE_NAME)
    algos = {
        "rs": (RandomSearch, RandomSearchConfig()),
        "re": (RegularizedEvolution, EvolutionConfig(population_size=10, tournament_size=3)),
    }
    return [
        RunSpec(name, cls, cfg, seed, Budget(queries=queries), table.folder, space_folder, "cpu")
        for seed in seeds
        for name, (cls, cfg) in algos.items()
    ]


def test_compare_writes_one_parquet_per_run_and_resumes(partial, space, tmp_path):
    folder = tmp_path / "exp"
    paths = compare(_specs(partial), folder, table=partial, progress=False)
    assert len(paths) == 6 and all(p.exists() for p in paths)
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["table"]["kind"] == "partial" and meta["seeds"] == [0, 1, 2] and "versions" in meta
    history, run_meta = read_run(run_path(folder, "re", 1))
    assert run_meta["config"]["population_size"] == 10 and len(history) == 30
    # A finished run is skipped: its file is untouched on a repeated command.
    stamp = paths[0].stat().st_mtime_ns
    compare(_specs(partial), folder, table=partial, progress=False)
    assert paths[0].stat().st_mtime_ns == stamp
    # An interrupted run (file missing) is redone and identical.
    before = pd.read_parquet(paths[3])
    paths[3].unlink()
    compare(_specs(partial), folder, table=partial, progress=False)
    again = pd.read_parquet(paths[3])
    timing = ["search_seconds"]  # wall-clock, the only column allowed to differ
    pd.testing.assert_frame_equal(again.drop(columns=timing), before.drop(columns=timing))
    assert not list(folder.rglob(".*tmp*"))


def test_same_trajectory_in_process_and_in_worker_processes(partial, space, tmp_path):
    specs = _specs(partial, seeds=(4, 5))
    compare(specs, tmp_path / "pool", table=partial, workers=2, progress=False)
    for spec in specs:
        local = run_task(spec)
        remote, _ = read_run(run_path(tmp_path / "pool", spec.algorithm, spec.seed))
        assert local["hash"].tolist() == remote["hash"].tolist()
        assert np.array_equal(local["test_regret"].to_numpy(), remote["test_regret"].to_numpy())


def test_dask_local_cluster_gives_the_same_results(partial, space, tmp_path):
    distributed = pytest.importorskip("distributed")
    specs = _specs(partial, seeds=(7,))
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        compare(specs, tmp_path / "dask", table=partial, scheduler=cluster.scheduler_address, progress=False)
    for spec in specs:
        remote, _ = read_run(run_path(tmp_path / "dask", spec.algorithm, spec.seed))
        assert remote["hash"].tolist() == run_task(spec)["hash"].tolist()


def test_an_experiment_with_another_budget_is_refused(partial, space, tmp_path):
    compare(_specs(partial, seeds=(0,)), tmp_path / "e", table=partial, progress=False)
    with pytest.raises(ConfigError, match="another budget"):
        compare(_specs(partial, seeds=(0,), queries=31), tmp_path / "e", table=partial, progress=False)


def test_plots_and_summary(partial, space, tmp_path):
    folder = tmp_path / "exp"
    compare(_specs(partial), folder, table=partial, progress=False)
    written = plot_experiment(folder)
    names = {p.name for p in written}
    assert {"regret_vs_queries.png", "regret_vs_time.pdf", "final_regret.png", "summary.csv", "summary.md"} <= names
    history, _ = load_experiment(folder)
    summary = summary_table(history)
    assert set(summary["algorithm"]) == {"Random search", "Regularized evolution"}
    assert summary["mean_rank"].between(1, 2).all()
    assert "real partial table" in (folder / "summary.md").read_text()
