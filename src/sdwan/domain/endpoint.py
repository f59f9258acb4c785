"""How to reach one gobgpd's gRPC API: its address and, with TLS, whom to trust. Pure."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GobgpEndpoint:
    target: str  # what grpc takes: unix:///path or host:port
    tls: bool = False
    ca_pem: str | None = None  # with tls: the CA(s) to trust; None: the system's roots
    server_name: str | None = None  # with tls: the name its certificate carries, if not the host

    @classmethod
    def of(
        cls,
        target: str,
        *,
        tls: bool = False,
        ca_pem: str | None = None,
        server_name: str | None = None,
        default_ca: str | None = None,
    ) -> GobgpEndpoint:
        """A router's endpoint: its own CA, else the server's default (SDWAN_GOBGPD_CA_FILE)."""
        if not tls:
            return cls(target)
        return cls(target, True, ca_pem or default_ca, server_name)

    def __str__(self) -> str:
        return self.target
