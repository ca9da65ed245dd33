import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from nasbench_sim.errors import ConfigError, DataFormatError
from nasbench_sim.harness.experiment import compare
from nasbench_sim.harness.inputs import parse_seeds
from nasbench_sim.harness.store import load_experiment, read_run, run_path

SMALL = {"re": {"population_size": 10, "tournament_size": 3, "num_init": 5}}


def _compare(folder, seeds=(0, 1, 2), queries=30, **kwargs):
    options = {"table": "surrogate", "results": folder.parent, "experiment": folder.name, "progress": False}
    options.update(kwargs)
    return compare(["rs", "re"], seeds, queries, configs=SMALL, **options)


def test_compare_writes_one_parquet_per_run_and_resumes(space, tmp_path):
    folder = tmp_path / "exp"
    frame = _compare(folder)
    assert frame.groupby("algorithm").size().to_dict() == {"re": 90, "rs": 90}
    assert set(frame.columns) >= {"algorithm", "seed", "realization", "test_regret", "incumbent_mean_test"}
    paths = [run_path(folder, a, s) for a in ("rs", "re") for s in (0, 1, 2)]
    assert all(p.exists() for p in paths)
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["table"]["kind"] == "surrogate" and meta["protocol"]["name"] == "naszilla" and "versions" in meta
    history, run_meta = read_run(run_path(folder, "re", 1))
    assert run_meta["config"]["population_size"] == 10 and len(history) == 30 and run_meta["realization"] == 1
    # A finished run is skipped: its file is untouched on a repeated command.
    stamp = paths[0].stat().st_mtime_ns
    _compare(folder)
    assert paths[0].stat().st_mtime_ns == stamp
    # An interrupted run (file missing) is redone and identical.
    before = pd.read_parquet(paths[3])
    paths[3].unlink()
    _compare(folder)
    timing = ["search_seconds"]  # wall-clock, the only column allowed to differ
    pd.testing.assert_frame_equal(pd.read_parquet(paths[3]).drop(columns=timing), before.drop(columns=timing))
    assert not list(folder.rglob(".*tmp*"))


def test_a_truncated_run_file_is_moved_aside_and_redone(space, tmp_path):
    # Catches a half-written file counting as finished forever.
    folder = tmp_path / "exp"
    _compare(folder, seeds=(0,))
    path = run_path(folder, "rs", 0)
    good = pd.read_parquet(path)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.warns(UserWarning, match="unreadable"):
        _compare(folder, seeds=(0,))
    assert path.with_suffix(".parquet.corrupt").exists()
    pd.testing.assert_frame_equal(
        pd.read_parquet(path).drop(columns="search_seconds"), good.drop(columns="search_seconds")
    )


def test_same_trajectory_in_process_in_workers_and_in_chunks(space, tmp_path):
    local = _compare(tmp_path / "a", seeds=(4, 5))
    pooled = _compare(tmp_path / "b", seeds=(4, 5), workers=2)
    chunked = _compare(tmp_path / "c", seeds=(4, 5), chunk_size=1)
    for other in (pooled, chunked):
        assert other["hash"].tolist() == local["hash"].tolist()
        assert np.array_equal(other["test_regret"].to_numpy(), local["test_regret"].to_numpy())


def test_dask_local_cluster_gives_the_same_results(space, tmp_path):
    distributed = pytest.importorskip("distributed")
    local = _compare(tmp_path / "a", seeds=(7,))
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        remote = _compare(tmp_path / "b", seeds=(7,), scheduler=cluster.scheduler_address)
    assert remote["hash"].tolist() == local["hash"].tolist()


def test_an_experiment_with_another_setup_is_refused(space, tmp_path):
    _compare(tmp_path / "e", seeds=(0,))
    with pytest.raises(ConfigError, match="another budget"):
        _compare(tmp_path / "e", seeds=(0,), queries=31)
    with pytest.raises(ConfigError, match="another protocol"):
        _compare(tmp_path / "e", seeds=(0,), protocol="nb101")


def test_concurrent_experiments_keep_every_seed_in_the_metadata(space, tmp_path):
    # Catches a read-merge-write race on metadata.json (six processes on one experiment lost seeds).
    import multiprocessing as mp

    folder = tmp_path / "exp"
    context = mp.get_context("spawn")
    procs = [context.Process(target=_one_seed, args=(str(folder), s)) for s in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert all(p.exitcode == 0 for p in procs)
    assert json.loads((folder / "metadata.json").read_text())["seeds"] == [0, 1, 2, 3]


def _one_seed(folder, seed):
    from pathlib import Path

    _compare(Path(folder), seeds=(seed,), queries=5)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("not json", "corrupt metadata.json"),
        ("[1, 2]", "does not hold a JSON object"),
    ],
)
def test_a_corrupt_metadata_file_is_a_clear_error(space, tmp_path, bad, message):
    folder = tmp_path / "exp"
    folder.mkdir()
    (folder / "metadata.json").write_text(bad)
    with pytest.raises(DataFormatError, match=message):
        _compare(folder, seeds=(0,), queries=5)
    with pytest.raises(DataFormatError, match=message):
        load_experiment(folder)


