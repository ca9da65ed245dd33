import numpy as np
import pytest

from nasbench_sim.activesel.data import ImageData, Split
from nasbench_sim.errors import ConfigError
from nasbench_sim.lab.config import LabConfig
from nasbench_sim.lab.tasks import downsampled, lab_tasks, parent_cell


def _data(side):
    x = np.arange(2 * side * side, dtype=np.float32).reshape(2, 1, side, side)
    split = Split(x, np.array([0, 1]))
    return ImageData(split, split, split, "toy", "test")


def test_downsampling_averages_each_block():
    small = downsampled(_data(4), 2)
    np.testing.assert_array_equal(small.train.x[0, 0], [[2.5, 4.5], [10.5, 12.5]])
    assert small.train.x.dtype == np.float32


@pytest.mark.parametrize("side", [3, 4, 8])
def test_a_resolution_must_divide_and_shrink_the_images(side):
    with pytest.raises(ConfigError, match="divisor"):
        downsampled(_data(4), side)


def test_phases_put_parents_and_supernets_before_what_needs_them():
    config = LabConfig(estimators=("inherit", "one-shot", "curve"))
    first = {t.kind for t in lab_tasks(config, phase=1)}
    second = {t.kind for t in lab_tasks(config, phase=2)}
    assert first == {"parent", "supernet", "early-stop"} and second == {"inherit", "one-shot"}
    assert len(lab_tasks(config, phase=2)) == 2 * 2 * 20


def test_a_candidates_parent_is_the_same_at_every_call():
    config = LabConfig()
    assert parent_cell(config, 3) == parent_cell(config, 3)
