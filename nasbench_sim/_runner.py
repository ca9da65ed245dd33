"""One resumable task runner for every batch job (NAS comparisons, the MNIST study).

A task is any picklable object; `fn(task)` computes its result in this
process, in spawned worker processes or on a Dask cluster, and
`on_result(task, result)` (always called in this process) writes it,
atomically. Tasks for which `is_done(task)` holds are skipped, so an
interrupted batch resumes where it stopped without losing finished work.

Workers are spawned (forking after torch has run can deadlock) and exit on
their own when the process that started them dies (`kill -9` included), so
no orphan keeps computing. Ctrl-C is the parent's alone (workers ignore it,
also while they start): it stops the workers and raises
`RunInterruptedError`, which says how many tasks finished.

Example:
    >>> from nasbench_sim._runner import run_tasks
    >>> out = {}
    >>> run_tasks([1, 2, 3], abs, on_result=out.__setitem__, is_done=lambda t: t == 2, progress=False)
    2
    >>> sorted(out.items())
    [(1, 1), (3, 3)]
"""

from __future__ import annotations

import concurrent.futures.process
import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Any, TypeVar

from tqdm.auto import tqdm

from nasbench_sim.errors import ConfigError, NasbenchSimError

#: Seconds between checks on a Dask run, and how long a run may wait with no worker at all.
WATCH_INTERVAL = 2.0
NO_WORKER_GRACE = 60.0

T = TypeVar("T")
R = TypeVar("R")


class RunInterruptedError(NasbenchSimError):
    """A batch was stopped (Ctrl-C); finished tasks are kept and a rerun resumes."""


def _init_worker(parent_pid: int) -> None:
    """Worker initializer: Ctrl-C is the parent's to handle (it stops the workers); exit with the parent.

    A worker is born with SIGINT blocked (`_ctrl_c_deferred`), so a Ctrl-C during its start-up waits;
    ignoring SIGINT before unblocking it discards that one too.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _exit_with_parent(parent_pid)


def _exit_with_parent(parent_pid: int, interval: float = 0.5) -> None:
    """Start a daemon thread that ends this process once `parent_pid` is gone."""

    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(1)
            time.sleep(interval)

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


def run_tasks(
    tasks: Sequence[T],
    fn: Callable[[T], R],
    *,
    on_result: Callable[[T, R], None],
    is_done: Callable[[T], bool] | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    progress: bool = True,
    desc: str = "tasks",
    unit: str = "task",
) -> int:
    """Run every task not done yet; returns how many ran now.

    Args:
        tasks: picklable task descriptions.
        fn: module-level function computing a task's result (picklable by reference).
        on_result: called in this process with each finished task and its result.
        is_done: tasks for which it returns True are skipped (default: none).
        workers: local processes (1: run in this process). Ignored with `scheduler`.
        scheduler: address of a Dask scheduler (`tcp://host:8786`).
        progress: show a tqdm bar.
        desc, unit: the bar's label and unit.

    Raises:
        ConfigError: `workers` < 1, or Dask is missing or unreachable.
        RunInterruptedError: Ctrl-C; the tasks finished before it are kept.
    """
    if workers < 1:
        raise ConfigError(f"workers must be >= 1, got {workers}")
    todo = [t for t in tasks if not (is_done and is_done(t))]
    bar = tqdm(total=len(tasks), initial=len(tasks) - len(todo), desc=desc, unit=unit, disable=not progress)
    finished = 0

    def finish(task: T, result: R) -> None:
        nonlocal finished
        on_result(task, result)
        finished += 1
        bar.update(1)

    try:
        if scheduler is not None:
            _run_dask(todo, fn, scheduler, finish)
        elif workers == 1 or len(todo) <= 1:
            for task in todo:
                finish(task, fn(task))
        else:
            _run_pool(todo, fn, min(workers, len(todo)), finish)
    except KeyboardInterrupt:
        raise RunInterruptedError(
            f"interrupted after {finished} of {len(todo)} {unit}s; finished ones are kept, "
            "run the same command again to resume"
        ) from None
    except BrokenProcessPool:
        raise NasbenchSimError(
            f"a worker process died after {finished} of {len(todo)} {unit}s (killed, e.g. by the system when "
            "memory ran out); finished ones are kept: run the same command again, with fewer workers if memory is short"
        ) from None
    finally:
        bar.close()
    return finished


class _WorkerPool(ProcessPoolExecutor):
    """A process pool whose `submit` (which may start a worker) is never cut short by Ctrl-C."""

    def submit(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> Future[R]:
        with _ctrl_c_deferred():
            return super().submit(fn, *args, **kwargs)


@contextlib.contextmanager
def _ctrl_c_deferred() -> Iterator[None]:
    """Hold a Ctrl-C (SIGINT) until the block ends, then deliver it as usual.

    Processes started in the block inherit SIGINT blocked (`_init_worker` then ignores it): a Ctrl-C while
    a worker starts neither reaches its start-up code nor cuts the parent's hand-over to it short (either
    printed a traceback from the worker). Only in the main thread, where Python runs signal handlers.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        signal.signal(signal.SIGINT, previous)
        if received:
            signal.raise_signal(signal.SIGINT)  # handled by the restored handler (KeyboardInterrupt by default)