def test_run_files_that_disagree_with_the_experiment_are_skipped(space, tmp_path):
    # Catches plotting runs of another budget/table that were copied into an experiment folder.
    a, b = tmp_path / "a", tmp_path / "b"
    _compare(a, seeds=(0,), queries=5)
    _compare(b, seeds=(1,), queries=6)
    run_path(a, "rs", 1).write_bytes(run_path(b, "rs", 1).read_bytes())
    with pytest.warns(UserWarning, match="budget differs"):
        history, _ = load_experiment(a)
    assert sorted(set(history["seed"])) == [0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"experiment": "../outside"}, "plain folder name"),
        ({"workers": 0}, "workers must be >= 1"),
        ({"protocol": "nope"}, "unknown protocol 'nope'"),
        ({"realizations": 0}, "realizations must be >= 1"),
        ({"device": "tpu"}, "bad device"),
    ],
)
def test_bad_options_are_clear_errors(space, tmp_path, kwargs, message):
    options = {"experiment": "e"} | kwargs
    with pytest.raises(ConfigError, match=message):
        compare(["rs"], [0], 5, table="surrogate", results=tmp_path, progress=False, **options)


def test_unknown_settings_list_the_choices(space, tmp_path):
    with pytest.raises(ConfigError, match=r"unknown setting\(s\) \['population'\] for algorithm 're' \(choices: "):
        compare(["re"], [0], 5, table="surrogate", configs={"re": {"population": 3}}, results=tmp_path, progress=False)


def test_results_under_a_regular_file_is_a_clear_error(space, tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="is a file, not a folder"):
        compare(["rs"], [0], 5, table="surrogate", results=tmp_path / "file" / "r", progress=False)


def test_cuda_without_cuda_is_refused_up_front(space, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ConfigError, match=r"torch.cuda.is_available\(\) is False"):
        compare(["np"], [0], 5, table="surrogate", device="cuda", results=tmp_path, progress=False)


@pytest.mark.parametrize("text", ["0-3,7", "7,0-3", " 0 - 3 , 7"])
def test_parse_seeds(text):
    assert parse_seeds(text) == [0, 1, 2, 3, 7]


@pytest.mark.parametrize("text", ["3-1", "x", "", "-1", "1.5"])
def test_bad_seeds(text):
    with pytest.raises(ConfigError, match="bad seeds"):
        parse_seeds(text)


def test_plots_and_summary(space, tmp_path):
    from nasbench_sim.harness.plots import plot_experiment, summary

    folder = tmp_path / "exp"
    _compare(folder, seeds=(0, 1, 2, 3))
    names = {p.name for p in plot_experiment(folder)}
    assert {"regret_vs_queries.png", "regret_vs_time.pdf", "final_error.png", "critical_difference.png"} <= names
    assert {"summary.csv", "summary.md"} <= names
    table = summary(folder)
    assert set(table["algorithm"]) == {"Random search", "Regularized evolution"}
    assert table["mean rank"].between(1, 2).all()
    text = (folder / "summary.md").read_text()
    assert "SURROGATE" in text and "Wilcoxon" in text and "protocol: naszilla" in text
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no pandas/matplotlib warnings in a normal plot
        plot_experiment(folder)


@pytest.mark.parametrize("seeds", [b"0-1", bytearray(b"0-1")])
def test_seeds_as_bytes_are_refused_not_read_as_character_codes(seeds):
    # Catches compare(seeds=b"0-1") running seeds 45, 48 and 49 (the bytes' values).
    with pytest.raises(ConfigError, match="not bytes"):
        parse_seeds(seeds)


@pytest.mark.parametrize("device", ["gpu", "cuda:x", "", 3])
def test_a_bad_device_names_the_choices(device):
    from nasbench_sim._nn import resolve_device

    with pytest.raises(ConfigError, match="choices: auto, cpu, cuda, cuda:N"):
        resolve_device(device)


