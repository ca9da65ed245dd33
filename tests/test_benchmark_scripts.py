"""The benchmark scripts' own arithmetic (their timings are not tested; see benchmarks/)."""

import dataclasses
import importlib.util
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location("harness_benchmark", Path(__file__).parents[1] / "benchmarks/harness.py")
harness_benchmark = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(harness_benchmark)


@pytest.mark.parametrize("algorithm", ["gp", "np"])
def test_phase_breakdown_has_no_negative_phase_nor_double_counting(surrogate, algorithm):
    # Regression: the model fits, which the lock-step runner makes outside `ask_steps`, were also
    # subtracted from its time, so 'acquisition and selection' came out negative (-57.9 s for NP-NAS).
    from nasbench_sim.harness.protocol import protocol
    from nasbench_sim.harness.run import Budget
    from nasbench_sim.harness.worker import RunChunk, pack, space_folder

    config = protocol("naszilla").config_for(algorithm)
    if algorithm == "np":  # fewer steps, still enough that the fits outweigh the acquisition
        config = dataclasses.replace(config, model=dataclasses.replace(config.model, steps=150, refit_steps=50))
    seeds = (0, 1)
    from nasbench_sim.search.registry import algorithm as spec_of

    chunk = RunChunk(
        algorithm,
        pack(spec_of(algorithm), config),
        seeds,
        (surrogate.folder,) * 2,
        (0, 0),
        str(space_folder()),
        Budget(queries=25),
        "mean",
    )
    phases = harness_benchmark.phase_breakdown(chunk)
    phases.pop("total (profiled)")
    assert phases.pop("runner and rest") > -0.05, phases  # the measured phases never add up to more than the whole
    assert min(phases.values()) >= 0, phases
    assert phases["model fit + predict"] > 0 and phases["candidate pool"] > 0


def test_every_benchmark_imports_public_names_that_exist():
    # Catches a script importing a name that a refactor removed (benchmarks/surrogate.py once asked
    # plots for PALETTE and _label) or reaching for a private one.
    import ast
    import importlib

    problems = []
    for script in sorted((Path(__file__).resolve().parents[1] / "benchmarks").glob("*.py")):
        for node in ast.walk(ast.parse(script.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("nasbench_sim"):
                module = importlib.import_module(node.module)
                for alias in node.names:
                    if alias.name.startswith("_") or not hasattr(module, alias.name):
                        problems.append(f"{script.name}: {node.module}.{alias.name}")
    assert not problems, problems


def test_simulator_cost_counts_every_query_of_the_run(surrogate):
    # A small version of the simulator benchmark: its arithmetic, not its speed.
    out = harness_benchmark.simulator_cost(surrogate, workers=8, seconds=2e4)
    assert out["queries"] > 8 and out["simulated_wall_clock_reached"] >= 2e4
    assert 0 < out["without_searcher_seconds_per_1000_queries"] <= out["run_loop_seconds_per_1000_queries"]


def test_proxies_benchmark_prints_its_answer_and_correlations(space, surrogate_cache, tmp_path):
    # A small version of benchmarks/proxies.py (4 cells, the counts only) on the surrogate table.
    import json
    import subprocess
    import sys

    script = Path(__file__).parents[1] / "benchmarks" / "proxies.py"
    argv = ["--table", "surrogate", "--cells", "4", "--proxies", "params,flops", "--workers", "1"]
    argv += ["--folder", str(tmp_path / "p"), "--quiet"]
    out = subprocess.run([sys.executable, str(script), *argv], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    assert result["cells"] == 4 and set(result["correlations"]) == {"params", "flops"}
    assert result["answer"].startswith("On 4 cells")


def test_predictors_benchmark_writes_its_figure_and_scores(space, surrogate_cache, tmp_path):
    # A small version of benchmarks/predictors.py: 2 models, 2 sizes, 2 seeds, 60 test cells.
    import json
    import subprocess
    import sys

    script = Path(__file__).parents[1] / "benchmarks" / "predictors.py"
    argv = ["--table", "surrogate", "--models", "gp,rf", "--sizes", "20,40", "--seeds", "2", "--test-size", "60"]
    argv += ["--figure", str(tmp_path / "k.png")]
    out = subprocess.run([sys.executable, str(script), *argv], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    assert (tmp_path / "k.png").exists() and len(result["results"]) == 2 * 2 * 2
    assert all(-1 <= r["kendall"] <= 1 and r["mae"] >= 0 for r in result["results"])


def test_zero_cost_benchmark_scores_the_studys_cells(tmp_path):
    # A small version of benchmarks/zero_cost_mnist.py: the study's 20 cells, 1 seed, scikit-learn digits.
    import json
    import subprocess
    import sys

    root = Path(__file__).parents[1]
    argv = [
        "--seeds",
        "2",
        "--batch",
        "16",
        "--mnist",
        "digits",
        "--summary",
        str(root / "docs/activesel/summary.json"),
    ]
    out = subprocess.run(
        [sys.executable, str(root / "benchmarks" / "zero_cost_mnist.py"), *argv],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout)
    assert result["cells"] == 20 and set(result["proxies"]) >= {"synflow", "naswot", "snip", "grad_norm", "jacob_cov"}
    assert all(-1 <= v["kendall_tau"] <= 1 for v in result["proxies"].values())
