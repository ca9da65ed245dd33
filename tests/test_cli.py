import json

import pytest

from nasbench_sim.cli import main

from .conftest import INCEPTION_HASH, INCEPTION_SPEC, INCEPTION_STORED


def test_query_prints_metrics_as_json(surrogate, capsys):
    matrix, ops = json.dumps(INCEPTION_SPEC["matrix"]), ",".join(INCEPTION_SPEC["ops"])
    code = main(["query", "--matrix", matrix, "--ops", ops, "--table", "surrogate", "--json", "--quiet"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["hash"] == INCEPTION_HASH and out["trainable_parameters"] == 2_694_282
    assert "modelled" in out["table"]
    assert out["module_adjacency"] == INCEPTION_STORED["module_adjacency"]  # the stored spec, not the query's


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
        # Regression: a 3-D matrix must name its shape, not raise from inside numpy.
        (["query", "--matrix", "[[[0]]]", "--ops", "input,output"], "matrix must be 2-D, got shape (1, 1, 1)"),
        # A matrix nested 20,000 deep gave a RecursionError traceback.
        (["query", "--matrix", "[" * 20_000 + "]" * 20_000, "--ops", "input,output"], "a cell's matrix is at most 7x7"),
        (["query", "--matrix", "[" * 3_000 + "]" * 3_000, "--ops", "input,output"], "not valid JSON: RecursionError"),
    ],
)
def test_bad_input_gives_a_clear_error_not_a_traceback(argv, message, capsys, space):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not json", "not a JSON space digest"),
        (b"\xff\xfe", "not a JSON space digest"),
        (b"[1, 2]", "not a space digest, it lacks num_unique_cells"),
        (
            b'{"num_unique_cells": 423624}',
            "not a space digest, it lacks num_unique_by_num_vertices, sorted_hashes_sha256",
        ),
    ],
)
def test_a_bad_space_digest_is_a_clear_error_before_any_enumeration(tmp_path, capsys, no_space, content, message):
    # Regression: a non-JSON digest gave a JSONDecodeError traceback, one missing keys a KeyError, and only
    # after the space was loaded or enumerated (no_space fails the test if it is).
    path = tmp_path / "digest.json"
    path.write_bytes(content)
    assert main(["data", "space", "--digest", str(path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"{path}: {message}" in err and "Traceback" not in err


def test_data_info_names_the_table(surrogate, capsys):
    assert main(["data", "info", "--table", "surrogate", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("table: SURROGATE") and "modelled:" in out and "optimum" in out


def test_unknown_command_lists_choices(capsys):
    with pytest.raises(SystemExit):
        main(["frobnicate"])
    assert "invalid choice" in capsys.readouterr().err


def test_data_convert_of_a_small_file_leaves_the_default_and_info_reports_its_coverage(
    fresh_data, small_tfrecord, capsys
):
    # Regression: after converting a 22-cell file, `data info` reported 423,624 cells and it became the default.
    assert main(["data", "convert", str(small_tfrecord), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "coverage: 22 of 423,624 cells" in out and "the default table is unchanged" in out
    assert main(["data", "info", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("table: SURROGATE") and "[incomplete: used only when named by path]" in out
    assert main(["data", "info", "--table", str(small_tfrecord), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "covering 22 of 423,624 cells" in out and "optimum by mean validation over the file's 22 cells" in out
    assert "108 epochs: 22 cells, 3 repeats each" in out


def test_data_info_shows_the_surrogates_fidelity(fresh_data, capsys):
    assert main(["data", "info", "--table", "surrogate", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert (
        "surrogate fidelity on 42,362 held-out cells: Spearman 0.967, Kendall tau 0.844, 1000-best overlap 0.573" in out
    )


def test_query_and_compare_on_a_small_file(fresh_data, small_tfrecord, capsys):
    # Named by path, a small file answers the cells it has, and says how many it covers for the others.
    spec = INCEPTION_SPEC
    argv = ["query", "--matrix", json.dumps(spec["matrix"]), "--ops", ",".join(spec["ops"]), "--quiet"]
    assert main([*argv, "--table", str(small_tfrecord), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["hash"] == INCEPTION_HASH
    assert main(["query", "--matrix", "[[0,1],[0,0]]", "--ops", "input,output", "--table", str(small_tfrecord)]) == 2
    assert "covers 22 of 423,624 cells" in capsys.readouterr().err
    assert main(["compare", "--table", str(small_tfrecord), "--quiet"]) == 2
    assert "a comparison needs a table that covers every cell" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (OSError(28, "No space left on device", "/data/tables/x/data.npy"), "/data/tables/x/data.npy: No space left"),
        (OSError(30, "Read-only file system", "/results"), "/results: Read-only file system (EROFS)"),
        (PermissionError(13, "Permission denied", "/results/e"), "/results/e: Permission denied (EACCES)"),
    ],
)
def test_an_os_error_anywhere_is_one_line_naming_the_path(monkeypatch, capsys, error, message):
    # Catches a full disk or a read-only results folder ending in a traceback (the CLI caught only its own errors).
    from nasbench_sim.cli import data

    def fail(args):
        raise error

    monkeypatch.setattr(data, "_cmd_data_space", fail)
    assert main(["data", "space"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nasbench-sim: error: ") and message in err and err.count("\n") == 1