def test_a_run_file_of_another_setup_is_moved_aside_and_redone(space, tmp_path):
    # Catches a run file copied in from another experiment counting as finished (a seed silently lost).
    other, folder = tmp_path / "other", tmp_path / "exp"
    small = {"re": {"population_size": 6, "tournament_size": 2, "num_init": 3}}
    compare(["re"], [0], 12, table="surrogate", results=tmp_path, experiment="other", progress=False, configs=small)
    _compare(folder, seeds=(0, 1))
    good = pd.read_parquet(run_path(folder, "re", 0))
    run_path(folder, "re", 0).write_bytes(run_path(other, "re", 0).read_bytes())
    run_path(folder, "re", 1).write_bytes(run_path(folder, "re", 0).read_bytes())  # a renamed copy
    with pytest.warns(UserWarning, match="another (config|seed)"):
        frame = _compare(folder, seeds=(0, 1))
    assert (run_path(folder, "re", 0).parent / "seed_0000.parquet.foreign").exists()
    assert frame.groupby("algorithm")["seed"].nunique().to_dict() == {"re": 2, "rs": 2}
    redone = pd.read_parquet(run_path(folder, "re", 0))
    pd.testing.assert_frame_equal(redone.drop(columns="search_seconds"), good.drop(columns="search_seconds"))


def test_a_renamed_run_file_is_skipped_when_loading(space, tmp_path):
    # Catches a copy under another seed's name duplicating that seed (the plot step then failed).
    folder = tmp_path / "exp"
    _compare(folder, seeds=(0,))
    run_path(folder, "rs", 0).parent.joinpath("seed_0007.parquet").write_bytes(run_path(folder, "rs", 0).read_bytes())
    run_path(folder, "rs", 0).parent.joinpath("seed_x.parquet").write_bytes(b"not parquet")
    with pytest.warns(UserWarning, match="renamed copy|unreadable run file"):
        frame, _ = load_experiment(folder)
    assert sorted(frame.loc[frame["algorithm"] == "rs", "seed"].unique()) == [0]


def test_no_single_byte_flip_of_a_run_file_changes_its_history_silently(space, tmp_path):
    # Catches Parquet pages written without checksums (a flipped byte changed the hash column unnoticed).
    folder = tmp_path / "exp"
    _compare(folder, seeds=(0,), queries=20)
    path = run_path(folder, "rs", 0)
    original, _ = read_run(path)
    data = path.read_bytes()
    silent = []
    for position in range(4, len(data) - 8, 23):  # past the leading magic, before the footer length
        flipped = bytearray(data)
        flipped[position] ^= 0x5A
        path.write_bytes(bytes(flipped))
        try:
            history, _ = read_run(path)
        except DataFormatError:
            continue
        if not history.equals(original):
            silent.append(position)
    assert not silent, f"flips at {silent} changed the history without an error"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"workers": "2"}, "workers must be a whole number"),
        ({"workers": 2.0}, "workers must be a whole number"),
        ({"workers": True}, "workers must be a whole number"),
        ({"realizations": 1.5}, "realizations must be a whole number"),
        ({"realizations": 1000}, "realizations must be 1 to 50, got 1000 (each is a table of about 0.2 GB"),
        ({"chunk_size": 0}, "chunk_size must be >= 1"),
        ({"configs": {"re": 5}}, "configs['re'] must be a EvolutionConfig(...) or a mapping"),
        ({"configs": [("re", {})]}, "configs must map algorithm names"),
        ({"configs": {"re": {"population_size": 12.7}}}, "population_size must be int, got 12.7"),
        ({"configs": {"re": {"mutation": {"mutation_rate": "x"}}}}, "mutation_rate must be"),
        ({"experiment": "."}, "must be a plain folder name"),
        ({"experiment": "a\x00b"}, "must be a plain folder name"),
        ({"experiment": 7}, "experiment name must be a str"),
        ({"results": "r\x00s"}, "results must be a folder path"),
    ],
)
def test_bad_python_arguments_are_one_clear_error(options, message, space, tmp_path):
    # Catches the Python API taking what the CLI refuses: workers="2", population_size=12.7, experiment="." ...
    kwargs = {"table": "surrogate", "results": tmp_path, "progress": False, **options}
    with pytest.raises(ConfigError, match=re.escape(message)):
        compare(["rs", "re"], [0], 5, **kwargs)
    assert not any(p.name == "metadata.json" for p in tmp_path.rglob("*"))


def test_numpy_whole_numbers_are_accepted_as_settings(space, tmp_path):
    settings = {"re": {"population_size": np.int64(5), "tournament_size": 2, "num_init": 3}}
    options = {"table": "surrogate", "results": tmp_path, "progress": False, "workers": np.int64(1)}
    frame = compare(["re"], [np.int64(0)], np.int64(6), configs=settings, **options)
    assert len(frame) == 6
