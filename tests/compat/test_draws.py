"""The repeat draws of `compat.api.NASBench`, pinned: the same seed gives the same repeats."""

import pytest

from nasbench_sim.bench.tfrecord import encode_row, write_tfrecord
from nasbench_sim.compat import api
from nasbench_sim.errors import MissingDataError, MissingRepeatError

from ..conftest import INCEPTION_HASH, golden_payloads

#: `numpy.random.default_rng(seed).integers(0, 3, 4096)`: the first repeats drawn for `seed`, in order.
DRAWS = {0: [2, 1, 1, 0, 0, 0, 0, 0, 0, 2, 1, 2], 3: [2, 0, 0, 0, 0, 2, 2, 1, 0, 0, 0, 1]}
NOT_IN_FILE = api.ModelSpec([[0, 1], [0, 0]], ["input", "output"])


def _spec(record: dict) -> api.ModelSpec:
    return api.ModelSpec(record["module_adjacency"], record["module_operations"])


def _repeat(record: dict, result: dict, epochs: int = 108) -> int:
    stored = [r["final_test_accuracy"] for r in record["computed_statistics"][str(epochs)]]
    assert stored.count(result["test_accuracy"]) == 1
    return stored.index(result["test_accuracy"])


def test_queries_draw_the_seeded_sequence(fresh_data, golden_tfrecord, records, capsys):
    record = records[INCEPTION_HASH]
    nb = api.NASBench(str(golden_tfrecord), seed=0)
    assert [_repeat(record, nb.query(_spec(record))) for _ in DRAWS[0]] == DRAWS[0]


def test_failed_queries_draw_only_when_the_budget_lacks_data(fresh_data, golden_tfrecord, records, capsys):
    record = records[INCEPTION_HASH]
    other = next(r for r in records.values() if "4" not in r["computed_statistics"])
    nb = api.NASBench(str(golden_tfrecord), seed=0)
    assert _repeat(record, nb.query(_spec(record))) == DRAWS[0][0]
    with pytest.raises(api.OutOfDomainError):
        nb.query(_spec(record), epochs=5)
    with pytest.raises(MissingDataError, match="covers"):
        nb.query(NOT_IN_FILE)
    with pytest.raises(MissingDataError, match="no data for 4 epochs"):
        nb.query(_spec(other), epochs=4)  # draws DRAWS[0][1]
    nb.get_metrics_from_spec(_spec(record))
    assert _repeat(record, nb.query(_spec(record))) == DRAWS[0][2]


def test_a_missing_repeat_fails_where_the_draw_is_past_the_files_repeats(fresh_data, records, tmp_path, capsys):
    record = records[INCEPTION_HASH]
    rows = [
        encode_row(INCEPTION_HASH, 108, record["module_adjacency"], record["module_operations"], s, 1)
        for s in record["computed_statistics"]["108"][:2]
    ]
    path = tmp_path / "two_repeats.tfrecord"
    write_tfrecord(path, rows + golden_payloads({h: r for h, r in records.items() if h != INCEPTION_HASH}))
    nb = api.NASBench(str(path), seed=3)
    outcomes = []
    for _ in DRAWS[3]:
        try:
            outcomes.append(_repeat(record, nb.query(_spec(record))))
        except MissingRepeatError as exc:
            assert "repeat 2 of cell" in str(exc) and "it has 2 of 3" in str(exc)
            outcomes.append("IndexError")
    assert outcomes == [r if r < 2 else "IndexError" for r in DRAWS[3]]
