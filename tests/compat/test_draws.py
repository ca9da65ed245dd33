"""The repeat draws of `compat.api.NASBench` are the official API's, call for call.

The official `NASBench.__init__` calls `random.seed(seed)` and each `query` draws
`random.randint(0, num_repeats - 1)` from the global `random` module after the epochs
check, the spec check and the hash lookup, and before `computed_stat[epochs][index]`.
`official_outcomes` replays a script on `random.Random(seed)` with those semantics;
`data/official_draws.json` pins its outcomes for one fixed script.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from nasbench_sim._io import shared_dir
from nasbench_sim.bench.oracle import Oracle
from nasbench_sim.bench.tfrecord import write_tfrecord
from nasbench_sim.compat import api

from ..conftest import INCEPTION_HASH, golden_payloads, only108

DRAWS = json.loads((Path(__file__).parent / "data" / "official_draws.json").read_text())
PARITY = shared_dir() / "parity" if shared_dir() is not None else None
#: Cells a script names: two in every golden file, one valid cell in none, one invalid spec.
NOT_IN_FILE = api.ModelSpec([[0, 1], [0, 0]], ["input", "output"])
DISCONNECTED = api.ModelSpec([[0, 0, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])


@pytest.fixture(autouse=True)
def _keep_random_state():
    """These tests seed the global `random` module; the tests after them get its state back."""
    state = random.getstate()
    yield
    random.setstate(state)


@pytest.fixture
def draw_file(request, records, golden_tfrecord, tmp_path) -> Path:
    """The golden file named by the test's `name`, or, without ../shared/parity, a stand-in of the same
    shape written from `records` (the conftest records: real golden ones, or synthetic)."""
    name = request.node.callspec.params["name"]
    if PARITY is not None and (PARITY / name).is_file():
        return PARITY / name
    if name == "golden_full.tfrecord":
        return golden_tfrecord
    path = tmp_path / name
    write_tfrecord(path, golden_payloads(only108(records)))
    return path


def user_call(rng, step: list) -> None:
    """A script's own call of `random` (the module, or a `random.Random`): what it draws is dropped."""
    kind, *args = step
    if kind == "random":
        rng.random()
    elif kind == "shuffle":
        rng.shuffle(list(range(args[0])))
    elif kind == "randint":
        rng.randint(*args)
    elif kind == "choice":
        rng.choice(range(args[0]))
    elif kind == "uniform":
        rng.uniform(*args)
    else:
        assert kind == "metrics", step  # get_metrics_from_spec: no call of random


def official_outcomes(script: list, seed: int, valid_epochs: list[int], cells: dict[str, list[int]]) -> list:
    """Each query step's outcome under the official semantics, replayed on `random.Random(seed)`.

    Args:
        cells: cell name -> the budgets the file holds for it (names absent: not in the file).

    Returns:
        per query step, the drawn repeat index, or the name of the exception the official query raises.
    """
    rng = random.Random(seed)  # NASBench.__init__: random.seed(seed)
    outcomes: list = []
    for step in script:
        if step[0] != "query":
            user_call(rng, step)
            continue
        _, cell, epochs, _ = step
        if epochs not in valid_epochs or cell == "disconnected":  # epochs check, then the spec check
            outcomes.append("OutOfDomainError")
        elif cell not in cells:  # the hash lookup
            outcomes.append("KeyError")
        else:
            index = rng.randint(0, 2)  # random.randint(0, config['num_repeats'] - 1)
            outcomes.append(index if epochs in cells[cell] else "KeyError")  # computed_stat[epochs][index]
    return outcomes


