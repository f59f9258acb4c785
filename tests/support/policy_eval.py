"""A router's policy compiled from statements, a route and the session it came over:
what the policy evaluation tests feed evaluate()."""

from __future__ import annotations

from typing import Any

from sdwan.domain.policy import Statement
from sdwan.domain.policy_compile import AttachmentSpec, SetSpec, compile_router_policy
from sdwan.domain.policy_eval import Session
from sdwan.domain.route import PathAttrs
from tests.support.rib import as_path_from_text

UPLINK = Session("198.18.11.11", local_address="198.18.11.1")


def compiled(
    statements: list[dict[str, Any]],
    *,
    sets: tuple[SetSpec, ...] = (),
    direction: str = "import",
    neighbors: tuple[str, ...] = (),
    default: str = "none",
) -> Any:
    return compile_router_policy(
        asn=65001,
        sets=list(sets),
        policies={"p": [Statement.model_validate(s) for s in statements]},
        attachments=[AttachmentSpec("a", direction, ("p",), default, neighbors)],
    )


def route(prefix: str = "203.0.113.0/24", **kw: Any) -> PathAttrs:
    kw.setdefault("as_path", as_path_from_text("65000 65010"))
    return PathAttrs(prefix, next_hop="198.18.11.11", **kw)
