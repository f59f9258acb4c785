"""The lab's delay element: a relay that holds packets for a while, then lets them go.

This kernel has no netem qdisc, so delay and jitter are ours. The nf_tables rules of
an impaired interface (``nftrules``) hand its packets to an nfnetlink queue; this
process, started by the lab inside the node's namespace, reads each packet's id
(metadata only: the packet itself stays in the kernel), keeps it in a FIFO with the
time it may leave, and gives the ACCEPT verdict when that time comes: one batch
verdict for every packet that is due, so a burst costs one system call. Order is
kept: a packet never leaves before one that came earlier on the same queue (a
jitter draw that would overtake waits for its predecessor instead, so with jitter
larger than the packets' spacing the delays bunch towards the top of the range).

Run by the lab as ``python -m sdwan.lab.relay --control PATH --queue N[@NS] ...``; it is
controlled over a unix socket at PATH (one JSON line per request and answer):
``{"op": "set", "queues": {"N": {"delay_ms": 150, "jitter_ms": 10}}}`` answers with
the monotonic time the new values hold from; ``{"op": "stats"}`` with counters and
how late packets left (the relay's own cost). SIGTERM lets every held packet go,
then exits. If the relay dies, the rules' ``bypass`` lets packets pass undelayed.
It runs at the lowest real-time priority (SCHED_FIFO 1), as a kernel qdisc would in
effect, so that other programs on a busy machine do not make packets late.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import errno
import json
import os
import random
import select
import signal
import socket
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

from sdwan.lab import nfqueue
from sdwan.lab.netlink import NetfilterSocket

__all__ = ["DelayLine", "RelayError", "main", "relay_call"]

#: packets one queue may hold (the kernel drops beyond it, as a full buffer does)
MAXLEN = 65536
_RCVBUF = 16 << 20
_READS_PER_TURN = 64
_PR_SET_TIMERSLACK = 29
_EARLY_MAX = 0.001


class RelayError(RuntimeError):
    """A relay refused a request or did not answer."""


class DelayLine:
    """One queue's held packets in arrival order, each with the time it may leave."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self.delay_s = 0.0
        self.jitter_s = 0.0
        self.held: deque[tuple[float, int]] = deque()
        self._last_due = 0.0
        self._rng = rng or random.Random()
        self.relayed = 0
        self.max_held = 0
        self.late_sum_s = 0.0
        self.late_max_s = 0.0

    def set(self, delay_ms: float, jitter_ms: float) -> None:
        """New values for packets from now on (held ones keep their time)."""
        self.delay_s, self.jitter_s = delay_ms / 1000, jitter_ms / 1000

    def hold(self, packet_id: int, now: float) -> None:
        due = now + self.delay_s
        if self.jitter_s:
            due += self._rng.uniform(-self.jitter_s, self.jitter_s)
        due = max(due, self._last_due)  # never overtake an earlier packet
        self._last_due = due
        self.held.append((due, packet_id))
        self.max_held = max(self.max_held, len(self.held))

    def next_due(self) -> float | None:
        return self.held[0][0] if self.held else None

    def release(self, now: float, early: float = 0.0) -> int | None:
        """Forget the packets due by ``now + early``; the last one's id (None: none).
        How late each leaves (``now`` - due; negative when early) is counted."""
        last = None
        held = self.held
        horizon = now + early
        while held and held[0][0] <= horizon:
            due, last = held.popleft()
            late = now - due
            self.late_sum_s += late
            if abs(late) > abs(self.late_max_s):
                self.late_max_s = late
            self.relayed += 1
        return last

    def release_all(self) -> int | None:
        last = self.held[-1][1] if self.held else None
        self.relayed += len(self.held)
        self.held.clear()
        return last

    def stats(self) -> dict[str, Any]:
        return {
            "delay_ms": self.delay_s * 1000,
            "jitter_ms": self.jitter_s * 1000,
            "held": len(self.held),
            "max_held": self.max_held,
            "relayed": self.relayed,
            "late_mean_ms": self.late_sum_s / self.relayed * 1000 if self.relayed else 0.0,
            "late_max_ms": self.late_max_s * 1000,  # the one furthest from its time
        }


