"""What the in-process API tests share: the bootstrap admin's token and a router."""

from __future__ import annotations

from typing import Any

ADMIN_TOKEN = "test-admin-token-0123456789abcdefghij"  # >= 32 characters

ROUTER: dict[str, Any] = {
    "name": "GoBGP-1",
    "router_id": "10.0.1.1",
    "asn": 65001,
    "api_address": "unix:///run/sdwan/gobgp1.sock",
}
