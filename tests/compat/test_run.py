"""`compat.run.run_official`: unmodified scripts for the official API, run on nasbench_sim's tables."""

from __future__ import annotations

import importlib.util
import json
import random
import sys
from pathlib import Path

import pytest

from nasbench_sim.compat import api
from nasbench_sim.compat.run import run_official
from nasbench_sim.errors import ConfigError, DataFileNotFoundError

DATA = Path(__file__).parent / "data"
SEARCH = DATA / "official_style_search.py"


@pytest.fixture(autouse=True)
def _keep_random_state():
    state = random.getstate()
    yield
    random.setstate(state)


def _script(tmp_path: Path, text: str, name: str = "script.py") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_every_official_import_form_gets_the_compat_api_for_that_run_only(fresh_data, tmp_path, capsys):
    script = _script(
        tmp_path,
        "import sys\n"
        "from nasbench import api\n"
        "import nasbench.api\n"
        "from nasbench.api import NASBench, ModelSpec\n"
        "print(api is nasbench.api, NASBench is api.NASBench, ModelSpec.__module__, __name__, sys.argv[1:])\n"
        "print(sys.path[0])\n",
    )
    meta_path, path, argv = list(sys.meta_path), list(sys.path), list(sys.argv)
    assert run_official(script, ["--x", "1"], table="surrogate") == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["True True nasbench_sim.compat.model_spec __main__ ['--x', '1']", str(tmp_path)]
    assert sys.meta_path == meta_path and sys.path == path and sys.argv == argv  # all restored
    assert "nasbench" not in sys.modules and importlib.util.find_spec("nasbench") is None


def test_a_missing_path_is_answered_by_the_chosen_table_and_an_existing_one_is_read(
    fresh_data, golden_tfrecord, tmp_path, capsys
):
    script = _script(
        tmp_path,
        "import sys\nfrom nasbench import api\n"
        "nb = api.NASBench(sys.argv[1], seed=0)\n"
        "print(len(nb.hash_iterator()), sorted(nb.valid_epochs))\n",
    )
    assert run_official(script, ["path/to/your/dataset"], table="surrogate") == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[-1] == "423624 [4, 12, 36, 108]"
    assert captured.err.splitlines() == [
        "nasbench_sim: 'path/to/your/dataset' is not here; using the SURROGATE of NB101 (modelled, not real data), "
        "realization 0, in its place"
    ]
    assert run_official(script, [str(golden_tfrecord)], table="surrogate") == 0  # exists: read as the official API
    captured = capsys.readouterr()
    assert captured.out.splitlines()[-1] == "31 [4, 12, 36, 108]" and "in its place" not in captured.err


def test_the_search_script_runs_unmodified_and_draws_the_official_trajectory(
    fresh_data, golden_tfrecord, records, capsys
):
    # The script seeds `random`, picks cells with random.choice and queries; NASBench(seed=...) reseeds `random`
    # and each query draws randint(0, 2) from it, so the whole trajectory is the official API's.
    def run(seed: int) -> dict:
        assert run_official(SEARCH, ["--seed", str(seed), "--queries", "25"], table=str(golden_tfrecord)) == 0
        captured = capsys.readouterr()
        assert "'/path/to/nasbench_only108.tfrecord' is not here; using the official NAS-Bench-101 data" in captured.err
        return json.loads(captured.out.splitlines()[-1])

    result = run(3)
    pool = list(records)  # hash_iterator() order: the file's, as the records were written
    rng = random.Random(3)  # the script's random.seed(3), then NASBench(seed=3) -> random.seed(3) again
    expected = []
    for _ in range(25):
        module_hash = pool[rng.choice(range(len(pool)))]
        stored = records[module_hash]["computed_statistics"]["108"][rng.randint(0, 2)]
        expected.append([module_hash, stored["final_validation_accuracy"], stored["final_test_accuracy"]])
    assert [row[:3] for row in result["history"]] == expected
    assert result["epochs_spent"] == 25 * 108
    assert result["time_spent"] == pytest.approx(sum(row[3] for row in result["history"]), rel=1e-12)
    assert run(3) == result and run(4) != result


def test_the_search_script_samples_random_specs_on_a_dense_table(fresh_data, surrogate, capsys):
    argv = ["--sampler", "random_spec", "--queries", "5", "--data", "nasbench_only108.tfrecord"]
    assert run_official(SEARCH, argv, table="surrogate") == 0
    captured = capsys.readouterr()
    assert "'nasbench_only108.tfrecord' is not here; using the SURROGATE" in captured.err
    history = json.loads(captured.out.splitlines()[-1])["history"]
    assert len(history) == 5 and all(0 < row[2] < 1 for row in history)


