from dataclasses import dataclass

import numpy as np
import pytest

from nasbench_sim.errors import ConfigError
from nasbench_sim.multiobjective import registry
from nasbench_sim.multiobjective.registry import build_searcher, register, resolve
from nasbench_sim.multiobjective.run import run_experiment
from nasbench_sim.space.sampling import random_cell
from nasbench_sim.testing import check_multiobjective_searcher


@dataclass(frozen=True, kw_only=True)
class FewestEdgesConfig:
    tries: int = 5


class FewestEdges:
    """A user's searcher: of `tries` random cells, the one with the fewest edges."""

    def __init__(self, config: FewestEdgesConfig, rng: np.random.Generator) -> None:
        self.config, self.rng = config, rng

    def ask(self):
        return min((random_cell(self.rng) for _ in range(self.config.tries)), key=lambda c: c.num_edges)

    def tell(self, cell, objectives):
        pass


@pytest.fixture
def clean_registry(monkeypatch):
    monkeypatch.setattr(registry, "MO_SEARCHERS", dict(registry.MO_SEARCHERS))


def test_a_users_searcher_runs_by_class_by_reference_and_registered(surrogate, tmp_path, clean_registry):
    reference = f"{__name__}:FewestEdges"
    assert resolve(FewestEdges)[:2] == ("fewestedges", FewestEdgesConfig)
    assert resolve(reference)[0] == "fewestedges"
    assert register(FewestEdges, "few") == "few" and resolve("few")[2] is FewestEdges
    assert build_searcher("few", np.random.default_rng(0), tries=2).config.tries == 2
    frame = run_experiment(surrogate, ["test_error", "params"], ["mo-rs", reference], [0], 12, tmp_path, progress=False)
    assert sorted(frame["algorithm"].unique()) == ["fewestedges", "mo-rs"]
    assert {rule for rule, failure in check_multiobjective_searcher(reference, queries=20).items() if failure} == set()


def test_things_that_are_not_searchers_are_one_clear_error(clean_registry):
    with pytest.raises(ConfigError, match="is not a multi-objective searcher class"):
        resolve("numpy:ndarray")
    with pytest.raises(ConfigError, match="a multi-objective searcher is a name"):
        resolve(3)
    with pytest.raises(ConfigError, match="bad algorithm name"):
        register(FewestEdges, "no/slash")


def test_a_plugin_packages_entry_point_is_found_by_name(clean_registry, monkeypatch):
    class EntryPoint:
        name = "fewest"

        def load(self):
            return FewestEdges

    def entry_points(group):
        assert group == registry.PLUGIN_GROUP
        return [EntryPoint()]

    monkeypatch.setattr(registry.metadata, "entry_points", entry_points)
    assert resolve("fewest")[2] is FewestEdges
    with pytest.raises(ConfigError, match=r"choices: mo-rs, .*, fewest"):
        resolve("nothing")


class NSGA2:
    """A user's class whose default name is a built-in's."""

    def __init__(self, config, rng):
        self.rng = rng

    def ask(self):
        return random_cell(self.rng)

    def tell(self, cell, objectives):
        pass


@dataclass(frozen=True, kw_only=True)
class NeedsWidthConfig:
    width: int


class NeedsWidth(FewestEdges):
    config_class = NeedsWidthConfig


def test_a_name_taken_by_another_class_or_given_twice_is_refused(surrogate, tmp_path, clean_registry):
    # Catches a user's NSGA2 silently reusing (or dropping) the built-in nsga2's runs.
    with pytest.raises(
        ConfigError, match=r"would be named 'nsga2', which is nasbench_sim\.multiobjective\.search\.NSGA2"
    ):
        resolve(f"{__name__}:NSGA2")
    with pytest.raises(ConfigError, match="a searcher is given twice"):
        run_experiment(surrogate, ["test_error", "params"], ["mo-rs", "mo-rs"], [0], 5, tmp_path, progress=False)
    register(NSGA2, "my-nsga2")
    run_experiment(surrogate, ["test_error", "params"], ["my-nsga2"], [0], 5, tmp_path, progress=False)
    register(FewestEdges, "my-nsga2")  # another class under that name: its finished run is not reused
    with pytest.warns(UserWarning, match="another class"):
        run_experiment(surrogate, ["test_error", "params"], ["my-nsga2"], [0], 5, tmp_path, progress=False)


def test_settings_and_answers_that_cannot_work_are_one_clear_error(surrogate, space, clean_registry):
    from nasbench_sim.errors import OutOfDomainError
    from nasbench_sim.multiobjective.run import Scoring, run_multiobjective

    with pytest.raises(ConfigError, match=r"needswidth: cannot build NeedsWidthConfig .*width"):
        build_searcher(NeedsWidth, np.random.default_rng(0))
    with pytest.raises(ConfigError, match="unknown setting widht"):
        build_searcher(NeedsWidth, np.random.default_rng(0), widht=3)
    with pytest.raises(ConfigError, match="population_size must be at least 2"):
        build_searcher("nsga2", np.random.default_rng(0), population_size=1)
    with pytest.raises(ConfigError, match="do not trade off on this table"):
        Scoring.of(surrogate, ["params", "flops"], space)

    class Nothing:
        def ask(self):
            return None

        def tell(self, cell, objectives):
            pass

    scoring = Scoring.of(surrogate, ["test_error", "params"], space)
    with pytest.raises(OutOfDomainError, match=r"Nothing.ask\(\) returned None: it must return a Cell"):
        run_multiobjective(Nothing(), surrogate, scoring, 3, np.random.default_rng(0), space)
