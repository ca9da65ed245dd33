"""Equal-budget tuning of NP-NAS and BANANAS on tuning seeds disjoint from the reported ones; prints JSON.

Usage:
    python benchmarks/tuning.py [--table partial] [--seeds 1000-1029] [--workers 1] [--results results/tuning]
    python benchmarks/tuning.py --speed --workers 2   # NP-NAS's cheaper settings against the tuned one

With `--speed`, the variants are `SPEED_VARIANTS` instead (what NP-NAS's refit
steps were cut for after tuning), each with its paired difference to the first
and its search seconds per query (a timing: read it with the machine's load).

Each searcher gets the same number of variants (`VARIANTS`), each run for the
same seeds and 150 queries under the naszilla protocol. Reported comparisons
(`nasbench-sim reproduce bananas`) use seeds 0-199, which tuning never sees.
Prints, per variant, the mean test error (%) and its SE; the best variant of
each searcher is what its defaults should be.
"""

from __future__ import annotations

import argparse
import json
import sys

from nasbench_sim._runner import RunInterruptedError
from nasbench_sim.errors import ConfigError, NasbenchSimError

#: searcher -> variant name -> settings over the protocol's config (the same count for each searcher).
VARIANTS = {
    "np": {
        "default": {},
        "beta 0.5": {"beta": 0.5},
        "beta 2": {"beta": 2.0},
        "epistemic std": {"model": {"predictive_std": "epistemic"}},
        "truncated path encoding": {"encoding": "truncated_path"},
        "ITS acquisition": {"acquisition": "its"},
    },
    "bananas": {
        "default": {},
        "adjacency encoding": {"encoding": "adjacency"},
        "UCB beta 1": {"acquisition": "ucb", "beta": 1.0},
        "MSE loss": {"model": {"loss": "mse"}},
        "300 epochs": {"model": {"epochs": 300}},
        "10 members": {"model": {"members": 10}},
    },
}

#: NP-NAS settings tried for speed after tuning: the first is the tuned setting, the second the default since.
SPEED_VARIANTS = {
    "np": {
        "refit 100 tuned": {"model": {"refit_steps": 100}},
        "refit 60 default": {},
        "hidden 48 refit 100": {"model": {"hidden": 48, "refit_steps": 100}},
    },
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", default="partial")
    parser.add_argument("--seeds", default="1000-1029")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--results", default="results/tuning")
    parser.add_argument("--searchers", default="np,bananas")
    parser.add_argument("--speed", action="store_true", help="NP-NAS's speed variants (SPEED_VARIANTS)")
    args = parser.parse_args()
    variants = SPEED_VARIANTS if args.speed else VARIANTS
    searchers = list(SPEED_VARIANTS) if args.speed else args.searchers.split(",")
    unknown = sorted(set(searchers) - set(variants))
    if unknown:
        raise ConfigError(f"no tuning variants for {unknown} (choices: {', '.join(variants)})")

    from nasbench_sim.harness.experiment import compare

    out: dict = {"table": args.table, "seeds": args.seeds, "queries": 150, "protocol": "naszilla", "variants": {}}
    for searcher in searchers:
        out["variants"][searcher] = {}
        first = None
        for variant, settings in variants[searcher].items():
            frame = compare(
                [searcher],
                args.seeds,
                150,
                table=args.table,
                configs={searcher: settings},
                workers=args.workers,
                results=args.results,
                experiment=f"{searcher}-{variant.replace(' ', '-')}",
                device="cpu",
                progress=False,
            )
            final = frame[frame["query"] == 150]
            err = 100 * (1 - final["incumbent_mean_test"])
            entry = {"settings": settings, "mean_test_error_pct": round(float(err.mean()), 3)}
            entry["se"] = round(float(err.std(ddof=1) / len(err) ** 0.5), 3)
            if args.speed:
                err = err.set_axis(final["seed"].to_numpy())
                first = err if first is None else first
                paired = err - first.loc[err.index]
                entry["paired_difference_to_first"] = round(float(paired.mean()), 3)
                entry["paired_se"] = (
                    round(float(paired.std(ddof=1) / len(paired) ** 0.5), 3) if len(paired) > 1 else 0.0
                )
                entry["search_seconds_per_query"] = round(float(frame["search_seconds"].mean()), 4)
            out["variants"][searcher][variant] = entry
            print(json.dumps({searcher: {variant: entry}}), flush=True)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    status = 0
    try:
        main()
    except RunInterruptedError as exc:  # Ctrl-C inside a batch: says how much finished
        print(f"tuning benchmark: {exc}", file=sys.stderr)
        status = 130
    except NasbenchSimError as exc:
        print(f"tuning benchmark: error: {exc}", file=sys.stderr)
        status = 2
    except KeyboardInterrupt:
        print("tuning benchmark: interrupted; finished runs are kept, a rerun resumes", file=sys.stderr)
        status = 130
    sys.exit(status)  # outside the handlers, so the stopped worker pool is released before exit
