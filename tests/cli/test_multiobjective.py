import pytest

from nasbench_sim.cli import main


def test_compare_with_objectives_writes_runs_report_and_figures(surrogate, tmp_path, capsys):
    argv = ["compare", "--objectives", "test_error,params", "--table", "surrogate", "--seeds", "0-1", "--budget", "15",
            "--algorithms", "mo-rs,nsga2", "--results-dir", str(tmp_path), "--experiment", "mo", "--quiet"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    folder = tmp_path / "mo"
    assert "Best final hypervolume on test_error and params" in out and f"results: {folder}" in out
    assert (folder / "summary.md").read_text().startswith("Best final hypervolume")
    assert sorted(p.name for p in (folder / "runs").iterdir()) == ["mo-rs", "nsga2"]
    assert {"front.png", "hypervolume_vs_queries.png", "metadata.json"} <= {p.name for p in folder.iterdir()}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--objectives", "latency,params"], "unknown objective 'latency' (choices: test_error, "),
        (["--objectives", "params"], "two or more different names"),
        (["--objectives", "test_error,params", "--workers", "2"], "--workers: not used by a multi-objective"),
        (
            ["--objectives", "test_error,params", "--algorithms", "bananas"],
            "unknown multi-objective searcher 'bananas'",
        ),
        (["--objectives", "test_error,params", "--budget", "0"], "queries must be >= 1"),
    ],
)
def test_bad_multiobjective_options_are_one_line(surrogate, tmp_path, capsys, extra, message):
    argv = ["compare", "--table", "surrogate", "--seeds", "0", "--results-dir", str(tmp_path), "--quiet", *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
