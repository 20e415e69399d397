"""The HTTP path against a local loopback server serving a real ILOSTAT bulk file: snapshots,
unchanged releases, retries on 500s, timeouts and truncated bodies, and the offline fallback."""

from __future__ import annotations

import hashlib
import http.server
import threading
import time

import pytest

from pedw.sources.errors import SourceFileError
from pedw.sources.fetch import FetchPolicy, fetch_snapshot

FAST = FetchPolicy(attempts=3, backoff_seconds=0.05, connect_timeout=2, read_timeout=0.5)


class Server:
    """A loopback HTTP server whose next responses can be scripted (ok, 500, slow, truncated)."""

    def __init__(self, body: bytes):
        self.body, self.etag, self.script, self.requests = body, '"v1"', [], 0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                owner.requests += 1
                mode = owner.script.pop(0) if owner.script else "ok"
                if mode == "500":
                    self.send_response(500)
                    self.end_headers()
                    return
                if mode == "slow":
                    time.sleep(1.0)
                if self.headers.get("If-None-Match") == owner.etag and mode == "ok":
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("ETag", owner.etag)
                self.send_header("Content-Type", "text/csv")
                self.send_header("Content-Length", str(len(owner.body)))
                self.end_headers()
                self.wfile.write(
                    owner.body[: len(owner.body) // 2] if mode == "truncated" else owner.body
                )

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/SDG_1041_NOC_RT_A.csv"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()


@pytest.fixture
def server(real_data):
    running = Server((real_data / "ilostat_bulk" / "SDG_1041_NOC_RT_A.csv").read_bytes())
    yield running
    running.close()


def test_first_fetch_downloads_and_an_unchanged_release_is_reused(server, tmp_path):
    first = fetch_snapshot(server.url, tmp_path, FAST)
    assert first.status == "downloaded"
    assert first.sha256 == hashlib.sha256(server.body).hexdigest()
    assert first.path.read_bytes() == server.body
    again = fetch_snapshot(server.url, tmp_path, FAST)
    assert again.status == "unchanged" and again.sha256 == first.sha256
    server.etag, server.body = (
        '"v2"',
        server.body + b'"KEN","XA:2198","SDG_1041_NOC_RT","2027",40.1,"I",1\n',
    )
    newer = fetch_snapshot(server.url, tmp_path, FAST)
    assert newer.status == "downloaded" and newer.sha256 != first.sha256


def test_server_errors_are_retried_with_back_off(server, tmp_path):
    server.script = ["500", "500"]
    snapshot = fetch_snapshot(server.url, tmp_path, FAST)
    assert snapshot.status == "downloaded" and server.requests == 3


def test_truncated_body_is_never_stored(server, tmp_path):
    server.script = ["truncated", "ok"]
    snapshot = fetch_snapshot(server.url, tmp_path, FAST)
    assert snapshot.path.read_bytes() == server.body


def test_timeouts_fall_back_to_the_last_snapshot_and_say_so(server, tmp_path):
    fetch_snapshot(server.url, tmp_path, FAST)
    server.etag = '"v2"'
    server.script = ["slow", "slow", "slow"]
    snapshot = fetch_snapshot(server.url, tmp_path, FAST)
    assert snapshot.status.startswith("offline: 3 attempts failed")
    assert snapshot.path.read_bytes() == server.body


def test_no_network_and_no_snapshot_refuses_the_source(tmp_path):
    with pytest.raises(SourceFileError, match="cannot be fetched after 3 attempts"):
        fetch_snapshot("http://127.0.0.1:9/none.csv", tmp_path, FAST)


def test_a_catalog_url_source_loads_through_the_raw_stage(server, tmp_path):
    from pedw.catalog import load_catalog
    from pedw.raw import write_raw
    from pedw.store import Store

    snapshots = tmp_path / "wh" / "snapshots"  # handed down by the settings, never guessed
    (tmp_path / "online.yml").write_text(
        "sources:\n  - name: labour_share\n    level: national\n    format: ilostat_csv\n"
        f"    url: {server.url}\n    contract: ilostat_observations\n"
        "    options: {fetch: {attempts: 2, backoff_seconds: 0.05, read_timeout: 0.5}}\n"
    )
    catalog = load_catalog(tmp_path / "online.yml")
    store = Store(tmp_path / "store")
    loaded = write_raw(
        store, catalog, "national", ("ilostat_csv",), "national_observations", "run-1",
        snapshots=snapshots,
    )  # fmt: skip
    assert loaded.rows == 6_329 and loaded.issues == []
    assert snapshots.is_dir()
    server.script = ["500", "500"]
    server.etag = '"v2"'
    offline = write_raw(
        store, catalog, "national", ("ilostat_csv",), "national_observations", "run-2",
        snapshots=snapshots,
    )  # fmt: skip
    assert offline.rows == 6_329
    assert [issue["kind"] for issue in offline.issues] == ["warning"]
    assert "using the snapshot of" in offline.issues[0]["message"]
