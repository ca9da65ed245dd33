"""An example plugin for nasbench_sim: one searcher, declared as an entry point in pyproject.toml."""

from nbs_example_plugin.greedy import GreedyConfig, GreedyMutation

__all__ = ["GreedyConfig", "GreedyMutation"]
