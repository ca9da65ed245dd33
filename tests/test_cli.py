import json

import pytest

from nasbench_sim.cli import main

from .conftest import INCEPTION_HASH


def test_query_prints_metrics_as_json(partial, capsys, golden):
    spec = golden[INCEPTION_HASH]["example_query_spec"]
    code = main(
        [
            "query",
            "--matrix",
            json.dumps(spec["matrix"]),
            "--ops",
            ",".join(spec["ops"]),
            "--table",
            "partial",
            "--json",
            "--quiet",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["hash"] == INCEPTION_HASH and out["trainable_parameters"] == 2_694_282
    assert "modelled" in out["table"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["query", "--matrix", "[[0,1],[0,0]]", "--ops", "input,conv5x5"], "last op must be 'output'"),
        (["query", "--matrix", "[[0,1,0],[0,0,1],[0,0,0]]", "--ops", "input,conv5x5,output"], "unknown op 'conv5x5'"),
        (["query", "--matrix", "[[0,1],[0,0]", "--ops", "input,output"], "not valid JSON"),
        (
            ["query", "--matrix", "[[0,1],[0,0]]", "--ops", "input,output", "--table", "nonsense"],
            "unknown table 'nonsense'",
        ),
        (["data", "convert", "/nonexistent/file.tfrecord"], "no such file"),
    ],
)
def test_bad_input_gives_a_clear_error_not_a_traceback(argv, message, capsys, space):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_data_info_names_the_table(partial, capsys):
    assert main(["data", "info", "--table", "partial", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "real partial" in out and "modelled:" in out and "optimum" in out


def test_unknown_command_lists_choices(capsys):
    with pytest.raises(SystemExit):
        main(["frobnicate"])
    assert "invalid choice" in capsys.readouterr().err
