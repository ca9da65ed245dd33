"""The oracle's official-API semantics: lookups by hash, official statistics, repeat counts, pinned draws."""

from dataclasses import replace

import numpy as np
import pytest

from nasbench_sim.bench import BenchmarkTable, Oracle
from nasbench_sim.errors import MissingDataError, MissingRepeatError, OutOfDomainError
from nasbench_sim.space import Cell

from ..conftest import INCEPTION_HASH, INCEPTION_SPEC, keyed_copy

#: `numpy.random.default_rng(0).integers(0, 3, 4096)`: the first repeats a seed-0 oracle draws, in order.
SEED0 = [2, 1, 1, 0, 0, 0, 0, 0, 0, 2, 1, 2]
OFFICIAL_KEYS = [
    f"{point}_{metric}"
    for point in ("halfway", "final")
    for metric in ("training_time", "train_accuracy", "validation_accuracy", "test_accuracy")
]


@pytest.fixture
def inception():
    return Cell(INCEPTION_SPEC["matrix"], INCEPTION_SPEC["ops"])


@pytest.fixture
def holes(surrogate, space):
    """A keyed table of 3 cells: cell 0 has 2 repeats at 108 epochs, cell 1 no data at 4 epochs,
    cell 2 its budgets listed 108 first."""
    table = keyed_copy(surrogate, space, np.arange(3))
    table.data[0, 2, 3] = np.nan
    table.cells.repeat_counts[0, 3] = 2
    table.data[1, :, 0] = np.nan
    table.cells.repeat_counts[1, 0] = 0
    table.cells.epoch_order[1] = [1, 2, 3, -1]
    table.cells.epoch_order[2] = [3, 0, 1, 2]
    return table


def _repeat(table, table_row: int, result: dict, epochs: int = 108) -> int:
    """The stored repeat whose final test accuracy the result has."""
    stored = np.asarray(table.data[table_row, :, table.budget_index(epochs), 1, 2]).tolist()
    assert stored.count(result["test_accuracy"]) == 1
    return stored.index(result["test_accuracy"])


def test_hashes_are_the_files_in_file_order_without_the_space(golden_table, records, no_space):
    oracle = Oracle(golden_table, 0)
    hashes = oracle.hashes()
    assert type(hashes).__name__ == "dict_keys" and len(hashes) == 31 and INCEPTION_HASH in hashes
    assert list(hashes) == list(records) == list(oracle.hash_iterator())


def test_statistics_by_hash_have_the_official_layout_and_are_free(golden_table, records, inception, no_space):
    oracle = Oracle(golden_table, 0)
    record = records[INCEPTION_HASH]
    fixed, computed = oracle.fixed_statistics(INCEPTION_HASH), oracle.computed_statistics(INCEPTION_HASH)
    assert list(fixed) == ["module_adjacency", "module_operations", "trainable_parameters"]
    assert fixed["module_adjacency"].dtype == np.int8 and fixed["module_adjacency"].flags.writeable
    assert fixed["module_adjacency"].tolist() == record["module_adjacency"]
    assert fixed["module_operations"] == record["module_operations"] and type(fixed["trainable_parameters"]) is int
    assert computed == {int(e): repeats for e, repeats in record["computed_statistics"].items()}
    assert list(computed[108][0]) == OFFICIAL_KEYS
    fixed["module_adjacency"][0, 0] = 1  # new objects on every call
    assert oracle.metrics(inception)[0]["module_adjacency"][0, 0] == 0
    assert oracle.metrics(inception)[1] == computed
    assert oracle.get_budget_counters() == (0.0, 0)


def test_a_hash_the_table_lacks_is_a_key_error_and_an_unhashable_one_a_type_error(golden_table, no_space):
    oracle = Oracle(golden_table, 0)
    for call in (oracle.fixed_statistics, oracle.computed_statistics, oracle.query_hash):
        with pytest.raises(MissingDataError, match="covers 31 of 423,624 cells"):
            call("0" * 32)
        with pytest.raises(TypeError, match="unhashable"):
            call([INCEPTION_HASH])
    assert oracle.get_budget_counters() == (0.0, 0)


def test_query_hash_is_the_query_of_its_cell(golden_table, inception):
    by_cell, by_hash = Oracle(golden_table, 4), Oracle(golden_table, 4)
    for epochs, halfway in ((108, False), (12, True), (4, False)):
        a, b = by_cell.query(inception, epochs, halfway), by_hash.query_hash(INCEPTION_HASH, epochs, halfway)
        assert a.pop("module_adjacency").tolist() == b.pop("module_adjacency").tolist() and a == b
    assert by_cell.get_budget_counters() == by_hash.get_budget_counters()


def test_dense_tables_answer_by_hash_too(surrogate, space):
    oracle = Oracle(surrogate, 0, space=space)
    module_hash = space.hashes[7].decode()
    assert len(oracle.hashes()) == len(space) and next(iter(oracle.hashes())) == space.hashes[0].decode()
    assert list(oracle.computed_statistics(module_hash)) == [4, 12, 36, 108]
    assert oracle.fixed_statistics(module_hash)["module_adjacency"].flags.writeable
    assert oracle.query_hash(module_hash)["test_accuracy"] in np.asarray(surrogate.data[7, :, 3, 1, 2]).tolist()
    assert oracle.metrics_of_row(7)[1] == oracle.computed_statistics(module_hash)


