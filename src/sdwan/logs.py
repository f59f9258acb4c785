"""The server's log lines: text for people or JSON for collectors (one event per line),
each carrying the context it was logged in.

Context is held in a context variable, so it follows a request into the worker thread
that runs its endpoint and into its tasks: the API middleware binds ``request_id``
(api/access.py), the reconcile workers ``router_id`` and ``router``. A formatter adds
the bound fields to every line; a line may add its own with
``extra={"fields": {...}}`` (the access log does). Never bind a secret."""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any, Final

FORMATS: Final = ("text", "json")
_NONE: Mapping[str, Any] = {}
_bound: ContextVar[Mapping[str, Any]] = ContextVar("sdwan_log_fields", default=_NONE)
# what a client may send as X-Request-Id: printable, no spaces or quotes, bounded
_SANE_ID = re.compile(r"[A-Za-z0-9._:+/=-]{1,128}")
RESERVED = frozenset({"time", "level", "logger", "message", "exception", "stack"})


def bind(**fields: Any) -> Token[Mapping[str, Any]]:
    """Add ``fields`` to every line logged in this context until ``unbind``."""
    return _bound.set({**_bound.get(), **fields})


def unbind(token: Token[Mapping[str, Any]]) -> None:
    _bound.reset(token)


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    token = bind(**fields)
    try:
        yield
    finally:
        unbind(token)


def context() -> Mapping[str, Any]:
    """The fields bound here (empty outside any)."""
    return _bound.get()


def request_id(offered: str | None) -> str:
    """The client's X-Request-Id when it is a sane one, else a new random id."""
    if offered is not None and _SANE_ID.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    """The context bound when the line was logged, then the line's own fields."""
    bound_here: Mapping[str, Any] = getattr(record, "context", _NONE)
    own: Mapping[str, Any] | None = getattr(record, "fields", None)
    return {**bound_here, **own} if own else dict(bound_here)


class ContextFilter(logging.Filter):
    """Snapshots the bound context onto each record, on the thread that logs it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "context"):
            record.context = _bound.get()
        return True


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message key=value ...`` (the bound context, not the line's
    own fields, which its message already says)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        bound_here: Mapping[str, Any] = getattr(record, "context", _NONE)
        if not bound_here:
            return line
        pairs = " ".join(f"{key}={value}" for key, value in bound_here.items())
        head, newline, rest = line.partition("\n")  # after the message, before a traceback
        return f"{head} {pairs}{newline}{rest}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ms), level, logger, message, the context
    and the line's fields, and the traceback of an exception."""

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in _fields(record).items():
            if key not in RESERVED:
                event[key] = value
        if record.exc_info:
            event["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        if record.stack_info:
            event["stack"] = record.stack_info
        return json.dumps(event, default=str, ensure_ascii=False)


def formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter()
    if log_format == "text":
        return TextFormatter()
    raise ValueError(f"log format must be one of {', '.join(FORMATS)}, got {log_format!r}")


def configure(log_format: str = "text", level: int = logging.INFO) -> None:
    """The root logger writes to stderr in ``log_format``; handlers set before are
    replaced (uvicorn's loggers propagate here: server.py gives it no config)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(log_format))
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