class Relay:
    """Holds the packets of its queues; a queue may live in another namespace (the
    far end of the link, for packets coming in): it gets a socket made there."""

    def __init__(self, queues: dict[int, str | None], control: Path, maxlen: int = MAXLEN) -> None:
        self.lines = {q: DelayLine() for q in queues}
        sockets: dict[str | None, NetfilterSocket] = {}
        self.route: dict[int, NetfilterSocket] = {}
        for queue, namespace in queues.items():
            if namespace not in sockets:
                sockets[namespace] = NetfilterSocket(namespace, rcvbuf=_RCVBUF)
            nl = self.route[queue] = sockets[namespace]
            nl.request(nfqueue.CONFIG, 0, queue, nfqueue.bind_attrs())
            nl.request(nfqueue.CONFIG, 0, queue, nfqueue.params_attrs(maxlen))
        self.sockets = list(sockets.values())
        self.control_path = control
        with contextlib.suppress(FileNotFoundError):
            control.unlink()
        self.control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.control.bind(str(control))
        os.chmod(control, 0o600)
        self.control.listen(8)
        self.early = 0.0  # seconds: how much earlier than a due time to wake
        self.lost = 0  # notifications the socket buffer could not take
        self.stopping = False
        self._buf = bytearray(1 << 18)
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)

    def run(self) -> None:
        signal.set_wakeup_fd(self._wake_w)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._stop)
        by_fd = {nl.sock.fileno(): nl for nl in self.sockets}
        watched: list[int] = [*by_fd, self.control.fileno(), self._wake_r]
        while not self.stopping:
            dues = [d for d in (line.next_due() for line in self.lines.values()) if d is not None]
            wake = min(dues) - self.early if dues else None
            timeout = max(0.0, wake - time.monotonic()) if wake is not None else None
            ready, _, _ = select.select(watched, [], [], timeout)
            if not ready and wake is not None and timeout:
                # woken by the clock: learn how late the clock wakes us, and wake that
                # much earlier next time (the mean departure lands on the due time)
                overshoot = min(max(time.monotonic() - wake, 0.0), _EARLY_MAX)
                self.early += (overshoot - self.early) * 0.1
            for fd in ready:
                if fd in by_fd:
                    self._receive(by_fd[fd].sock)
            if self.control.fileno() in ready:
                self._serve_one()
            if self._wake_r in ready:
                with contextlib.suppress(BlockingIOError):
                    os.read(self._wake_r, 512)
            self._release(time.monotonic())
        for queue, line in self.lines.items():
            self._verdict(queue, line.release_all())
        self.control.close()
        with contextlib.suppress(FileNotFoundError):
            self.control_path.unlink()
        for nl in self.sockets:
            nl.close()

    def _stop(self, signum: int, frame: object) -> None:
        self.stopping = True

    def _receive(self, sock: socket.socket) -> None:
        now = time.monotonic()
        view = memoryview(self._buf)
        for _ in range(_READS_PER_TURN):
            try:
                size = sock.recv_into(self._buf, 0, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno != errno.ENOBUFS:
                    raise
                self.lost += 1  # a later batch verdict lets the unseen packets go too
                continue
            for queue, packet_id in nfqueue.packets(view[:size]):
                line = self.lines.get(queue)
                if line is not None:
                    line.hold(packet_id, now)

    def _release(self, now: float) -> None:
        for queue, line in self.lines.items():
            self._verdict(queue, line.release(now, self.early))

    def _verdict(self, queue: int, last: int | None) -> None:
        if last is not None:
            nl = self.route[queue]
            nl.sock.send(nfqueue.verdict_batch(queue, last, nl.next_seq()))

    def _serve_one(self) -> None:
        conn, _ = self.control.accept()
        with conn:
            conn.settimeout(1.0)
            try:
                request = json.loads(_read_line(conn))
                answer = self._answer(request)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                answer = {"ok": False, "error": f"bad request: {exc}"}
            except OSError:
                return
            with contextlib.suppress(OSError):
                conn.sendall(json.dumps(answer).encode() + b"\n")

    def _answer(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request["op"]
        if op == "ping":
            return {"ok": True, "pid": os.getpid(), "queues": sorted(self.lines)}
        if op == "set":
            values = {int(q): v for q, v in request["queues"].items()}
            unknown = sorted(set(values) - set(self.lines))
            if unknown:
                return {"ok": False, "error": f"queues {unknown} are not this relay's"}
            for queue, value in values.items():
                self.lines[queue].set(float(value["delay_ms"]), float(value["jitter_ms"]))
            return {"ok": True, "at": time.monotonic()}
        if op == "stats":
            queues = {str(q): line.stats() for q, line in self.lines.items()}
            early_ms = self.early * 1000
            return {
                "ok": True,
                "pid": os.getpid(),
                "lost": self.lost,
                "early_ms": early_ms,
                "queues": queues,
            }
        return {"ok": False, "error": f"unknown op {op!r}"}


def _read_line(conn: socket.socket, limit: int = 1 << 16) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(4096)
        if not chunk or len(data) > limit:
            break
        data += chunk
    return data


def relay_call(control: Path, request: dict[str, Any], timeout: float = 2.0) -> dict[str, Any]:
    """Send one request to the relay listening at ``control``; its answer."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            conn.connect(str(control))
            conn.sendall(json.dumps(request).encode() + b"\n")
            answer: dict[str, Any] = json.loads(_read_line(conn) or b"null") or {}
    except (OSError, ValueError) as exc:
        raise RelayError(f"relay at {control}: {exc}") from None
    if not answer.get("ok"):
        raise RelayError(f"relay at {control}: {answer.get('error', 'no answer')}")
    return answer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sdwan.lab.relay", description=__doc__)
    parser.add_argument("--control", type=Path, required=True, help="unix socket to listen on")
    parser.add_argument(
        "--queue",
        action="append",
        required=True,
        metavar="N[@NAMESPACE]",
        help="a queue to serve (in this namespace, or in the one named)",
    )
    parser.add_argument("--maxlen", type=int, default=MAXLEN, help="packets held per queue")
    args = parser.parse_args(argv)
    # a sleeping relay wakes within a microsecond of its deadline, not 50 us after it
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(_PR_SET_TIMERSLACK, 1, 0, 0, 0)
    # a real-time priority, as netem would have in the kernel: on a loaded machine
    # packets still leave on time (the relay itself uses a small share of a core)
    with contextlib.suppress(OSError):
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    queues: dict[int, str | None] = {}
    for text in args.queue:
        number, _, namespace = text.partition("@")
        queues[int(number)] = namespace or None
    try:
        relay = Relay(queues, args.control, args.maxlen)
    except OSError as exc:
        print(f"relay: cannot start: {exc}", file=sys.stderr, flush=True)
        return 1
    print(f"relay: pid {os.getpid()} queues {args.queue} control {args.control}", flush=True)
    relay.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
