"""``ccsim whatif`` as a user starts it: bad scenarios and options end in one line and exit
status 2 before anything is served; a server stopped with SIGTERM while a comparison runs
cancels it and leaves no process behind."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ccsim.cli import main

ROOT = Path(__file__).resolve().parent.parent
VOICE_WEEK = ROOT / "configs/planner/voice_week.yaml"


def _one_line_usage_error(argv: list[str], capsys) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ccsim"), captured.err
    assert captured.out == ""
    return lines[0]


def test_a_bad_scenario_is_one_line_and_exit_2(tmp_path, capsys):
    missing = tmp_path / "missing.yaml"
    assert str(missing) in _one_line_usage_error(["whatif", str(missing), "--no-browser"], capsys)
    broken = tmp_path / "broken.yaml"
    broken.write_text(VOICE_WEEK.read_text().replace("horizon: 7d", "horizon: 7"))
    line = _one_line_usage_error(["whatif", str(broken), "--no-browser"], capsys)
    assert line.startswith(f"ccsim: {broken}:") and "horizon" in line


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [
        ("--precision", "150%", "--precision"),
        ("--precision", "ten", "--precision"),
        ("--max-replications", "2", "--max-replications"),
        ("--max-replications", "5000", "--max-replications"),
        ("--jobs", "0", "--jobs"),
        ("--port", "-1", "--port"),
        ("--port", "70000", "--port"),
        ("--seed", "x", "--seed"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(option, value, words, capsys):
    argv = ["whatif", str(VOICE_WEEK), "--no-browser", option, value]
    with pytest.raises(SystemExit) as raised:
        main(argv)
    assert raised.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0], err


def test_a_port_taken_is_one_line_and_exit_2(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        argv = ["whatif", str(VOICE_WEEK), "--no-browser", "--port", str(port)]
        assert f"--port {port}" in _one_line_usage_error(argv, capsys)


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def start_server(tmp_path: Path, *options: str) -> tuple[subprocess.Popen, str]:
    """``ccsim whatif`` in a process of its own; its URL read off the line it prints."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, "-m", "ccsim", "whatif", *options, "--no-browser", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    line = server.stdout.readline()
    assert line.startswith("ccsim whatif: http://127.0.0.1:"), line + server.stderr.read()
    return server, line.split()[2]


def post(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_sigterm_cancels_the_running_comparison_and_leaves_no_process(tmp_path):
    server, url = start_server(tmp_path, str(VOICE_WEEK), "--out", str(tmp_path / "out"))
    try:
        run = post(url + "api/run", {"channels.voice.arrivals.volume.mon": "1300"})
        assert run["state"] == "running"
        end = time.monotonic() + 30
        while not (below := _descendants(server.pid)) and time.monotonic() < end:
            time.sleep(0.1)
        assert below, "the comparison runs in a child process"
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        end = time.monotonic() + 15
        while any(_alive(pid) for pid in below) and time.monotonic() < end:
            time.sleep(0.1)
        assert not [pid for pid in below if _alive(pid)], "a worker outlived the server"
        assert "stopped" in server.stderr.read()
        status = json.loads((tmp_path / "out" / str(run["id"]) / "status.json").read_text())
        assert status["state"] == "cancelled"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_a_browser_is_opened_only_where_there_is_a_desktop(monkeypatch):
    """Without a display, webbrowser falls back to a text browser in the terminal."""
    from ccsim.whatif import server

    monkeypatch.setattr(server.sys, "platform", "linux")
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    assert not server.has_a_desktop()
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert server.has_a_desktop()
