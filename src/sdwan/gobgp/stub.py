"""The GobgpApi stub, built method by method on first use.

protoc's ``GobgpApiStub`` makes a callable for each of the ~60 methods of the service
as soon as it is constructed, and each asks the channel's C core to register the
method. The orchestrator holds two stubs per router (the reconciler's and the watch
hub's) and calls a handful of methods on each: building all of them for a fleet of
100 routers took the GIL for about half a second of a bulk create (py-spy). The table
of methods is read once from the generated stub itself (on a recorder standing in for
a channel), so the two cannot disagree; a method is built on its first call, on the
channel it was given, sync or asyncio alike. On a sync channel, unary and
unary-stream methods are timed per method (gobgp/timing.py); the asyncio channel's
are the watch streams, open for as long as the router is followed, left untimed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import grpc

from sdwan.gobgp._pb import gobgp_pb2_grpc as pb_grpc
from sdwan.gobgp.timing import TimedStream, TimedUnary


@dataclass(frozen=True)
class _Method:
    kind: str  # the channel's factory: unary_unary, unary_stream, ...
    path: str
    options: dict[str, Any]


class _Recorder:
    """Takes the generated stub's calls to a channel and records them."""

    def __getattr__(self, kind: str) -> Any:
        def record(path: str, **options: Any) -> _Method:
            return _Method(kind, path, options)

        return record


_METHODS: dict[str, _Method] = dict(vars(pb_grpc.GobgpApiStub(_Recorder())))


class _LazyStub:
    def __init__(self, channel: grpc.Channel | grpc.aio.Channel) -> None:
        self._channel = channel

    def __getattr__(self, name: str) -> Any:
        method = _METHODS.get(name)
        if method is None:
            raise AttributeError(name)
        built = getattr(self._channel, method.kind)(method.path, **method.options)
        if not isinstance(self._channel, grpc.aio.Channel):
            if method.kind == "unary_unary":
                built = TimedUnary(name, built)
            elif method.kind == "unary_stream":
                built = TimedStream(name, built)
        setattr(self, name, built)  # found without __getattr__ from now on
        return built


def gobgp_stub(channel: grpc.Channel | grpc.aio.Channel) -> pb_grpc.GobgpApiStub:
    """A stub with the generated one's methods (and its type for the checker)."""
    return cast(pb_grpc.GobgpApiStub, _LazyStub(channel))
