import numpy as np
import pytest

from nasbench_sim.space import Cell, OutOfDomainError, count_parameters
from nasbench_sim.space.cell import CONV3X3, MAXPOOL3X3
from nasbench_sim.space.params import count_flops, network_terms
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


def _macs_by_running(net, image_size: int, in_channels: int) -> int:
    """Multiply-accumulates of the convs and linear layers of one forward pass, counted from their outputs."""
    total = [0]

    def count(module, inputs, output):
        if isinstance(module, torch.nn.Conv2d):
            kernel = module.kernel_size[0] * module.kernel_size[1]
            total[0] += output.numel() // output.shape[0] * module.in_channels // module.groups * kernel
        else:
            total[0] += module.in_features * module.out_features

    hooks = [m.register_forward_hook(count) for m in net.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    with torch.no_grad():
        net.eval()(torch.zeros(1, in_channels, image_size, image_size))
    for hook in hooks:
        hook.remove()
    return total[0]


def test_flops_of_hand_counted_cells():
    # Two vertices: each module is one 1x1 projection. Stem 3*3*3*128*32*32 = 3,538,944; stack 1: 3 x 128*128*1024;
    # stack 2: 128*256*256 + 2 x 256*256*256; stack 3: 256*512*64 + 2 x 512*512*64; classifier 512*10.
    two = 3_538_944 + 3 * 16_777_216 + 8_388_608 + 2 * 16_777_216 + 8_388_608 + 2 * 16_777_216 + 5_120
    assert count_flops([[0, 1], [0, 0]], ["input", "output"]) == two == 137_761_792
    # input -> conv3x3 -> output: each module adds a 3x3 conv of c_out channels: 9 * c_out^2 * pixels =
    # 150,994,944 in every module (c_out^2 * pixels is the same in every stack).
    three = two + 9 * 150_994_944
    assert count_flops([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", CONV3X3, "output"]) == three
    assert count_flops([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", MAXPOOL3X3, "output"]) == two  # pooling: free


def test_flops_closed_form_equals_the_network_counted_while_running():
    # Catches the closed form and the module drifting apart: channel splits, odd sizes rounded up by the pooling.
    from nasbench_sim.space.network import NB101Network

    cells = random_cells(np.random.default_rng(11), 12)
    for i, cell in enumerate(cells):
        kw = dict(in_channels=1, stem_channels=12, num_stacks=3, cells_per_stack=2, num_classes=10)
        size = (28, 7, 9)[i % 3]
        assert _macs_by_running(NB101Network(cell, **kw), size, 1) == count_flops(
            cell.matrix, cell.ops, image_size=size, **kw
        )
    for cell in cells[:2]:  # the CIFAR-10 network itself
        assert _macs_by_running(NB101Network(cell), 32, 3) == count_flops(cell.matrix, cell.ops)


def test_an_unknown_cost_names_the_choices():
    with pytest.raises(ValueError, match="unknown cost 'latency' \\(choices: params, flops\\)"):
        network_terms([[0, 1], [0, 0]], "latency")
