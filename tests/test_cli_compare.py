import contextlib
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nasbench_sim.cli import build_parser, main
from nasbench_sim.errors import ConfigError
from nasbench_sim.harness.config_file import compare_options, options_budget
from nasbench_sim.harness.inputs import parse_seeds


def _run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--algorithms", "rs,frob"],
            "unknown algorithm 'frob' (choices: rs, re, ls, gp, np, bananas, tpe, reinforce, mcts, hb, bohb, re-es, asha, "
            "hb-async, bohb-async)",
        ),
        (["--seeds", "x"], "bad seeds"),
        (["--budget", "0"], "budget must be positive"),
        (["--budget", "5", "--budget-seconds", "100"], "not both"),
        (["--device", "tpu"], "bad device"),
        (["--workers", "0"], "--workers must be >= 1"),
        (["--workers", "-2"], "--workers must be >= 1"),
        (["--protocol", "x"], "unknown protocol 'x' (choices: naszilla, nb101)"),
        (["--simulated-workers", "0"], "--simulated-workers must be whole numbers >= 1"),
        (["--simulated-workers", "8,x"], "--simulated-workers must be whole numbers >= 1"),
        (["--experiment", "../../x"], "plain folder name"),
        # Regression: no scheduler listening gave an OSError traceback after 30 s.
        (["--scheduler", "tcp://127.0.0.1:1", "--algorithms", "rs", "--seeds", "0"], "cannot reach the Dask scheduler"),
    ],
)
def test_bad_compare_options_fail_clearly(argv, message, capsys, tmp_path, space):
    code, _, err = _run(capsys, "compare", "--table", "surrogate", "--results-dir", str(tmp_path), "--quiet", *argv)
    assert code == 2 and message in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            'algorithms = ["re"]\nseeds = "0"\n[re]\npopulation = 5\n',
            "unknown setting(s) ['population'] for algorithm 're'",
        ),
        ('budget = "abc"\n', "option 'budget' must be a whole number"),
        ("budget = 2.5\n", "option 'budget' must be a whole number"),
        ('workers = "x"\n', "option 'workers' must be a whole number"),
        ("frob = 1\n", "unknown option 'frob'"),
        ("not = [toml\n", "invalid TOML"),
        ('algorithms = ["rs"]\n[np]\nbeta = 2\n', "settings given for algorithm(s) ['np'] that are not compared"),
    ],
)
def test_bad_toml_configs_fail_clearly(tmp_path, capsys, space, toml, message):
    config = tmp_path / "c.toml"
    config.write_text(toml)
    code, _, err = _run(
        capsys, "compare", "--config", str(config), "--table", "surrogate", "--quiet", "--results-dir", str(tmp_path)
    )
    assert code == 2 and message in err and "Traceback" not in err


def test_compare_then_plot_from_toml_with_nested_settings(tmp_path, capsys, space):
    config = tmp_path / "c.toml"
    config.write_text(
        'algorithms = ["rs", "re", "bananas"]\nseeds = "0-1"\nbudget = 12\ntable = "surrogate"\nworkers = 1\n'
        f'results_dir = "{tmp_path}"\nexperiment = "t"\n[re]\npopulation_size = 6\ntournament_size = 2\nnum_init = 4\n'
        "[bananas]\nnum_init = 5\nbatch_size = 3\n[bananas.model]\nepochs = 5\nmembers = 2\n"
    )
    code, out, err = _run(capsys, "compare", "--config", str(config), "--quiet")
    assert code == 0, err
    assert "Regularized evolution" in out and "BANANAS" in out and (tmp_path / "t" / "critical_difference.png").exists()
    import json

    meta = json.loads((tmp_path / "t" / "metadata.json").read_text())
    assert meta["algorithms"]["bananas"]["config"]["model"]["epochs"] == 5
    code, out, _ = _run(capsys, "plot", str(tmp_path / "t"))
    assert code == 0 and "Friedman" in out


def test_plot_of_a_folder_without_an_experiment_is_a_clear_error(tmp_path, capsys):
    code, _, err = _run(capsys, "plot", str(tmp_path))
    assert code == 2 and "not a nasbench-sim experiment folder" in err


