"""Compile a router's sets, policies and attachments into what gobgpd 3.10 can hold.

gobgpd 3.10 has per-peer policy only for route-server clients, so every attachment
becomes part of the one global assignment per direction. An attachment limited to
some neighbors is compiled into copies of its policies whose every statement also
matches a generated neighbor set of exactly those neighbors (at export time gobgpd
evaluates the neighbor condition against the receiving peer, at import time against
the sending one); its default action becomes a final statement for those neighbors.

Compiled policies are content-addressed (``name.<hash>``): a changed policy is a new
gobgpd policy, swapped in with one SetPolicyAssignment, so no route is ever evaluated
against a half-updated policy. Pure: no I/O."""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sdwan.domain.policy import SetMatch, SetType, Statement

DIRECTIONS = ("import", "export")


@dataclass(frozen=True)
class SetSpec:
    name: str
    set_type: SetType
    members: tuple[Any, ...]  # canonical members (prefix dicts or strings)


@dataclass(frozen=True)
class AttachmentSpec:
    name: str
    direction: str
    policies: tuple[str, ...]
    default_action: str  # accept | reject | none
    neighbors: tuple[str, ...]  # empty: every neighbor
    priority: int = 100


@dataclass(frozen=True)
class CompiledStatement:
    name: str
    statement: Statement  # conditions already rewritten (neighbor scope)


@dataclass(frozen=True)
class CompiledPolicy:
    name: str
    statements: tuple[CompiledStatement, ...]
    scope: frozenset[str] | None  # neighbors it can affect; None: all


@dataclass
class CompiledRouterPolicy:
    sets: dict[str, SetSpec] = field(default_factory=dict)
    policies: dict[str, CompiledPolicy] = field(default_factory=dict)
    assignments: dict[str, tuple[tuple[str, ...], str]] = field(default_factory=dict)


def _digest(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _neighbors_in(members: Iterable[str], candidates: Iterable[str]) -> set[str]:
    networks = [
        ipaddress.ip_network(m if "/" in m else f"{m}/{128 if ':' in m else 32}") for m in members
    ]
    return {c for c in candidates if any(ipaddress.ip_address(c) in n for n in networks)}


def _scoped(
    statement: Statement,
    scope: frozenset[str],
    sets: dict[str, SetSpec],
    out_sets: dict[str, SetSpec],
) -> Statement | None:
    """The statement limited to ``scope``; None if it can match no neighbor in scope."""
    wanted = set(scope)
    own = statement.conditions.neighbor_set
    if own is not None:
        members = [str(m) for m in sets[own.name].members]
        inside = _neighbors_in(members, scope)
        wanted = inside if own.match != "invert" else wanted - inside
    if not wanted:
        return None
    generated = _neighbor_set(sorted(wanted))
    out_sets[generated.name] = generated
    conditions = statement.conditions.model_copy(
        update={"neighbor_set": SetMatch(name=generated.name, match="any")}
    )
    return statement.model_copy(update={"conditions": conditions})


def _neighbor_set(addresses: Sequence[str]) -> SetSpec:
    return SetSpec(f"sdwan.nbr.{_digest(list(addresses))}", SetType.NEIGHBOR, tuple(addresses))


def compile_router_policy(
    *,
    asn: int,
    sets: Sequence[SetSpec],
    policies: dict[str, list[Statement]],
    attachments: Sequence[AttachmentSpec],
) -> CompiledRouterPolicy:
    """Everything must already be validated (references exist, types match)."""
    result = CompiledRouterPolicy(sets={s.name: s for s in sets})
    by_name = {s.name: s for s in sets}
    for direction in DIRECTIONS:
        names: list[str] = []
        default = "accept"
        chosen = sorted(
            (a for a in attachments if a.direction == direction),
            key=lambda a: (a.priority, a.name),
        )
        for attachment in chosen:
            scope = frozenset(attachment.neighbors) if attachment.neighbors else None
            for policy_name in attachment.policies:
                compiled = _compile_policy(
                    policy_name,
                    policies[policy_name],
                    asn,
                    scope,
                    attachment.name,
                    by_name,
                    result.sets,
                )
                if compiled is not None and compiled.name not in result.policies:
                    result.policies[compiled.name] = compiled
                    names.append(compiled.name)
            if scope is None:
                if attachment.default_action != "none":
                    default = attachment.default_action
            elif attachment.default_action != "none":
                final = _default_policy(attachment, scope, result.sets)
                result.policies[final.name] = final
                names.append(final.name)
        result.assignments[direction] = (tuple(names), default)
    return result


def _resolve(statement: Statement, asn: int) -> Statement:
    """Make the statement self-contained: 'own' AS becomes the router's AS number."""
    prepend = statement.actions.as_path_prepend
    if prepend is not None and prepend.asn == "own":
        actions = statement.actions.model_copy(
            update={"as_path_prepend": prepend.model_copy(update={"asn": asn})}
        )
        return statement.model_copy(update={"actions": actions})
    return statement


def _compile_policy(
    name: str,
    statements: list[Statement],
    asn: int,
    scope: frozenset[str] | None,
    attachment: str,
    sets: dict[str, SetSpec],
    out_sets: dict[str, SetSpec],
) -> CompiledPolicy | None:
    compiled: list[Statement] = []
    for statement in statements:
        resolved = _resolve(statement, asn)
        if scope is not None:
            scoped = _scoped(resolved, scope, sets, out_sets)
            if scoped is None:
                continue
            resolved = scoped
        compiled.append(resolved)
    if not compiled and scope is not None:
        return None
    payload = [s.model_dump(mode="json", exclude_none=True) for s in compiled]
    used_sets = sorted({ref.name for s in compiled for _, _, ref in s.conditions.set_references()})
    payload.append(
        {
            "sets": [
                (n, out_sets[n].set_type, list(out_sets[n].members))
                for n in used_sets
                if n in out_sets
            ]
        }
    )
    base = name if scope is None else f"{attachment}.{name}"
    full = f"{base}.{_digest(payload)}"
    return CompiledPolicy(
        name=full,
        statements=tuple(CompiledStatement(f"{full}.{s.name}", s) for s in compiled),
        scope=scope,
    )


def _default_policy(
    attachment: AttachmentSpec, scope: frozenset[str], out_sets: dict[str, SetSpec]
) -> CompiledPolicy:
    generated = _neighbor_set(sorted(scope))
    out_sets[generated.name] = generated
    statement = Statement.model_validate(
        {
            "name": "default",
            "conditions": {"neighbor_set": {"name": generated.name}},
            "actions": {"disposition": attachment.default_action},
        }
    )
    full = f"{attachment.name}.default.{_digest([generated.name, attachment.default_action])}"
    return CompiledPolicy(full, (CompiledStatement(f"{full}.default", statement),), scope)