def our_outcomes(path: Path, script: list, seed: int, other_hash: str) -> list:
    """Each query step's outcome on `compat.api`, the script's own calls made on the global `random`."""
    nb = api.NASBench(str(path), seed=seed)
    hashes = {"inception": INCEPTION_HASH, "other": other_hash}
    specs = {"not_in_file": NOT_IN_FILE, "disconnected": DISCONNECTED}
    for name, module_hash in hashes.items():
        fixed, _ = nb.get_metrics_from_hash(module_hash)
        specs[name] = api.ModelSpec(fixed["module_adjacency"], fixed["module_operations"])
    outcomes: list = []
    for step in script:
        if step[0] == "metrics":
            nb.get_metrics_from_spec(specs[step[1]])
        if step[0] != "query":
            user_call(random, step)
            continue
        _, cell, epochs, halfway = step
        before = nb.get_budget_counters()
        try:
            result = nb.query(specs[cell], epochs=epochs, stop_halfway=halfway)
        except (api.OutOfDomainError, KeyError) as exc:
            assert nb.get_budget_counters() == before, step  # a failing query is free
            outcomes.append("OutOfDomainError" if isinstance(exc, api.OutOfDomainError) else "KeyError")
            continue
        point = "halfway" if halfway else "final"
        metrics = ("training_time", "train_accuracy", "validation_accuracy", "test_accuracy")
        stored = [[r[f"{point}_{m}"] for m in metrics] for r in nb.get_metrics_from_hash(hashes[cell])[1][epochs]]
        values = [result[m] for m in metrics]
        assert values in stored, step  # one stored repeat, whole
        outcomes.append(stored.index(values))
        assert nb.get_budget_counters() == (before[0] + values[0], before[1] + (epochs // 2 if halfway else epochs))
    return outcomes


@pytest.mark.parametrize("name", sorted(DRAWS["files"]))
def test_the_pinned_outcomes_are_the_official_semantics(name):
    # Guards the fixture and the reference against each other (no data needed).
    spec = DRAWS["files"][name]
    assert official_outcomes(DRAWS["script"], DRAWS["seed"], spec["valid_epochs"], spec["cells"]) == spec["outcomes"]


@pytest.mark.parametrize("name", sorted(DRAWS["files"]))
def test_a_script_interleaving_random_calls_with_queries_gets_the_official_repeats(
    name, fresh_data, draw_file, records, capsys
):
    # Regression: repeats came from a numpy Generator, so a script calling `random` between queries
    # (or relying on NASBench(seed=...) seeding it) drew other repeats than under the official API.
    spec = DRAWS["files"][name]
    other_hash = DRAWS["other_hash"] if draw_file.parent == PARITY else next(h for h in records if h != INCEPTION_HASH)
    outcomes = our_outcomes(draw_file, DRAWS["script"], DRAWS["seed"], other_hash)
    assert outcomes == spec["outcomes"]
    assert outcomes == official_outcomes(DRAWS["script"], DRAWS["seed"], spec["valid_epochs"], spec["cells"])


def test_the_constructor_seeds_the_global_random_module(fresh_data, golden_tfrecord, capsys):
    random.seed(12345)
    api.NASBench(str(golden_tfrecord), seed=7)
    assert random.random() == random.Random(7).random()
    random.seed(12345)
    reference = random.random()
    random.seed(12345)
    api.NASBench(str(golden_tfrecord), seed=None)  # reseeds from the system
    assert random.random() != reference
    random.seed(12345)
    with pytest.raises(FileNotFoundError):  # seeded before the file is read, as in the official API
        api.NASBench(str(golden_tfrecord) + ".absent", seed=7)
    assert random.random() == random.Random(7).random()


def test_the_oracle_keeps_its_own_generator_without_the_hook(fresh_data, golden_tfrecord, capsys):
    # Only compat passes `draw_repeat`; the project's Oracle draws from its numpy Generator.
    nb = api.NASBench(str(golden_tfrecord))
    table, repeat2 = nb.table, nb.get_metrics_from_hash(INCEPTION_HASH)[1][108][2]["final_test_accuracy"]
    state = random.getstate()
    draws = [Oracle(table, 0).query_hash(INCEPTION_HASH)["test_accuracy"] for _ in range(2)]
    assert random.getstate() == state and draws[0] == draws[1]
    calls = []
    hooked = Oracle(table, 0, draw_repeat=lambda: calls.append(1) or 2)
    with pytest.raises(KeyError):  # a cell the file lacks: raises before the draw
        hooked.query_hash("f" * 32)
    assert hooked.query_hash(INCEPTION_HASH)["test_accuracy"] == repeat2 and calls == [1]
