import pytest

from nasbench_sim.activesel.config import StudyConfig
from nasbench_sim.errors import ConfigError
from nasbench_sim.lab.config import ESTIMATORS, LabConfig


@pytest.mark.parametrize(
    "values, match",
    [
        ({"estimators": ("curve", "curve")}, "twice"),
        ({"estimators": ("nope",)}, "choices: epoch-fraction"),
        ({"fraction": 0.0}, "fraction"),
        ({"fraction": 1.0}, "fraction"),
        ({"stem_channels": 4}, "stem_channels must be 5"),
        ({"stem_channels": 8}, "below the study's"),
        ({"num_stacks": 3}, "num_stacks"),
        ({"curve_points": 3}, "curve_points"),
        ({"queries": 0}, "queries"),
        ({"study": StudyConfig(seeds=1)}, "seeds >= 2"),
        ({"workers": 2.0}, "workers must be a whole number"),
        ({"fraction": "0.5"}, "fraction must be a number"),
        ({"estimators": "curve"}, "tuple of names"),
    ],
)
def test_bad_settings_are_one_clear_config_error(values, match):
    with pytest.raises(ConfigError, match=match):
        LabConfig(**values)


def test_the_identity_ignores_where_and_how_fast_but_not_what():
    base = LabConfig()
    assert base.identity() == LabConfig(workers=2, out="elsewhere", estimators=("curve",), queries=10).identity()
    assert base.identity() != LabConfig(fraction=0.5).identity()


def test_every_estimator_has_a_description():
    assert all(text for text in ESTIMATORS.values()) and LabConfig().estimators == tuple(ESTIMATORS)