def spawn_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of `workers` spawned processes that exit on their own when this process dies (`kill -9` included)
    and leave Ctrl-C to it (no traceback per worker)."""
    return _WorkerPool(
        max_workers=workers,
        mp_context=get_context("spawn"),
        initializer=_init_worker,
        initargs=(os.getpid(),),
    )


def _run_pool(todo: Sequence[T], fn: Callable[[T], R], workers: int, finish: Callable[[T, R], None]) -> None:
    pool = spawn_pool(workers)
    pending: dict[Future, T] = {}
    try:
        queue = iter(todo)
        for task in _take(queue, 2 * workers):  # keep the pool busy without pickling every task up front
            pending[pool.submit(fn, task)] = task
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                task = pending.pop(future)
                finish(task, future.result())
                for nxt in _take(queue, 1):
                    pending[pool.submit(fn, nxt)] = nxt
    except BaseException:
        stop_pool(pool)
        raise
    pool.shutdown()


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now, running tasks included (on Ctrl-C or an error); its pending futures fail.

    The pool fails its pending futures itself (BrokenProcessPool): cancelling them here as well made its
    manager thread print an InvalidStateError traceback (Python 3.11).
    """
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()
    pool.shutdown(wait=False)
    # Let the pool's manager thread see its stopped workers and close its wakeup pipe now: at exit, Python
    # 3.11's hook writes to that pipe unlocked, and a close racing that write printed an EBADF traceback.
    manager = getattr(pool, "_executor_manager_thread", None)
    if manager is not None and manager is not threading.current_thread():
        manager.join(timeout=10)
        # A manager still busy after that (a loaded machine) closes the pipe later, racing the exit hook
        # just the same: take it off the hook's list; it ends by itself once it sees its workers gone.
        wakeups = getattr(concurrent.futures.process, "_threads_wakeups", None)
        if wakeups is not None:
            wakeups.pop(manager, None)


def _take(iterator: Iterable[T], count: int) -> list[T]:
    out = []
    for item in iterator:
        out.append(item)
        if len(out) == count:
            break
    return out


def _run_dask(todo: Sequence[T], fn: Callable[[T], Any], scheduler: str, finish: Callable[[T, Any], None]) -> None:
    try:
        from distributed import Client
    except ImportError:
        raise ConfigError("a Dask scheduler needs dask.distributed: pip install 'nasbench_sim[dask]'") from None
    _check_reachable(scheduler)
    client = _connect(Client, scheduler)
    with client:
        futures = client.map(fn, list(todo), pure=False)
        task_of = {future.key: task for future, task in zip(futures, todo, strict=True)}
        try:
            for future in _as_completed_while_workers(futures, client, scheduler):
                finish(task_of[future.key], future.result())
        except OSError as exc:  # the scheduler went away (CommClosedError is an OSError)
            raise NasbenchSimError(
                f"lost the Dask scheduler at {scheduler} ({type(exc).__name__}); finished runs are kept, rerun to resume"
            ) from None


def _connect(client_class: Any, scheduler: str, attempts: int = 3) -> Any:
    """A Dask client of `scheduler`, trying again when distributed fails to start its own event-loop thread.

    (distributed waits 10 s for that thread and then fails an internal assertion; a new client usually starts.)

    Raises:
        ConfigError: the scheduler cannot be reached.
        NasbenchSimError: the client's event loop did not start in `attempts` tries.
    """
    for _ in range(attempts):
        try:
            return client_class(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise ConfigError(f"cannot reach the Dask scheduler at {scheduler} ({exc})") from None
        except AssertionError:  # distributed's LoopRunner: its event-loop thread did not start in time
            continue
    raise NasbenchSimError(
        f"could not start a Dask client for {scheduler}: its event loop did not start ({attempts} tries)"
    )


def _as_completed_while_workers(
    futures: list[Any], client: Any, scheduler: str, grace: float | None = None
) -> Iterator[Any]:
    """Each future as it completes; NasbenchSimError once no worker is left for `grace` seconds.

    Dask itself would wait forever for a worker to come back.
    """
    from distributed import wait as dask_wait

    grace = NO_WORKER_GRACE if grace is None else grace
    pending = list(futures)
    lonely_since: float | None = None
    while pending:
        try:
            done, not_done = dask_wait(pending, timeout=WATCH_INTERVAL, return_when="FIRST_COMPLETED")
        except TimeoutError:  # nothing finished in this interval: is anyone still working?
            if client.scheduler_info().get("workers"):
                lonely_since = None
            elif lonely_since is None:
                lonely_since = time.monotonic()
            elif time.monotonic() - lonely_since > grace:
                raise NasbenchSimError(
                    f"no Dask worker left at {scheduler} for {grace:.0f} s with {len(pending)} task(s) to do: "
                    f"start workers (dask worker {scheduler}) and run the same command again; finished runs are kept"
                ) from None
            continue
        lonely_since = None
        yield from done
        pending = list(not_done)


def _check_reachable(scheduler: str, timeout: float = 5.0) -> None:
    """ConfigError at once when nothing listens at a TCP scheduler address (Dask would retry for 10 s).

    Addresses of other transports (inproc, ucx, ws) are left to Dask.
    """
    import socket

    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(scheduler)
        if scheme not in ("tcp", "tls"):
            return
        host, port = parse_host_port(location, default_port=8786)
    except ValueError as exc:
        raise ConfigError(f"bad Dask scheduler address {scheduler!r} ({exc}); use e.g. tcp://HOST:8786") from None
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:  # refused, unknown host, timed out
        raise ConfigError(f"cannot reach the Dask scheduler at {scheduler} ({exc.strerror or exc})") from None
