"""Data-free proxies: synflow by a closed form on a chain, seeded without global state, the counts exact."""

import numpy as np
import pytest
import torch
from torch import nn

from nasbench_sim.errors import ConfigError
from nasbench_sim.estimators.data_free import build_network, score_cells, synflow
from nasbench_sim.space import Cell
from nasbench_sim.space.params import count_flops, count_parameters

CHAIN = Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
SMALL = {"stem_channels": 8, "num_stacks": 1, "cells_per_stack": 1}


def test_synflow_of_a_chain_is_layers_times_the_output_without_the_bias():
    # On a chain (stem, the cell's input projection, its 3x3 conv, the classifier) with positive weights and
    # an all-ones input every path crosses every layer, so each layer's sum of theta * dR/dtheta is
    # R minus the classifier's bias (Euler's theorem for a function of degree 1 in that layer's weights).
    net = build_network(CHAIN, torch.Generator().manual_seed(3), **SMALL)
    layers = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(layers) == 4 and not any(isinstance(m, nn.BatchNorm2d) for m in net.modules())
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
        r = float(net(torch.ones(1, 3, 32, 32, dtype=torch.float64)).sum() - net.classifier.bias.sum())
    score = synflow(CHAIN, torch.Generator().manual_seed(3), **SMALL)
    assert score == pytest.approx(4 * r, rel=1e-9)


def test_synflow_is_seeded_by_its_generator_and_leaves_the_global_one_alone():
    before = torch.get_rng_state()
    a = synflow(CHAIN, torch.Generator().manual_seed(1), **SMALL)
    b = synflow(CHAIN, torch.Generator().manual_seed(1), **SMALL)
    c = synflow(CHAIN, torch.Generator().manual_seed(2), **SMALL)
    assert a == b != c
    assert torch.equal(torch.get_rng_state(), before)


def test_counts_are_the_exact_ones_and_unknown_proxies_list_the_choices():
    scores = score_cells([CHAIN], ["params", "flops"], np.random.default_rng(0))
    ops = CHAIN.ops
    assert scores["params"][0] == count_parameters(CHAIN.matrix.tolist(), ops)
    assert scores["flops"][0] == count_flops(CHAIN.matrix.tolist(), ops)
    small = score_cells([CHAIN], ["params"], np.random.default_rng(0), in_channels=1, stem_channels=8)
    assert small["params"][0] == count_parameters(CHAIN.matrix.tolist(), ops, in_channels=1, stem_channels=8)
    with pytest.raises(ConfigError, match=r"unknown proxy 'snip' \(choices: synflow, params, flops\)"):
        score_cells([CHAIN], ["snip"], np.random.default_rng(0))
