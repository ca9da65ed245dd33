"""The package installs whole: a wheel built from the source tree holds every module, and a
non-editable install in a fresh environment runs `nasbench-sim compare`.

Catches a subpackage without `__init__.py` (skipped by `packages = find:`, so a normal install
failed with `No module named 'nasbench_sim.harness'` while editable installs worked).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Left out of the copy: at the top, the checkout's caches and outputs; anywhere, Python's caches.
TOP_SKIP = {".venv", ".git", "data", "results", "build", "dist", ".pytest_cache", ".ruff_cache", ".hypothesis"}


def _copy_source(dest: Path) -> Path:
    """The checkout's sources without caches, virtual environments or results (a clean clone's content)."""

    def ignore(folder: str, names: list[str]) -> set[str]:
        top = Path(folder) == ROOT
        return {n for n in names if (top and n in TOP_SKIP) or n == "__pycache__" or n.endswith((".egg-info", ".pyc"))}

    shutil.copytree(ROOT, dest, ignore=ignore)
    (dest / "data").mkdir()
    (dest / "data" / "README.md").write_text("data cache\n")
    return dest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    pytest.importorskip("setuptools")
    source = _copy_source(tmp_path_factory.mktemp("src") / "nasbench_sim")
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (path,) = out.glob("nasbench_sim-*.whl")
    return path


def test_the_wheel_holds_every_module_of_the_source_tree(wheel):
    with zipfile.ZipFile(wheel) as archive:
        shipped = {n for n in archive.namelist() if n.startswith("nasbench_sim/")}
    source = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "nasbench_sim").rglob("*")
        if p.is_file() and p.suffix in (".py", ".json", ".npz") and "__pycache__" not in p.parts
    }
    missing = sorted(source - shipped)
    assert not missing, f"not in the wheel: {missing}"


def _dependencies_without_this_package(dest: Path) -> Path:
    """A folder of links to this environment's installed packages, less nasbench_sim itself.

    Pointing the fresh venv at the whole site-packages would let pip see the package already
    installed there (CI installs it non-editable) and skip the wheel as "already satisfied".
    """
    dest.mkdir()
    for folder in dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]):
        for entry in Path(folder).iterdir():
            if "nasbench_sim" in entry.name.lower().replace("-", "_") or entry.suffix == ".pth":
                continue
            if not (dest / entry.name).exists():
                (dest / entry.name).symlink_to(entry)
    return dest


def test_a_non_editable_install_runs_compare(wheel, tmp_path, surrogate):
    # A fresh venv holding only the wheel; its dependencies come from this environment's site-packages
    # through a .pth file (no download), so the package itself is imported from the install alone.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (site / "deps.pth").write_text(str(_dependencies_without_this_package(tmp_path / "deps")) + "\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
        env=env,
    )
    work = tmp_path / "work"
    work.mkdir()
    where = subprocess.run(
        [python, "-c", "import nasbench_sim.harness, nasbench_sim; print(nasbench_sim.__file__)"],
        check=True,
        capture_output=True,
        text=True,
        cwd=work,
        env=env,
    ).stdout.strip()
    assert Path(where).is_relative_to(venv), where
    from nasbench_sim._io import data_dir

    env["NASBENCH_SIM_DATA"] = str(data_dir())  # reuse this session's space and table caches
    done = subprocess.run(
        [
            venv / "bin" / "nasbench-sim",
            "compare",
            "--table",
            "surrogate",
            "--algorithms",
            "rs,re",
            "--seeds",
            "0-1",
            "--budget",
            "20",
            "--workers",
            "1",
            "--quiet",
            "--results-dir",
            str(work / "results"),
        ],
        capture_output=True,
        text=True,
        cwd=work,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(list((work / "results").glob("*/summary.md"))) == 1
