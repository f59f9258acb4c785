"""What the session knows of the labs its tests built (the ``lab_environment``
fixture, tests/conftest.py), and the two peering routers several lab tests start from."""

from __future__ import annotations

import httpx

from sdwan.lab import GobgpdFactory, GobgpdProcess, Lab, list_namespaces


class LabSession:
    """Session-wide record of the lab prefixes handed out, checked at session end."""

    def __init__(self) -> None:
        self.prefixes: list[str] = []

    def leftover_namespaces(self) -> list[str]:
        return [n for n in list_namespaces() if any(n.startswith(f"{p}-") for p in self.prefixes)]


def declare_peering(
    lab: Lab,
    gobgpd_factory: GobgpdFactory,
    api: httpx.Client,
    a_addr: str,
    b_addr: str,
    router_ids: tuple[str, str] | None = None,
) -> tuple[GobgpdProcess, GobgpdProcess, list[str]]:
    """Routers A (AS65001, ``a_addr``) and B (AS65002, ``b_addr``) in two namespaces
    joined by a veth, each a neighbor of the other (hold 9 s, keepalive 3 s), declared
    through ``api``: their gobgpd and the ids of the two neighbors (A's, then B's).
    The routers' IDs are their addresses unless ``router_ids`` gives others."""
    ns_a, ns_b = lab.namespace("a"), lab.namespace("b")
    lab.link(ns_a, "a0", ns_b, "b0", addrs_a=[f"{a_addr}/30"], addrs_b=[f"{b_addr}/30"])
    a, b = gobgpd_factory("a", netns=ns_a), gobgpd_factory("b", netns=ns_b)
    a_id, b_id = router_ids or (a_addr, b_addr)
    routers = [
        {"name": "A", "router_id": a_id, "asn": 65001, "api_address": a.api_address},
        {"name": "B", "router_id": b_id, "asn": 65002, "api_address": b.api_address},
    ]
    assert api.post("/v1/routers/bulk", json={"items": routers}).status_code == 201
    timers = {"hold_time": 9, "keepalive_interval": 3}
    neighbors = [
        {"router": "A", "address": b_addr, "peer_asn": 65002, **timers},
        {"router": "B", "address": a_addr, "peer_asn": 65001, **timers},
    ]
    created = api.post("/v1/neighbors/bulk", json={"items": neighbors})
    assert created.status_code == 201, created.text
    return a, b, [item["id"] for item in created.json()["items"]]
