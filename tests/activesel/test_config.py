import json
from dataclasses import replace

import pytest

from nasbench_sim.activesel.config import DEFAULT_REGIMES, KNOWN_CELLS, StudyConfig, candidate_cells
from nasbench_sim.errors import ConfigError


def test_defaults_are_the_study_configuration():
    config = StudyConfig()
    assert config.num_cells == 20 and config.random_cells >= 16 and config.seeds >= 2
    assert config.training.epochs == 1 and config.control_epochs == 2 and config.train_size is None
    assert set(DEFAULT_REGIMES) == {
        "full",
        "active",
        "random",
        "random-part",
        "el2n",
        "entropy-hist",
        "compute-matched",
    }
    assert config.selection.random_fraction == config.selection.informative_fraction == 0.25


def test_known_cells_are_the_published_ones():
    # The NB101 paper's example cell and the NB101 best cell by repeat-0 test accuracy, by their official hashes.
    assert KNOWN_CELLS["inception-like"].hash == "28cfc7874f6d200472e1a9dcd8650aa0"
    assert KNOWN_CELLS["nb101-best"].hash == "ba0a27cafe7d648aa57f7d5dd64c0b48"


def test_candidates_are_seeded_distinct_and_start_with_known_cells():
    config = StudyConfig(random_cells=6)
    cells = candidate_cells(config)
    assert [n for n, _ in cells[:4]] == list(config.known_cells)
    assert len({c.hash for _, c in cells}) == 10
    assert [c.hash for _, c in cells] == [c.hash for _, c in candidate_cells(config)]
    assert [c.hash for _, c in candidate_cells(replace(config, cell_seed=1))] != [c.hash for _, c in cells]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"regimes": ("active",)}, "must include 'full'"),
        ({"regimes": ("full", "magic")}, "unknown regime"),
        ({"regimes": ("full", "active", "active")}, "repeated regime"),
        ({"known_cells": ("resnet-like",), "random_cells": 0}, "at least 2 candidate cells"),
        ({"known_cells": ("nope",)}, "unknown known cell"),
        ({"validation_size": 0}, "validation_size must be >= 1"),
        ({"test_size": 0}, "test_size must be >= 1"),
        ({"train_size": 0}, "train_size must be >= 1"),
        ({"seeds": 0}, "seeds must be >= 1"),
        ({"workers": 0}, "workers must be >= 1"),
        ({"control_epochs": 1}, "must differ from the main epochs"),
        ({"control_regimes": ("active",)}, "control_regimes must include 'full'"),
        ({"reference_cell": "nope"}, "unknown reference_cell"),
    ],
)
def test_bad_study_config(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        StudyConfig(**kwargs)


def test_identity_is_json_and_leaves_out_workers_and_folder():
    identity = StudyConfig().identity()
    assert "workers" not in identity and "out" not in identity
    assert json.loads(json.dumps(identity)) == identity
    assert identity["training"]["batch_size"] == 32


def test_more_random_cells_than_the_space_holds_is_refused():
    # Catches `--random-cells 1000000` looping forever (the space has 423,624 cells).
    with pytest.raises(ConfigError, match="random_cells must be at most 423,622"):
        StudyConfig(random_cells=1_000_000, known_cells=("resnet-like", "vgg-like"))


def test_many_random_cells_are_distinct_rows_drawn_without_replacement(space):
    from nasbench_sim.activesel.config import REJECTION_LIMIT, candidate_cells

    config = StudyConfig(random_cells=REJECTION_LIMIT + 500, known_cells=("resnet-like",))
    cells = candidate_cells(config)
    assert len(cells) == config.num_cells and len({c.hash for _, c in cells}) == len(cells)
    assert candidate_cells(config) == cells  # seeded


@pytest.mark.parametrize("lr", [float("inf"), float("nan"), -1.0, 0.0])
def test_a_learning_rate_that_cannot_train_is_refused(lr):
    # Catches `--lr inf` training every network to 10% accuracy.
    from nasbench_sim.activesel.config import TrainConfig

    with pytest.raises(ConfigError, match="need a finite lr > 0"):
        TrainConfig(lr=lr)
