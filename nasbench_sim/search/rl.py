"""Sequential-decision searchers over the 26 choices of a cell (21 edges, then 5 ops): REINFORCE and MCTS.

- `Reinforce`: the NB101 paper's controller, a factorised policy (one
  Bernoulli per edge, one categorical per op) trained with REINFORCE: after
  each evaluation its logits move along (reward - baseline) * grad log p(cell),
  with an exponential-moving-average baseline and Adam.
- `MCTS`: Monte-Carlo tree search over the same decisions (in the spirit of
  AlphaX, without its learned value model): UCT selection among visited
  decision prefixes, one new node per query, a uniformly random completion as
  the rollout, and the validation accuracy backed up along the path.

Invalid completions (disconnected, more than 9 edges) are redrawn and never
cost a query.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.search.rl import Reinforce, ReinforceConfig
    >>> searcher = Reinforce(ReinforceConfig(), np.random.default_rng(0))
    >>> cell = searcher.ask(); searcher.tell(cell, 0.9)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from nasbench_sim.errors import ConfigError, OutOfDomainError
from nasbench_sim.search.base import Query, SearcherBase, as_query
from nasbench_sim.space.cell import NUM_EDGE_SLOTS, NUM_OP_SLOTS, NUM_OPS, Cell
from nasbench_sim.space.encodings import CATEGORICAL_LENGTH, cell_from_categorical

_MAX_DRAWS = 10_000
#: Choices of each of the 26 decisions.
LEVELS = [2] * NUM_EDGE_SLOTS + [NUM_OPS] * NUM_OP_SLOTS


@dataclass(frozen=True, kw_only=True)
class ReinforceConfig:
    """REINFORCE on a factorised policy.

    Attributes:
        lr: Adam learning rate of the logits.
        baseline_decay: decay of the moving-average reward baseline.
        edge_prior: initial probability of each edge (NB101's random sampling: 0.5).
    """

    lr: float = 0.05
    baseline_decay: float = 0.95
    edge_prior: float = 0.5

    def __post_init__(self) -> None:
        if not self.lr > 0 or not 0 <= self.baseline_decay < 1 or not 0 < self.edge_prior < 1:
            raise ConfigError("need lr > 0, baseline_decay in [0, 1) and edge_prior in (0, 1)")


class Reinforce(SearcherBase):
    """See `ReinforceConfig`."""

    config: ReinforceConfig

    def __init__(self, config: ReinforceConfig, rng: np.random.Generator, *, device: str = "auto") -> None:
        super().__init__(config, rng, device=device)
        self.edge_logits = np.full(NUM_EDGE_SLOTS, np.log(config.edge_prior / (1 - config.edge_prior)))
        self.op_logits = np.zeros((NUM_OP_SLOTS, NUM_OPS))
        self.baseline: float | None = None
        self.moments = [
            np.zeros(NUM_EDGE_SLOTS + NUM_OP_SLOTS * NUM_OPS),
            np.zeros(NUM_EDGE_SLOTS + NUM_OP_SLOTS * NUM_OPS),
        ]
        self.steps = 0
        self.decisions: dict[str, list[np.ndarray]] = {}  # hash -> the sampled decisions of its pending proposals

    def _probabilities(self) -> tuple[np.ndarray, np.ndarray]:
        edges = 1 / (1 + np.exp(-self.edge_logits))
        ops = np.exp(self.op_logits - self.op_logits.max(axis=1, keepdims=True))
        return edges, ops / ops.sum(axis=1, keepdims=True)

    def ask(self) -> Cell:
        edges, ops = self._probabilities()
        for _ in range(_MAX_DRAWS):
            vector = np.concatenate(
                [
                    (self.rng.random(NUM_EDGE_SLOTS) < edges).astype(np.int64),
                    [self.rng.choice(NUM_OPS, p=p) for p in ops],
                ]
            )
            try:
                cell = cell_from_categorical(vector)
            except OutOfDomainError:
                continue
            self.decisions.setdefault(cell.hash, []).append(vector)
            return cell
        raise RuntimeError("the policy proposed no valid cell")

    def tell(self, proposal: Cell | Query, validation_accuracy: float) -> None:
        super().tell(proposal, validation_accuracy)
        vector = _take(self.decisions, as_query(proposal).cell.hash)
        reward = float(validation_accuracy)
        if self.baseline is None:
            self.baseline = reward
        advantage = reward - self.baseline
        self.baseline = self.config.baseline_decay * self.baseline + (1 - self.config.baseline_decay) * reward
        edges, ops = self._probabilities()
        grad_edges = vector[:NUM_EDGE_SLOTS] - edges  # d log p / d logit of a Bernoulli
        chosen = np.eye(NUM_OPS)[vector[NUM_EDGE_SLOTS:]]
        grad_ops = chosen - ops  # d log p / d logits of a softmax
        gradient = -advantage * np.concatenate([grad_edges, grad_ops.ravel()])  # ascent on the reward
        self._adam(gradient)

    def _adam(self, gradient: np.ndarray, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> None:
        self.steps += 1
        self.moments[0] = b1 * self.moments[0] + (1 - b1) * gradient
        self.moments[1] = b2 * self.moments[1] + (1 - b2) * gradient**2
        step = (
            self.config.lr
            * (self.moments[0] / (1 - b1**self.steps))
            / (np.sqrt(self.moments[1] / (1 - b2**self.steps)) + eps)
        )
        self.edge_logits -= step[:NUM_EDGE_SLOTS]
        self.op_logits -= step[NUM_EDGE_SLOTS:].reshape(NUM_OP_SLOTS, NUM_OPS)


@dataclass(frozen=True, kw_only=True)
class MCTSConfig:
    """Monte-Carlo tree search over the 26 decisions.

    Attributes:
        exploration: UCT's exploration constant (rewards are validation accuracies in [0, 1]).
        max_rollout_tries: random completions tried before a node counts as a dead end.
    """

    exploration: float = 0.05
    max_rollout_tries: int = 100

    def __post_init__(self) -> None:
        if not self.exploration >= 0 or self.max_rollout_tries < 1:
            raise ConfigError("need exploration >= 0 and max_rollout_tries >= 1")


class MCTS(SearcherBase):
    """See `MCTSConfig`. Nodes are decision prefixes; each keeps (visits, total reward)."""

    config: MCTSConfig

    def __init__(self, config: MCTSConfig, rng: np.random.Generator, *, device: str = "auto") -> None:
        super().__init__(config, rng, device=device)
        self.stats: dict[tuple[int, ...], list[float]] = {(): [0.0, 0.0]}
        self.paths: dict[str, list[tuple[int, ...]]] = {}  # hash -> expanded prefixes its pending rollouts started from

    def _select(self) -> tuple[int, ...]:
        """Descend by UCT through fully expanded nodes; expand one new child (or return a leaf)."""
        node: tuple[int, ...] = ()
        while len(node) < CATEGORICAL_LENGTH:
            children = [(*node, choice) for choice in range(LEVELS[len(node)])]
            unexpanded = [c for c in children if c not in self.stats]
            if unexpanded:
                child = unexpanded[int(self.rng.integers(len(unexpanded)))]
                self.stats[child] = [0.0, 0.0]
                return child
            parent_visits = self.stats[node][0]
            node = max(
                children,
                key=lambda c: (
                    self.stats[c][1] / max(self.stats[c][0], 1e-9)
                    + self.config.exploration * np.sqrt(np.log(max(parent_visits, 1.0)) / max(self.stats[c][0], 1e-9))
                ),
            )
        return node

    def _backup(self, node: tuple[int, ...], reward: float) -> None:
        for depth in range(len(node) + 1):
            stat = self.stats[node[:depth]]
            stat[0] += 1
            stat[1] += reward

    def ask(self) -> Cell:
        for _ in range(_MAX_DRAWS):
            node = self._select()
            for _ in range(self.config.max_rollout_tries):
                tail = [int(self.rng.integers(LEVELS[d])) for d in range(len(node), CATEGORICAL_LENGTH)]
                try:
                    cell = cell_from_categorical([*node, *tail])
                except OutOfDomainError:
                    continue
                self.paths.setdefault(cell.hash, []).append(node)
                return cell
            self._backup(node, 0.0)  # no valid completion below this node: discourage it
        raise RuntimeError("MCTS proposed no valid cell")

    def tell(self, proposal: Cell | Query, validation_accuracy: float) -> None:
        super().tell(proposal, validation_accuracy)
        self._backup(_take(self.paths, as_query(proposal).cell.hash), float(validation_accuracy))


def _take(pending: dict[str, list], key: str) -> Any:
    """The oldest pending entry under `key` (removed; the key too once empty)."""
    entries = pending[key]
    entry = entries.pop(0)
    if not entries:
        del pending[key]
    return entry
