"""The shared I/O helpers: atomic writes and the sweeping of what killed writers left."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

from nasbench_sim._io import atomic_write_bytes, atomic_write_npy_dir, read_npy_dir


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_temporary_files_of_killed_writers_are_swept_at_the_next_write(tmp_path):
    # Catches `.tmp` folders left by kill -9 staying forever (a converted table's scratch keeps a disk full).
    target = tmp_path / "table"
    dead = _dead_pid()
    stale_dir = tmp_path / f".table.{dead}.abc123.tmp"
    stale_dir.mkdir()
    (stale_dir / "data.npy").write_bytes(b"x" * 1000)
    live = tmp_path / f".table.{os.getppid()}.def456.tmp"  # a writer that is still running
    live.mkdir()
    atomic_write_npy_dir(target, {"x": np.arange(3)}, {"about": "t"})
    assert not stale_dir.exists() and live.exists()
    arrays, _ = read_npy_dir(target)
    assert arrays["x"].tolist() == [0, 1, 2]
    stale_file = tmp_path / f".note.{dead}.zz.tmp"
    stale_file.write_bytes(b"half")
    atomic_write_bytes(tmp_path / "note", b"whole")
    assert not stale_file.exists() and (tmp_path / "note").read_bytes() == b"whole"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == [live.name]
