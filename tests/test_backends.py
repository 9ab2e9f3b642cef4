"""Stopping a run stops its workers: SIGTERM, and kill -9 of the parent, leave no process
behind (loky keeps workers for reuse, so nothing else would end them)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import psutil
import pytest

pytestmark = pytest.mark.slow  # each test starts a real run with workers: about 4 s

EXPERIMENT = """\
name: long
scenario: scenario.yaml
seed: 1
replications: 400
scenarios:
  base: {}
"""

SCENARIO = """\
name: long
horizon: 40h
channels:
  voice:
    arrivals: {rate: 3/min}
    handle_time: {dist: exponential, mean: 3min}
    patience: {dist: exponential, mean: 2min}
    service_level: {threshold: 20s, target: 0.8}
sites:
  - {name: main, agents: 11}
"""


def _start(tmp_path) -> tuple[subprocess.Popen, list[psutil.Process]]:
    (tmp_path / "scenario.yaml").write_text(SCENARIO)
    (tmp_path / "experiment.yaml").write_text(EXPERIMENT)
    command = [sys.executable, "-m", "ccsim", "experiment", "experiment.yaml", "--jobs", "2"]
    command += ["--out", str(tmp_path / "out")]
    process = subprocess.Popen(
        command,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        # A shell without job control starts background commands with SIGINT ignored, and
        # Python then leaves it ignored (as a background job should): restore it, so that the
        # run is interrupted as from a terminal however the test suite was started.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    parent = psutil.Process(process.pid)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        workers = parent.children(recursive=True)
        if len(workers) >= 2:
            time.sleep(1.0)  # the workers are computing a block now
            return process, parent.children(recursive=True)
        time.sleep(0.05)
    process.kill()
    pytest.fail("no workers started")


def _running(process: psutil.Process) -> bool:
    # An exited worker whose new parent does not reap it stays a zombie: it runs nothing.
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _gone_within(processes: list[psutil.Process], seconds: float) -> list[psutil.Process]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(map(_running, processes)):
        time.sleep(0.1)
    alive = [process for process in processes if _running(process)]
    for process in alive:
        process.kill()
    return alive


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
def test_stopping_an_experiment_stops_its_workers(tmp_path, how):
    process, workers = _start(tmp_path)
    process.send_signal(how)
    _, err = process.communicate(timeout=30)
    assert process.returncode == (143 if how == signal.SIGTERM else 130), err
    assert "interrupted" in err and "Traceback" not in err, err
    assert not _gone_within(workers, 5.0), "workers outlived the stopped run"


def test_workers_of_a_killed_parent_exit_by_themselves(tmp_path):
    process, workers = _start(tmp_path)
    process.kill()
    process.wait()
    assert not _gone_within(workers, 5.0), "workers outlived their killed parent"
