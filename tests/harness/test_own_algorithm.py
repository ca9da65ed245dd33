"""A user's searcher runs like a built-in one: from a notebook cell, on workers and Dask, redrawn in a fresh process.

A notebook cell is emulated by `exec` into a module that is not importable (as `__main__` in a
notebook is not), so the class can only reach a worker by value.
"""

from __future__ import annotations

import json
import subprocess
import sys
import types
import warnings

import numpy as np
import pytest

from nasbench_sim.harness.experiment import compare

NOTEBOOK_CELL = '''
import dataclasses
from nasbench_sim.space.sampling import mutate, random_cell

@dataclasses.dataclass(frozen=True)
class WalkConfig:
    restart: float = 0.3

class Walk:
    """Mutate the best cell so far; restart at random now and then."""
    label = "Notebook walk"

    def __init__(self, config: WalkConfig, rng, *, device="auto"):
        self.config, self.rng, self.best = config, rng, None

    def ask(self):
        if self.best is None or self.rng.random() < self.config.restart:
            return random_cell(self.rng)
        return mutate(self.best[0], self.rng)

    def tell(self, cell, value):
        if self.best is None or value > self.best[1]:
            self.best = (cell, value)

@dataclasses.dataclass(frozen=True)
class SloppyConfig:
    dedup: str = "paths"

class Sloppy:
    """Declares naszilla's path dedup, then asks for one cell again and again."""

    def __init__(self, config: SloppyConfig, rng, *, device="auto"):
        self.cell = random_cell(rng)

    def ask(self):
        return self.cell

    def tell(self, cell, value):
        pass
'''


def _notebook() -> types.ModuleType:
    module = types.ModuleType("notebook_cell")  # not in sys.modules: importable nowhere
    exec(compile(NOTEBOOK_CELL, "<notebook cell>", "exec", dont_inherit=True), module.__dict__)
    return module


def _run(folder, algorithms, seeds=(0, 1), **kwargs):
    options = {"table": "surrogate", "results": folder.parent, "experiment": folder.name, "progress": False}
    return compare(algorithms, seeds, 16, **{**options, **kwargs})


def _by_seed(frame, name):
    rows = frame[frame["algorithm"] == name].sort_values(["seed", "query"])
    return rows.groupby("seed")["hash"].apply(list).to_dict()


def test_a_notebook_class_runs_alike_in_process_on_workers_and_on_dask(space, tmp_path):
    # Catches a class defined in a notebook being looked up by name in a worker (it cannot be).
    distributed = pytest.importorskip("distributed")
    walk = _notebook().Walk
    local = _run(tmp_path / "one", {"walk": walk, "rs": "rs"})
    pooled = _run(tmp_path / "two", {"walk": walk, "rs": "rs"}, workers=2)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        remote = _run(tmp_path / "dask", {"walk": walk, "rs": "rs"}, scheduler=c.scheduler_address)
    expected = _by_seed(local, "walk")
    assert len(expected) == 2 and all(len(h) == 16 for h in expected.values())
    assert _by_seed(pooled, "walk") == expected and _by_seed(remote, "walk") == expected
    assert _by_seed(pooled, "rs") == _by_seed(local, "rs")


def test_plot_in_a_fresh_process_keeps_the_label_and_colour(space, tmp_path):
    # Catches a fresh process redrawing a user's algorithm as a grey bare name.
    folder = tmp_path / "exp"
    _run(folder, {"walk": _notebook().Walk, "re": "re"})
    style = json.loads((folder / "metadata.json").read_text())["algorithms"]["walk"]["style"]
    assert style["label"] == "Notebook walk" and style["color"] != "#777777"
    done = subprocess.run(
        [sys.executable, "-m", "nasbench_sim", "plot", str(folder)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| Notebook walk" in (folder / "summary.md").read_text()
    import matplotlib.pyplot as plt

    pixels = plt.imread(folder / "final_error.png")[..., :3].reshape(-1, 3)
    rgb = np.array([int(style["color"][i : i + 2], 16) / 255 for i in (1, 3, 5)])
    assert (np.abs(pixels - rgb).max(axis=1) < 0.02).sum() > 50, "the recorded colour is not in the figure"


def test_a_searcher_that_breaks_its_declared_dedup_is_reported(space, tmp_path):
    # Catches the summary saying "no repeated cells" while a user's searcher repeated them.
    folder = tmp_path / "exp"
    with pytest.warns(UserWarning, match="sloppy declares dedup='paths' but repeated a cell's op paths 30 time"):
        frame = _run(folder, {"sloppy": _notebook().Sloppy, "rs": "rs"})
    assert frame.loc[frame["algorithm"] == "rs", "path_repeat"].sum() == 0
    from nasbench_sim.harness.plots import plot_experiment, summary

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plot_experiment(folder)
    text = (folder / "summary.md").read_text()
    assert (
        "**warning**: Sloppy declares dedup='paths' but repeated a cell's op paths 30 time(s) (15.00 per run)" in text
    )
    table = summary(folder).set_index("algorithm")
    assert table.loc["Sloppy", "path repeats/run"] == 15 and table.loc["Random search", "path repeats/run"] == 0
