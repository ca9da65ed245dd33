import errno
import random

import numpy as np
import pytest

from nasbench_sim.bench.tfrecord import encode_row, write_tfrecord
from nasbench_sim.compat import api
from nasbench_sim.compat.tf_errors import NotFoundError
from nasbench_sim.errors import DataFileNotFoundError, DataFormatError, MissingDataError, MissingRepeatError
from nasbench_sim.space.cellspace import CACHE_NAME

from ..conftest import INCEPTION_HASH, golden_payloads

C3, C1, MP = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"
NOT_IN_FILE = api.ModelSpec([[0, 1], [0, 0]], ["input", "output"])  # a valid NB101 cell in no file of the tests


def _spec(record: dict) -> api.ModelSpec:
    return api.ModelSpec(record["module_adjacency"], record["module_operations"])


@pytest.fixture
def nb(fresh_data, golden_tfrecord, capsys):
    nasbench = api.NASBench(str(golden_tfrecord), seed=0)
    capsys.readouterr()
    return nasbench


def test_readme_flow_on_a_fresh_machine_without_the_cell_space(fresh_data, no_space, golden_tfrecord, records, capsys):
    # The official README flow; a small file opens without enumerating the space (60 s before).
    (fresh_data / CACHE_NAME).unlink()  # no cached space either
    nb = api.NASBench(str(golden_tfrecord), seed=0)
    out = capsys.readouterr().out
    assert out.startswith("Loading dataset from file... This may take a few minutes...\nLoaded dataset in ")
    spec_dict = records[INCEPTION_HASH]["example_query_spec"]
    spec = api.ModelSpec(matrix=spec_dict["matrix"], ops=spec_dict["ops"])
    data = nb.query(spec)
    finals = [r["final_test_accuracy"] for r in records[INCEPTION_HASH]["computed_statistics"]["108"]]
    assert data["test_accuracy"] in finals  # a stored repeat, bit for bit
    assert nb.get_budget_counters() == (data["training_time"], 108)
    fixed, computed = nb.get_metrics_from_hash(INCEPTION_HASH)
    assert fixed["trainable_parameters"] == 2_694_282 and list(computed) == [4, 12, 36, 108]
    assert computed[108] == records[INCEPTION_HASH]["computed_statistics"]["108"]
    assert nb.get_metrics_from_spec(spec)[0]["module_operations"] == records[INCEPTION_HASH]["module_operations"]
    assert nb.valid_epochs == {4, 12, 36, 108}
    assert spec.hash_spec(nb.config["available_ops"]) == INCEPTION_HASH
    assert api.NASBench(str(golden_tfrecord)).table.folder == nb.table.folder  # converted once


def test_hash_iterator_is_the_files_hashes_in_file_order(fresh_data, records, tmp_path, capsys):
    # Regression: it yielded all 423,624 hashes, sorted.
    path = tmp_path / "reversed.tfrecord"
    write_tfrecord(path, golden_payloads(records)[::-1])
    hashes = api.NASBench(str(path)).hash_iterator()
    assert type(hashes).__name__ == "dict_keys" and len(hashes) == 31
    assert list(hashes) == list(records)[::-1] and INCEPTION_HASH in hashes
    with pytest.raises(TypeError):
        next(hashes)  # dict_keys is not an iterator, as in the official API


def test_a_cell_missing_from_the_file_raises_key_error_naming_its_coverage(fresh_data, small_tfrecord, records):
    # Regression: query raised OutOfDomainError and get_metrics_* returned empty statistics.
    nb = api.NASBench(str(small_tfrecord))
    missing_hash = NOT_IN_FILE.hash_spec(nb.config["available_ops"])
    for call in (
        lambda: nb.query(NOT_IN_FILE),
        lambda: nb.get_metrics_from_spec(NOT_IN_FILE),
        lambda: nb.get_metrics_from_hash(missing_hash),
        lambda: nb.fixed_statistics[missing_hash],
    ):
        with pytest.raises(KeyError, match="covers 22 of 423,624 cells") as caught:
            call()
        assert isinstance(caught.value, MissingDataError) and not isinstance(caught.value, api.OutOfDomainError)
    assert nb.is_valid(NOT_IN_FILE) and nb.get_budget_counters() == (0.0, 0)
    excluded = _spec(list(records.values())[30])  # a records cell beyond the file's 22
    with pytest.raises(KeyError):
        nb.query(excluded)


