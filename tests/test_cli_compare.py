import pytest

from nasbench_sim.cli import main, parse_seeds
from nasbench_sim.errors import ConfigError


def test_parse_seeds():
    assert parse_seeds("0-3,7") == [0, 1, 2, 3, 7]
    with pytest.raises(ConfigError, match="bad --seeds"):
        parse_seeds("3-1")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--algorithms", "rs,frob"], "unknown algorithm(s) ['frob'] (choices: rs, re, ls, gp, np, bananas, tpe)"),
        (["--seeds", "x"], "bad --seeds"),
        (["--budget", "0"], "budget must be positive"),
        (["--device", "tpu"], "bad --device"),
    ],
)
def test_bad_compare_options_fail_clearly(argv, message, capsys, tmp_path, space):
    code = main(["compare", "--table", "partial", "--results-dir", str(tmp_path), "--quiet", *argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


def test_toml_config_with_unknown_setting(tmp_path, capsys, space):
    config = tmp_path / "c.toml"
    config.write_text('algorithms = ["re"]\nseeds = "0"\n[re]\npopulation = 5\n')
    assert main(["compare", "--config", str(config), "--table", "partial", "--quiet"]) == 2
    assert "unknown setting(s) ['population'] for algorithm 're'" in capsys.readouterr().err


def test_compare_then_plot_from_toml(tmp_path, capsys, partial):
    config = tmp_path / "c.toml"
    config.write_text(
        'algorithms = ["rs", "re"]\nseeds = "0-1"\nbudget = 20\ntable = "partial"\nworkers = 1\n'
        f'results_dir = "{tmp_path}"\nexperiment = "t"\n[re]\npopulation_size = 6\ntournament_size = 2\n'
    )
    assert main(["compare", "--config", str(config), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "Regularized evolution" in out and (tmp_path / "t" / "regret_vs_queries.png").exists()