def test_a_real_nasbench_package_is_never_shadowed(fresh_data, tmp_path, monkeypatch, capsys):
    # A real (here: fake) nasbench on sys.path wins; the table is not even opened (this name would fail).
    real = tmp_path / "site"
    (real / "nasbench").mkdir(parents=True)
    (real / "nasbench" / "__init__.py").write_text("")
    (real / "nasbench" / "api.py").write_text("WHO = 'the real nasbench'\n")
    monkeypatch.syspath_prepend(str(real))
    script = _script(tmp_path, "from nasbench import api\nprint(api.WHO)\n")
    assert run_official(script, [], table="no-such-table") == 0
    captured = capsys.readouterr()
    assert captured.out == "the real nasbench\n"
    assert captured.err.splitlines() == [
        f"nasbench_sim: a real nasbench package is importable ({real / 'nasbench' / '__init__.py'}); "
        "the script runs with it"
    ]
    assert "nasbench" not in sys.modules  # forgotten after the run, as the stand-in is


def test_a_real_nasbench_beside_the_script_or_added_by_it_wins_too(fresh_data, tmp_path, capsys):
    # The official repository's example.py sits beside its nasbench/ package: that package is the real one.
    for folder in (tmp_path / "clone", tmp_path / "elsewhere"):
        (folder / "nasbench").mkdir(parents=True)
        (folder / "nasbench" / "__init__.py").write_text(f"WHO = {folder.name!r}\n")
    beside = _script(tmp_path / "clone", "import nasbench\nprint(nasbench.WHO)\n")
    assert run_official(beside, [], table="surrogate") == 0
    assert capsys.readouterr().out == "clone\n"
    # A script that puts a checkout on sys.path itself: the stand-in is the last finder, so the checkout wins.
    adds = _script(tmp_path, f"import sys\nsys.path.insert(0, {str(tmp_path / 'elsewhere')!r})\n"
                   "import nasbench\nprint(nasbench.WHO)\n")  # fmt: skip
    assert run_official(adds, [], table="surrogate") == 0
    assert capsys.readouterr().out == "elsewhere\n"


def test_exit_status_and_tracebacks_are_the_scripts_own(fresh_data, tmp_path, capsys):
    assert run_official(_script(tmp_path, "import sys\nsys.exit(3)\n"), [], table="surrogate") == 3
    assert run_official(_script(tmp_path, "raise SystemExit('bye')\n"), [], table="surrogate") == 1
    assert capsys.readouterr().err.splitlines()[-1] == "bye"
    failing = _script(tmp_path, "def f():\n    raise ValueError('boom')\n\nf()\n", "failing.py")
    assert run_official(failing, [], table="surrogate") == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):\n") and err.endswith("ValueError: boom\n")
    assert str(failing) in err and "runpy" not in err and "compat/run.py" not in err  # the user's frames only
    assert run_official(_script(tmp_path, "x = (\n"), [], table="surrogate") == 1
    assert "SyntaxError" in capsys.readouterr().err
    assert run_official(_script(tmp_path, "raise KeyboardInterrupt\n"), [], table="surrogate") == 130
    assert run_official(_script(tmp_path, "import nasbench.lib.graph_util\n"), [], table="surrogate") == 1
    assert "nasbench_sim stands in for nasbench and nasbench.api only" in capsys.readouterr().err


def test_the_stand_in_is_the_official_api_otherwise(fresh_data, tmp_path, capsys):
    # The script's NASBench is a compat NASBench (same classes, same errors); NASBench() without a path, which
    # the official API refuses, gets the chosen table too.
    script = _script(
        tmp_path,
        "from nasbench import api\nnb = api.NASBench()\n"
        "print(type(nb).__name__, type(nb).__module__, api.OutOfDomainError.__name__)\n",
    )
    assert run_official(script, [], table="surrogate") == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[-1] == "NASBench nasbench.api OutOfDomainError"
    assert "NASBench() names no file; using the SURROGATE" in captured.err
    assert api.NASBench.__module__ == "nasbench_sim.compat.api"  # the package's own class is untouched


def test_bad_input_is_a_named_error(fresh_data, tmp_path):
    with pytest.raises(DataFileNotFoundError, match="no such script"):
        run_official(tmp_path / "absent.py", [])
    with pytest.raises(ConfigError, match="not a file"):
        run_official(tmp_path, [])
    script = _script(tmp_path, "print('never')\n")
    with pytest.raises(ConfigError, match="unknown table 'nonsense'"):
        run_official(script, [], table="nonsense")
    with pytest.raises(ConfigError, match="realization must be a whole number >= 0"):
        run_official(script, [], table="surrogate", realization=-1)