@pytest.mark.parametrize("key", [None, 0, "not-a-hash", INCEPTION_HASH.upper(), INCEPTION_HASH.encode()])
def test_get_metrics_from_hash_of_odd_keys_raises_key_error(nb, key):
    # Regression: get_metrics_from_hash(None) must be a KeyError as recorded for the official API.
    with pytest.raises(KeyError):
        nb.get_metrics_from_hash(key)


def test_unhashable_keys_raise_type_error_and_non_specs_attribute_error(nb):
    with pytest.raises(TypeError, match="unhashable"):
        nb.get_metrics_from_hash([INCEPTION_HASH])
    with pytest.raises(AttributeError, match="valid_spec"):
        nb.query(None)


def test_results_are_fresh_writable_copies_with_the_official_key_order(nb, records):
    # Regression: module_adjacency was read-only and shared between calls; keys came in another order.
    spec = _spec(records[INCEPTION_HASH])
    first, second = nb.query(spec), nb.query(spec)
    assert list(first) == [
        "module_adjacency",
        "module_operations",
        "trainable_parameters",
        "training_time",
        "train_accuracy",
        "validation_accuracy",
        "test_accuracy",
    ]
    adjacency = first["module_adjacency"]
    assert adjacency.dtype == np.int8 and adjacency.flags.writeable and adjacency is not second["module_adjacency"]
    adjacency[0, 0] = 1
    assert nb.get_metrics_from_hash(INCEPTION_HASH)[0]["module_adjacency"][0, 0] == 0
    first["module_operations"].append("x")
    assert "x" not in nb.query(spec)["module_operations"]
    fixed, computed = nb.get_metrics_from_hash(INCEPTION_HASH)
    assert list(computed[108][0]) == [
        f"{point}_{metric}"
        for point in ("halfway", "final")
        for metric in ("training_time", "train_accuracy", "validation_accuracy", "test_accuracy")
    ]
    assert type(fixed["trainable_parameters"]) is int and type(computed[108][0]["final_test_accuracy"]) is float


def test_statistics_config_history_and_assignable_counters(nb, records):
    # Regression: fixed_statistics, computed_statistics, history and 21 config keys were missing;
    # the counters could not be assigned.
    assert len(nb.config) == 25 and nb.config["num_repeats"] == 3 and nb.config["use_tpu"] is True
    assert nb.config["available_ops"] == [C3, C1, MP]
    assert list(nb.fixed_statistics) == list(records) and len(nb.computed_statistics) == 31
    fixed = nb.fixed_statistics[INCEPTION_HASH]
    assert list(fixed) == ["module_adjacency", "module_operations", "trainable_parameters"]
    assert nb.computed_statistics[INCEPTION_HASH][12] == records[INCEPTION_HASH]["computed_statistics"]["12"]
    assert INCEPTION_HASH in nb.computed_statistics and "nope" not in nb.fixed_statistics
    with pytest.raises(TypeError):
        nb.fixed_statistics[INCEPTION_HASH] = {}  # read-only
    assert nb.history == {}
    nb.training_time_spent, nb.total_epochs_spent = 5.0, 7
    assert nb.get_budget_counters() == (5.0, 7)
    nb.query(_spec(records[INCEPTION_HASH]), stop_halfway=True)
    assert nb.total_epochs_spent == 7 + 54
    nb.reset_budget_counters()
    assert nb.get_budget_counters() == (0.0, 0)


