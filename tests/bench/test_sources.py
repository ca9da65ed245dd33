import os
import re
from pathlib import Path

import pytest

from nasbench_sim.bench import sources
from nasbench_sim.bench.sources import (
    cached_official,
    content_sha256,
    convert_official,
    official_table_path,
    open_table,
    tables_dir,
)
from nasbench_sim.bench.tfrecord import write_tfrecord
from nasbench_sim.errors import ConfigError, DataFileNotFoundError, DataFormatError, MissingDataError

from ..conftest import golden_payloads, keyed_copy, only108


def _write(path: Path, records: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_tfrecord(path, golden_payloads(records))
    return path


def test_same_name_different_content_gives_different_tables(fresh_data, records, tmp_path):
    # Catches a cache keyed by file name: a second file of the same name must get its own table.
    a = convert_official(_write(tmp_path / "a" / "nasbench.tfrecord", only108(records, 5)), progress=False)
    b = convert_official(_write(tmp_path / "b" / "nasbench.tfrecord", only108(records, 9)), progress=False)
    assert (a.num_cells, b.num_cells) == (5, 9) and a.folder != b.folder
    assert Path(a.folder).name == f"official-{a.meta['source_sha256'][:24]}"


def test_a_file_overwritten_in_place_is_converted_again(fresh_data, records, tmp_path):
    # Catches a table answered from a file's old content after the file is overwritten in place.
    path = _write(tmp_path / "nasbench.tfrecord", only108(records, 5))
    assert convert_official(path, progress=False).num_cells == 5
    _write(path, only108(records, 7))
    os.utime(path, ns=(1, 1))  # even with an old mtime the size changed; the index notices
    assert convert_official(path, progress=False).num_cells == 7
    _write(path, only108(records, 5))  # back to the first content: its table is reused, not rebuilt
    assert convert_official(path, progress=False).num_cells == 5


def test_an_unchanged_file_is_not_rehashed(fresh_data, records, tmp_path, monkeypatch):
    path = _write(tmp_path / "x.tfrecord", only108(records, 3))
    first = content_sha256(path)
    calls = []
    monkeypatch.setattr(sources, "file_sha256", lambda p: calls.append(p) or "0" * 64)
    assert content_sha256(path) == first and calls == []  # from the index (same size and mtime_ns)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1))
    assert content_sha256(path) == "0" * 64 and len(calls) == 1  # touched: hashed again


def test_a_small_file_never_becomes_the_default_and_its_cache_is_small(fresh_data, small_tfrecord):
    # Catches an incomplete (22-cell) file becoming the default table, or a cache the size of the whole space.
    before = open_table().kind  # the surrogate on a fresh machine
    table = convert_official(small_tfrecord, progress=False)
    assert table.num_cells == 22 and table.coverage["cells"] == 22 and not table.complete
    assert open_table().kind == before and cached_official() is None
    with pytest.raises(ConfigError, match=r"no converted official table covers the whole space.*nasbench_22cells"):
        open_table("official")
    size = sum(f.stat().st_size for f in Path(table.folder).iterdir())
    assert size < 1_000_000, size
    assert "22 of 423,624 cells" in table.describe()
    # Named by path, it is used; a cell it lacks is a KeyError that says so.
    named = open_table(small_tfrecord)
    assert named.folder == table.folder
    with pytest.raises(MissingDataError, match="covers 22 of 423,624 cells"):
        raise named.missing_cell("043721b9c7fe8c5fad811d47d83132ec")


def test_files_are_recognised_by_content_not_name(fresh_data, small_tfrecord, tmp_path):
    assert small_tfrecord.suffix != ".tfrecord" and open_table(small_tfrecord).kind == "official"
    junk = tmp_path / "table.tfrecord"
    junk.write_bytes(b"this is not a TFRecord file at all")
    with pytest.raises(DataFormatError, match="not a table folder, an official-format TFRecord file"):
        open_table(junk)
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(DataFormatError, match="the file is empty"):
        open_table(tmp_path / "empty")
    with pytest.raises(DataFileNotFoundError, match="no such file") as missing:
        open_table(tmp_path / "absent.tfrecord")
    assert isinstance(missing.value, FileNotFoundError)
    with pytest.raises(ConfigError, match="unknown table 'nonsense'"):
        open_table("nonsense")


def test_source_order_complete_official_then_partial_then_surrogate(
    fresh_data, space, surrogate, stand_in_repeat0, golden_table, monkeypatch
):
    # The default is the best *complete* table: a converted file that covers part of the space is skipped.
    assert open_table().kind == "surrogate"
    monkeypatch.setenv("NASBENCH_SIM_NB101_REPEAT0", str(stand_in_repeat0))  # any repeat-0 array will do here
    monkeypatch.setattr(sources, "surrogate_level", lambda _, **__: surrogate.mean("test_accuracy"))  # spares 20 s
    partial = open_table()
    assert partial.kind == "partial"
    os.symlink(golden_table.folder, tables_dir() / "official-golden")  # 31 cells: not the default
    assert open_table().kind == "partial"
    complete = keyed_copy(partial, space)
    complete.meta.update(source_sha256="c" * 64, converted_at="2030-01-01T00:00:00+00:00")
    complete.save(official_table_path("c" * 64))
    chosen = open_table()
    assert chosen.kind == "official" and chosen.complete and chosen.num_cells == 423_624
    assert open_table("official").folder == chosen.folder
    assert open_table("surrogate").kind == "surrogate"


def test_a_first_time_build_is_announced_with_its_size(fresh_data, surrogate, capsys):
    # Catches `data info` building a 163 MB table without a word.
    from nasbench_sim.bench.sources import cached_table

    table = cached_table("announced", lambda: surrogate, label="test", progress=True)
    err = capsys.readouterr().err
    assert "building the test table once" in err and "built the test table:" in err and " MB in " in err
    assert table.folder is not None and (fresh_data / "tables" / "announced" / "meta.json").exists()
    cached_table("announced", lambda: surrogate, label="test", progress=True)
    assert "building" not in capsys.readouterr().err  # a cached table is opened silently


def test_a_same_size_replacement_with_its_mtime_restored_is_hashed_again(tmp_path, fresh_data):
    # Catches `cp -p` / `rsync -t` of another file of the same size being answered from the old table.
    path = tmp_path / "f.tfrecord"
    path.write_bytes(b"a" * 100)
    first = content_sha256(path)
    before = os.stat(path)
    path.write_bytes(b"b" * 100)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert content_sha256(path) != first


@pytest.mark.parametrize(
    ("spec", "kwargs", "message"),
    [
        (5, {}, "a table is a name or a path, got int"),
        (b"surrogate", {}, "a table is a name or a path, got bytes"),
        ("surrogate", {"realization": 1.5}, "realization must be a whole number >= 0, got 1.5"),
        ("surrogate", {"realization": "1"}, "realization must be a whole number >= 0, got '1'"),
    ],
)
def test_open_table_checks_its_arguments(spec, kwargs, message):
    # Catches realization=1.5 or "1" ending in a TypeError from numpy.
    with pytest.raises(ConfigError, match=re.escape(message)):
        open_table(spec, progress=False, **kwargs)
