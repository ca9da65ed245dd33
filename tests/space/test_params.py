import numpy as np
import pytest

from nasbench_sim.space import Cell, OutOfDomainError, count_parameters
from nasbench_sim.space.sampling import random_cells

from ..conftest import INCEPTION_HASH, INCEPTION_SPEC, INCEPTION_STORED


def test_closed_form_equals_every_golden_parameter_count(golden):
    for record in golden.values():
        assert (
            count_parameters(record["module_adjacency"], record["module_operations"]) == record["trainable_parameters"]
        )


def test_inception_cell_has_2694282_parameters():
    # The official notebook's figure, for the stored and for the unpruned spec of the cell.
    stored = INCEPTION_STORED
    assert count_parameters(stored["module_adjacency"], stored["module_operations"]) == 2_694_282
    cell = Cell(INCEPTION_SPEC["matrix"], INCEPTION_SPEC["ops"])
    assert cell.hash == INCEPTION_HASH and count_parameters(cell.matrix, cell.ops) == 2_694_282


def test_unknown_op_is_a_clear_error():
    # Catches an unknown op silently counting as max pooling (no parameters).
    with pytest.raises(OutOfDomainError, match="unknown op 'conv5x5'"):
        count_parameters([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv5x5", "output"])


torch = pytest.importorskip("torch")


def test_torch_network_at_full_size_matches_the_recorded_parameter_counts(records):
    # With ../shared the counts are the release's; without it, the closed form's (the stand-in records).
    from nasbench_sim.space.network import NB101Network, num_trainable_parameters

    for module_hash in list(records)[:6]:
        record = records[module_hash]
        net = NB101Network(Cell(record["module_adjacency"], record["module_operations"]))
        assert num_trainable_parameters(net) == record["trainable_parameters"]


def test_closed_form_equals_torch_on_small_configs():
    # Catches the closed form and the module drifting apart (channel split with remainders: 24 over 5 fan-in).
    from nasbench_sim.space.network import NB101Network, num_trainable_parameters

    for cell in random_cells(np.random.default_rng(7), 25):
        kw = dict(in_channels=1, stem_channels=12, num_stacks=2, cells_per_stack=2, num_classes=10)
        net = NB101Network(cell, **kw)
        assert num_trainable_parameters(net) == count_parameters(cell.matrix, cell.ops, **kw)


def test_small_network_forward_on_mnist_sized_input():
    from nasbench_sim.space.network import NB101Network

    torch.manual_seed(0)
    for cell in random_cells(np.random.default_rng(2), 5):
        net = NB101Network(cell, in_channels=1, stem_channels=8, num_stacks=3, cells_per_stack=1)
        out = net(torch.randn(3, 1, 28, 28))
        assert out.shape == (3, 10) and torch.isfinite(out).all()
