"""The official `nasbench` configuration: `config.build_config()` with its default flags.

Example:
    >>> from nasbench_sim.compat.config import official_config
    >>> config = official_config()
    >>> len(config), config["num_repeats"], config["available_ops"][0]
    (25, 3, 'conv3x3-bn-relu')
"""

from __future__ import annotations

from typing import Any

__all__ = ["official_config"]


def official_config() -> dict[str, Any]:
    """A new copy of the official configuration (25 keys, in the official order)."""
    return {
        "train_data_files": [],
        "valid_data_file": "",
        "test_data_file": "",
        "sample_data_file": "",
        "data_format": "channels_last",
        "num_labels": 10,
        "module_vertices": 7,
        "max_edges": 9,
        "available_ops": ["conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"],
        "stem_filter_size": 128,
        "num_stacks": 3,
        "num_modules_per_stack": 3,
        "batch_size": 256,
        "train_epochs": 108,
        "train_seconds": 14400.0,
        "learning_rate": 0.1,
        "lr_decay_method": "COSINE_BY_STEP",
        "momentum": 0.9,
        "weight_decay": 0.0001,
        "max_attempts": 5,
        "intermediate_evaluations": ["0.5"],
        "num_repeats": 3,
        "use_tpu": True,
        "tpu_iterations_per_loop": 100,
        "tpu_num_shards": 2,
    }
