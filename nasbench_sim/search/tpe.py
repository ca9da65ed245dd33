"""TPE through Optuna's ask-and-tell interface on the 26-value categorical encoding.

The NB101 paper's TPE baseline. Invalid cells proposed by TPE are told a
value of 0 and never reach the oracle (no budget spent). Needs the optional
extra: `pip install 'nasbench_sim[tpe]'`.

Example:
    >>> import numpy as np
    >>> from nasbench_sim.search.tpe import TPE, TPEConfig
    >>> tpe = TPE(TPEConfig(), np.random.default_rng(0))
    >>> cell = tpe.ask(); tpe.tell(cell, 0.9)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nasbench_sim.errors import ConfigError, OutOfDomainError
from nasbench_sim.search.base import Query, SearcherBase, as_query
from nasbench_sim.space.cell import NUM_EDGE_SLOTS, Cell
from nasbench_sim.space.encodings import CATEGORICAL_LENGTH, cell_from_categorical

_MAX_INVALID = 10_000


@dataclass(frozen=True, kw_only=True)
class TPEConfig:
    """Attributes: num_startup: random trials before TPE's model is used."""

    num_startup: int = 10

    def __post_init__(self) -> None:
        if self.num_startup < 1:
            raise ConfigError("num_startup must be >= 1")


class TPE(SearcherBase):
    """Optuna's TPE sampler over the 21 edges and 5 ops (invalid proposals cost no query)."""

    config: TPEConfig

    def __init__(self, config: TPEConfig, rng: np.random.Generator, *, device: str = "auto") -> None:
        super().__init__(config, rng, device=device)
        try:
            import optuna
        except ImportError:
            raise ConfigError("TPE needs optuna: pip install 'nasbench_sim[tpe]'") from None
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        sampler = optuna.samplers.TPESampler(n_startup_trials=config.num_startup, seed=int(rng.integers(2**31)))
        self.study = optuna.create_study(direction="maximize", sampler=sampler)
        self._pending: dict[str, list] = {}

    def ask(self) -> Cell:
        for _ in range(_MAX_INVALID):
            trial = self.study.ask()
            vector = [trial.suggest_categorical(f"e{k}", [0, 1]) for k in range(NUM_EDGE_SLOTS)]
            vector += [
                trial.suggest_categorical(f"op{k}", [0, 1, 2]) for k in range(CATEGORICAL_LENGTH - NUM_EDGE_SLOTS)
            ]
            try:
                cell = cell_from_categorical(vector)
            except OutOfDomainError:
                self.study.tell(trial, 0.0)
                continue
            self._pending.setdefault(cell.hash, []).append(trial)
            return cell
        raise RuntimeError("TPE proposed no valid cell")

    def tell(self, proposal: Cell | Query, validation_accuracy: float) -> None:
        super().tell(proposal, validation_accuracy)
        trial = self._pending[as_query(proposal).cell.hash].pop(0)
        self.study.tell(trial, float(validation_accuracy))
