import numpy as np
import pytest
from scipy import stats

from nasbench_sim.bench.budgets import (
    BUDGETS,
    BudgetModelConfig,
    budget_features,
    holdout_split,
    load_budget_model,
    sample_budgets,
    with_lower_budgets,
)

from ..conftest import shared_file


@pytest.fixture(scope="module")
def model():
    return load_budget_model()


def test_shipped_fidelity_is_reproduced_from_the_real_data(model, space):
    # Catches a stale or hand-edited fidelity figure: recompute the held-out Spearman from the 20k real cells.
    from nasbench_sim.bench.calibration import load_validation_budgets
    from nasbench_sim.bench.sources import surrogate_level

    frame = load_validation_budgets(shared_file("nb101", "validation_budgets_20k.csv.gz"))
    rows = frame["row"].to_numpy()
    hold, _ = holdout_split(len(rows), BudgetModelConfig(**model.meta["config"]))
    level = surrogate_level(space)[rows[hold]]
    x = budget_features(
        space.num_vertices[rows[hold]],
        space.bits[rows[hold]],
        space.labels[rows[hold]],
        space.trainable_parameters[rows[hold]],
        level,
    )
    predicted = model.predict_logit(x)
    for k, epochs in enumerate(BUDGETS):
        rho = stats.spearmanr(predicted[:, k], frame[f"valid_accuracy_{epochs}"].to_numpy()[hold]).statistic
        assert rho == pytest.approx(model.meta["fidelity"]["holdout_spearman"][str(epochs)], abs=0.002)


def test_sampled_budgets_are_accuracies_in_order_and_seeded(model):
    n = 2000
    base = np.tile([-1.0, 0.3, 2.0], (n, 1))  # logits of 27%, 57%, 88% validation accuracy
    time108 = np.full((n, 3), 1500.0)
    block = sample_budgets(model, base, time108, np.random.default_rng(0))
    assert block.shape == (n, 3, 3, 2, 4)
    accuracies = block[..., :3]
    assert (accuracies >= 0).all() and (accuracies <= 1).all()
    medians = np.median(block[:, :, :, 1, 1], axis=(0, 1))
    assert medians.tolist() == pytest.approx([0.269, 0.574, 0.881], abs=0.02)
    # Training time is a fixed share of the 108-epoch time; halfway takes half of it.
    ratios = block[:, :, :, 1, 3] / time108[:, :, None]
    assert np.allclose(ratios, [model.noise[str(e)]["time_ratio"] for e in BUDGETS], rtol=1e-5)
    assert np.allclose(block[:, :, :, 0, 3] / block[:, :, :, 1, 3], 0.5, atol=0.01)
    assert np.array_equal(block, sample_budgets(model, base, time108, np.random.default_rng(0)))


def test_lower_budgets_leave_the_108_epoch_block_untouched(model):
    # Catches the appended budgets shifting or overwriting the real 108-epoch values.
    block108 = np.random.default_rng(1).random((50, 3, 1, 2, 4)).astype(np.float32)
    full = with_lower_budgets(block108, np.zeros((50, 3)), model, np.random.default_rng(2))
    assert full.shape == (50, 3, 4, 2, 4) and np.array_equal(full[:, :, 3], block108[:, :, 0])


def test_tables_answer_every_budget(surrogate, space):
    from nasbench_sim.bench import Oracle
    from nasbench_sim.space import random_cell

    oracle = Oracle(surrogate, np.random.default_rng(0), space=space)
    cell = random_cell(np.random.default_rng(3))
    times = [oracle.query(cell, epochs=e)["training_time"] for e in (4, 12, 36, 108)]
    assert times == sorted(times) and oracle.get_budget_counters()[1] == 4 + 12 + 36 + 108
    assert "every value at 4, 12 and 36 epochs (budget model)" in surrogate.meta["modelled_fields"]
