"""Seals: what pedw wrote, so that a file changed behind its back is found at the next run.

A seal sits beside its file (`.<name>.seal`): the SHA-256 pedw computed when it wrote the
file, and the file's identity then (size, modification and change times, inode). Checking a
seal is cheap while the identity is unchanged. The change time cannot be set back by any tool
that edits a file (touch, os.utime and a same-size rewrite all move it), so an edit whose size,
inode and modification time were kept still shows; only then is the file hashed again. A file
whose identity moved but whose bytes are the seal's (copied back, touched) is sealed anew.
"""

from __future__ import annotations

import json
import os
import uuid
from enum import Enum
from pathlib import Path

from pedw.digest import file_sha256


class SealState(Enum):
    INTACT = "intact"  # the bytes pedw wrote
    CHANGED = "changed"  # other bytes than pedw wrote
    UNSEALED = "unsealed"  # no seal: not written by pedw (or by a pedw without seals)
    MISSING = "missing"  # the file is gone


def seal_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.seal")


def read_seal(path: Path, seal: Path | None = None) -> dict:
    try:
        return json.loads((seal or seal_path(path)).read_text())
    except (OSError, ValueError):
        return {}


def _identity(stat: os.stat_result) -> dict:
    return {
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "ctime_ns": stat.st_ctime_ns,
        "inode": stat.st_ino,
    }


def write_seal(path: Path, sha256: str | None = None, seal: Path | None = None) -> str:
    """Seal `path` as it is now (its SHA-256, computed unless given) beside it, or at `seal`
    where nothing may be added beside it (a public folder); returns the SHA-256."""
    sha256 = sha256 or file_sha256(path)
    seal = seal or seal_path(path)
    temporary = seal.with_name(f"{seal.name}.{uuid.uuid4().hex}.tmp")
    temporary.write_text(json.dumps({"sha256": sha256, **_identity(path.stat())}))
    os.replace(temporary, seal)
    return sha256


def check_seal(path: Path, seal: Path | None = None) -> SealState:
    """Whether `path` holds the bytes its seal (beside it, or at `seal`) names: by identity
    when it is unchanged, else by hashing the file again (and resealing it when the bytes are
    the same)."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return SealState.MISSING
    recorded = read_seal(path, seal)
    if not recorded.get("sha256"):
        return SealState.UNSEALED
    if all(recorded.get(k) == v for k, v in _identity(stat).items()):
        return SealState.INTACT
    if file_sha256(path) != recorded["sha256"]:
        return SealState.CHANGED
    write_seal(path, recorded["sha256"], seal)  # same bytes, new identity (copied back, touched)
    return SealState.INTACT
