"""Run an unmodified script written for the official `nasbench` API on nasbench_sim's tables.

`run_official(script, argv, table=...)` runs the script as `python script.py
*argv` would (`__name__ == "__main__"`, `sys.argv == [script, *argv]`, the
script's folder first on `sys.path`), with `nasbench` and `nasbench.api`
importable for that run only: `from nasbench import api`, `import nasbench.api`
and `from nasbench.api import NASBench` give `nasbench_sim.compat.api`, except
that `api.NASBench(path)` for a path that does not exist (or no path) is
answered by the chosen table, with one line on stderr naming it. A path that
exists is read as the official API reads it.

A real `nasbench` package is never shadowed: if one is importable from the
script's `sys.path`, one line says so and the script runs with it. The import
hook is also the last finder of `sys.meta_path`, so a real package that the
script itself puts on `sys.path` wins too. Only `nasbench` and `nasbench.api`
are provided; `nasbench.lib.*` (training code, needs TensorFlow) is not.

The script is the user's code: an exception it raises prints as Python prints
it (its own traceback, without this runner's frames; `sys.excepthook`), and
the return value is the exit status `python` would give (0, the `SystemExit`
code, 1 after an uncaught exception, 130 after Ctrl-C).

Example:
    >>> import pathlib, tempfile
    >>> from nasbench_sim.compat.run import run_official
    >>> folder = tempfile.TemporaryDirectory()
    >>> script = pathlib.Path(folder.name) / "hello.py"
    >>> _ = script.write_text("from nasbench import api\\nprint(api.ModelSpec.__module__)\\n")
    >>> run_official(script, [], table="surrogate")
    nasbench_sim.compat.model_spec
    0
    >>> folder.cleanup()
"""

from __future__ import annotations

import errno
import importlib.abc
import importlib.machinery
import importlib.util
import os
import runpy
import sys
import time
import traceback
import types
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from nasbench_sim.bench.sources import TABLE_NAMES, open_table
from nasbench_sim.bench.table import BenchmarkTable
from nasbench_sim.compat import api
from nasbench_sim.errors import ConfigError, DataFileNotFoundError

__all__ = ["run_official"]


def _real_nasbench() -> str | None:
    """Where a real `nasbench` package is importable from now (`importlib.util.find_spec`), or None."""
    try:
        spec = importlib.util.find_spec("nasbench")
    except ValueError:  # imported already, without a spec
        return "already imported"
    if spec is None:
        return None
    if spec.origin not in (None, "namespace"):
        return spec.origin
    return next(iter(spec.submodule_search_locations or []), "a namespace package")


def _stand_in_api(table: BenchmarkTable, label: str) -> types.ModuleType:
    """A fresh `nasbench.api` module: `compat.api`'s names, with a `NASBench` that `table` stands in for."""
    module = types.ModuleType("nasbench.api", api.__doc__)
    module.__dict__.update({k: v for k, v in vars(api).items() if not k.startswith("__")}, __all__=api.__all__)

    class NASBench(api.NASBench):
        __doc__ = api.NASBench.__doc__

        def __init__(self, dataset_file: Any = None, seed: Any = None) -> None:
            is_path = isinstance(dataset_file, (str, os.PathLike)) and os.fspath(dataset_file) not in TABLE_NAMES
            if dataset_file is None or (is_path and not os.path.exists(dataset_file)):
                named = (
                    "NASBench() names no file" if dataset_file is None else f"{os.fspath(dataset_file)!r} is not here"
                )
                print(f"nasbench_sim: {named}; using the {label} in its place", file=sys.stderr, flush=True)
                print("Loading dataset from file... This may take a few minutes...")  # the official lines
                start = time.time()
                super().__init__(table, seed)
                print(f"Loaded dataset in {int(time.time() - start)} seconds")
            else:
                super().__init__(dataset_file, seed)

    NASBench.__module__, NASBench.__qualname__ = "nasbench.api", "NASBench"
    module.NASBench = NASBench
    return module


class _Loader(importlib.abc.Loader):
    """Loads a module made beforehand."""

    def __init__(self, module: types.ModuleType) -> None:
        self._module = module

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return self._module

    def exec_module(self, module: types.ModuleType) -> None:
        pass


