import pytest

from nasbench_sim.errors import ConfigError
from nasbench_sim.harness.protocol import PROTOCOLS, protocol
from nasbench_sim.search.registry import ALGORITHMS


def test_naszilla_settings_are_the_reference_implementations():
    # The values the protocol issue lists (naszilla code defaults and its default experiment list).
    p = protocol("naszilla")
    assert p.mode == "mean" and p.default_budget.queries == 150
    re = p.config_for("re")
    assert (re.num_init, re.population_size, re.tournament_size, re.with_replacement) == (10, 29, 10, True)
    assert re.mutation.edge_probability == pytest.approx(1 / 21) and re.mutation.op_probability == pytest.approx(0.2)
    assert p.config_for("rs").dedup == "paths" and p.config_for("ls").dedup == "paths"
    bananas = p.config_for("bananas")
    assert (bananas.num_init, bananas.batch_size, bananas.encoding, bananas.acquisition) == (
        10,
        10,
        "truncated_path",
        "its",
    )
    assert (bananas.model.members, bananas.model.layers, bananas.model.width, bananas.model.epochs) == (5, 10, 20, 150)
    assert bananas.model.loss == "mae" and bananas.model.lr == 0.01
    gp = p.config_for("gp")
    assert gp.batch_size == 1 and gp.acquisition == "ucb" and gp.pool.subsample == 200
    assert p.published["rs"] == 6.341 and p.published_optimum_error == 5.682


def test_nb101_is_the_official_api_semantics():
    p = protocol("nb101")
    assert p.mode == "single" and p.default_budget.seconds is not None
    re = p.config_for("re")
    assert (re.population_size, re.tournament_size, re.with_replacement, re.mutation.mutation_rate) == (
        50,
        10,
        False,
        0.5,
    )
    assert p.config_for("rs").dedup is None


def test_every_protocol_config_belongs_to_a_registered_algorithm():
    for p in PROTOCOLS.values():
        for name, config in p.configs.items():
            assert isinstance(config, ALGORITHMS[name].config)


def test_unknown_protocol_lists_the_choices():
    with pytest.raises(ConfigError, match=r"unknown protocol 'x' \(choices: naszilla, nb101\)"):
        protocol("x")
