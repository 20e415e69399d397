"""Processes pedw starts (brief workers, a run's step processes) end with the one that
started them."""

from __future__ import annotations

import ctypes
import multiprocessing
import signal

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask Linux to kill this process when the one that started it dies: a brief worker or a
    step process of a killed run must not go on writing to the store behind it. A no-op in a
    main process and off Linux (there, workers end when their queue closes)."""
    if multiprocessing.parent_process() is None:
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
