"""Processes of a lab by PID, read from /proc: alive, running, started when; pidfiles
daemons write; stopping one for good (SIGTERM, then SIGKILL), by PID or as our own
child. PIDs only, never names: ``lab down`` must not touch another process that happens
to share a name."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

from sdwan.lab.netns import LabError
from sdwan.polling import wait_for

STOP_TIMEOUT = 5.0


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def pid_running(pid: int) -> bool:
    """Whether any thread of ``pid`` still runs. A process whose main thread has
    exited shows as a zombie while its other threads (a Go daemon's) still run or are
    still exiting: it is gone only once none of them is left."""
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except (FileNotFoundError, NotADirectoryError):
        return False
    for tid in threads:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as fh:
                state = fh.read().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, IndexError):
            continue
        if state not in ("Z", "X", "x"):
            return True
    return False


def start_time(pid: int) -> int | None:
    """When ``pid`` started (clock ticks after boot): with the PID, one process for good."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return int(fh.read().rsplit(")", 1)[1].split()[19])
    except (FileNotFoundError, IndexError, ValueError):
        return None


def read_pid(path: Path) -> int | None:
    """The PID a daemon wrote into ``path``; None while there is none."""
    try:
        return int(path.read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None


def wait_pid(path: Path, timeout: float = 10.0) -> int:
    """The PID in ``path`` once the daemon has written it (bounded wait)."""
    found: int | None = wait_for(lambda: read_pid(path), timeout=timeout, what=f"{path}")
    assert found is not None
    return found


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def stop_pid(pid: int, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM ``pid``, SIGKILL after ``timeout`` s; returns once no thread of it runs
    any more (polled, bounded), so that nothing of it outlives ``lab down``."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, timeout)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            _reap(pid)
            if not pid_running(pid):
                return
            time.sleep(0.02)
    raise LabError(f"pid {pid} survived SIGKILL")


def end_child(proc: subprocess.Popen[bytes], timeout: float, sig: int = signal.SIGTERM) -> int:
    """Send ``sig`` to our child ``proc`` (unless it has exited), wait up to ``timeout``
    s, SIGKILL it if it still runs and wait as long again; its exit status.
    ``subprocess.TimeoutExpired`` if it survives SIGKILL."""
    if proc.poll() is None:
        proc.send_signal(sig)  # by PID; Popen refuses if already reaped
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(timeout=timeout)
