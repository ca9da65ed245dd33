"""Benchmark protocols by name: what a searcher sees, what a query costs, each algorithm's settings.

- `naszilla`: the protocol of the BANANAS paper (White et al. 2021) and of
  White et al.'s local-search paper, as their naszilla code runs it: a searcher
  sees the mean validation accuracy over the three training repeats (`mean`
  mode, the same value on every query of a cell); random search, local search,
  BANANAS and GP-BO never query two cells with the same input-to-output op paths;
  their algorithm settings; budget 150 queries.
- `nb101`: the NAS-Bench-101 paper (Ying et al. 2019): each query returns one
  randomly drawn training repeat (`single` mode, the official API), the NB101
  notebook's evolution settings, duplicates allowed, budget in simulated
  training seconds.

Under both, a run's result is the mean-of-3 test accuracy of its incumbent
(the cell with the best validation accuracy the searcher saw), and regret is
measured against the table's best mean-of-3 test accuracy.

Example:
    >>> from nasbench_sim.harness.protocol import protocol
    >>> p = protocol("naszilla")
    >>> p.mode, p.default_budget, p.config_for("re").population_size
    ('mean', Budget(queries=150, seconds=None), 29)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from nasbench_sim.errors import ConfigError
from nasbench_sim.harness.run import MODES, Budget
from nasbench_sim.search.model_based import NASZILLA_MUTATION
from nasbench_sim.search.registry import AlgorithmSpec, algorithm
from nasbench_sim.search.simple import EvolutionConfig, LocalSearchConfig, MutationConfig, RandomSearchConfig


@dataclass(frozen=True, kw_only=True)
class Protocol:
    """A named benchmark protocol.

    Attributes:
        name: its name.
        description: one line for printouts and metadata.
        mode: 'mean' (the mean validation accuracy of the 3 repeats, identical on
            every query) or 'single' (one random repeat per query, the official API).
        default_budget: budget when none is given.
        configs: algorithm name -> its config under this protocol (others: the config class's defaults).
        published: algorithm name -> published mean test error (%) under this protocol, with its source.
    """

    name: str
    description: str
    mode: str
    default_budget: Budget
    configs: Mapping[str, Any] = field(default_factory=dict)
    published: Mapping[str, float] = field(default_factory=dict)
    published_source: str = ""
    published_optimum_error: float | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"unknown query mode {self.mode!r} (choices: {', '.join(MODES)})")

    def config_for(self, name: str | AlgorithmSpec) -> Any:
        """The config of an algorithm (a registry name or a spec) under this protocol.

        The protocol's settings apply to a spec whose `settings_key` it lists and whose config
        class they fit; any other algorithm runs with its own default config.
        """
        spec = name if isinstance(name, AlgorithmSpec) else algorithm(name)
        own = self.configs.get(spec.settings_key)
        return own if isinstance(own, spec.config) and spec.default is None else spec.make_config()

    def describe(self) -> dict[str, Any]:
        """JSON-able description (experiment metadata)."""
        return {
            "name": self.name,
            "description": self.description,
            "mode": self.mode,
            "published": dict(self.published),
            "published_source": self.published_source,
            "published_optimum_error": self.published_optimum_error,
            "published_budget": asdict(self.default_budget) if self.published else None,
        }


NASZILLA = Protocol(
    name="naszilla",
    description="BANANAS paper / naszilla: mean-of-3 validation seen, no repeated cells, naszilla settings",
    mode="mean",
    default_budget=Budget(queries=150),
    configs={
        "rs": RandomSearchConfig(dedup="paths"),
        "re": EvolutionConfig(
            population_size=29,  # naszilla's 30: it removes the oldest once 30 are alive
            tournament_size=10,
            with_replacement=True,
            num_init=10,
            init_dedup="paths",
            mutation=NASZILLA_MUTATION,
        ),
        # naszilla's default experiment list ('simple_algos') runs local search with
        # stop_at_minimum=False: best-first, no restarts (restart=True is its function default).
        "ls": LocalSearchConfig(num_init=10, first_improvement=True, restart=False, dedup="paths"),
    },
    published={
        "rs": 6.341,
        "re": 6.109,
        "gp": 6.267,
        "tpe": 6.415,
        "ls": 5.932,
        "bananas": 5.923,
        "reinforce": 6.436,
        "mcts": 6.233,  # AlphaX in the paper's table
        "bohb": 6.356,
    },
    published_source="White et al., BANANAS (AAAI 2021): NAS-Bench-101, 150 queries, mean over 200 trials",
    published_optimum_error=5.682,
)

NB101 = Protocol(
    name="nb101",
    description="NAS-Bench-101 paper: one random repeat per query, NB101 notebook settings, duplicates allowed",
    mode="single",
    default_budget=Budget(seconds=1e6),  # about 550 full trainings (11.6 TPU-days)
    configs={
        "rs": RandomSearchConfig(dedup=None),
        "re": EvolutionConfig(population_size=50, tournament_size=10, mutation=MutationConfig(mutation_rate=0.5)),
    },
)

PROTOCOLS: dict[str, Protocol] = {p.name: p for p in (NASZILLA, NB101)}
DEFAULT_PROTOCOL = "naszilla"


def protocol(name: str) -> Protocol:
    """The protocol called `name`.

    Raises:
        ConfigError: unknown name (the message lists the choices).
    """
    if name not in PROTOCOLS:
        raise ConfigError(f"unknown protocol {name!r} (choices: {', '.join(PROTOCOLS)})")
    return PROTOCOLS[name]
