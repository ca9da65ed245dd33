"""The quick fault cases of benchmarks/faults.py, end to end in subprocesses, so that CI checks them:
a clear error and the right exit code, no traceback, no hang (the full list: `python benchmarks/faults.py`)."""

import importlib.util
import re
import sys
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "faults", Path(__file__).resolve().parents[1] / "benchmarks" / "faults.py"
)
faults = sys.modules.setdefault("faults", importlib.util.module_from_spec(_SPEC))  # dataclasses look it up there
_SPEC.loader.exec_module(faults)
FAST = {case.name: case for case in faults.cases() if case.fast}


@pytest.fixture(scope="module")
def workdir(surrogate, tmp_path_factory) -> Path:
    """The data folders the commands see (the cell space and the surrogate tables linked, no ../shared)."""
    folder = tmp_path_factory.mktemp("faults")
    faults.prepare(folder)
    return folder


@pytest.mark.parametrize("name", sorted(FAST))
def test_fault_case_fails_clearly(workdir, name):
    # Catches a traceback, another exit code, a hang or whatever the case checks (see its `problem`):
    # bad files and options, a library call with outside input, an unreachable scheduler, Ctrl-C, a closed pipe.
    result = faults.run_case(FAST[name], workdir / "cases" / name)
    assert result["problem"] is None, result
    first = result["stderr_first_line"]
    # One line of our own: the CLI's `nasbench-sim: ...`, a library call's named error, or nothing (closed pipe).
    named = re.match(r"(OutOfDomainError|ConfigError|DataFormatError): ", first) is not None
    assert first.startswith("nasbench-sim:") or named or (name == "broken_pipe_data_info" and not first)
