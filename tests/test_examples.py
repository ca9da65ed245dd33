"""The example plugin under examples/plugin: installed, it is a searcher of the CLI; named, it runs uninstalled.

Catches the entry-point group, `--help`'s name list or `module:Class` on the command line going
unread, and workers that cannot find a plugin's class.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ROOT / "examples" / "plugin"
PIP = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index"]
RUN = ["compare", "--table", "surrogate", "--seeds", "0-1", "--budget", "12", "--workers", "2", "--quiet"]


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nasbench_sim", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=600
    )


def _env(pythonpath: Path) -> dict[str, str]:
    from nasbench_sim._io import data_dir

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    # The checkout first, so this process's nasbench_sim is the one tested; then the plugin.
    return {**env, "PYTHONPATH": f"{ROOT}{os.pathsep}{pythonpath}", "NASBENCH_SIM_DATA": str(data_dir())}


def _copy_plugin(dest: Path) -> Path:
    """The plugin's sources (a build in place leaves metadata that would make it look installed)."""
    return Path(shutil.copytree(PLUGIN, dest, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__")))


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    pytest.importorskip("setuptools")
    source = _copy_plugin(tmp_path_factory.mktemp("plugin-src") / "plugin")
    target = tmp_path_factory.mktemp("plugin-site")
    subprocess.run(
        [*PIP, "--target", str(target), str(source)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return target


def test_an_installed_plugin_is_listed_and_runs_on_two_workers(installed, surrogate, tmp_path):
    env = _env(installed)
    listed = _cli(["compare", "--help"], env, tmp_path)
    assert listed.returncode == 0 and "greedy" in listed.stdout.replace("\n", " ")
    done = _cli(
        [*RUN, "--algorithms", "greedy,rs", "--results-dir", str(tmp_path / "results")],
        env,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (summary,) = (tmp_path / "results").glob("*/summary.md")
    assert "| Greedy mutation" in summary.read_text()


def test_a_class_named_on_the_command_line_runs_without_installing(surrogate, tmp_path):
    env = _env(_copy_plugin(tmp_path / "plugin"))
    done = _cli(
        [*RUN, "--algorithms", "nbs_example_plugin.greedy:GreedyMutation,rs", "--results-dir", str(tmp_path / "r")],
        env,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| Greedy mutation" in next((tmp_path / "r").glob("*/summary.md")).read_text()
    listed = _cli(["compare", "--help"], env, tmp_path)
    assert listed.returncode == 0 and "greedy" not in listed.stdout  # importable, not installed: no plugin


def test_the_plugins_own_contract_test_passes(installed):
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", str(PLUGIN / "tests")],
        capture_output=True,
        text=True,
        env=_env(installed),
        cwd=PLUGIN,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:]
