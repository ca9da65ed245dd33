import numpy as np
import pytest

from nasbench_sim._nn import resolve_device
from nasbench_sim.activesel.data import load_digits_data
from nasbench_sim.activesel.train import TrainConfig, steps_per_epoch, train
from nasbench_sim.errors import ConfigError
from nasbench_sim.space import Cell

CELL = Cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])


@pytest.fixture(scope="module")
def digits():
    return load_digits_data()


@pytest.mark.parametrize(
    "field, value",
    [
        ("batch_size", 0),
        ("stem_channels", 0),
        ("epochs", 0),
        ("num_stacks", 0),
        ("eval_batch_size", -1),
        ("lr", 0.0),
        ("bn_momentum", 0.0),
        ("device", "gpu"),
    ],
)
def test_bad_training_settings_are_config_errors(field, value):
    # A bad value is a ConfigError when the config is built, not an error deep inside training.
    with pytest.raises(ConfigError, match=field.split("_")[0]):
        TrainConfig(**{field: value})


def test_cuda_without_cuda_is_a_config_error():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ConfigError, match=r"torch.cuda.is_available\(\) is False"):
        resolve_device("cuda")
    assert resolve_device("cpu").type == "cpu" and resolve_device("auto").type == "cpu"


def test_max_steps_caps_training_and_losses_are_recorded(digits):
    config = TrainConfig(stem_channels=4, batch_size=16, device="cpu")
    result = train(CELL, digits, np.arange(160), config, seed=0, max_steps=4)
    assert result.steps == 4 and result.step_losses.shape == (4,) and len(result.history) == 1
    two = train(
        CELL, digits, np.arange(160), TrainConfig(epochs=2, stem_channels=4, batch_size=16, device="cpu"), seed=0
    )
    assert two.steps == 2 * steps_per_epoch(160, 16) == 20 and [h["epoch"] for h in two.history] == [1, 2]
    assert two.history[-1]["steps"] == 20


def test_same_seed_same_run_and_class_accuracy_matches_accuracy(digits):
    config = TrainConfig(stem_channels=4, batch_size=16, device="cpu")
    a = train(CELL, digits, np.arange(200), config, seed=3)
    b = train(CELL, digits, np.arange(200), config, seed=3)
    assert np.array_equal(a.step_losses, b.step_losses) and a.test_accuracy == b.test_accuracy
    c = train(CELL, digits, np.arange(200), config, seed=4)
    assert not np.array_equal(a.step_losses, c.step_losses)
    # Accuracy = class accuracies weighted by class frequency (catches a row/column swap in the confusion matrix).
    counts = np.bincount(digits.test.y, minlength=10)
    assert a.test_accuracy == pytest.approx(float(a.class_test_accuracy @ counts / counts.sum()))
    assert a.train_seconds > 0 and a.validation_seconds > 0 and a.test_seconds > 0


def test_evaluations_within_an_epoch_add_curve_points_and_change_no_training():
    # Several validation points per epoch give a one-epoch run a learning curve; training is step for step
    # the same (the evaluations switch the network to eval mode and back).
    import numpy as np

    from nasbench_sim.activesel.data import load_digits_data
    from nasbench_sim.activesel.train import TrainConfig, train
    from nasbench_sim.space import Cell

    cell = Cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    data = load_digits_data()
    once = train(cell, data, np.arange(200), TrainConfig(stem_channels=4, device="cpu"), seed=0)
    often = train(cell, data, np.arange(200), TrainConfig(stem_channels=4, device="cpu", evals_per_epoch=4), seed=0)
    assert np.array_equal(once.step_losses, often.step_losses) and once.test_accuracy == often.test_accuracy
    assert len(once.curve) == 1 and [p["steps"] for p in often.curve] == [2, 4, 5, 7]  # 7 steps: round(7 j / 4)
    assert often.curve[-1]["epochs"] == 1.0 and often.curve[0]["epochs"] == 2 / 7
    assert often.curve[-1]["validation_accuracy"] == often.history[-1]["validation_accuracy"]
    assert once.curve_seconds == 0 < often.curve_seconds  # the extra points are no part of any cost
    # 10 steps an epoch, 6 evaluations: after steps round(10 j / 6) = 2, 3, 5, 7, 8 and at the end
    six = train(cell, data, np.arange(320), TrainConfig(stem_channels=4, device="cpu", evals_per_epoch=6), seed=0)
    assert [p["steps"] for p in six.curve] == [2, 3, 5, 7, 8, 10]


def test_the_default_evaluation_setting_leaves_a_studys_identity_as_it_was():
    from nasbench_sim.activesel.config import StudyConfig, TrainConfig

    assert "evals_per_epoch" not in StudyConfig().identity()["training"]
    assert StudyConfig(training=TrainConfig(evals_per_epoch=10)).identity()["training"]["evals_per_epoch"] == 10


def test_an_early_stopped_run_is_the_first_steps_of_the_whole_run(digits):
    # stop_after must cut the same schedule, not shorten it: the losses equal the whole run's first steps.
    config = TrainConfig(stem_channels=4, device="cpu", epochs=2)
    whole = train(CELL, digits, np.arange(300), config, seed=3)
    early = train(CELL, digits, np.arange(300), config, seed=3, stop_after=7)
    assert early.steps == 7 and whole.steps > 7
    np.testing.assert_array_equal(early.step_losses, whole.step_losses[:7])
    shortened = train(CELL, digits, np.arange(300), config, seed=3, max_steps=7)
    assert not np.array_equal(shortened.step_losses[1:], whole.step_losses[1:7])  # its own, faster-decaying schedule


def test_initialise_sees_the_fresh_model_before_the_first_step(digits):
    # The hook that loads inherited weights must run before training, on the seeded initial weights.
    seen = []
    config = TrainConfig(stem_channels=4, device="cpu")

    def zero_classifier(model):
        seen.append(model.classifier.weight.detach().clone())
        model.classifier.weight.data.zero_()

    plain = train(CELL, digits, np.arange(100), config, seed=1)
    hooked = train(CELL, digits, np.arange(100), config, seed=1, initialise=zero_classifier)
    assert len(seen) == 1 and seen[0].abs().sum() > 0
    assert hooked.step_losses[0] != plain.step_losses[0]
