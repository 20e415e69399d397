"""`pedw ui` stops on Ctrl-C or SIGTERM with every process it started (webserver, daemon, code
server): none is left behind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from published_runs import local_instance_env

from pedw.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _group(pgid: int) -> list[int]:
    """Processes of process group `pgid` still alive (zombies excluded)."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(entry.name))
    return alive


def _wait_for_ui(port: int, process: subprocess.Popen, seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"pedw ui ended: {process.stdout.read()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"the Dagster UI did not answer on port {port} in {seconds} s")


@pytest.mark.parametrize("sent", [signal.SIGTERM, signal.SIGINT])
def test_pedw_ui_stops_with_all_its_children(tmp_path, sent):
    port = _free_port()
    env = {**local_instance_env(), "PEDW_DAGSTER_STORAGE": str(tmp_path / "dagster")}
    ui = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "ui", "--port", str(port),
         "--warehouse", str(tmp_path / "wh" / "pedw.duckdb")],
        env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        _wait_for_ui(port, ui)
        children = [p for p in _children_of(ui.pid)]
        assert children, "dagster dev was not started"
        groups = {os.getpgid(p) for p in children}
        ui.send_signal(sent)
        output, _ = ui.communicate(timeout=120)
    finally:
        if ui.poll() is None:
            ui.kill()
    assert ui.returncode == 0, output[-2000:]
    assert f"pedw: stopped ({sent.name})" in output
    assert all(_group(pgid) == [] for pgid in groups)  # webserver, daemon, code server: gone


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found
