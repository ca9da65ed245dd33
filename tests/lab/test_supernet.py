import numpy as np
import pytest
import torch

from nasbench_sim.activesel.data import load_digits_data
from nasbench_sim.activesel.train import TrainConfig
from nasbench_sim.lab.supernet import SuperNet, score, train_supernet
from nasbench_sim.space import Cell
from nasbench_sim.space.sampling import random_cells

TWO_VERTEX = Cell([[0, 1], [0, 0]], ["input", "output"])


@pytest.fixture(scope="module")
def digits():
    return load_digits_data()


def _net():
    torch.manual_seed(0)
    return SuperNet(in_channels=1, stem_channels=4, num_stacks=2, cells_per_stack=1)


def test_every_sampled_cell_is_a_sub_network():
    net = _net()
    for cell in [*random_cells(np.random.default_rng(0), 30), TWO_VERTEX]:
        assert net(torch.zeros(2, 1, 8, 8), cell).shape == (2, 10)


def test_a_cell_uses_only_its_own_operations():
    # Only the ops on the cell's path may get gradients: a 3x3 chain leaves node 1's 1x1 conv untouched.
    net = _net()
    chain = Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    net(torch.rand(4, 1, 8, 8), chain).sum().backward()
    first = net.cells[0]
    assert first.ops[0]["conv3x3_bn_relu"][0].weight.grad is not None
    assert first.ops[0]["conv1x1_bn_relu"][0].weight.grad is None
    assert first.ops[1]["conv3x3_bn_relu"][0].weight.grad is None
    assert first.output_projection[0].weight.grad is None  # no input-output edge


def test_training_is_seeded_and_scores_are_accuracies(digits):
    config = TrainConfig(stem_channels=4, device="cpu", batch_size=64)
    a = train_supernet(digits, config, epochs=1, seed=3, device=torch.device("cpu"))
    b = train_supernet(digits, config, epochs=1, seed=3, device=torch.device("cpu"))
    for x, y in zip(a.model.state_dict().values(), b.model.state_dict().values(), strict=True):
        torch.testing.assert_close(x, y)
    assert a.steps == int(np.ceil(len(digits.train) / 64))
    value = score(a.model, TWO_VERTEX, digits.validation, torch.device("cpu"))
    assert 0.0 <= value <= 1.0