def test_a_drawn_repeat_the_table_lacks_is_an_index_error_and_a_missing_budget_a_key_error(holes, space):
    oracle = Oracle(holes, 3)
    cell, empty = space.cell(0), space.cell(1)
    outcomes = []
    for _ in range(12):
        try:
            outcomes.append(_repeat(holes, 0, oracle.query(cell)))
        except MissingRepeatError as exc:
            assert "it has 2 of 3" in str(exc) and isinstance(exc, IndexError)
            outcomes.append("IndexError")
    draws = np.random.default_rng(3).integers(0, 3, 12).tolist()
    assert outcomes == [r if r < 2 else "IndexError" for r in draws] and "IndexError" in outcomes
    assert oracle.total_epochs_spent == 108 * sum(r < 2 for r in draws)  # failing queries are free
    with pytest.raises(MissingDataError, match="no data for 4 epochs") as caught:
        oracle.query(empty, epochs=4)
    assert isinstance(caught.value, KeyError)
    assert list(oracle.computed_statistics(space.hashes[1].decode())) == [12, 36, 108]
    assert list(oracle.computed_statistics(space.hashes[2].decode())) == [108, 4, 12, 36]  # the file's order
    assert len(oracle.metrics(cell)[1][108]) == 2


def test_num_repeats_draws_from_more_repeats_than_the_table_has(holes, space):
    # The official API draws from its 3 configured repeats whatever the file holds.
    cells = replace(holes.cells, repeat_counts=np.ones_like(holes.cells.repeat_counts))
    one = BenchmarkTable(holes.data[:, :1].copy(), holes.trainable_parameters, holes.meta, cells=cells)
    assert {_repeat(one, 2, Oracle(one, s).query(space.cell(2))) for s in range(10)} == {0}
    official = Oracle(one, 0, num_repeats=3)
    with pytest.raises(MissingRepeatError, match=r"repeat 2 of cell .* \(it has 1 of 3\)"):
        official.query(space.cell(2))  # SEED0[0] == 2
    with pytest.raises(MissingRepeatError):
        Oracle(one, 0, num_repeats=3, space=space).query_batch(np.arange(3))


# --- pinned draws: the same seed gives the same repeats on every query path ---------------------------
def test_query_and_query_row_draw_one_stream_in_blocks(golden_table, space, inception):
    # Cell, hash and row queries share one buffered stream; a mean query draws nothing.
    oracle = Oracle(golden_table, np.random.default_rng(0), space=space)
    table_row = golden_table.cells.rows()[INCEPTION_HASH]
    row = space.index(inception)
    drawn = []
    for k in range(len(SEED0)):
        calls = (
            lambda: oracle.query_row(row),
            lambda: oracle.query(inception),
            lambda: oracle.query_hash(INCEPTION_HASH),
        )
        result = calls[k % 3]()
        oracle.query_mean_row(row)
        drawn.append(_repeat(golden_table, table_row, result))
    assert drawn == SEED0


def test_a_batch_draws_after_the_buffered_block_and_the_buffer_refills(golden_table, space, inception):
    oracle = Oracle(golden_table, 0, space=space)
    table_row = golden_table.cells.rows()[INCEPTION_HASH]
    assert _repeat(golden_table, table_row, oracle.query(inception)) == SEED0[0]
    batch = oracle.query_batch(np.full(8, space.index(inception)))
    stored = np.asarray(golden_table.data[table_row, :, 3, 1, 2]).tolist()
    assert [stored.index(v) for v in batch["test_accuracy"].tolist()] == [1, 0, 0, 2, 2, 0, 0, 1]
    refilled = Oracle(golden_table, 0, space=space)
    for _ in range(4096):
        refilled.query(inception)
    assert [_repeat(golden_table, table_row, refilled.query(inception)) for _ in range(4)] == [1, 0, 0, 2]


def test_failed_queries_draw_only_when_the_budget_lacks_data(golden_table, records, space, inception):
    # An unknown budget or a cell the file lacks fails before the draw; a budget without data after it.
    oracle = Oracle(golden_table, 0, space=space)
    table_row = golden_table.cells.rows()[INCEPTION_HASH]
    other_hash = next(h for h, r in records.items() if "4" not in r["computed_statistics"])
    other = Cell(records[other_hash]["module_adjacency"], records[other_hash]["module_operations"])
    assert _repeat(golden_table, table_row, oracle.query(inception)) == SEED0[0]
    with pytest.raises(OutOfDomainError):
        oracle.query(inception, epochs=5)
    with pytest.raises(MissingDataError):
        oracle.query(space.cell(1))
    with pytest.raises(MissingDataError):
        oracle.query(other, epochs=4)  # draws SEED0[1]
    assert _repeat(golden_table, table_row, oracle.query(inception)) == SEED0[2]
    assert oracle.get_budget_counters()[1] == 2 * 108
