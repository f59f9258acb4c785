"""gRPC channels to a gobgpd, plain or TLS (gobgpd --tls --tls-cert-file --tls-key-file):
the one place that turns a GobgpEndpoint into a channel, sync or asyncio."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc

from sdwan.domain.endpoint import GobgpEndpoint

Options = Sequence[tuple[str, Any]]


def _tls(endpoint: GobgpEndpoint, options: Options) -> tuple[grpc.ChannelCredentials, Options]:
    roots = endpoint.ca_pem.encode() if endpoint.ca_pem else None
    credentials = grpc.ssl_channel_credentials(root_certificates=roots)
    if endpoint.server_name:
        options = [*options, ("grpc.ssl_target_name_override", endpoint.server_name)]
    return credentials, options


def sync_channel(endpoint: GobgpEndpoint, options: Options = ()) -> grpc.Channel:
    if not endpoint.tls:
        return grpc.insecure_channel(endpoint.target, options=options)
    credentials, options = _tls(endpoint, options)
    return grpc.secure_channel(endpoint.target, credentials, options=options)


def aio_channel(endpoint: GobgpEndpoint, options: Options = ()) -> grpc.aio.Channel:
    if not endpoint.tls:
        return grpc.aio.insecure_channel(endpoint.target, options=options)
    credentials, options = _tls(endpoint, options)
    return grpc.aio.secure_channel(endpoint.target, credentials, options=options)