def test_ctrl_c_inside_the_runs_exits_130_with_one_line(monkeypatch, capsys, tmp_path, space):
    # Regression: Ctrl-C during the runs became RunInterruptedError, reported as an error with exit status 2.
    import nasbench_sim.harness.experiment as experiment

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(experiment, "run_chunk", interrupted)
    argv = ["compare", "--table", "surrogate", "--algorithms", "rs", "--seeds", "0", "--workers", "1", "--quiet"]
    code, _, err = _run(capsys, *argv, "--results-dir", str(tmp_path))
    assert code == 130 and "interrupted after 0 of 1 chunks" in err and len(err.strip().splitlines()) == 1
    # Counted in runs too, the unit a user counts (a chunk holds several).
    assert "(0 of 1 runs of this experiment are finished and kept)" in err


def test_ctrl_c_prints_one_line(monkeypatch, capsys, tmp_path, space):
    import nasbench_sim.harness.experiment as experiment

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(experiment, "run_tasks", interrupted)
    code, _, err = _run(
        capsys,
        "compare",
        "--table",
        "surrogate",
        "--algorithms",
        "rs",
        "--seeds",
        "0",
        "--quiet",
        "--results-dir",
        str(tmp_path),
    )
    assert code == 130 and "resume" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


_NUMBER_TEXT = st.one_of(
    st.text(alphabet="0123456789-,. eainf", max_size=10),
    st.sampled_from(["2.5", "1e3", "inf", "nan", "-0", "0", "150", "0-9", "9-0", "0,3,7"]),
)


@settings(max_examples=150, deadline=None)
@given(seeds=_NUMBER_TEXT, budget=st.one_of(st.none(), _NUMBER_TEXT), seconds=st.one_of(st.none(), _NUMBER_TEXT))
def test_any_seeds_and_budget_options_parse_or_fail_clearly(seeds, budget, seconds):
    # Catches a traceback from the command line's parsing of --seeds/--budget/--budget-seconds:
    # each input is argparse's own usage error (exit 2), a ConfigError, or what it says.
    argv = ["compare", f"--seeds={seeds}"]
    argv += [] if budget is None else [f"--budget={budget}"]
    argv += [] if seconds is None else [f"--budget-seconds={seconds}"]
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            args = build_parser().parse_args(argv)
    except SystemExit as exc:
        assert exc.code == 2
        return
    try:
        options, _ = compare_options(args.config, vars(args))
        run_budget, seed_list = options_budget(options), parse_seeds(options["seeds"])
    except ConfigError:
        return
    assert seed_list and min(seed_list) >= 0
    if run_budget is not None:
        assert (run_budget.queries is None) == (budget is None) and (run_budget.seconds is None) == (seconds is None)
        assert run_budget.queries is None or run_budget.queries == int(budget) >= 1
        assert run_budget.seconds is None or 0 < run_budget.seconds == float(seconds) < float("inf")


def test_simulated_workers_from_the_command_line_and_a_scaling_study(tmp_path, capsys, space):
    common = ["--table", "surrogate", "--results-dir", str(tmp_path), "--quiet", "--protocol", "nb101"]
    code, out, _ = _run(
        capsys,
        "compare",
        *common,
        "--algorithms",
        "rs",
        "--seeds",
        "0-1",
        "--budget-seconds",
        "2e4",
        "--simulated-workers",
        "4",
        "--schedule",
        "sync",
        "--no-plot",
    )
    assert code == 0 and "simulated workers: 4 per run (sync)" in out and "-w4-sync" in out
    code, out, _ = _run(
        capsys,
        "compare",
        *common,
        "--algorithms",
        "rs,asha",
        "--seeds",
        "0-2",
        "--budget-seconds",
        "1e5",
        "--simulated-workers",
        "1,4",
        "--experiment",
        "study",
    )
    assert code == 0 and out.splitlines()[1].startswith("Speed-up at 4 simulated workers")
    assert (tmp_path / "study" / "speedup.png").exists() and (tmp_path / "study" / "w4" / "metadata.json").exists()
    code, out, _ = _run(capsys, "plot", str(tmp_path / "study"))  # redraws the study's report
    assert code == 0 and "Speed-up at 4" in out