def test_a_missing_budget_is_a_key_error_and_a_missing_repeat_an_index_error(fresh_data, records, tmp_path):
    # Official semantics: computed_stat[epochs] -> KeyError, computed_stat[epochs][drawn repeat] -> IndexError.
    record = records[INCEPTION_HASH]
    other_hash, other = next((h, r) for h, r in records.items() if h != INCEPTION_HASH)
    stats = record["computed_statistics"]
    rows = [
        encode_row(INCEPTION_HASH, 4, record["module_adjacency"], record["module_operations"], s, 1) for s in stats["4"]
    ]
    rows += [
        encode_row(INCEPTION_HASH, 108, record["module_adjacency"], record["module_operations"], s, 1)
        for s in stats["108"][:2]
    ]
    rows += golden_payloads({other_hash: other})
    path = tmp_path / "holes.tfrecord"
    write_tfrecord(path, rows)
    nb = api.NASBench(str(path), seed=3)
    assert nb.valid_epochs == {4, 108}
    with pytest.raises(KeyError, match="no data for 4 epochs"):
        nb.query(_spec(other), epochs=4)
    outcomes = []
    for _ in range(40):
        try:
            nb.query(_spec(record))
            outcomes.append("ok")
        except IndexError as exc:
            assert isinstance(exc, MissingRepeatError) and "it has 2 of 3" in str(exc)
            outcomes.append("IndexError")
    assert set(outcomes) == {"ok", "IndexError"}
    assert nb.total_epochs_spent == 108 * outcomes.count("ok")  # failing queries are free
    assert len(nb.get_metrics_from_hash(INCEPTION_HASH)[1][108]) == 2


def test_any_path_works_and_a_missing_file_is_file_not_found(fresh_data, small_tfrecord, tmp_path):
    # Regression: paths had to end in `.tfrecord`; a missing file raised DataFormatError.
    assert len(api.NASBench(small_tfrecord).hash_iterator()) == 22  # '.data', and a Path object
    with pytest.raises(FileNotFoundError) as caught:
        api.NASBench(str(tmp_path / "absent.tfrecord"))
    assert isinstance(caught.value, DataFileNotFoundError)
    with pytest.raises(FileNotFoundError):  # no folder separator, no suffix: a path too, not an unknown table
        api.NASBench("nasbench")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataFormatError, match="not a table folder, an official-format TFRecord file"):
        api.NASBench(str(tmp_path / "notes.txt"))


def test_out_of_domain_errors_are_not_value_errors(nb, records):
    # Regression: OutOfDomainError derived from ValueError, so `except ValueError` swallowed domain errors.
    with pytest.raises(api.OutOfDomainError, match="must be one of") as caught:
        nb.query(_spec(records[INCEPTION_HASH]), epochs=5)
    assert not isinstance(caught.value, ValueError)
    assert [c.__name__ for c in api.OutOfDomainError.__mro__][-3:] == ["Exception", "BaseException", "object"]


def test_seeded_draws_follow_the_global_random_module_as_in_the_official_api(fresh_data, golden_tfrecord, records):
    # The official API seeds and draws from the global `random` module; so do we (tests/compat/test_draws.py
    # pins the repeats): the same seed repeats the sequence, an unrelated global draw between queries shifts it.
    spec = _spec(records[INCEPTION_HASH])
    state = random.getstate()
    nb = api.NASBench(str(golden_tfrecord), seed=7)
    sequence = [nb.query(spec)["test_accuracy"] for _ in range(30)]
    assert len(set(sequence)) == 3
    again = api.NASBench(str(golden_tfrecord), seed=7)
    assert [again.query(spec)["test_accuracy"] for _ in range(30)] == sequence
    shifted = api.NASBench(str(golden_tfrecord), seed=7)
    assert [(random.random(), shifted.query(spec)["test_accuracy"])[1] for _ in range(30)] != sequence
    random.setstate(state)


