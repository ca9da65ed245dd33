"""`nasbench-sim run-official`: the official README's example and official-style scripts, run unmodified."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nasbench_sim.cli import main

from ..conftest import INCEPTION_STORED

DATA = Path(__file__).resolve().parents[1] / "compat" / "data"
EXAMPLE = DATA / "official_readme_example.py"


def test_the_official_readme_example_runs_unmodified(fresh_data, golden_tfrecord):
    # google-research/nasbench's example.py (absl app, `from nasbench import api`, a placeholder dataset path),
    # run as a separate command line as a user would; a small official-format file stands in for the dataset.
    pytest.importorskip("absl", reason="the example runs under absl.app (absl-py, installed with tensorboard)")
    assert "NASBENCH_TFRECORD = '/path/to/nasbench.tfrecord'" in EXAMPLE.read_text()  # the placeholder, as shipped
    command = [sys.executable, "-m", "nasbench_sim", "run-official", str(EXAMPLE), "--table", str(golden_tfrecord)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=fresh_data)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (
        "nasbench_sim: '/path/to/nasbench.tfrecord' is not here; using the official NAS-Bench-101 data (real), "
        "covering 31 of 423,624 cells in its place" in done.stderr
    )
    out = done.stdout
    assert "Querying an Inception-like model." in out and "Iterating over unique models in the dataset." in out
    assert f"'trainable_parameters': {INCEPTION_STORED['trainable_parameters']}" in out
    assert "(" in out.split("Querying an Inception-like model.")[1] and ", 108)" in out  # get_budget_counters()
    assert out.count("repeat number: 3") == 4  # every budget of the Inception-like cell, 3 repeats each
    assert "Traceback" not in done.stderr


def test_table_realization_and_script_arguments(fresh_data, surrogate, tmp_path, capsys):
    script = tmp_path / "probe.py"
    script.write_text(
        "import sys\nfrom nasbench import api\n"
        "nb = api.NASBench('path/to/your/dataset')\n"
        "print(sys.argv[1:], nb.table.label)\n"
        "sys.exit(int(sys.argv[-1]))\n"
    )
    code = main(["run-official", str(script), "--table", "surrogate", "--realization", "0", "--", "--seed", "4"])
    captured = capsys.readouterr()
    assert code == 4
    assert captured.out.splitlines() == [
        "Loading dataset from file... This may take a few minutes...",  # the official API's two lines
        "Loaded dataset in 0 seconds",
        "['--seed', '4'] SURROGATE of NB101 (modelled, not real data)",
    ]
    assert captured.err.strip() == (
        "nasbench_sim: 'path/to/your/dataset' is not here; using the SURROGATE of NB101 (modelled, not real data), "
        "realization 0, in its place"
    )
    assert main(["run-official", "--table", "surrogate", str(script), "--", "0"]) == 0  # options before SCRIPT too
    assert main(["run-official", "--", str(script), "--table", "surrogate", "--", "--table", "5"]) == 5
    assert capsys.readouterr().out.splitlines()[-1].startswith("['--table', '5'] SURROGATE")


def test_a_real_nasbench_package_wins_from_the_command_line(fresh_data, tmp_path, capsys):
    # Running example.py inside a clone of the official repository: its nasbench/ package is the real one.
    (tmp_path / "nasbench").mkdir()
    (tmp_path / "nasbench" / "__init__.py").write_text("")
    (tmp_path / "nasbench" / "api.py").write_text("NASBench = 'real'\n")
    script = tmp_path / "example.py"
    script.write_text("from nasbench import api\nprint(api.NASBench)\n")
    assert main(["run-official", str(script), "--table", "surrogate"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "real\n" and "a real nasbench package is importable" in captured.err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run-official"], "run-official needs a SCRIPT"),
        (["run-official", "/nonexistent/script.py"], "no such script: '/nonexistent/script.py'"),
        (
            ["run-official", "{tmp}/ok.py", "3"],
            "'3' is not an option of run-official; the script's arguments go after --",
        ),
        (["run-official", "{tmp}"], "not a file (run-official runs one Python script)"),
        (["run-official", "{tmp}/ok.py", "--seed", "3"], "'--seed 3' is not an option of run-official"),
        (["run-official", "{tmp}/ok.py", "--realization", "x"], "argument --realization: invalid int value: 'x'"),
        (["run-official", "{tmp}/ok.py", "--table", "nonsense"], "unknown table 'nonsense'"),
        (["run-official", "{tmp}/ok.py", "--realization", "-1"], "realization must be a whole number >= 0"),
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(argv, message, fresh_data, tmp_path, capsys):
    (tmp_path / "ok.py").write_text("raise SystemExit('the script must not run')\n")
    assert main([a.format(tmp=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
