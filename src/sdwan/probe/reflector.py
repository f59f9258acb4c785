"""The reflector: answers other agents' UDP probes (TWAMP-Light, sdwan.probe.wire) with
its receive and send times, from the address each probe was sent to. It only ever
answers with as many octets as it received (probes shorter than 41 octets are
dropped)."""

from __future__ import annotations

import logging
import socket
import time

from sdwan.probe.sockets import ANCILLARY_SPACE, open_reflector, reflector_ancillary
from sdwan.probe.wire import reflect

__all__ = ["Reflector"]

log = logging.getLogger("sdwan.probe")
_MAX_PACKET = 1500
_BATCH = 256  # at most this many answers per drain: the loop keeps its pace


class Reflector:
    def __init__(self, port: int) -> None:
        self.port = port
        self.sockets: list[socket.socket] = open_reflector(port) if port else []
        self.answered = 0
        self._seq = 0
        self._in = bytearray(_MAX_PACKET)
        self._out = bytearray(_MAX_PACKET)
        self._view = memoryview(self._out)

    def fds(self) -> list[int]:
        return [s.fileno() for s in self.sockets]

    def drain(self) -> None:
        """Answer what has arrived (non-blocking)."""
        for sock in self.sockets:
            for _ in range(_BATCH):
                try:
                    size, ancillary, _flags, peer = sock.recvmsg_into([self._in], ANCILLARY_SPACE)
                except BlockingIOError:
                    break
                except OSError as exc:
                    log.debug("reflector receive: %s", exc)
                    break
                received, ttl, source = reflector_ancillary(ancillary, time.time())
                length = reflect(self._in, size, self._out, self._seq, received, time.time(), ttl)
                if not length:
                    continue
                self._seq += 1
                try:
                    sock.sendmsg([self._view[:length]], source, 0, peer)
                    self.answered += 1
                except OSError as exc:
                    log.debug("reflector answer to %s: %s", peer, exc)

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()
        self.sockets = []
