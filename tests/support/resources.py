"""The resources of the generic CRUD suite (tests/unit/test_api_crud.py), as data:
where each lives in the API, three valid bodies, an update, invalid bodies and the
field each must name, and what must exist first. The isolation tests reuse them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.support.api import ROUTER


@dataclass
class Resource:
    path: str
    key_field: str  # what show/update/delete address it by
    valid: list[dict[str, Any]]  # three valid distinct bodies
    update: dict[str, Any]
    invalid: list[tuple[dict[str, Any], str]]  # (body changes, field named in the error)
    setup: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


ROUTERS = Resource(
    path="/v1/routers",
    key_field="name",
    valid=[
        ROUTER,
        {
            "name": "GoBGP-2",
            "router_id": "10.0.1.2",
            "asn": 4200000000,
            "api_address": "192.0.2.2:50051",
        },
        {
            "name": "GoBGP-3",
            "router_id": "10.0.1.3",
            "asn": 65001,
            "api_address": "[2001:db8::3]:50051",
            "listen_port": -1,
        },
    ],
    update={"description": "edge router", "listen_port": 1179},
    invalid=[
        ({"router_id": "10.0.1"}, "router_id"),
        ({"router_id": "2001:db8::1"}, "router_id"),
        ({"asn": 0}, "asn"),
        ({"asn": 4294967296}, "asn"),
        ({"asn": "65001"}, "asn"),
        ({"api_address": "not an address"}, "api_address"),
        ({"name": "bad name"}, "name"),
        ({"listen_port": 70000}, "listen_port"),
        ({"colour": "blue"}, "colour"),
    ],
)

NEIGHBORS = Resource(
    path="/v1/neighbors",
    key_field="id",
    setup=[("/v1/routers", ROUTER)],
    valid=[
        {"router": "GoBGP-1", "address": "198.18.11.11", "peer_asn": 65000},
        {
            "router": "GoBGP-1",
            "address": "2001:db8::11",
            "peer_asn": 65000,
            "hold_time": 9,
            "keepalive_interval": 3,
        },
        {
            "router": "GoBGP-1",
            "address": "198.18.11.12",
            "peer_asn": 65001,
            "route_reflector_client": True,
            "password": "s3cret",
        },
    ],
    update={"description": "upstream", "hold_time": 30, "keepalive_interval": 10},
    invalid=[
        ({"address": "198.18.11"}, "address"),
        ({"peer_asn": 0}, "peer_asn"),
        ({"peer_asn": 4294967296}, "peer_asn"),
        ({"router": "nope"}, "router"),
        ({"hold_time": 2}, "hold_time"),
        ({"keepalive_interval": 90}, "keepalive_interval"),
        ({"families": ["l2vpn-evpn"]}, "families"),
        ({"local_address": "2001:db8::1"}, "local_address"),
        ({"passive": "yes"}, "passive"),
        ({"api_address": "unix:///elsewhere.sock"}, "api_address"),
        ({"mgmt": 1}, "mgmt"),
    ],
)


NEIGHBOR_OF_ROUTER = (
    "/v1/neighbors",
    {"router": "GoBGP-1", "address": "198.18.31.3", "peer_asn": 65001},
)

DEFINED_SETS = Resource(
    path="/v1/defined-sets",
    key_field="id",
    setup=[("/v1/routers", ROUTER)],
    valid=[
        {
            "router": "GoBGP-1",
            "name": "far",
            "type": "prefix",
            "members": ["203.0.113.0/24", {"prefix": "198.51.100.0/24", "ge": 25, "le": 28}],
        },
        {"router": "GoBGP-1", "name": "ups", "type": "neighbor", "members": ["198.18.11.11"]},
        {
            "router": "GoBGP-1",
            "name": "tags",
            "type": "community",
            "members": ["65001:100", "no-export", "^65001:.*$"],
        },
    ],
    update={"description": "far networks", "members": [{"prefix": "203.0.113.0/24"}]},
    invalid=[
        ({"members": [{"prefix": "203.0.113.0/24", "ge": 20}]}, "members"),
        ({"members": ["203.0.113.1/24"]}, "members"),
        ({"type": "colour"}, "type"),
        ({"name": "a.b"}, "name"),
        ({"router": "nope"}, "router"),
        ({"extra": 1}, "extra"),
    ],
)

POLICIES = Resource(
    path="/v1/policies",
    key_field="id",
    setup=[
        ("/v1/routers", ROUTER),
        (
            "/v1/defined-sets",
            {"router": "GoBGP-1", "name": "far", "type": "prefix", "members": ["203.0.113.0/24"]},
        ),
    ],
    valid=[
        {
            "router": "GoBGP-1",
            "name": "nh-self",
            "statements": [{"actions": {"next_hop": "self", "disposition": "accept"}}],
        },
        {
            "router": "GoBGP-1",
            "name": "prefer",
            "statements": [{"conditions": {"prefix_set": "far"}, "actions": {"local_pref": 200}}],
        },
        {
            "router": "GoBGP-1",
            "name": "tag",
            "statements": [
                {
                    "actions": {
                        "communities": {"add": ["65001:1"]},
                        "med": {"subtract": 5},
                        "as_path_prepend": {"times": 2},
                    }
                }
            ],
        },
    ],
    update={
        "description": "v2",
        "statements": [{"name": "s1", "actions": {"disposition": "reject"}}],
    },
    invalid=[
        (
            {"statements": [{"conditions": {"prefix_set": "missing"}}]},
            "statements[0].conditions.prefix_set",
        ),
        (
            {"statements": [{"conditions": {"neighbor_set": "far"}}]},
            "statements[0].conditions.neighbor_set",
        ),
        ({"statements": []}, "statements"),
        ({"statements": [{"actions": {"med": {"set": 1, "add": 2}}}]}, "statements[0].actions.med"),
        ({"statements": [{"actions": {"communities": {"add": ["x:y"]}}}]}, "statements[0].actions"),
        (
            {
                "statements": [
                    {
                        "conditions": {"family": "ipv6-unicast"},
                        "actions": {"next_hop": "198.18.0.1"},
                    }
                ]
            },
            "statements[0]",
        ),
        ({"statements": [{"name": "a"}, {"name": "a"}]}, "body"),
    ],
)

ATTACHMENTS = Resource(
    path="/v1/policy-attachments",
    key_field="id",
    setup=[
        ("/v1/routers", ROUTER),
        NEIGHBOR_OF_ROUTER,
        (
            "/v1/policies",
            {
                "router": "GoBGP-1",
                "name": "p1",
                "statements": [{"actions": {"disposition": "accept"}}],
            },
        ),
    ],
    valid=[
        {
            "router": "GoBGP-1",
            "name": "to-i1",
            "direction": "export",
            "policies": ["p1"],
            "neighbors": ["198.18.31.3"],
        },
        {
            "router": "GoBGP-1",
            "name": "in-all",
            "direction": "import",
            "policies": ["p1"],
            "default_action": "accept",
        },
        {
            "router": "GoBGP-1",
            "name": "out-all",
            "direction": "export",
            "policies": ["p1"],
            "priority": 5,
        },
    ],
    update={"description": "moved", "neighbors": []},
    invalid=[
        ({"policies": ["missing"]}, "policies[0]"),
        ({"neighbors": ["198.18.99.99"]}, "neighbors[0]"),
        ({"direction": "sideways"}, "direction"),
        ({"policies": []}, "policies"),
        ({"default_action": "maybe"}, "default_action"),
    ],
)

ANNOUNCEMENTS = Resource(
    path="/v1/announcements",
    key_field="id",
    setup=[("/v1/routers", ROUTER)],
    valid=[
        {"router": "GoBGP-1", "prefix": "203.0.113.0/24"},
        {
            "router": "GoBGP-1",
            "prefix": "2001:db8:100::/48",
            "next_hop": "2001:db8::1",
            "as_path_prepend": 2,
        },
        {
            "router": "GoBGP-1",
            "prefix": "198.51.100.0/24",
            "med": 10,
            "local_pref": 200,
            "communities": ["65001:100", "no-export"],
            "large_communities": ["65001:1:2"],
        },
    ],
    update={"description": "anycast", "med": 20},
    invalid=[
        ({"prefix": "203.0.113.1/24"}, "prefix"),
        ({"next_hop": "2001:db8::1"}, "next_hop"),
        ({"communities": ["65536:1"]}, "communities[0]"),
        ({"origin": "bgp"}, "origin"),
        ({"as_path_prepend": 17}, "as_path_prepend"),
    ],
)
