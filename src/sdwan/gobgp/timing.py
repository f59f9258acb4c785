"""gRPC call latency per method (``sdwan_gobgp_call_duration_seconds``), measured where
the stub builds a method's callable (stub.py), so every synchronous call is timed
without its caller knowing: a unary call until its answer (a future's too, from its
done callback), a streamed one until its last message or its error. What it adds to
a call: two clock reads and one histogram observation (or a done callback)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import grpc

from sdwan.metrics import observe_grpc


def _code(error: BaseException) -> str:
    if isinstance(error, grpc.Call):
        return str(error.code().name)
    return "UNKNOWN"


class _Timed:
    def __init__(self, method: str, inner: Any) -> None:
        self._method = method
        self._inner = inner

    def _call(self, request: Any, options: dict[str, Any]) -> tuple[Any, float]:
        """The inner call and when it started; a refusal is observed, and raised."""
        started = time.perf_counter()
        try:
            return self._inner(request, **options), started
        except grpc.RpcError as exc:
            observe_grpc(self._method, _code(exc), time.perf_counter() - started)
            raise

    def __getattr__(self, name: str) -> Any:  # with_call and the rest: untimed
        return getattr(self._inner, name)


class TimedUnary(_Timed):
    def __call__(self, request: Any, **options: Any) -> Any:
        reply, started = self._call(request, options)
        observe_grpc(self._method, "OK", time.perf_counter() - started)
        return reply

    def future(self, request: Any, **options: Any) -> Any:
        started = time.perf_counter()
        future = self._inner.future(request, **options)
        method = self._method

        def done(call: Any) -> None:
            code = call.code() if isinstance(call, grpc.Call) else None
            observe_grpc(method, code.name if code else "UNKNOWN", time.perf_counter() - started)

        future.add_done_callback(done)
        return future


class TimedStream(_Timed):
    """A unary-stream method: the stream it answers is timed until it ends."""

    def __call__(self, request: Any, **options: Any) -> _Stream:
        stream, started = self._call(request, options)
        return _Stream(self._method, stream, started)


class _Stream:
    """The call's iterator, observed once: at its end, its error, or its cancel."""

    __slots__ = ("_method", "_started", "_stream")

    def __init__(self, method: str, stream: Any, started: float) -> None:
        self._method = method
        self._stream = stream
        self._started = started

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        try:
            return next(self._stream)
        except StopIteration:
            self._observe("OK")
            raise
        except grpc.RpcError as exc:
            self._observe(_code(exc))
            raise

    def cancel(self) -> bool:
        self._observe("CANCELLED")
        return bool(self._stream.cancel())

    def _observe(self, code: str) -> None:
        if self._started >= 0:
            observe_grpc(self._method, code, time.perf_counter() - self._started)
            self._started = -1.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
