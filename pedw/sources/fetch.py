"""Fetch a source published at a URL into a snapshot store, once per release.

A snapshot is the file as served plus `meta.json` (URL, SHA-256, size, fetch time, HTTP
headers). A later fetch asks the server whether the release changed (ETag /
Last-Modified); an unchanged release reuses the snapshot. Transient failures (5xx,
timeouts, truncated bodies, refused connections) are retried with exponential back-off;
when every attempt fails, the last snapshot is used and the caller is told so. With no
snapshot at all, the source is refused with the reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import requests

from pedw.sources.errors import SourceFileError

RETRIED_STATUS = {429, 500, 502, 503, 504}


@dataclass(frozen=True)
class FetchPolicy:
    attempts: int = 4
    backoff_seconds: float = 1.0  # 1, 2, 4 s between attempts
    connect_timeout: float = 10.0
    read_timeout: float = 60.0


@dataclass(frozen=True)
class Snapshot:
    path: Path
    sha256: str
    fetched_at: str
    status: str  # "downloaded", "unchanged" or "offline: <reason>"


def snapshot_dir(root: Path, url: str) -> Path:
    return root / hashlib.sha256(url.encode()).hexdigest()[:16]


KNOWN_SUFFIXES = (".csv.gz", ".csv", ".gz", ".zip", ".xlsx", ".xls", ".dta", ".json", ".xml")
CONTENT_TYPES = {"json": ".json", "xml": ".xml", "csv": ".csv", "spreadsheetml": ".xlsx"}


def snapshot_name(url: str, content_type: str = "") -> str:
    """`data` plus the suffix the loaders dispatch on: from the URL's path, its `format`
    query parameter (ILOSTAT: format=.csv.gz, World Bank: format=json), or the content type."""
    parsed = urlparse(url)
    candidates = [parsed.path.lower()]
    candidates += ["." + v.lstrip(".").lower() for v in parse_qs(parsed.query).get("format", [])]
    for candidate in candidates:
        for suffix in KNOWN_SUFFIXES:
            if candidate.endswith(suffix):
                return "data" + suffix
    for word, suffix in CONTENT_TYPES.items():
        if word in content_type.lower():
            return "data" + suffix
    return "data"


def _read_meta(folder: Path) -> dict | None:
    meta = folder / "meta.json"
    if not meta.exists():
        return None
    found = json.loads(meta.read_text())
    found.setdefault("file", "data")  # snapshots written before names had suffixes
    return found if (folder / found["file"]).exists() else None


def latest_snapshot(url: str, root: Path) -> dict | None:
    """The metadata of the last snapshot of `url` (fetched_at, sha256, headers), if any."""
    return _read_meta(snapshot_dir(root, url))


def fetch_snapshot(
    url: str,
    root: Path,
    policy: FetchPolicy = FetchPolicy(),
    session: requests.Session | None = None,
) -> Snapshot:
    """The current release of `url` as a local file (downloaded, reused, or the last one)."""
    folder = snapshot_dir(root, url)
    meta = _read_meta(folder)
    headers = {}
    if meta:
        if meta["headers"].get("ETag"):
            headers["If-None-Match"] = meta["headers"]["ETag"]
        if meta["headers"].get("Last-Modified"):
            headers["If-Modified-Since"] = meta["headers"]["Last-Modified"]
    http = session or requests.Session()
    problems = []
    for attempt in range(policy.attempts):
        if attempt:
            time.sleep(policy.backoff_seconds * 2 ** (attempt - 1))
        try:
            response = http.get(
                url, headers=headers, timeout=(policy.connect_timeout, policy.read_timeout)
            )
            if response.status_code == 304 and meta:
                return Snapshot(
                    folder / meta["file"], meta["sha256"], meta["fetched_at"], "unchanged"
                )
            if response.status_code in RETRIED_STATUS:
                problems.append(f"HTTP {response.status_code}")
                continue
            if response.status_code != 200:
                raise SourceFileError(url, f"HTTP {response.status_code}: not retried")
            body = response.content
            expected = response.headers.get("Content-Length")
            if expected is not None and int(expected) != len(body):
                problems.append(f"truncated body ({len(body)} of {expected} bytes)")
                continue
            return _store(folder, url, body, response.headers)
        except (requests.ConnectionError, requests.Timeout) as error:
            problems.append(type(error).__name__)
        except requests.exceptions.ChunkedEncodingError:
            problems.append("truncated body")
    reason = "; ".join(problems)
    if meta:
        return Snapshot(
            folder / meta["file"],
            meta["sha256"],
            meta["fetched_at"],
            f"offline: {policy.attempts} attempts failed ({reason}); using the snapshot of "
            f"{meta['fetched_at']}",
        )
    raise SourceFileError(
        url, f"cannot be fetched after {policy.attempts} attempts ({reason}) and no snapshot exists"
    )


def _store(folder: Path, url: str, body: bytes, headers) -> Snapshot:
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(body).hexdigest()
    fetched_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    name = snapshot_name(url, headers.get("Content-Type", ""))
    temporary = folder / f".{name}.{os.getpid()}.tmp"
    temporary.write_bytes(body)
    os.replace(temporary, folder / name)
    kept = {
        k: headers[k]
        for k in ("ETag", "Last-Modified", "Content-Type", "Content-Length")
        if k in headers
    }
    (folder / "meta.json").write_text(
        json.dumps(
            {
                "url": url,
                "file": name,
                "sha256": digest,
                "bytes": len(body),
                "fetched_at": fetched_at,
                "headers": kept,
            },
            indent=2,
        )
    )
    return Snapshot(folder / name, digest, fetched_at, "downloaded")
