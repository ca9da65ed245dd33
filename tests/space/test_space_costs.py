import numpy as np

from nasbench_sim.space.params import count_flops
from nasbench_sim.space.space_costs import FLOPS_CACHE, space_costs, space_flops


def test_parameters_of_every_cell_equal_the_spaces_own(space):
    # The same layer walk gives the parameter counts the enumeration stored: one accounting for both costs.
    assert np.array_equal(space_costs(space, "params"), space.trainable_parameters)


def test_flops_of_every_cell_equal_the_closed_form_per_cell(space, tmp_path):
    flops = space_flops(space, tmp_path)
    rows = np.random.default_rng(0).choice(len(space), 300, replace=False)
    for row in rows.tolist():
        cell = space.cell(row)
        assert flops[row] == count_flops(cell.matrix, cell.ops)
    assert flops.dtype == np.int64 and flops.shape == (len(space),) and (flops > 0).all()


def test_the_flops_cache_is_read_back_and_a_damaged_one_rebuilt(space, tmp_path):
    first = space_flops(space, tmp_path)
    assert (tmp_path / FLOPS_CACHE / "meta.json").exists()
    assert np.array_equal(space_flops(space, tmp_path), first)
    (tmp_path / FLOPS_CACHE / "flops.npy").write_bytes(b"garbage")
    assert np.array_equal(space_flops(space, tmp_path), first)
