import numpy as np
import pytest

from nasbench_sim.bench.conversion import convert_tfrecord
from nasbench_sim.bench.tfrecord import iter_tfrecord
from nasbench_sim.cli import main


def test_export_of_a_small_file_round_trips_and_says_what_it_wrote(fresh_data, small_tfrecord, tmp_path, capsys):
    out = tmp_path / "out" / "again.tfrecord"
    assert main(["data", "export", str(small_tfrecord), str(out), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "wrote 66 records (22 cells, 108 epochs)" in captured.out and "placeholders" in captured.out
    assert captured.err == ""  # --quiet: no progress bar
    original = convert_tfrecord(small_tfrecord, tmp_path / "original", progress=False)
    back = convert_tfrecord(out, tmp_path / "back", progress=False)
    assert np.array_equal(back.data, original.data)
    assert back.cells.hashes.tolist() == original.cells.hashes.tolist()
    assert sum(1 for _ in iter_tfrecord(out)) == 66


def test_realization_reaches_open_table_and_modelled_tables_carry_a_note(monkeypatch, tmp_path, capsys):
    import nasbench_sim.bench.sources as sources

    from ..bench.test_export import keyed_table

    table, _ = keyed_table(num_cells=2, epochs=(108,))
    table.meta["kind"] = "surrogate"
    asked = {}

    def fake_open_table(spec, *, realization=0, progress=True):
        asked.update(spec=spec, realization=realization, progress=progress)
        return table

    monkeypatch.setattr(sources, "open_table", fake_open_table)
    assert main(["data", "export", "surrogate", str(tmp_path / "x.tfrecord"), "--realization", "3", "--quiet"]) == 0
    assert asked == {"spec": "surrogate", "realization": 3, "progress": False}
    assert "does not say that it holds modelled values" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--layout", "everything"], "unknown layout 'everything' (choices: only108, full)"),
        (["--layout", "full"], "layout full needs budgets [4, 12, 36, 108] epochs"),
        (["--realization", "-1"], "realization must be a whole number >= 0, got -1"),
        (["--realization", "x"], "--realization must be a whole number >= 0, got 'x'"),
    ],
)
def test_bad_options_are_one_clear_line_and_exit_2(fresh_data, small_tfrecord, tmp_path, capsys, extra, message):
    assert main(["data", "export", str(small_tfrecord), str(tmp_path / "x.tfrecord"), "--quiet", *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert not (tmp_path / "x.tfrecord").exists()


def test_an_unwritable_out_is_one_line_naming_the_path(fresh_data, small_tfrecord, tmp_path, capsys):
    (tmp_path / "file").write_text("a file where a folder should be")
    assert main(["data", "export", str(small_tfrecord), str(tmp_path / "file" / "x.tfrecord"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(tmp_path / "file") in err
