import numpy as np
import pytest
import torch

from nasbench_sim.errors import DataFormatError
from nasbench_sim.lab.inherit import inherit, load_state, parent_of, save_state
from nasbench_sim.space import Cell
from nasbench_sim.space.network import NB101Network
from nasbench_sim.space.sampling import neighbours

CHAIN = Cell(
    [[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]], ["input", "conv3x3-bn-relu", "conv3x3-bn-relu", "output"]
)
SWAPPED = Cell(
    [[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]], ["input", "conv3x3-bn-relu", "conv1x1-bn-relu", "output"]
)


def _net(cell, seed):
    torch.manual_seed(seed)
    return NB101Network(cell, in_channels=1, stem_channels=4, num_stacks=1, cells_per_stack=1)


def test_a_parent_is_one_edit_away_and_fixed_by_the_rng():
    first = parent_of(CHAIN, np.random.default_rng(5))
    assert first in neighbours(CHAIN)
    assert parent_of(CHAIN, np.random.default_rng(5)) == first


def test_an_identical_cell_inherits_everything(tmp_path):
    parent = _net(CHAIN, 0)
    save_state(parent, tmp_path / "p.npz")
    child = _net(CHAIN, 1)
    assert inherit(child, load_state(tmp_path / "p.npz")) == 1.0
    for a, b in zip(parent.state_dict().values(), child.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)


def test_a_changed_op_keeps_its_own_weights_and_inherits_the_rest(tmp_path):
    # Vertex 2 turns from a 3x3 into a 1x1 conv: its weight cannot be copied, the stem and classifier are.
    parent = _net(CHAIN, 0)
    save_state(parent, tmp_path / "p.npz")
    child = _net(SWAPPED, 1)
    own = child.state_dict()["cells.0.vertex_ops.1.0.weight"].clone()
    share = inherit(child, load_state(tmp_path / "p.npz"))
    assert 0 < share < 1
    torch.testing.assert_close(child.state_dict()["cells.0.vertex_ops.1.0.weight"], own)
    torch.testing.assert_close(child.state_dict()["stem.0.weight"], parent.state_dict()["stem.0.weight"])
    torch.testing.assert_close(child.state_dict()["classifier.weight"], parent.state_dict()["classifier.weight"])


def test_a_damaged_weights_file_is_one_clear_error(tmp_path):
    path = tmp_path / "p.npz"
    path.write_bytes(b"not a zip")
    with pytest.raises(DataFormatError, match="parent's weights"):
        load_state(path)
