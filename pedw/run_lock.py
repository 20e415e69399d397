"""One pedw run per warehouse at a time, and cleaning up after a run that was killed.

The lock is an advisory `flock` on `<warehouse folder>/.<name>.lock`: the kernel releases it
when the holding process dies, however it dies, so a killed run never blocks the next one.
The next run, holding the lock, removes what a killed one left behind (half-built warehouse
files and their WAL, temporary store files), which no live run can be using.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pedw.settings import Settings


class WarehouseBusyError(RuntimeError):
    """Another pedw run holds the warehouse."""


def lock_path(warehouse_path: Path) -> Path:
    return warehouse_path.parent / f".{warehouse_path.name}.lock"


@contextmanager
def exclusive_run(
    settings: Settings, wait: bool = False, clean_up: bool = True
) -> Iterator[list[Path]]:
    """Hold the warehouse for this process; yields the leftovers of killed runs it removed
    (none without `clean_up`: a look that changes nothing, see pedw.clean_run).

    Without `wait`, a warehouse held by another run raises WarehouseBusyError at once, naming the
    holder's process id.
    """
    warehouse_path = settings.warehouse_path
    path = lock_path(warehouse_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            holder = os.pread(descriptor, 32, 0).decode(errors="replace").strip() or "unknown"
            raise WarehouseBusyError(
                f"{warehouse_path} is being built by another pedw run (process {holder}); "
                "wait for it to finish, or run again with --wait"
            ) from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, str(os.getpid()).encode(), 0)
        yield remove_leftovers(settings) if clean_up else []
    finally:
        os.close(descriptor)  # releases the lock


def remove_leftovers(settings: Settings) -> list[Path]:
    """Half-built releases and warehouse files, and temporary store files, of killed runs."""
    from pedw.release import unfinished_releases  # the publication machinery: only here

    warehouse = settings.warehouse_path
    store = settings.store_dir
    found = list(warehouse.parent.glob(f".{warehouse.name}.*.building*"))  # before releases
    found += list(store.glob("*/*/.*.tmp"))  # an unfinished atomic write
    found += list(store.glob("*/*/.partitions_*"))  # an unfinished partitioned COPY
    found += list((store / "_scratch").glob("*"))  # an unfinished raw load
    found += list((store / "_spill").glob("*"))  # DuckDB's spill files
    found += list(settings.briefs_build_dir.glob(".*.tmp*"))  # a brief being written
    found += unfinished_releases(settings)
    for leftover in found:
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
    return found
