import numpy as np
import pytest

from nasbench_sim.compat import api

from ..conftest import INCEPTION_HASH


def test_readme_example_on_a_converted_official_file(golden_tfrecord, golden, space, monkeypatch, tmp_path):
    # The official README flow: NASBench(path) then query(ModelSpec(...)).
    from nasbench_sim._io import data_dir
    from nasbench_sim.space.enumeration import CACHE_NAME

    cached_space = data_dir() / CACHE_NAME  # built by the `space` fixture
    monkeypatch.setenv("NASBENCH_SIM_DATA", str(tmp_path))  # fresh table cache, same space
    (data_dir() / CACHE_NAME).symlink_to(cached_space)
    nb = api.NASBench(str(golden_tfrecord), seed=0)
    spec_dict = golden[INCEPTION_HASH]["example_query_spec"]
    spec = api.ModelSpec(matrix=spec_dict["matrix"], ops=spec_dict["ops"])
    data = nb.query(spec)
    assert set(data) == {
        "module_adjacency",
        "module_operations",
        "trainable_parameters",
        "training_time",
        "train_accuracy",
        "validation_accuracy",
        "test_accuracy",
    }
    finals = [r["final_test_accuracy"] for r in golden[INCEPTION_HASH]["computed_statistics"]["108"]]
    assert any(np.float32(data["test_accuracy"]) == np.float32(f) for f in finals)
    assert nb.get_budget_counters()[1] == 108
    fixed, computed = nb.get_metrics_from_hash(INCEPTION_HASH)
    assert fixed["trainable_parameters"] == 2_694_282 and set(computed) == {4, 12, 36, 108}
    assert nb.get_metrics_from_spec(spec)[0]["module_operations"] == golden[INCEPTION_HASH]["module_operations"]
    assert nb.valid_epochs == {4, 12, 36, 108}
    assert spec.hash_spec(nb.config["available_ops"]) == INCEPTION_HASH
    # Second open uses the cache instead of converting again.
    again = api.NASBench(str(golden_tfrecord))
    assert again.table.kind == "official"


def test_invalid_specs_like_the_official_api(golden_tfrecord):
    spec = api.ModelSpec([[0, 0], [0, 0]], ["input", "output"])
    assert not spec.valid_spec and spec.matrix is None
    with pytest.raises(ValueError, match="square"):
        api.ModelSpec([[0, 1, 0], [0, 0, 1]], ["input", "x", "output"])
    with pytest.raises(ValueError, match="upper triangular"):
        api.ModelSpec([[0, 1], [1, 0]], ["input", "output"])
    assert issubclass(api.OutOfDomainError, Exception)
