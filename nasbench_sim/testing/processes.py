"""Process control for fault tests: wait for a command's pool workers, then kill -9 or Ctrl-C it.

Used by the project's tests and by `benchmarks/faults.py`, so that both exercise a
command the same way: `kill_after_workers` (kill -9 of the main process; which of its
descendants outlive it) and `interrupt_after` (SIGINT to the process group, as a
terminal's Ctrl-C sends it). Needs psutil.

Example:
    >>> import subprocess, sys
    >>> from nasbench_sim.testing.processes import pool_workers
    >>> process = subprocess.Popen([sys.executable, "-c", "pass"])
    >>> process.wait()
    0
    >>> pool_workers(process)
    []
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from typing import Any


def _psutil() -> Any:
    try:
        import psutil
    except ImportError:
        raise RuntimeError("process control needs psutil: pip install psutil") from None
    return psutil


def command_line(process: Any) -> str:
    """A psutil process's command line as one string ('' once it is gone or hidden)."""
    psutil = _psutil()
    try:
        return " ".join(process.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return ""


def is_running(process: Any) -> bool:
    """True while a psutil process exists and is not a zombie waiting to be reaped."""
    psutil = _psutil()
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def pool_workers(process: subprocess.Popen) -> list[Any]:
    """The descendants of `process` other than multiprocessing's resource tracker (its pool workers)."""
    psutil = _psutil()
    try:
        kids = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    return [k for k in kids if "resource_tracker" not in command_line(k)]


def wait_until(condition: Callable[[], bool], process: subprocess.Popen, timeout: float) -> bool:
    """Poll `condition` until it holds (True), `process` exits (False) or `timeout` seconds pass.

    Raises:
        subprocess.TimeoutExpired: `timeout` passed with the process running and `condition` false.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            return False
        if time.monotonic() > deadline:
            raise subprocess.TimeoutExpired(process.args, timeout)
        time.sleep(0.05)
    return True


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the process group of a process started with `start_new_session=True`, and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def kill_after_workers(
    process: subprocess.Popen, *, workers: int, start_timeout: float = 120.0, exit_timeout: float = 30.0
) -> list[str] | None:
    """kill -9 the main process once `workers` pool workers run under it (plus a second at work).

    Args:
        process: a running command that starts a pool of worker processes.
        workers: pool workers to wait for.
        start_timeout: seconds to wait for them.
        exit_timeout: seconds its descendants get to exit on their own.

    Returns:
        The command lines (first 120 characters) of descendants still alive `exit_timeout`
        seconds after the kill, which are then killed too; None if the workers never all
        started (the process ended first or `start_timeout` passed).
    """
    psutil = _psutil()
    try:
        started = wait_until(lambda: len(pool_workers(process)) >= workers, process, start_timeout)
    except subprocess.TimeoutExpired:
        started = False
    if started:
        time.sleep(1.0)  # let them take up work
    kids = pool_workers(process) if process.poll() is None else []
    process.send_signal(signal.SIGKILL)
    process.wait()
    _, alive = psutil.wait_procs(kids, timeout=exit_timeout if started else 0)
    alive = [k for k in alive if is_running(k)]
    survivors = [command_line(k)[:120] for k in alive]
    for kid in alive:  # never leave them behind
        with contextlib.suppress(psutil.NoSuchProcess):
            kid.kill()
    return survivors if started and kids else None


def interrupt_after(
    process: subprocess.Popen,
    ready: Callable[[], bool],
    *,
    settle: float = 1.0,
    start_timeout: float = 120.0,
    exit_timeout: float = 30.0,
) -> int:
    """Ctrl-C as a terminal sends it (SIGINT to the process group) once `ready()` holds; the exit code.

    Args:
        process: started with `start_new_session=True` (its own process group).
        ready: when to interrupt, e.g. `lambda: len(pool_workers(process)) >= 2`.
        settle: seconds to wait after `ready()` before the signal.
        start_timeout: seconds `ready()` may take.
        exit_timeout: seconds the process gets to exit after the signal.

    Raises:
        subprocess.TimeoutExpired: not ready in time, or still running `exit_timeout` after the signal
            (the group is killed either way).
    """
    try:
        if wait_until(ready, process, start_timeout):
            time.sleep(settle)
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=exit_timeout)
    finally:
        kill_group(process)
    return process.returncode
