"""Fetch a source published at a URL into a snapshot store, once per release.

A snapshot is the file as served plus `meta.json` (URL, final URL after redirects, SHA-256,
size, fetch time, HTTP headers). A later fetch asks the server whether the release changed
(ETag / Last-Modified); an unchanged release reuses the snapshot, after checking that its
file still has the recorded SHA-256 (a file changed on disk is fetched again, never reused).
Transient failures (5xx, timeouts, truncated bodies, refused connections) are retried with
exponential back-off; when every attempt fails, the last (verified) snapshot is used and
the caller is told so. No network is not transient: a host name that does not resolve or an
unreachable network fails at once, without retries, and the host is remembered for
NO_NETWORK_MEMORY seconds so the run's other URLs on it fail without trying (a catalog of 13
URLs offline fails in well under a second, not minutes). Every fetch is bounded: a size cap, an overall deadline, redirects
only to the URL's own host (or hosts the catalog allows). Credentials in a URL never reach
`meta.json` or a message.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
import re
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, urljoin, urlparse, urlunparse

import requests
import urllib3

from pedw.digest import file_sha256
from pedw.sources.errors import SourceFileError

RETRIED_STATUS = {429, 500, 502, 503, 504}
NO_NETWORK_MEMORY = 300.0  # seconds a host found unreachable is not tried again
_unreachable: dict[str, tuple[float, str]] = {}  # host -> (when, why), this process only
UNREACHABLE_ERRNOS = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN}


@dataclass(frozen=True)
class FetchPolicy:
    """How one URL is fetched (a catalog entry's `options.fetch` overrides any field)."""

    attempts: int = 4
    backoff_seconds: float = 1.0  # 1, 2, 4 s between attempts
    connect_timeout: float = 10.0
    read_timeout: float = 60.0  # between two packets
    max_bytes: int = 2 * 1024**3  # a larger body is refused, never kept
    deadline_seconds: float = 900.0  # all attempts of one fetch together
    allowed_hosts: tuple[str, ...] = ()  # redirect targets beyond the URL's own host
    max_redirects: int = 5


SECRET_PARAMETERS = re.compile(r"(key|token|secret|password|passwd|pass|sig|signature|auth)", re.I)
REDIRECTS = {301, 302, 303, 307, 308}


def redact(url: str) -> str:
    """`url` without credentials: no user or password, no value of a secret-looking query
    parameter (api_key, token, ...). What pedw writes or prints instead of the URL."""
    parsed = urlparse(url)
    netloc = parsed.hostname or ""
    if parsed.port:
        netloc += f":{parsed.port}"
    if parsed.username or parsed.password:
        netloc = "***@" + netloc
    query = "&".join(
        f"{name}={'***' if SECRET_PARAMETERS.search(name) else value}"
        for name, value in parse_qsl(parsed.query, keep_blank_values=True)
    )
    return urlunparse(parsed._replace(netloc=netloc, query=query))


class _TooLargeError(Exception):
    pass


class _DeadlineError(Exception):
    pass


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


def _verified_meta(folder: Path) -> tuple[dict | None, str]:
    """The last snapshot's metadata if its file still has the recorded SHA-256; else None
    and why (a snapshot edited on disk is never reused)."""
    meta = _read_meta(folder)
    if meta is None:
        return None, ""
    if file_sha256(folder / meta["file"]) != meta["sha256"]:
        return None, "the kept snapshot changed on disk since it was fetched (SHA-256 differs)"
    return meta, ""


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
    shown = redact(url)
    if urlparse(url).scheme not in ("http", "https"):
        raise SourceFileError(shown, f"unsupported URL scheme {urlparse(url).scheme!r}: "
                                     "http and https only (a local file is a `path:`)")  # fmt: skip
    folder = snapshot_dir(root, url)
    meta, distrust = _verified_meta(folder)
    headers = {}
    if meta:
        if meta["headers"].get("ETag"):
            headers["If-None-Match"] = meta["headers"]["ETag"]
        if meta["headers"].get("Last-Modified"):
            headers["If-Modified-Since"] = meta["headers"]["Last-Modified"]
    http = session or requests.Session()
    problems = [distrust] if distrust else []
    started = time.monotonic()
    host = urlparse(url).hostname or ""
    known = _unreachable.get(host)
    attempts = policy.attempts
    if known and started - known[0] < NO_NETWORK_MEMORY:
        problems.append(f"{known[1]}, {started - known[0]:.0f} s ago; not tried again")
        attempts = 0
    for attempt in range(attempts):
        if attempt:
            time.sleep(policy.backoff_seconds * 2 ** (attempt - 1))
        try:
            response, final = _follow(http, url, headers, policy, started)
            if response.status_code == 304 and meta:
                return Snapshot(
                    folder / meta["file"], meta["sha256"], meta["fetched_at"], "unchanged"
                )
            if response.status_code in RETRIED_STATUS:
                problems.append(f"HTTP {response.status_code}")
                continue
            if response.status_code != 200:
                raise SourceFileError(shown, f"HTTP {response.status_code}: not retried")
            return _download(folder, url, final, response, policy, started)
        except _TooLargeError:
            raise SourceFileError(
                shown, f"the body is larger than {policy.max_bytes:,} bytes (options.fetch."
                "max_bytes); not kept",
            ) from None  # fmt: skip
        except _DeadlineError:
            problems.append(f"the fetch took longer than {policy.deadline_seconds:g} s")
            break
        except (requests.ConnectionError, requests.Timeout) as error:
            offline = no_network(error)
            if offline:  # not transient: retrying costs minutes and changes nothing
                problems.append(f"no network: {offline}")
                _unreachable[host] = (time.monotonic(), f"no network: {offline}")
                break
            problems.append(type(error).__name__)
        except urllib3.exceptions.ReadTimeoutError:  # while streaming the body
            problems.append("ReadTimeout")
        except (requests.exceptions.ChunkedEncodingError, urllib3.exceptions.HTTPError):
            problems.append("truncated body")
    reason = "; ".join(problems)
    if meta:
        return Snapshot(
            folder / meta["file"],
            meta["sha256"],
            meta["fetched_at"],
            f"offline: the fetch failed ({reason}); using the snapshot of {meta['fetched_at']}",
        )
    raise SourceFileError(shown, f"cannot be fetched ({reason}) and no usable snapshot exists")


def no_network(error: BaseException) -> str | None:
    """Why `error` means there is no network to reach the host (its name does not resolve,
    the network is unreachable), or None for a failure worth retrying."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, urllib3.exceptions.NameResolutionError | socket.gaierror):
            return "the host name does not resolve"
        if isinstance(current, OSError) and current.errno in UNREACHABLE_ERRNOS:
            return "the network is unreachable"
        reason = getattr(current, "reason", None)
        pending += [e for e in (*current.args, reason, current.__cause__, current.__context__)
                    if isinstance(e, BaseException)]  # fmt: skip
    return None


def _follow(http: requests.Session, url: str, headers: dict, policy: FetchPolicy, started: float):
    """GET `url`, following redirects only to its own host or to `policy.allowed_hosts`."""
    allowed = {urlparse(url).hostname, *policy.allowed_hosts}
    current = url
    for _ in range(policy.max_redirects + 1):
        if time.monotonic() - started > policy.deadline_seconds:
            raise _DeadlineError
        response = http.get(
            current, headers=headers, timeout=(policy.connect_timeout, policy.read_timeout),
            allow_redirects=False, stream=True,
        )  # fmt: skip
        if response.status_code not in REDIRECTS:
            return response, current
        target = urljoin(current, response.headers.get("Location", ""))
        response.close()
        if urlparse(target).hostname not in allowed:
            raise SourceFileError(
                redact(url), f"redirected to another host, {redact(target)}: not followed "
                "(add the host to options.fetch.allowed_hosts to allow it)",
            )  # fmt: skip
        current = target
    raise SourceFileError(redact(url), f"more than {policy.max_redirects} redirects")


def _download(
    folder: Path, url: str, final: str, response, policy: FetchPolicy, started: float
) -> Snapshot:
    """Stream the body to a temporary file under the size cap and the deadline (read as it
    arrives, so a server dripping bytes cannot outlast the deadline by more than one read
    timeout)."""
    folder.mkdir(parents=True, exist_ok=True)
    name = snapshot_name(url, response.headers.get("Content-Type", ""))
    temporary = folder / f".{name}.{uuid.uuid4().hex}.tmp"
    digest, size = hashlib.sha256(), 0
    try:
        with temporary.open("wb") as out:
            while block := response.raw.read1(1 << 16):
                size += len(block)
                if size > policy.max_bytes:
                    raise _TooLargeError
                if time.monotonic() - started > policy.deadline_seconds:
                    raise _DeadlineError
                digest.update(block)
                out.write(block)
        expected = response.headers.get("Content-Length")
        if expected is not None and int(expected) != size:
            raise requests.exceptions.ChunkedEncodingError(f"{size} of {expected} bytes")
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    finally:
        response.close()
    os.replace(temporary, folder / name)
    fetched_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    kept = {
        k: response.headers[k]
        for k in ("ETag", "Last-Modified", "Content-Type", "Content-Length")
        if k in response.headers
    }
    record = {"url": redact(url), "final_url": redact(final), "file": name,
              "sha256": digest.hexdigest(), "bytes": size, "fetched_at": fetched_at,
              "headers": kept}  # fmt: skip
    (folder / "meta.json").write_text(json.dumps(record, indent=2))
    return Snapshot(folder / name, digest.hexdigest(), fetched_at, "downloaded")
