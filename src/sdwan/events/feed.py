"""The change feed between replicas: PostgreSQL LISTEN/NOTIFY, never polling.

Three channels, each payload starting with the instance that sent it (a replica
skips its own: it acted on it in-process already):

- ``sdwan_routers``: "<origin> <router id> <addresses, comma-separated | *>", sent in
  the change's own transaction (so it is delivered exactly when the change commits);
  the replica that owns the router queues it. Keys, not data: the owner reads the
  store, and a payload stays far below PostgreSQL's 8000 bytes (more addresses than a
  targeted pass takes become "*", a full pass).
- ``sdwan_events``: "<origin>", sent when events commit (events/ordered.py); every
  replica wakes its SSE readers, which read the rows.
- ``sdwan_leases``: "<origin>": a replica joined or left, or released leases; every
  replica's lease thread looks at the cluster at once.

One thread per replica holds one dedicated connection and LISTENs. If it loses the
connection (PostgreSQL restarted) it reconnects with backoff, and then calls
``reconnected()``: notifications sent meanwhile are lost, so the replica looks at
everything again (a full pass of the routers it owns, its readers woken).

In one process on SQLite there is nothing to cross: the services call the reconciler
and the event log wakes its readers directly (the same interfaces, in-process)."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from sdwan.events.ordered import EVENTS_CHANNEL

if TYPE_CHECKING:  # imported by the feed's thread: a server on SQLite never loads it
    import psycopg

log = logging.getLogger(__name__)
ROUTERS_CHANNEL = "sdwan_routers"
LEASES_CHANNEL = "sdwan_leases"
CHANNELS = (ROUTERS_CHANNEL, EVENTS_CHANNEL, LEASES_CHANNEL)
MAX_PAYLOAD = 7900  # PostgreSQL's limit is 8000 bytes
BACKOFF_INITIAL = 0.1
BACKOFF_MAX = 2.0
PING_EVERY = 5.0  # seconds without a notification: check the connection is alive
MAX_ADDRESSES = 64  # more than a targeted pass takes (reconcile/queue.py): send "*"


class FeedHandlers(Protocol):
    """Called on the listener's thread; must not block for long."""

    def router_changed(self, router_id: str, addresses: set[str] | None) -> None: ...
    def events_added(self) -> None: ...
    def leases_moved(self) -> None: ...
    def reconnected(self) -> None: ...


def router_payload(origin: str, router_id: str, addresses: set[str] | None) -> str:
    listed = "*"
    if addresses is not None and len(addresses) <= MAX_ADDRESSES:
        listed = ",".join(sorted(addresses)) or "*"
    payload = f"{origin} {router_id} {listed}"
    if len(payload.encode()) > MAX_PAYLOAD:
        payload = f"{origin} {router_id} *"
    return payload


def parse_router_payload(payload: str) -> tuple[str, str, set[str] | None] | None:
    parts = payload.split(" ")
    if len(parts) != 3 or not parts[1]:
        return None
    origin, router_id, listed = parts
    return origin, router_id, None if listed == "*" else set(listed.split(","))


def notify(conn: Connection, channel: str, payload: str) -> None:
    """NOTIFY in ``conn``'s transaction: delivered when it commits, never if not."""
    conn.execute(text("SELECT pg_notify(:c, :p)"), {"c": channel, "p": payload})


def notify_all(conn: Connection, channel: str, payloads: list[str]) -> None:
    """One NOTIFY per payload, in one statement, in ``conn``'s transaction."""
    conn.execute(
        text("SELECT pg_notify(:c, p) FROM unnest(CAST(:ps AS text[])) AS p"),
        {"c": channel, "ps": list(dict.fromkeys(payloads))},
    )


def libpq_conninfo(url: str) -> str:
    """The SQLAlchemy URL as a libpq connection string for psycopg."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


class FeedListener:
    def __init__(self, url: str, *, origin: str, handlers: FeedHandlers) -> None:
        self._conninfo = libpq_conninfo(url)
        self._origin = origin
        self._handlers = handlers
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="change-feed", daemon=True)
        self.connected = threading.Event()
        self.received = 0  # notifications from other replicas
        self._last_ping = 0.0

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        import psycopg  # 9 MiB of RSS, only where PostgreSQL is the store

        backoff = 0.0
        first = True
        while not self._stopping.is_set():
            try:
                with psycopg.connect(
                    self._conninfo, autocommit=True, connect_timeout=5, application_name="sdwan"
                ) as conn:
                    for channel in CHANNELS:
                        conn.execute(f"LISTEN {channel}")  # our constants, not input
                    self.connected.set()
                    backoff = 0.0
                    if not first:
                        log.info("change feed: reconnected; looking at everything again")
                        self._handlers.reconnected()
                    first = False
                    self._listen(conn)
            except psycopg.Error as exc:
                if self.connected.is_set() or backoff == 0.0:
                    log.warning("change feed: connection lost (%s); reconnecting", exc)
                first = False
            except Exception:
                log.exception("change feed: a handler failed")
            finally:
                self.connected.clear()
            backoff = min(max(backoff * 2, BACKOFF_INITIAL), BACKOFF_MAX)
            self._stopping.wait(backoff)

    def _listen(self, conn: psycopg.Connection[object]) -> None:
        while not self._stopping.is_set():
            seen = False
            for note in conn.notifies(timeout=0.1, stop_after=1000):
                seen = True
                self._dispatch(note.channel, note.payload)
            if not seen:
                self._idle(conn)

    def _idle(self, conn: psycopg.Connection[object]) -> None:
        now = time.monotonic()
        if now - self._last_ping >= PING_EVERY:
            self._last_ping = now
            conn.execute("SELECT 1")  # raises when the server went away silently

    def _dispatch(self, channel: str, payload: str) -> None:
        if payload.split(" ", 1)[0] == self._origin:
            return  # our own: already handled in-process
        self.received += 1
        if channel == ROUTERS_CHANNEL:
            parsed = parse_router_payload(payload)
            if parsed is not None:
                self._handlers.router_changed(parsed[1], parsed[2])
        elif channel == EVENTS_CHANNEL:
            self._handlers.events_added()
        elif channel == LEASES_CHANNEL:
            self._handlers.leases_moved()
