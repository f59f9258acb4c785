"""Our threads carry their names down to the OS (Linux PR_SET_NAME), so `top -H`,
`ps -L` and /proc show which of them uses the CPU: store-writer, gobgpd-watch,
reconcile-N. Elsewhere, a no-op."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import sys
import threading

_PR_SET_NAME = 15


def name_this_thread() -> None:
    """Give the calling thread's Python name to its OS thread (15 bytes at most)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(_PR_SET_NAME, threading.current_thread().name.encode()[:15], 0, 0, 0)
