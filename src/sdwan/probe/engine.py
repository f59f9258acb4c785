"""The probe loop: one thread, one epoll, batched timers.

Every uplink sends one probe per period; uplinks of the same rate share their send
instants, so the loop wakes once per period whatever the number of uplinks. At each
wake it sends what is due, then reads every answer that has arrived (an epoll polled
without waiting, over all probe sockets and the reflector's), then commits the probes
whose timeout has passed. Arrival times come from the kernel (SO_TIMESTAMPNS), so
reading answers at the next wake instead of at once does not change a round-trip
time. A few times a second it runs the time-based decisions, and every few seconds
it re-installs each uplink's route (a route the kernel dropped with its link comes
back) and retries the uplinks that could not be set up.

Other threads (the control socket) call ``configure`` and ``snapshot``; they share
one lock with the loop, which holds it only while it works (never while it waits).
"""

from __future__ import annotations

import logging
import math
import os
import secrets
import select
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

from sdwan.domain.quality import UP_HOLD_S, Windows
from sdwan.probe.config import ProbeConfig, UplinkConfig
from sdwan.probe.meter import Meter
from sdwan.probe.reflector import Reflector
from sdwan.probe.routing import MAX_SLOTS, Egress, ProbeRouting, mark_of
from sdwan.probe.sockets import (
    ANCILLARY_SPACE,
    SO_TIMESTAMPNS,
    kernel_time,
    open_icmp,
    open_udp,
)
from sdwan.probe.wire import (
    ANSWER,
    ERROR_ESTIMATE,
    NTP_EPOCH_OFFSET,
    SENDER,
    TEST_SIZE,
    Echo,
    parse_echo_reply,
)

__all__ = ["Engine"]

log = logging.getLogger("sdwan.probe")

EVALUATE_EVERY = 0.1  # seconds between time-based decisions
REFRESH_EVERY = 5.0  # seconds between route re-installs and retries
_SLACK = 0.0005  # a probe due this soon is sent now
_BATCH = 64  # answers read per socket per wake, at most
_TIMESPEC = struct.Struct("=qq").unpack_from
_ANSWER = ANSWER.unpack_from  # (reflector sent, received, sender sequence) of an answer
_SENDER = SENDER.pack_into  # sequence, timestamp, error estimate
_NTP_MASK = (1 << 64) - 1
_FRACTION = float(1 << 32)
_Publish = Callable[[dict[str, Any]], None]
_Avoid = Callable[[list[str]], None]


class Uplink:
    """One configured uplink: its socket, its meter, its schedule."""

    __slots__ = (
        "buffer",
        "config",
        "echo",
        "egress",
        "meter",
        "next_send",
        "period",
        "problem",
        "slot",
        "sock",
    )

    def __init__(self, config: UplinkConfig, slot: int, meter: Meter) -> None:
        self.config = config
        self.slot = slot
        self.meter = meter
        self.period = 1.0 / config.effective_rate
        self.next_send = 0.0
        self.problem: str | None = "not set up yet"
        self.egress: Egress | None = None
        self.sock: socket.socket | None = None
        self.echo = Echo(secrets.randbits(16), config.v6) if config.method == "icmp" else None
        self.buffer = bytearray(TEST_SIZE)


