"""The shared task runner: Dask scheduler errors, workers that exit with their parent."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nasbench_sim._runner import run_tasks
from nasbench_sim.errors import ConfigError

from .conftest import ctrl_c, kill_and_list_survivors

ROOT = Path(__file__).resolve().parents[1]


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_scheduler_is_a_config_error_at_once():
    # Regression: with nothing listening, Dask retried for its whole timeout and the CLI printed an
    # OSError traceback after 30 s.
    pytest.importorskip("distributed")
    address = f"tcp://127.0.0.1:{_closed_port()}"
    start = time.monotonic()
    with pytest.raises(ConfigError, match=f"cannot reach the Dask scheduler at {address} \\(Connection refused\\)"):
        run_tasks([1], abs, on_result=lambda *_: None, scheduler=address, progress=False)
    assert time.monotonic() - start < 8  # importing distributed takes about 2 s; no 10 s retry loop


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:port", "frob://127.0.0.1:1"])
def test_a_malformed_scheduler_address_is_a_config_error(address):
    # Regression: a bad port or scheme escaped as a raw ValueError from inside Dask.
    pytest.importorskip("distributed")
    with pytest.raises(ConfigError, match=r"bad Dask scheduler address|cannot reach the Dask scheduler"):
        run_tasks([1], abs, on_result=lambda *_: None, scheduler=address, progress=False)


def test_workers_and_the_resource_tracker_exit_when_compare_is_killed(surrogate, tmp_path):
    # Regression: after `kill -9` of `compare --workers 2`, the workers and the resource tracker kept
    # running for ever. Enough seeds that the run is still busy when it is killed.
    command = [sys.executable, "-m", "nasbench_sim", "compare", "--table", "surrogate", "--workers", "2"]
    command += ["--algorithms", "re", "--seeds", "0-999", "--budget", "150", "--quiet", "--no-plot"]
    command += ["--results-dir", str(tmp_path), "--experiment", "killed"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(tmp_path / "stderr.txt", "wb") as stderr:
        process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            survivors = kill_and_list_survivors(process, workers=2)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert survivors == [], (tmp_path / "stderr.txt").read_text()


INTERRUPTED_RUN = """
import sys, time
from nasbench_sim._runner import RunInterruptedError, run_tasks
try:
    run_tasks([60.0] * 4, time.sleep, on_result=lambda *_: None, workers=2, progress=False)
except RunInterruptedError as exc:
    print(exc, file=sys.stderr)
    sys.exit(130)
"""


def test_ctrl_c_while_the_workers_start_prints_one_line_and_no_worker_traceback(tmp_path):
    # Regression: Ctrl-C (SIGINT to the whole process group, as a terminal sends it) while spawned workers
    # were still importing printed a KeyboardInterrupt traceback per worker (or an EOFError one when it cut
    # the parent's hand-over short), and the pool's manager thread an InvalidStateError one for the futures
    # cancelled on the way out.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED_RUN], cwd=tmp_path, env=env, stderr=subprocess.PIPE, start_new_session=True
    )
    code, err = ctrl_c(process, workers=0)  # the workers are starting up now
    assert code == 130 and "Traceback" not in err, err
    assert err.strip() == "interrupted after 0 of 4 tasks; finished ones are kept, run the same command again to resume"


def test_a_dask_run_with_no_worker_left_stops_with_a_hint(monkeypatch):
    # Catches `compare --scheduler` waiting forever once every Dask worker has died.
    import threading

    distributed = pytest.importorskip("distributed")
    from nasbench_sim import _runner
    from nasbench_sim.errors import NasbenchSimError

    monkeypatch.setattr(_runner, "NO_WORKER_GRACE", 1.0)
    monkeypatch.setattr(_runner, "WATCH_INTERVAL", 0.2)
    done = []
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:

        def retire_after_first_result():
            while not done:
                time.sleep(0.05)
            cluster.scale(0)

        threading.Thread(target=retire_after_first_result, daemon=True).start()
        with pytest.raises(NasbenchSimError, match=r"no Dask worker left at .* start workers"):
            run_tasks(
                [0.01] + [5.0] * 5,
                time.sleep,
                on_result=lambda t, r: done.append(t),
                scheduler=cluster.scheduler_address,
                progress=False,
            )
    assert done[0] == 0.01  # the finished task was kept


def _die_on_two(task: int) -> int:
    if task == 2:
        os.kill(os.getpid(), 9)  # as the out-of-memory killer does
    return task


def test_a_killed_pool_worker_is_one_clear_error_and_finished_tasks_are_kept():
    # Catches a worker killed by the OOM killer ending in a BrokenProcessPool traceback.
    from nasbench_sim.errors import NasbenchSimError

    done = []
    with pytest.raises(NasbenchSimError, match=r"a worker process died after .* run the same command again"):
        run_tasks([0, 1, 2, 3], _die_on_two, on_result=lambda t, r: done.append(t), workers=2, progress=False)
    assert 2 not in done


def test_a_lost_scheduler_is_one_clear_error(monkeypatch):
    # Catches a killed Dask scheduler ending in a `distributed` traceback.
    import threading

    distributed = pytest.importorskip("distributed")
    from nasbench_sim import _runner
    from nasbench_sim.errors import NasbenchSimError

    monkeypatch.setattr(_runner, "WATCH_INTERVAL", 0.2)
    monkeypatch.setattr(_runner, "NO_WORKER_GRACE", 2.0)
    done = []
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None)

    def close_after_first_result():
        while not done:
            time.sleep(0.05)
        cluster.close()

    closer = threading.Thread(target=close_after_first_result, daemon=True)
    closer.start()
    try:
        with pytest.raises(NasbenchSimError, match=r"lost the Dask scheduler|no Dask worker left"):
            run_tasks(
                [0.01] + [5.0] * 3,
                time.sleep,
                on_result=lambda t, r: done.append(t),
                scheduler=cluster.scheduler_address,
                progress=False,
            )
    finally:
        closer.join(30)
        getattr(distributed.deploy.spec.SpecCluster, "_instances", set()).discard(cluster)  # closed: not again at exit
    assert done[0] == 0.01


def test_a_dask_client_whose_event_loop_does_not_start_is_tried_again_then_one_clear_error():
    # distributed sometimes fails to start a client's event-loop thread within its own 10 s (an internal
    # AssertionError): a new client usually starts; after three failures the error is one line.
    from nasbench_sim import _runner
    from nasbench_sim.errors import NasbenchSimError

    tries = []

    class Flaky:
        def __init__(self, address, timeout):
            tries.append(address)
            if len(tries) < 3:
                raise AssertionError

    assert isinstance(_runner._connect(Flaky, "tcp://h:1"), Flaky) and len(tries) == 3

    class Never:
        def __init__(self, address, timeout):
            raise AssertionError

    with pytest.raises(NasbenchSimError, match="its event loop did not start"):
        _runner._connect(Never, "tcp://h:1")
