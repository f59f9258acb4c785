"""A probe agent's control socket in-process, for unit tests of the quality controller:
the real control server (sdwan.probe.control: HTTP over a unix socket, the stream's
snapshot, change and summary lines) over a backend whose reports the test sets. The
measuring agent itself is tested against real namespaces (test_probe_agent.py)."""

from __future__ import annotations

import threading
import time
from typing import Any

from sdwan.probe.config import ProbeConfig
from sdwan.probe.control import ControlServer, StreamHub

FIGURES = {"window_s": 2.0, "sent": 600, "answered": 600, "loss_pct": 0.0, "latency_ms": 1.0}


def report(
    state: str = "up",
    *,
    local: str | None = None,
    classes: dict[str, tuple[str, str]] | None = None,
    loss: float = 0.0,
) -> dict[str, Any]:
    """One uplink as an agent reports it; ``classes``: name -> (state, reason)."""
    figures = {**FIGURES, "loss_pct": loss, "jitter_ms": 0.1}
    return {
        "state": state,
        "since": time.time(),
        "local_address": local,
        "interface": "eth0",
        "short": figures,
        "long": {**figures, "window_s": 10.0},
        "classes": {
            name: {"state": verdict, "since": time.time(), "reason": reason}
            for name, (verdict, reason) in (classes or {}).items()
        },
    }


class FakeProbeAgent:
    """Serves ``unix://<path>``; ``reports`` (uplink id -> report) is what it says of
    the uplinks its configuration names; ``change`` publishes a change line."""

    def __init__(self, path: str, *, summary_interval: float = 0.1) -> None:
        self.path = path
        self.current = ProbeConfig()
        self.configured: list[dict[str, Any]] = []  # every PUT /config accepted
        self.reports: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._seq = 0
        self._hub = StreamHub()
        self._server = ControlServer(
            f"unix://{path}", self, self._hub, summary_interval=summary_interval
        )
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

    # the control server's backend

    def config(self) -> ProbeConfig:
        return self.current

    def configure(self, config: ProbeConfig) -> ProbeConfig:
        with self._lock:
            self.current = config
            self.configured.append(config.to_json())
        return config

    def snapshot(self, kind: str = "snapshot") -> dict[str, Any]:
        with self._lock:
            names = {u.id: u.name for u in self.current.uplinks}
            uplinks = {
                ident: {"name": name, **self.reports.get(ident, report("unknown"))}
                for ident, name in names.items()
            }
            self._seq += 1
            return {
                "kind": kind,
                "seq": self._seq,
                "time": time.time(),
                "generation": self.current.generation,
                "uplinks": uplinks,
            }

    # what the test does

    def uplink_ids(self) -> dict[str, str]:
        """Name (site/uplink) -> id, of the uplinks it is configured for."""
        return {u.name: u.id for u in self.current.uplinks if u.name}

    def targets(self) -> dict[str, str | None]:
        return {u.name: u.target for u in self.current.uplinks if u.name}

    def set(self, name: str, body: dict[str, Any], *, change: bool = True) -> None:
        """Report ``body`` for the uplink named ``name``; a change line at once."""
        ident = self.uplink_ids()[name]
        with self._lock:
            self.reports[ident] = body
            self._seq += 1
            line = {
                "kind": "change",
                "seq": self._seq,
                "time": time.time(),
                "generation": self.current.generation,
                "uplinks": {ident: {"name": name, **body}},
            }
        if change:
            self._hub.publish(line)
