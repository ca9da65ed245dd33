"""Property tests of the parsers of outside input in the harness: seeds and budgets.

Every input either works (and then means what it says) or raises ConfigError; nothing else escapes.
"""

import math

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from nasbench_sim.errors import ConfigError
from nasbench_sim.harness.inputs import parse_seeds
from nasbench_sim.harness.run import Budget

#: Seed specs built from the characters that matter, plus any text at all.
_SEED_TEXT = st.one_of(
    st.text(alphabet="0123456789-, ", max_size=16),
    st.lists(
        st.one_of(
            st.integers(-3, 300).map(str),
            st.tuples(st.integers(-3, 300), st.integers(-3, 300)).map(lambda r: f"{r[0]}-{r[1]}"),
            st.sampled_from(["0-200000", "1e3", "0x10", "", " ", "--1", "1-", "-", "٣", "1_0"]),
        ),
        max_size=5,
    ).map(",".join),
    st.text(max_size=12),
)
_NUMBERS = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(max_size=6),
    st.integers(-5, 5).map(np.int64),
)


def _expected_seeds(text: str) -> set[int]:
    """What a well-formed spec means: the union of its numbers and inclusive ranges."""
    out: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if "-" in part[1:]:
            lo, hi = (int(x) for x in part.split("-", 1))
            out.update(range(lo, hi + 1))
        elif part:
            out.add(int(part))
    return out


@settings(max_examples=300, deadline=None)
@given(text=_SEED_TEXT)
def test_any_seeds_text_parses_to_what_it_says_or_raises_config_error(text):
    # Catches any other exception escaping, a spec read as something else than it says, and a range
    # too large to run being expanded in memory (0-99999999999 took all memory before it was refused).
    try:
        seeds = parse_seeds(text)
    except ConfigError:
        event("refused")
        return
    event("parsed")
    assert seeds and seeds == sorted(set(seeds)) and seeds[0] >= 0
    assert set(seeds) == _expected_seeds(text)


@settings(max_examples=200, deadline=None)
@given(values=st.one_of(st.lists(_NUMBERS, max_size=6), st.builds(range, st.integers(-3, 10), st.integers(-3, 10))))
def test_any_iterable_of_seeds_parses_or_raises_config_error(values):
    # Catches int(inf) escaping as OverflowError and 2.5 silently becoming seed 2.
    try:
        seeds = parse_seeds(values)
    except ConfigError:
        return
    assert seeds and seeds == sorted(set(seeds)) and seeds[0] >= 0
    assert set(seeds) == {int(v) for v in values}
    assert all(float(v) == int(v) for v in values if not isinstance(v, str))


@settings(max_examples=300, deadline=None)
@given(queries=st.one_of(st.none(), _NUMBERS), seconds=st.one_of(st.none(), _NUMBERS))
def test_any_budget_is_exactly_one_positive_finite_limit_or_raises_config_error(queries, seconds):
    # Catches a budget that can never be spent (inf seconds: the run would never end), 2.5 queries
    # silently becoming 2, and any other exception escaping the validation.
    try:
        budget = Budget(queries=queries, seconds=seconds)
    except ConfigError:
        return
    if budget.queries is not None:
        assert budget.seconds is None and type(budget.queries) is int and budget.queries >= 1
        assert budget.spent(budget.queries, 0.0) and not budget.spent(budget.queries - 1, math.inf)
    else:
        assert math.isfinite(budget.seconds) and budget.seconds > 0
        assert budget.spent(0, budget.seconds) and not budget.spent(10**9, budget.seconds / 2)
    assert budget.describe()


@pytest.mark.parametrize("seeds", ["0-2000000", "0-100000", "0-99999,100000-100001", range(200_000)])
def test_more_seeds_than_any_comparison_runs_are_refused(seeds):
    # Regression: a range was expanded into a set before anything checked it (0-99999999999 took all memory).
    with pytest.raises(ConfigError, match="more than 100,000 seeds"):
        parse_seeds(seeds)