class _Finder(importlib.abc.MetaPathFinder):
    """Finds `nasbench` (an empty package) and `nasbench.api` (the stand-in API); the last finder of a run."""

    def __init__(self, api_module: types.ModuleType) -> None:
        package = types.ModuleType("nasbench", "nasbench_sim's stand-in for the official nasbench package.")
        self._modules = {"nasbench": package, "nasbench.api": api_module}

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        module = self._modules.get(fullname)
        if module is None:
            if fullname.startswith("nasbench."):
                raise ModuleNotFoundError(
                    f"No module named {fullname!r} (nasbench_sim stands in for nasbench and nasbench.api only)",
                    name=fullname,
                )
            return None
        is_package = fullname == "nasbench"
        spec = importlib.util.spec_from_loader(fullname, _Loader(module), is_package=is_package)
        if is_package:
            spec.submodule_search_locations = []
        return spec


def _is_nasbench(module_name: str) -> bool:
    return module_name == "nasbench" or module_name.startswith("nasbench.")


@contextmanager
def _script_context(script: str, argv: Sequence[str]) -> Iterator[Callable[[_Finder], None]]:
    """`sys.argv` and `sys.path[0]` of a run; yields `install(finder)`. Afterwards restores both, removes
    the finder and forgets the `nasbench` modules the run imported (stand-in or real)."""
    saved_argv, saved_path, finders = sys.argv, list(sys.path), []
    saved = {name: module for name, module in sys.modules.items() if _is_nasbench(name)}
    sys.argv = [script, *argv]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))

    def install(finder: _Finder) -> None:
        sys.meta_path.append(finder)
        finders.append(finder)

    try:
        yield install
    finally:
        for finder in finders:
            sys.meta_path.remove(finder)
        for name in [n for n in sys.modules if _is_nasbench(n)]:
            if sys.modules[name] is not saved.get(name):
                del sys.modules[name]
        sys.modules.update(saved)
        sys.argv, sys.path[:] = saved_argv, saved_path


def _report(exc: BaseException, script: str) -> None:
    """Print an uncaught exception of the script as Python would: from the script's first frame on."""
    tb = exc.__traceback__
    target = os.path.abspath(script)
    while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) != target:
        tb = tb.tb_next
    exc.with_traceback(tb)  # the default hook prints the exception's own traceback
    try:
        sys.excepthook(type(exc), exc, tb)
    except Exception:  # a broken hook: Python falls back to the default printout
        traceback.print_exception(type(exc), exc, tb)


def _exit_status(code: Any) -> int:
    """The exit status of `SystemExit(code)`, printing a code that is not a number as Python does."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _label(table: BenchmarkTable, realization: int) -> str:
    return table.label + (f", realization {realization}," if table.kind in ("partial", "surrogate") else "")


def run_official(
    script: str | os.PathLike,
    argv: Sequence[str] = (),
    *,
    table: str | os.PathLike | BenchmarkTable | None = None,
    realization: int = 0,
) -> int:
    """Run a script written for the official API; its exit status.

    Args:
        script: the script's path.
        argv: its arguments (`sys.argv[1:]` inside it).
        table: what answers `api.NASBench(path)` for a path that does not exist
            (or no path): a table name ('partial', 'surrogate', 'official'), a
            path (see `open_table`), an open `BenchmarkTable`, or None for the
            best available complete table. Opened before the script starts
            (not at all when a real `nasbench` package runs the script).
        realization: noise realization of a partial or surrogate table (>= 0).

    Returns:
        0 when the script ends, the code of its `SystemExit`, 1 after an
        uncaught exception (printed as its traceback), 130 after Ctrl-C.

    Raises:
        DataFileNotFoundError: the script does not exist.
        ConfigError: the script is not a file, or the table cannot be opened (also
            `DataFileNotFoundError` / `DataFormatError` from `open_table`).
    """
    text = os.fspath(script)
    if not os.path.exists(text):
        raise DataFileNotFoundError(errno.ENOENT, "no such script", text)
    if not os.path.isfile(text):
        raise ConfigError(f"{text}: not a file (run-official runs one Python script)")
    with _script_context(text, argv) as install:
        importlib.invalidate_caches()  # a folder made since the last import scan is seen, as by a new interpreter
        real = _real_nasbench()
        if real is not None:
            print(
                f"nasbench_sim: a real nasbench package is importable ({real}); the script runs with it",
                file=sys.stderr,
            )
        else:
            opened = table if isinstance(table, BenchmarkTable) else open_table(table, realization=realization)
            install(_Finder(_stand_in_api(opened, _label(opened, realization))))
        try:
            runpy.run_path(text, run_name="__main__")
        except SystemExit as exc:
            return _exit_status(exc.code)
        except KeyboardInterrupt as exc:
            _report(exc, text)
            return 130
        except BaseException as exc:
            _report(exc, text)
            return 1
    return 0
