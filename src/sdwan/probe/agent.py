"""`sdwan probe-agent`: measures every uplink of the router it runs beside (UDP probes to
a reflector, or ICMP echo), reflects other agents' probes, tells the orchestrator on
its control socket and the FIB agent (``PUT /avoid``) which paths are dead.

Runs in the router's network namespace (root, or CAP_NET_ADMIN and CAP_NET_RAW: socket
marks, rules, raw ICMP). On start it removes rules and routes a killed agent left; on
SIGTERM/SIGINT it clears its avoid set at the FIB agent and removes its rules, routes
and tables (sdwan.probe.routing)."""

from __future__ import annotations

import json
import logging
import signal
from pathlib import Path

from sdwan.domain.quality import UP_HOLD_S, QualityInputError
from sdwan.probe.avoid import AvoidPusher
from sdwan.probe.config import parse_config
from sdwan.probe.control import ControlServer, StreamHub
from sdwan.probe.engine import Engine
from sdwan.probe.routing import ProbeRouting

__all__ = ["AgentError", "main"]

log = logging.getLogger("sdwan.probe")


class AgentError(Exception):
    """A start-up problem a person can fix (a bad --config file, a port in use)."""


def main(
    control: str,
    *,
    fib: str | None = None,
    reflector_port: int = 862,
    summary_interval: float = 1.0,
    up_hold: float = UP_HOLD_S,
    config_file: Path | None = None,
) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    initial = None
    if config_file is not None:
        try:
            initial = parse_config(json.loads(config_file.read_text()))
        except (OSError, ValueError) as exc:
            field = f" ({exc.field})" if isinstance(exc, QualityInputError) else ""
            raise AgentError(f"--config {config_file}{field}: {exc}") from None
    routing = ProbeRouting()
    left = routing.cleanup()
    if left:
        log.info("removed %d rules and routes an earlier agent left", left)
    hub = StreamHub()
    pusher = AvoidPusher(fib) if fib else None
    try:
        engine = Engine(
            routing,
            reflector_port=reflector_port,
            up_hold=up_hold,
            on_change=hub.publish,
            on_avoid=pusher.update if pusher else None,
        )
    except OSError as exc:
        routing.close()
        raise AgentError(f"--reflector-port {reflector_port}: {exc.strerror}") from None
    server = ControlServer(control, engine, hub, summary_interval=summary_interval)
    signal.signal(signal.SIGTERM, engine.stop)
    signal.signal(signal.SIGINT, engine.stop)
    if initial is not None:
        engine.configure(initial)
    server.start()
    if pusher is not None:
        pusher.start()
    log.info(
        "probe-agent: control %s, reflector port %s, FIB agent %s",
        control,
        reflector_port or "off",
        fib or "none",
    )
    try:
        engine.run()
    finally:
        server.stop()
        if pusher is not None:
            pusher.stop()
            pusher.clear()
        engine.close()
        routing.close()
        log.info("probe-agent stopped; rules and routes removed")
