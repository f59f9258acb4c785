"""The probe agent's push to the FIB agent beside it: ``PUT /avoid`` on the FIB agent's
status socket with the whole set of next hops (neighbors of dead uplinks) whose paths
must not carry traffic now. Level-triggered: sent at once whenever the set changes and
again every ``interval`` seconds, so a FIB agent that restarted has it back within
that time. An empty list clears it. A FIB agent that does not answer is retried at the
next send; the probe loop never waits for it (this runs in its own thread)."""

from __future__ import annotations

import http.client
import json
import logging
import threading

from sdwan.unixhttp import UnixConnection, unix_path

__all__ = ["AvoidPusher"]

log = logging.getLogger("sdwan.probe")


class AvoidPusher:
    def __init__(self, address: str, *, interval: float = 1.0, timeout: float = 0.5) -> None:
        self.path = unix_path(address, "FIB agent address")
        self.interval = interval
        self.timeout = timeout
        self.sent = 0  # successful PUTs
        self._next_hops: list[str] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._failing = False
        self._thread = threading.Thread(target=self._run, name="probe-avoid", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def update(self, next_hops: list[str]) -> None:
        """The new set: pushed at once (from the pusher's thread)."""
        with self._lock:
            self._next_hops = sorted(next_hops)
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2 * self.timeout + 1)

    def clear(self) -> None:
        """Withdraw the set (the agent stops: it no longer vouches for it); once, at
        once, from the caller's thread."""
        self._push([])

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            with self._lock:
                next_hops = list(self._next_hops)
            self._push(next_hops)
            self._wake.wait(self.interval)

    def _push(self, next_hops: list[str]) -> None:
        body = json.dumps({"next_hops": next_hops, "source": "probe-agent"})
        connection = UnixConnection(self.path, self.timeout)
        try:
            connection.request(
                "PUT", "/avoid", body=body, headers={"Content-Type": "application/json"}
            )
            answer = connection.getresponse()
            answer.read()
            ok = answer.status == 200
            problem = f"answered {answer.status}"
        except (OSError, http.client.HTTPException) as exc:
            ok, problem = False, str(exc) or type(exc).__name__
        finally:
            connection.close()
        if ok:
            self.sent += 1
            if self._failing:
                log.info("FIB agent at %s takes the avoid set again", self.path)
            self._failing = False
        elif not self._failing:
            self._failing = True
            log.warning("FIB agent at %s: PUT /avoid %s (retrying)", self.path, problem)