def test_8_vertex_specs_are_invalid_not_a_type_error(nb):
    # Deliberate difference: the official API raises TypeError (a bug in its error message).
    chain = np.eye(8, k=1, dtype=int)
    spec = api.ModelSpec(chain, ["input", *[C3] * 6, "output"])
    assert not nb.is_valid(spec)
    with pytest.raises(api.OutOfDomainError, match="too many vertices, got 8"):
        nb.query(spec)


def test_float_matrices_hash_like_integer_ones(nb, records):
    # Deliberate difference: the official API hashes a 0/1 float matrix differently (KeyError on query).
    record = records[INCEPTION_HASH]
    spec = api.ModelSpec(np.array(record["module_adjacency"], dtype=float), record["module_operations"])
    assert spec.hash_spec(nb.config["available_ops"]) == INCEPTION_HASH
    assert nb.query(spec)["trainable_parameters"] == 2_694_282
    halves = api.ModelSpec(np.array(record["module_adjacency"]) * 0.5, record["module_operations"])
    assert halves.hash_spec(nb.config["available_ops"]) != INCEPTION_HASH  # not an adjacency matrix: no cell


def test_dense_tables_through_the_official_api(surrogate, space, records, capsys):
    # A dense table (every cell; the surrogate's here): hashes ascending, values from the table.
    nb = api.NASBench("surrogate", seed=0)
    assert "SURROGATE" in capsys.readouterr().out
    hashes = nb.hash_iterator()
    assert len(hashes) == 423_624 and next(iter(hashes)) == space.hashes[0].decode()
    result = nb.query(_spec(records[INCEPTION_HASH]))
    row = space.index_of_hash(INCEPTION_HASH)
    assert np.float32(result["test_accuracy"]) in np.asarray(surrogate.data[row, :, surrogate.budget_index(108), 1, 2])
    assert result["module_adjacency"].flags.writeable
    assert list(nb.get_metrics_from_hash(INCEPTION_HASH)[1]) == [4, 12, 36, 108]  # modelled lower budgets too
    with pytest.raises(KeyError, match="not the hash of a NAS-Bench-101 cell"):
        nb.get_metrics_from_hash("f" * 32)


def test_invalid_specs_like_the_official_api():
    spec = api.ModelSpec([[0, 0], [0, 0]], ["input", "output"])
    assert not spec.valid_spec and spec.matrix is None
    with pytest.raises(ValueError, match="square"):
        api.ModelSpec([[0, 1, 0], [0, 0, 1]], ["input", "x", "output"])
    with pytest.raises(ValueError, match="upper triangular"):
        api.ModelSpec([[0, 1], [1, 0]], ["input", "output"])
    with pytest.raises(TypeError):  # pruning a tuple of ops, as in the official code
        api.ModelSpec([[0, 1, 1], [0, 0, 0], [0, 0, 0]], ("input", C3, "output"))


def test_a_missing_file_raises_tensorflows_not_found_error_saying_how_to_get_the_file(fresh_data, capsys):
    # Regression: the official API raises TensorFlow's NotFoundError (MRO NotFoundError, OpError, Exception);
    # ours was a bare DataFileNotFoundError saying only "no such file".
    with pytest.raises(NotFoundError) as caught:
        api.NASBench("nasbench_only108.tfrecord")
    error = caught.value
    assert [c.__name__ for c in type(error).__mro__][:2] == ["NotFoundError", "OpError"]
    assert isinstance(error, DataFileNotFoundError) and isinstance(error, FileNotFoundError)
    assert error.filename == "nasbench_only108.tfrecord" and error.errno == errno.ENOENT and error.error_code == 5
    message = str(error)
    assert message.startswith("nasbench_only108.tfrecord; No such file or directory.") and "\n" not in message
    assert "https://storage.googleapis.com/nasbench/nasbench_only108.tfrecord" in message
    assert "https://storage.googleapis.com/nasbench/nasbench_full.tfrecord" in message
    assert "nasbench-sim data convert FILE" in message and "NASBench() with no path" in message
    assert error.message == message
