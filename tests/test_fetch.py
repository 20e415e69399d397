"""The HTTP path against a local loopback server serving a real ILOSTAT bulk file: snapshots,
unchanged releases, retries on 500s, timeouts and truncated bodies, and the offline fallback."""

from __future__ import annotations

import hashlib
import http.server
import json
import re
import threading
import time

import pytest

from pedw.sources.errors import SourceFileError
from pedw.sources.fetch import FetchPolicy, fetch_snapshot, redact, snapshot_dir

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
                if mode.startswith("redirect:"):
                    self.send_response(302)
                    self.send_header("Location", mode.split(":", 1)[1])
                    self.end_headers()
                    return
                if mode == "drip":  # one byte every 0.1 s: never a read timeout
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(owner.body)))
                    self.end_headers()
                    try:
                        for byte in owner.body[:400]:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(0.1)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    return
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
    assert snapshot.status.startswith("offline: the fetch failed (ReadTimeout")
    assert snapshot.path.read_bytes() == server.body


def test_no_network_and_no_snapshot_refuses_the_source(tmp_path):
    with pytest.raises(
        SourceFileError,
        match=r"cannot be fetched \(ConnectionError; ConnectionError; ConnectionError\)",
    ):
        fetch_snapshot("http://127.0.0.1:9/none.csv", tmp_path, FAST)


def test_no_network_fails_in_milliseconds_without_retries_and_the_host_is_not_tried_again(
    tmp_path,
):
    """A host name that does not resolve (.invalid never does: RFC 2606) is not a transient
    failure: the default policy (4 attempts, 7 s of back-off) is not spent on it, and the
    run's next URL on that host fails without a request."""
    started = time.monotonic()
    with pytest.raises(SourceFileError, match=r"no network: the host name does not resolve\)"):
        fetch_snapshot("https://pedw-offline-a.invalid/data/?id=X&format=.csv.gz", tmp_path)
    with pytest.raises(SourceFileError, match=r"s ago; not tried again\) and no usable snapshot"):
        fetch_snapshot("https://pedw-offline-a.invalid/data/?id=Y&format=.csv.gz", tmp_path)
    assert time.monotonic() - started < 2.0


def test_no_network_uses_the_last_snapshot_at_once(tmp_path):
    url = "https://pedw-offline-b.invalid/data.csv"
    folder = snapshot_dir(tmp_path, url)
    folder.mkdir(parents=True)
    body = b"ref_area,indicator,time,obs_value\nKEN,X,2020,1\n"
    (folder / "data.csv").write_bytes(body)
    sha = hashlib.sha256(body).hexdigest()
    meta = {"url": url, "file": "data.csv", "sha256": sha, "fetched_at": "2026-11-01T00:00:00+00:00",
            "headers": {"ETag": '"v1"'}}  # fmt: skip
    (folder / "meta.json").write_text(json.dumps(meta))
    started = time.monotonic()
    snapshot = fetch_snapshot(url, tmp_path)
    assert time.monotonic() - started < 2.0
    assert snapshot.status == (
        "offline: the fetch failed (no network: the host name does not resolve); using the "
        "snapshot of 2026-11-01T00:00:00+00:00"
    )
    assert snapshot.path.read_bytes() == body and snapshot.sha256 == sha


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
    assert loaded.rows == 6_329 and [issue["kind"] for issue in loaded.issues] == ["release"]
    # No Last-Modified from this server: the release a brief cites is the day it was fetched.
    assert re.search(r": release \d{4}-\d\d-\d\d \(fetched\)$", loaded.issues[0]["message"])
    assert snapshots.is_dir()
    server.script = ["500", "500"]
    server.etag = '"v2"'
    offline = write_raw(
        store, catalog, "national", ("ilostat_csv",), "national_observations", "run-2",
        snapshots=snapshots,
    )  # fmt: skip
    assert offline.rows == 6_329
    assert [issue["kind"] for issue in offline.issues] == ["warning", "release"]
    assert "using the snapshot of" in offline.issues[0]["message"]


def test_a_snapshot_edited_on_disk_is_fetched_again_not_reused(server, tmp_path):
    first = fetch_snapshot(server.url, tmp_path, FAST)
    first.path.write_bytes(first.path.read_bytes().replace(b"KEN", b"XXX"))  # planted value
    again = fetch_snapshot(server.url, tmp_path, FAST)  # the ETag alone would say unchanged
    assert again.status == "downloaded" and again.path.read_bytes() == server.body
    again.path.write_bytes(b"planted")
    server.script = ["500", "500", "500"]
    with pytest.raises(SourceFileError, match="changed on disk since it was fetched"):
        fetch_snapshot(server.url, tmp_path, FAST)


def test_a_body_over_the_size_cap_is_refused_and_not_kept(server, tmp_path):
    with pytest.raises(SourceFileError, match="larger than 1,000 bytes"):
        fetch_snapshot(server.url, tmp_path, FetchPolicy(attempts=1, max_bytes=1_000))
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_a_dripping_server_is_cut_at_the_overall_deadline(server, tmp_path):
    server.script = ["drip"]
    started = time.monotonic()
    policy = FetchPolicy(attempts=3, backoff_seconds=0.05, read_timeout=5, deadline_seconds=1.5)
    with pytest.raises(SourceFileError, match=r"took longer than 1\.5 s"):
        fetch_snapshot(server.url, tmp_path, policy)
    assert time.monotonic() - started < 5


def test_redirects_stay_on_the_sources_host_unless_the_catalog_allows_more(server, tmp_path):
    other = server.url.replace("127.0.0.1", "localhost")  # the same server, another host name
    server.script = [f"redirect:{other}"]
    with pytest.raises(SourceFileError, match="redirected to another host"):
        fetch_snapshot(server.url, tmp_path, FAST)
    server.script = [f"redirect:{other}"]
    allowed = FetchPolicy(attempts=1, allowed_hosts=("localhost",))
    snapshot = fetch_snapshot(server.url, tmp_path, allowed)
    meta = json.loads((snapshot.path.parent / "meta.json").read_text())
    assert snapshot.status == "downloaded" and meta["final_url"] == other


def test_credentials_in_a_url_are_never_written_or_shown(server, tmp_path):
    secret_url = server.url.replace("http://", "http://analyst:hunter2@") + "?api_key=S3CRET&v=1"
    snapshot = fetch_snapshot(secret_url, tmp_path, FAST)
    written = (snapshot.path.parent / "meta.json").read_text()
    assert "hunter2" not in written and "S3CRET" not in written and "v=1" in written
    server.script = ["404"]
    assert redact(secret_url).endswith("?api_key=***&v=1") and "hunter2" not in redact(secret_url)


def test_unsupported_schemes_are_refused_in_one_line(tmp_path):
    with pytest.raises(SourceFileError, match="unsupported URL scheme 'file'"):
        fetch_snapshot("file:///etc/passwd", tmp_path, FAST)
