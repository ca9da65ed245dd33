"""A comparison's options from a TOML file, with command-line values on top.

A file holds any option of `nasbench-sim compare` (`algorithms = ["rs", "re"]`,
`seeds = "0-99"`, `budget = 150`, ...) and one table per algorithm with its
settings (`[re]`, nested tables for nested configs: `[bananas.model]`).

Example:
    >>> from nasbench_sim.harness.config_file import compare_options, options_budget
    >>> options, settings = compare_options(None, {"budget": 20, "seeds": "0-3"})
    >>> options["algorithms"], options_budget(options)
    ('rs,re,gp,np', Budget(queries=20, seconds=None))
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from typing import Any

from nasbench_sim.errors import ConfigError
from nasbench_sim.harness.run import Budget

#: Noise realizations of a partial or surrogate table that a comparison uses unless told otherwise.
DEFAULT_REALIZATIONS = 5
#: ... and at most (each is a table of about 0.16 GB on disk, built once).
MAX_REALIZATIONS = 50
#: Every option of a comparison and its value when neither the file nor the command line gives one.
COMPARE_DEFAULTS: dict[str, Any] = {
    "algorithms": "rs,re,gp,np",
    "seeds": "0-9",
    "protocol": "naszilla",
    "budget": None,
    "budget_seconds": None,
    "realizations": None,
    "experiment": None,
    "results_dir": "results",
    "workers": None,
    "scheduler": None,
    "device": "auto",
    "table": None,
    "simulated_workers": None,
    "schedule": "async",
    "charge_search_time": False,
    "equal": None,
    "target": None,
}
#: What a file's value of each numeric option must be.
OPTION_TYPES: dict[str, type | tuple[type, ...]] = {
    "budget": int,
    "budget_seconds": (int, float),
    "realizations": int,
    "workers": int,
    "target": (int, float),
}
#: Options that are True or False.
FLAG_OPTIONS = ("charge_search_time",)


def read_config_file(path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(options, algorithm settings) of a TOML file.

    Raises:
        ConfigError: no such file, invalid TOML, an unknown option or a value of the wrong type.
    """
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a config file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML ({exc})") from None
    options: dict[str, Any] = {}
    sections: dict[str, Any] = {}
    for key, value in data.items():
        name = key.replace("-", "_")
        if isinstance(value, dict):
            sections[key] = value
        elif name in COMPARE_DEFAULTS:
            expected = OPTION_TYPES.get(name)
            if expected is not None and (isinstance(value, bool) or not isinstance(value, expected)):
                kind = "a whole number" if expected is int else "a number"
                raise ConfigError(f"{path}: option {key!r} must be {kind}, got {value!r}")
            if name in FLAG_OPTIONS and not isinstance(value, bool):
                raise ConfigError(f"{path}: option {key!r} must be true or false, got {value!r}")
            options[name] = ",".join(map(str, value)) if isinstance(value, list) else value
        else:
            raise ConfigError(f"{path}: unknown option {key!r} (choices: {', '.join(COMPARE_DEFAULTS)})")
    return options, sections


def compare_options(path: str | None, given: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every option (defaults, then the file's, then `given` values that are not None) and the settings.

    Args:
        path: TOML file, or None.
        given: option -> value from the command line (None: not given).
    """
    options = dict(COMPARE_DEFAULTS)
    sections: dict[str, Any] = {}
    if path:
        from_file, sections = read_config_file(path)
        options.update(from_file)
    options.update(
        {
            k: v
            for k, v in given.items()
            if k in COMPARE_DEFAULTS and v is not None and not (k in FLAG_OPTIONS and v is False)
        }
    )
    return options, sections


def worker_counts(options: Mapping[str, Any]) -> list[int] | None:
    """The simulated worker counts the options name ('8' or '1,8,64,256'; None: not given).

    Raises:
        ConfigError: not a comma-separated list of whole numbers >= 1.
    """
    given = options.get("simulated_workers")
    if given is None:
        return None
    parts = [p.strip() for p in str(given).split(",") if p.strip()]
    if not parts or not all(p.isdigit() and int(p) >= 1 for p in parts):
        raise ConfigError(f"--simulated-workers must be whole numbers >= 1 such as 8 or 1,8,64,256, got {given!r}")
    return sorted({int(p) for p in parts})


def options_budget(options: Mapping[str, Any]) -> Budget | None:
    """The budget the options name (None: the protocol's default).

    Raises:
        ConfigError: both a query and a time budget.
    """
    if options["budget"] is not None and options["budget_seconds"] is not None:
        raise ConfigError("give either a query budget or a time budget (--budget-seconds), not both")
    if options["budget_seconds"] is not None:
        return Budget(seconds=float(options["budget_seconds"]))
    if options["budget"] is not None:
        return Budget(queries=options["budget"])
    return None
