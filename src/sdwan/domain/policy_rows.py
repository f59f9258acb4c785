"""A router's policy rows (defined sets, policies, attachments as stored, hand-written
and generated alike) compiled the way the reconciler's policy stage compiles them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sdwan.domain.policy import SetType, Statement
from sdwan.domain.policy_compile import (
    AttachmentSpec,
    CompiledRouterPolicy,
    SetSpec,
    compile_router_policy,
)

Row = Mapping[str, Any]


def compile_rows(
    *,
    asn: int,
    sets: Iterable[Row],
    policies: Iterable[Row],
    attachments: Iterable[Row],
) -> CompiledRouterPolicy:
    """Rows not being deleted only; references must hold (the services ensure it)."""
    return compile_router_policy(
        asn=asn,
        sets=[SetSpec(r["name"], SetType(r["set_type"]), tuple(r["members"])) for r in sets],
        policies={
            r["name"]: [Statement.model_validate(s) for s in r["statements"]] for r in policies
        },
        attachments=[
            AttachmentSpec(
                r["name"],
                r["direction"],
                tuple(r["policies"]),
                r["default_action"],
                tuple(r["neighbors"]),
                r["priority"],
            )
            for r in attachments
        ],
    )