class Engine:
    def __init__(
        self,
        routing: ProbeRouting,
        *,
        reflector_port: int = 862,
        up_hold: float = UP_HOLD_S,
        on_change: _Publish | None = None,
        on_avoid: _Avoid | None = None,
    ) -> None:
        self.routing = routing
        self.up_hold = up_hold
        self.on_change = on_change
        self.on_avoid = on_avoid
        self.lock = threading.Lock()
        self.reflector = Reflector(reflector_port)
        self._config = ProbeConfig()
        self._uplinks: dict[str, Uplink] = {}
        self._active: list[Uplink] = []
        self._by_fd: dict[int, Uplink] = {}
        self._seq = 0
        self._avoid: list[str] = []
        self._stopping = False
        self._wake = select.epoll()
        self._drain = select.epoll()
        self._event = os.eventfd(0, os.EFD_NONBLOCK)
        self._wake.register(self._event, select.EPOLLIN)
        self._reflector_fds = set(self.reflector.fds())
        self._reflector_draining: bool | None = None  # not placed yet
        self._place_reflector()
        self._buffer = bytearray(2048)
        self._buffers = [self._buffer]

    # -- configuration (any thread) ----------------------------------------------------

    def config(self) -> ProbeConfig:
        with self.lock:
            return self._config

    def configure(self, config: ProbeConfig) -> ProbeConfig:
        """Apply a whole configuration: uplinks whose probe path is unchanged keep their
        measurements (a change of classes only re-evaluates them)."""
        with self.lock:
            now, wall = time.monotonic(), time.time()
            kept: dict[str, Uplink] = {}
            for wanted in config.uplinks:
                current = self._uplinks.pop(wanted.id, None)
                if current is not None and current.config.path() == wanted.path():
                    if current.config.classes != wanted.classes:
                        current.meter.set_classes(wanted.classes, now, wall)
                    current.config = wanted
                    kept[wanted.id] = current
                    continue
                slot = current.slot if current else self._free_slot(kept)
                if current is not None:
                    self._close_uplink(current)
                kept[wanted.id] = self._open_uplink(wanted, slot, now, wall)
            for gone in self._uplinks.values():
                self._close_uplink(gone)
                self._safely(self.routing.remove, gone.slot)
            self._uplinks = kept
            self._config = config
            self._refresh_active()
            self._seq += 1
            self._publish_avoid()
        os.eventfd_write(self._event, 1)
        return config

    def _free_slot(self, taken: dict[str, Uplink]) -> int:
        used = {u.slot for u in (*self._uplinks.values(), *taken.values())}
        return next(s for s in range(1, MAX_SLOTS + 1) if s not in used)

    def _open_uplink(self, config: UplinkConfig, slot: int, now: float, wall: float) -> Uplink:
        windows = Windows.for_rate(config.effective_rate, config.effective_timeout_s)
        meter = Meter(windows, config.classes, now=now, now_wall=wall, up_hold=self.up_hold)
        uplink = Uplink(config, slot, meter)
        self._set_up(uplink)
        meter.changed = True
        return uplink

    def _set_up(self, uplink: Uplink) -> None:
        """Route and socket of an uplink; on failure ``problem`` says why (retried)."""
        config = uplink.config
        egress = self.routing.egress(config.neighbor)
        if egress is None:
            uplink.problem = f"neighbor {config.neighbor} is on no connected subnet"
            return
        if config.target is None:  # its local address is still worth telling
            uplink.egress = egress
            uplink.problem = "no target to probe yet"
            return
        try:
            self.routing.install(uplink.slot, config.target, config.neighbor, egress)
            if uplink.sock is None:
                mark = mark_of(uplink.slot)
                uplink.sock = (
                    open_icmp(config.target, mark)
                    if uplink.echo is not None
                    else open_udp(config.target, config.port, mark)
                )
                self._by_fd[uplink.sock.fileno()] = uplink
                self._drain.register(uplink.sock.fileno(), select.EPOLLIN)
        except Exception as exc:
            uplink.problem = f"cannot set up probes via {egress.ifname}: {exc}"
            log.warning("%s: %s", config.name, uplink.problem)
            return
        uplink.egress = egress
        if uplink.problem is not None and self.routing.strict_rp_filter(egress.ifname):
            log.warning(
                "%s: strict rp_filter on %s may drop answers when the main table routes "
                "%s elsewhere (set it to 2, loose)",
                config.name,
                egress.ifname,
                config.target,
            )
        uplink.problem = None

    def _close_uplink(self, uplink: Uplink) -> None:
        if uplink.sock is not None:
            fd = uplink.sock.fileno()
            self._by_fd.pop(fd, None)
            self._safely(self._drain.unregister, fd)
            uplink.sock.close()
            uplink.sock = None

    def _refresh_active(self) -> None:
        active = [u for u in self._uplinks.values() if u.problem is None]
        now = time.monotonic()
        for uplink in active:
            if uplink.next_send == 0.0:  # new: send with the uplinks of its rate
                peers = [
                    u.next_send for u in self._active if u.period == uplink.period and u.next_send
                ]
                uplink.next_send = min(peers) if peers else now
        self._active = active
        self._place_reflector()

    def _place_reflector(self) -> None:
        """With uplinks the loop wakes every period anyway: the reflector's sockets are
        read at those wakes; without, their packets wake the loop."""
        draining = bool(self._active)
        if draining == self._reflector_draining:
            return
        for fd in self._reflector_fds:
            self._safely(self._wake.unregister, fd)
            self._safely(self._drain.unregister, fd)
            (self._drain if draining else self._wake).register(fd, select.EPOLLIN)
        self._reflector_draining = draining

    @staticmethod
    def _safely(call: Callable[..., Any], *args: Any) -> None:
        try:
            call(*args)
        except (OSError, KeyError, ValueError) as exc:
            log.debug("%s%s: %s", getattr(call, "__name__", call), args, exc)

    # -- the loop ------------------------------------------------------------------------

    def run(self) -> None:
        next_evaluate = next_refresh = time.monotonic()
        wake_fds = set(self._reflector_fds)
        while not self._stopping:
            with self.lock:
                now = time.monotonic()
                due = self._tick(now)
                if now >= next_evaluate:
                    next_evaluate = now + EVALUATE_EVERY
                    for uplink in self._active:
                        self._receive(uplink, now, _BATCH)  # nothing stays queued long
                        uplink.meter.evaluate(now)
                if now >= next_refresh:
                    next_refresh = now + REFRESH_EVERY
                    self._refresh_routes()
                self._publish_changes()
                wake_at = min(due, next_evaluate)
            for fd, _event in self._wake.poll(max(0.0, wake_at - time.monotonic())):
                if fd == self._event:
                    os.eventfd_read(self._event)
                elif fd in wake_fds:
                    with self.lock:
                        self.reflector.drain()

    def _tick(self, now: float) -> float:
        """Send what is due, read what arrived, commit what timed out; returns when the
        next probe is due."""
        clock, fill = time.time, _SENDER
        due = math.inf
        for uplink in self._active:
            if uplink.next_send <= now + _SLACK:  # send (inlined: once per probe)
                wall = clock()
                seq = uplink.meter.sent(now, wall)
                sock, echo = uplink.sock, uplink.echo
                try:
                    if echo is None:
                        stamp = int((wall + NTP_EPOCH_OFFSET) * _FRACTION) & _NTP_MASK
                        fill(uplink.buffer, 0, seq & 0xFFFF_FFFF, stamp, ERROR_ESTIMATE)
                        sock.send(uplink.buffer)  # type: ignore[union-attr]
                    else:
                        sock.send(echo.request(seq))  # type: ignore[union-attr]
                except OSError:
                    pass  # unreachable, no buffer: lost, as it would be on the wire
                uplink.next_send += uplink.period
                if uplink.next_send <= now:  # fell behind: skip, never burst
                    uplink.next_send = now + uplink.period
            if uplink.next_send < due:
                due = uplink.next_send
        # One answer per uplink and wake is what arrives: read one per ready socket.
        # A probe about to be declared lost first empties its uplink's socket.
        reflect = False
        by_fd = self._by_fd
        for fd, _event in self._drain.poll(0):
            answering = by_fd.get(fd)
            if answering is not None:
                self._receive(answering, now, 1)
            else:
                reflect = True
        if reflect:
            self.reflector.drain()
        for uplink in self._active:
            if uplink.meter.deadline <= now:
                self._receive(uplink, now, _BATCH)
                uplink.meter.advance(now)
        return due

    def _receive(self, uplink: Uplink, now: float, most: int) -> None:
        """Read at most ``most`` answers of ``uplink`` (the per-answer work inlined:
        this runs for every probe)."""
        sock, echo, buffer, buffers = uplink.sock, uplink.echo, self._buffer, self._buffers
        if sock is None:
            return
        answer = uplink.meter.answer
        for _ in range(most):
            try:
                size, ancillary, _flags, _peer = sock.recvmsg_into(buffers, ANCILLARY_SPACE)
            except BlockingIOError:
                return
            except OSError:  # an ICMP error for an earlier probe (port unreachable, ...)
                continue
            if len(ancillary) == 1 and ancillary[0][1] == SO_TIMESTAMPNS:
                seconds, nanoseconds = _TIMESPEC(ancillary[0][2])
                received = seconds + nanoseconds * 1e-9
            else:
                received = kernel_time(ancillary)
            if echo is None:
                if size >= TEST_SIZE:
                    sent, got, wire_seq = _ANSWER(buffer)
                    answer(wire_seq, 32, received, ((sent - got) & _NTP_MASK) / _FRACTION, now)
                continue
            identifier, wire_seq = parse_echo_reply(buffer, size, uplink.config.v6)
            if identifier == echo.identifier:
                answer(wire_seq, 16, received, 0.0, now)

    def _refresh_routes(self) -> None:
        """Heal the routes of the uplinks that run (a route dropped with its link comes
        back); set up again the ones that could not be."""
        for uplink in self._uplinks.values():
            config, egress = uplink.config, uplink.egress
            if uplink.problem is None and egress is not None and config.target is not None:
                try:
                    self.routing.refresh(uplink.slot, config.target, config.neighbor, egress)
                except Exception as exc:  # the interface is gone: find it again
                    log.warning("%s: route via %s: %s", config.name, egress.ifname, exc)
                    uplink.problem = f"route via {egress.ifname} failed: {exc}"
                    self._refresh_active()
                continue
            self._set_up(uplink)
            if uplink.problem is None:
                uplink.meter.changed = True
                self._refresh_active()

    # -- what the agent tells -------------------------------------------------------------

    def _entry(self, uplink: Uplink) -> dict[str, Any]:
        entry = {"name": uplink.config.name, **uplink.meter.report()}
        egress = uplink.egress
        entry["local_address"] = egress.address if egress is not None and egress.address else None
        entry["interface"] = egress.ifname if egress is not None else None
        if uplink.problem is not None:
            entry["problem"] = uplink.problem
        return entry

    def _message(self, kind: str, uplinks: list[Uplink]) -> dict[str, Any]:
        return {
            "kind": kind,
            "seq": self._seq,
            "time": time.time(),
            "generation": self._config.generation,
            "uplinks": {u.config.id: self._entry(u) for u in uplinks},
            "reflector": {"port": self.reflector.port, "answered": self.reflector.answered},
        }

    def snapshot(self, kind: str = "snapshot") -> dict[str, Any]:
        with self.lock:
            return self._message(kind, list(self._uplinks.values()))

    def _publish_changes(self) -> None:
        for uplink in self._uplinks.values():
            if uplink.meter.changed:
                break
        else:
            return
        changed = [u for u in self._uplinks.values() if u.meter.changed]
        for uplink in changed:
            uplink.meter.changed = False
        self._seq += 1
        if self.on_change is not None:
            self.on_change(self._message("change", changed))
        self._publish_avoid()

    def avoid(self) -> list[str]:
        """Neighbors whose every uplink is dead: their paths must not carry traffic."""
        neighbors: dict[str, bool] = {}
        for uplink in self._uplinks.values():
            dead = uplink.meter.state == "dead"
            neighbors[uplink.config.neighbor] = neighbors.get(uplink.config.neighbor, True) and dead
        return sorted(n for n, dead in neighbors.items() if dead)

    def _publish_avoid(self) -> None:
        avoid = self.avoid()
        if avoid != self._avoid:
            self._avoid = avoid
            log.warning("avoid next hops: %s", ", ".join(avoid) or "none")
            if self.on_avoid is not None:
                self.on_avoid(avoid)

    # -- end ---------------------------------------------------------------------------

    def stop(self, *_: object) -> None:
        self._stopping = True
        os.eventfd_write(self._event, 1)

    def close(self) -> None:
        """Close every socket and remove every rule and route of the agent."""
        with self.lock:
            for uplink in self._uplinks.values():
                self._close_uplink(uplink)
            self._uplinks = {}
            self._active = []
            self.reflector.close()
            self._safely(self.routing.cleanup)
            self._wake.close()
            self._drain.close()
            os.close(self._event)
