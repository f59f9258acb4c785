"""Which database errors mean "not now" rather than "wrong": the database cannot be
reached (PostgreSQL restarting, the network, the connection pool exhausted) or a
transaction lost a deadlock. The API answers those with 503 and a retry hint, the
background writers wait and try again; everything else stays a bug (500, logged)."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, PendingRollbackError
from sqlalchemy.exc import TimeoutError as PoolTimeout

MESSAGE = "the database is unavailable; retry shortly"


def is_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, PoolTimeout):  # every connection busy or being re-established
        return True
    if isinstance(exc, PendingRollbackError):  # a connection lost inside a transaction
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if exc.orig is None or not type(exc.orig).__module__.startswith("psycopg"):
        return False  # SQLite's OperationalError also means a missing table: a bug
    # psycopg: connection failures, admin shutdown, cannot-connect-now, deadlocks and
    # serialization failures are all OperationalError; InterfaceError: a closed link
    return isinstance(exc, OperationalError | InterfaceError)


def describe(exc: BaseException) -> str:
    """One line about the cause, for logs (never the SQL or its parameters)."""
    orig = getattr(exc, "orig", None) or exc
    first = str(orig).strip().splitlines()
    return f"{type(orig).__name__}: {first[0] if first else ''}"
