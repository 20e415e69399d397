"""Logical versions: fingerprints of what an output was built from, so unchanged inputs cost nothing.

The version of a raw table is a hash of the code and of every file its sources read; the
version of anything else is a hash of the code and of its inputs' versions. Versions are
therefore known before anything runs: a run compares them with the versions recorded by
the last materializations and rebuilds only what differs.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from pedw.catalog import Source
from pedw.settings import PROJECT_ROOT

# Everything whose change can change an output: the code, the contracts, the pinned stack.
CODE_FILES = ("pedw/**/*.py", "pedw/**/*.yml", "pedw/**/*.html", "assets/*.py")
CODE_FILES += ("data_contracts/*.yml", "pyproject.toml")


def combine(*parts: object) -> str:
    """A short stable hash of the parts, in order."""
    text = "\n".join(str(part) for part in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Hash of the project files that decide what the pipeline computes."""
    digest = hashlib.sha256()
    for pattern in CODE_FILES:
        for path in sorted(PROJECT_ROOT.glob(pattern)):
            digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:24]


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
        sha = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 22), b""):
                sha.update(block)
        self._known[key] = {
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "sha256": sha.hexdigest(),
        }
        self._changed = True
        return sha.hexdigest()

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
        parts.append(f"{entry}|{json.dumps(source.options, sort_keys=True, default=str)}")
        for path in files_of(source):
            parts.append(f"{path}:{digests.digest(path) if path.exists() else 'missing'}")
    return combine(*parts)
