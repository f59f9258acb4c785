"""`sdwan lab down` stops a daemon for good: ``stop_pid`` returns only once no thread
of the process runs any more (issue 10: down returned while gobgpd was still exiting).
A process whose main thread has exited looks like a zombie while its other threads
run on; a Go daemon shutting down is such a process for a moment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sdwan.lab.processes import pid_alive, pid_running, stop_pid
from sdwan.polling import wait_for

# The main thread leaves (pthread_exit) while a worker thread runs on, deaf to SIGTERM.
LINGERING = """
import ctypes, signal, threading, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
def work():
    while True:
        time.sleep(0.05)
threading.Thread(target=work).start()
print("ready", flush=True)
ctypes.CDLL(None).pthread_exit(None)
"""


def test_a_process_is_stopped_only_once_none_of_its_threads_runs(tmp_path: Path) -> None:
    script = tmp_path / "lingering.py"
    script.write_text(LINGERING)
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        # the main thread is gone: it shows as a zombie...
        wait_for(lambda: not pid_alive(proc.pid), timeout=5, what="the main thread to exit")
        assert pid_running(proc.pid)  # ...but the process still runs
        stop_pid(proc.pid, timeout=0.5)  # SIGTERM is ignored: SIGKILL after 0.5 s
        assert not pid_running(proc.pid)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        assert proc.stdout is not None
        proc.stdout.close()
