"""Are the partial table's modelled repeats exchangeable with the real repeat 0? Prints JSON.

Usage:
    python benchmarks/exchangeability.py [--realizations 0,1,2,3,4] [--pairs 20000] [--seed 0]
        [--optimum-draws 40] [--prior-on-all-cells] [--cross-fitted K]
        [--searches rs,re,ls --seeds 0-199 --workdir DIR]

For each noise realization of the partial table, the statistics of
`bench.exchangeability.repeat_statistics` of the real repeat 0 and of the
modelled repeats 1 and 2 (108-epoch test accuracy): cells above
93.5/93.8/94.0/94.2%, the top-1000 quantiles, the 99.9% quantile, the
distribution per level band, the correlation of random mutation pairs (the
same pairs, both cells above 80% in repeat 0, for every repeat), and the share of
a top-1% cell's one-edit neighbours that are top-1% too; then each modelled
repeat's ratios and differences against the real one, and their ranges over
the 10 modelled worlds; and the tail counts the noise model expects (given the
real repeat 0, and of repeat 0 itself), which separate the model's bias from
the chance of one draw, with the probability that 10 worlds all land within
15% of the real count; and the distribution of the table's optimum (best mean
of 3) over fresh draws of the modelled repeats, against the official 94.318%.
`--prior-on-all-cells` repeats the last two with the mean prior refitted on
every trained cell instead of the calibration sample (in-sample for every cell,
so a top cell's own value shapes its prior), and `--cross-fitted K` with K
priors, each fold's cells judged under a prior fitted on the other folds (no
cell's value used twice; `bench.model_tail.cross_fitted`).

With `--searches`, each searcher also runs (naszilla protocol, 150 queries,
the same seeds) in every single-repeat world, where the searcher sees one
repeat's test accuracy and is scored on it (`bench.repeat0_world`): the real
repeat-0 world and the 10 modelled ones. Per searcher: each world's mean test
error and seed SE, the modelled worlds' mean and between-world SD, the real
world's result as a quantile of the modelled worlds' and its distance from
their mean in between-world SDs.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from nasbench_sim.bench import open_table
from nasbench_sim.bench.exchangeability import (
    compare_repeats,
    counts_between_worlds,
    mutation_pairs,
    neighbour_rows,
    repeat_statistics,
)
from nasbench_sim.bench.model_tail import (
    Models,
    cross_fitted,
    expected_counts,
    optimum_given_repeat0,
    optimum_summary,
    refit_prior,
)
from nasbench_sim.bench.noise import DEFAULT_NOISE
from nasbench_sim.bench.sources import surrogate_level
from nasbench_sim.bench.table import METRICS, POINTS
from nasbench_sim.space import CellSpace


def searches(args: argparse.Namespace, space: CellSpace, real: np.ndarray, repeats: dict) -> dict:
    """Each searcher in every single-repeat world (see the module docstring)."""
    import tempfile
    from pathlib import Path

    from nasbench_sim.bench.repeat0_world import single_repeat_world
    from nasbench_sim.harness.experiment import compare
    from nasbench_sim.harness.stats import final_runs

    work = Path(args.workdir or tempfile.mkdtemp(prefix="worlds-"))
    worlds = {"real repeat 0": (real, "repeat0")}
    for r, values in repeats.items():
        for k in (1, 2):
            worlds[f"realization {r} repeat {k}"] = (values[:, k], "modelled-repeat")
    errors: dict[str, dict[str, tuple[float, float]]] = {}
    for name, (values, kind) in worlds.items():
        folder = work / name.replace(" ", "-")
        if not (folder / "meta.json").exists():
            meta = {"kind": kind, "source": f"{name} of the partial table", "real_fields": [], "modelled_fields": []}
            single_repeat_world(values, space, meta).save(folder)
        frame = compare(args.searches, args.seeds, 150, table=folder, results=work / "runs",
                        experiment=name.replace(" ", "-"), workers=2, progress=False)  # fmt: skip
        final = final_runs(frame).groupby("algorithm")["test_error_pct"]
        errors[name] = {a: (float(m), float(e)) for (a, m), e in zip(final.mean().items(), final.sem(), strict=True)}
    out = {}
    for algorithm in errors["real repeat 0"]:
        modelled = np.array([e[algorithm][0] for n, e in errors.items() if n != "real repeat 0"])
        real_mean, real_se = errors["real repeat 0"][algorithm]
        sd = float(modelled.std(ddof=1))
        out[algorithm] = {
            "real_world": [round(real_mean, 4), round(real_se, 4)],
            "modelled_worlds": {
                n: [round(e[algorithm][0], 4), round(e[algorithm][1], 4)]
                for n, e in errors.items()
                if n != "real repeat 0"
            },
            "modelled_mean": round(float(modelled.mean()), 4),
            "between_world_sd": round(sd, 4),
            "real_quantile_among_modelled": round(float((modelled < real_mean).mean()), 3),
            "real_minus_modelled_mean_in_sd": round((real_mean - float(modelled.mean())) / sd, 2) if sd else None,
        }
    return out


def model_checks(
    args: argparse.Namespace, model: Models, level: np.ndarray, real: np.ndarray, realizations: int, stream: int
) -> dict:
    """What one noise model (or its cross-fitted parts) expects of the tail counts and the optimum."""
    rng = np.random.default_rng([args.seed, stream])
    draws = optimum_given_repeat0(model, level, real, args.optimum_draws, rng)
    return {
        "expected_counts": expected_counts(model, level, real, realizations=realizations),
        "optimum": optimum_summary(draws, realizations),
    }


def refitted_priors(args: argparse.Namespace, level: np.ndarray, real: np.ndarray, realizations: int) -> dict:
    """The model checks with the mean prior refitted on every trained cell (in-sample for all of them),
    and with `--cross-fitted K`, refitted K times, each fold's cells on the other folds' (out of sample)."""
    models = {}
    if args.prior_on_all_cells:
        models["prior_fitted_on_all_cells"] = refit_prior(DEFAULT_NOISE, level, real, np.arange(level.size))
    if args.cross_fitted:
        folds = cross_fitted(DEFAULT_NOISE, level, real, args.cross_fitted, np.random.default_rng([args.seed, 3]))
        models[f"prior_cross_fitted_{args.cross_fitted}_folds"] = folds
    return {name: model_checks(args, model, level, real, realizations, 2) for name, model in models.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--realizations", default="0,1,2,3,4")
    parser.add_argument("--pairs", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--optimum-draws", type=int, default=40, help="draws of the modelled repeats (default 40)")
    parser.add_argument(
        "--prior-on-all-cells", action="store_true", help="also refit the mean prior on every trained cell and compare"
    )
    parser.add_argument(
        "--cross-fitted", type=int, metavar="K", help="also refit the mean prior out of fold (K folds) and compare"
    )
    parser.add_argument("--searches", help="searchers to run in every single-repeat world, e.g. rs,re,ls,gp")
    parser.add_argument("--seeds", default="0-199", help="seeds of those searches (default 0-199)")
    parser.add_argument("--workdir", help="folder for the worlds and their runs (default: a new temporary one)")
    args = parser.parse_args()
    if args.optimum_draws < 1:
        parser.error(f"--optimum-draws must be at least 1, got {args.optimum_draws}")
    if args.cross_fitted is not None and args.cross_fitted < 2:
        parser.error(f"--cross-fitted needs at least 2 folds, got {args.cross_fitted}")
    start = time.perf_counter()
    space = CellSpace.load_or_build(progress=False)
    level = surrogate_level(space)
    rng = np.random.default_rng(args.seed)
    tables = {int(r): open_table("partial", realization=int(r), progress=False) for r in args.realizations.split(",")}
    final, test = POINTS.index("final"), METRICS.index("test_accuracy")
    repeats = {
        r: np.asarray(t.data[:, :, t.epochs.index(108), final, test], dtype=np.float64) for r, t in tables.items()
    }
    real = next(iter(repeats.values()))[:, 0]  # repeat 0 is the same real array in every realization
    pairs = mutation_pairs(space, rng.choice(np.flatnonzero(real > 0.8), args.pairs, replace=False), rng)
    pairs = pairs[real[pairs[:, 1]] > 0.8]  # both above 80% in repeat 0 (failed trainings would dominate)
    tops = np.unique(np.concatenate([np.flatnonzero(v >= np.quantile(v, 0.99)) for r in repeats.values() for v in r.T]))
    around = neighbour_rows(space, tops)
    real_stats = repeat_statistics(real, level, pairs, around)
    result: dict = {"real_repeat0": real_stats, "realizations": {}}
    comparisons, worlds = [], []
    for r, values in repeats.items():
        block = {}
        for k in (1, 2):
            stats = repeat_statistics(values[:, k], level, pairs, around)
            versus = compare_repeats(real_stats, stats)
            comparisons.append(versus)
            worlds.append(stats)
            block[f"repeat{k}"] = {"statistics": stats, "versus_real": versus}
        result["realizations"][str(r)] = block
    result["modelled_worlds_range"] = {
        key: [round(min(c[key] for c in comparisons), 4), round(max(c[key] for c in comparisons), 4)]
        for key in comparisons[0]
    }
    result["counts_between_worlds"] = counts_between_worlds(real_stats, worlds)
    result.update(model_checks(args, DEFAULT_NOISE, level, real, len(repeats), 1))
    result["optimum"]["realizations_pct"] = {
        str(r): round(100 * float(v.mean(axis=1).max()), 3) for r, v in repeats.items()
    }
    result.update(refitted_priors(args, level, real, len(repeats)))
    if args.searches:
        result["searches"] = searches(args, space, real, repeats)
    result["seconds"] = round(time.perf_counter() - start, 1)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
