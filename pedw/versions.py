"""Data versions of the sources: what a catalog's files hold, so unchanged inputs cost nothing.

The observable source assets record `source_version` as their Dagster data version; Dagster
then marks a raw asset stale when it changes (and everything downstream through code
versions and input data versions, see pedw.code_versions).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path

from pedw.digest import file_sha256
from pedw.source import Source


def combine(*parts: object) -> str:
    """A short stable hash of the parts, in order."""
    text = "\n".join(str(part) for part in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


class FileDigests:
    """SHA-256 of files, remembered by (size, modification time) in a JSON file.

    A no-change run then costs a `stat` per file instead of reading every byte again.
    """

    def __init__(self, cache_path: Path):
        self.cache_path = cache_path
        try:
            self._known = json.loads(cache_path.read_text())
        except (OSError, ValueError):
            self._known = {}
        self._changed = False

    def digest(self, path: Path) -> str:
        stat = path.stat()
        key = str(path.resolve())
        known = self._known.get(key)
        if known and known["size"] == stat.st_size and known["mtime_ns"] == stat.st_mtime_ns:
            return known["sha256"]
        sha = file_sha256(path)
        self._known[key] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha}
        self._changed = True
        return sha

    def save(self) -> None:
        if not self._changed:
            return
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.cache_path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(self._known))
        os.replace(temporary, self.cache_path)
        self._changed = False


def source_version(sources: Iterable[Source], files_of, digests: FileDigests) -> str:
    """Hash of the catalog entries and the content of every file they read.

    `files_of(source)` gives the local files of a source (for a URL source, its current
    snapshot); a missing file hashes as missing, so its later arrival changes the version.
    """
    parts = []
    for source in sources:
        entry = (source.name, source.level, source.format, source.path, source.url)
        settings = {
            "options": source.options,
            "columns": source.columns,
            "constants": source.constants,
        }
        parts.append(f"{entry}|{json.dumps(settings, sort_keys=True, default=str)}")
        for path in files_of(source):
            parts.append(f"{path}:{digests.digest(path) if path.exists() else 'missing'}")
    return combine(*parts)
