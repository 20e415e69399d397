"""Seals catch an edit that kept a file's size, inode and modification time; a signal is
noted even while another library's handler is installed (as Dagster's is during a step)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from published_runs import edit_in_place_keeping_times

from pedw.seal import SealState, check_seal, read_seal, write_seal
from pedw.settings import PROJECT_ROOT


def test_an_edit_that_kept_size_inode_and_mtime_is_changed(tmp_path):
    path = tmp_path / "data.parquet"
    path.write_bytes(os.urandom(4096))
    write_seal(path)
    assert check_seal(path) == SealState.INTACT
    edit_in_place_keeping_times(path)
    assert check_seal(path) == SealState.CHANGED
    assert check_seal(path) == SealState.CHANGED  # never resealed while the bytes differ


def test_same_bytes_with_a_new_identity_are_resealed_not_changed(tmp_path):
    path = tmp_path / "data.parquet"
    path.write_bytes(b"pedw" * 1000)
    sha = write_seal(path)
    copy = tmp_path / "copy"
    copy.write_bytes(path.read_bytes())
    os.replace(copy, path)  # copied back: new inode and times, same bytes
    assert read_seal(path)["inode"] != path.stat().st_ino
    assert check_seal(path) == SealState.INTACT
    assert read_seal(path) == {
        "sha256": sha,
        "size": 4000,
        "mtime_ns": path.stat().st_mtime_ns,
        "ctime_ns": path.stat().st_ctime_ns,
        "inode": path.stat().st_ino,
    }


def test_a_file_without_seal_or_gone_is_named_as_such(tmp_path):
    path = tmp_path / "data.parquet"
    path.write_bytes(b"x")
    assert check_seal(path) == SealState.UNSEALED
    write_seal(path)
    path.unlink()
    assert check_seal(path) == SealState.MISSING


STOP_PROBE = textwrap.dedent(
    """
    import os, signal, time
    from pedw.stop_signals import StopSignals

    seen = []
    with StopSignals() as stop:
        # What Dagster does during a step: its own handler, which swallows the signal.
        signal.signal(signal.SIGINT, lambda *_: seen.append("library"))
        signal.signal(signal.SIGTERM, lambda *_: seen.append("library"))
        os.kill(os.getpid(), signal.SIG{name})
        deadline = time.monotonic() + 30
        while stop.received is None and time.monotonic() < deadline:
            time.sleep(0.01)
        print("silenced:", end=" ", flush=True)
        import sys; print("traceback", file=sys.stderr)  # dropped once a stop is asked for
    print(stop.name, seen, flush=True)
    """
)


def test_a_stop_signal_is_noted_whoever_handles_it():
    for name in ("INT", "TERM"):
        probe = subprocess.run(
            [sys.executable, "-c", STOP_PROBE.format(name=name)],
            capture_output=True,
            text=True,
            cwd=PROJECT_ROOT,
            timeout=120,
        )
        assert probe.returncode == 0, probe.stderr
        assert probe.stdout.strip() == f"silenced: SIG{name} ['library']"
        assert "traceback" not in probe.stderr
