"""SHA-256 of a file, read in blocks: the one content fingerprint pedw records and checks
(store seals, source versions, URL snapshots)."""

from __future__ import annotations

import hashlib
from pathlib import Path


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while block := handle.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()
