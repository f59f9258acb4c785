"""Run a compiled router policy on one path, the way gobgpd 3.10 evaluates it
(internal/pkg/table/policy.go), so a plan can say what a policy will do to the routes
a router holds before the policy is on the router.

Assignment: the policies in order; within one, its statements in order; a statement
whose conditions all match applies its actions, and its disposition (accept/reject)
ends the evaluation; ``next`` goes on. Nothing decided: the assignment's default.
Conditions as gobgpd has them: a prefix set matches through its longest matching
member prefix only (then that prefix's length ranges); a neighbor set against the
sending peer on import and the receiving peer on export; community sets are regular
expressions over ``ASN:VALUE``; AS-path sets regular expressions over the AS path
text with ``_`` meaning a delimiter (plus gobgpd's fast forms ``_N_``, ``^N_``,
``_N$``, ``^N$``). Regular expressions are RE2's, as gobgpd's Go has them
(domain/gobgp_regex.py): linear in the text, whatever the pattern.

A ``Budget`` bounds the work of one prediction: every statement looked at costs one
unit plus one per member of the sets it names; past the limit ``WorkLimitExceeded``
ends the evaluation. Pure."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from typing import Any

from sdwan.domain import gobgp_regex
from sdwan.domain.gobgp_regex import Pattern
from sdwan.domain.policy import SetMatch, SetType, Statement
from sdwan.domain.policy_compile import CompiledRouterPolicy, SetSpec
from sdwan.domain.route import PathAttrs


@dataclass(frozen=True)
class Session:
    """The session a path crosses: the peer and, for next-hop self, our address on it."""

    neighbor: str
    local_address: str | None = None


@dataclass
class Outcome:
    attrs: PathAttrs | None  # None: rejected
    applied: list[str] = field(default_factory=list)  # statements whose actions applied
    decided_by: str = "default"  # statement name, or "default"


class WorkLimitExceeded(Exception):
    """A prediction would take more policy evaluation than its budget allows."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"the prediction needs more than {limit} policy evaluation steps (statements "
            "looked at, plus set members checked); narrow the intent's destination or the "
            "sets its routers' policies name"
        )
        self.limit = limit


@dataclass
class Budget:
    """The policy evaluation one prediction may do."""

    limit: int
    spent: int = 0

    def spend(self, units: int) -> None:
        self.spent += units
        if self.spent > self.limit:
            raise WorkLimitExceeded(self.limit)


def community_number_text(text: str) -> str:
    """A community as gobgpd matches it: always ``ASN:VALUE`` digits."""
    value = gobgp_regex.WELL_KNOWN_COMMUNITIES.get(text)
    return f"{value >> 16}:{value & 0xFFFF}" if value is not None else text


def _single_match(mode: str, asn: int, path: list[int]) -> bool:
    if not path:
        return False
    return {
        "include": asn in path,
        "left": path[0] == asn,
        "origin": path[-1] == asn,
        "only": len(path) == 1 and path[0] == asn,
    }[mode]


def prefix_set_matches(members: tuple[Any, ...], prefix: str) -> bool:
    """gobgpd's prefix condition: the longest member containing ``prefix``, then that
    member's length range."""
    route = ipaddress.ip_network(prefix)
    longest: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None
    for member in members:
        network = ipaddress.ip_network(member["prefix"])
        inside = network.version == route.version and route.subnet_of(network)  # type: ignore[arg-type]
        if inside and (longest is None or network.prefixlen > longest.prefixlen):
            longest = network
    if longest is None:
        return False
    for member in members:
        network = ipaddress.ip_network(member["prefix"])
        if network != longest:
            continue
        low = member.get("ge", network.prefixlen)
        high = member.get("le", network.max_prefixlen if "ge" in member else low)
        if low <= route.prefixlen <= high:
            return True
    return False


def _neighbor_match(members: tuple[Any, ...], neighbor: str) -> bool:
    if not members:
        return True  # gobgpd: an empty neighbor set matches every peer
    address = ipaddress.ip_address(neighbor)
    for member in members:
        network = ipaddress.ip_network(str(member), strict=False)
        if network.version == address.version and address in network:
            return True
    return False


def _regex_set_match(patterns: list[Pattern], values: list[str], how: str) -> bool:
    """gobgpd's CommunityCondition: any/invert stop at the first member that matches."""
    result = False
    for pattern in patterns:
        result = any(pattern.search(v) is not None for v in values)
        if how == "all" and not result:
            break
        if how in ("any", "invert") and result:
            break
    return not result if how == "invert" else result


def _as_path_set_match(members: tuple[Any, ...], path: PathAttrs, how: str) -> bool:
    forms = [(str(m), gobgp_regex.single_as(str(m))) for m in members]
    singles = [single for _member, single in forms if single is not None]
    regexes = [gobgp_regex.as_path_pattern(m) for m, single in forms if single is None]
    text = path.as_path_text()
    for results in (
        [_single_match(mode, asn, path.as_sequence()) for mode, asn in singles],
        [r.search(text) is not None for r in regexes],
    ):
        for result in results:
            if how == "all" and not result:
                return False
            if how == "any" and result:
                return True
            if how == "invert" and result:
                return False
    return how != "any"


def _set_match(spec: SetSpec, ref: SetMatch, path: PathAttrs, neighbor: str) -> bool:
    if spec.set_type == SetType.PREFIX:
        result = prefix_set_matches(spec.members, path.prefix)
        return not result if ref.match == "invert" else result
    if spec.set_type == SetType.NEIGHBOR:
        result = _neighbor_match(spec.members, neighbor)
        return not result if ref.match == "invert" else result
    if spec.set_type == SetType.AS_PATH:
        return _as_path_set_match(spec.members, path, ref.match)
    if spec.set_type == SetType.COMMUNITY:
        values = [community_number_text(c) for c in path.communities]
        patterns = [gobgp_regex.community_pattern(str(m)) for m in spec.members]
    else:
        values = list(path.large_communities)
        patterns = [gobgp_regex.large_community_pattern(str(m)) for m in spec.members]
    return _regex_set_match(patterns, values, ref.match)


def _conditions_match(
    statement: Statement,
    sets: dict[str, SetSpec],
    path: PathAttrs,
    neighbor: str,
    budget: Budget | None,
) -> bool:
    conditions = statement.conditions
    references = conditions.set_references()
    if budget is not None:
        named = [sets[ref.name] for _field, _kind, ref in references if ref.name in sets]
        budget.spend(1 + sum(len(spec.members) for spec in named))
    if conditions.family and path.family not in conditions.family:
        return False
    for _field, _kind, ref in references:
        if ref.name not in sets or not _set_match(sets[ref.name], ref, path, neighbor):
            return False
    length = conditions.as_path_length
    if length is None:
        return True
    have = path.as_path_length()
    if length.op == "eq":
        return have == length.length
    return have >= length.length if length.op == "ge" else have <= length.length


def _communities(
    current: tuple[str, ...], op: str, values: list[str], large: bool
) -> tuple[str, ...]:
    if op == "add":
        return current + tuple(values)
    if op == "replace":
        return tuple(values)
    pattern_of = gobgp_regex.large_community_pattern if large else gobgp_regex.community_pattern
    patterns = [pattern_of(v) for v in values]
    return tuple(
        c
        for c in current
        if not any(p.search(c if large else community_number_text(c)) is not None for p in patterns)
    )


def apply_actions(statement: Statement, path: PathAttrs, session: Session) -> PathAttrs:
    actions = statement.actions
    out = path
    if actions.communities is not None:
        op, values = actions.communities.operation()
        out = replace(out, communities=_communities(out.communities, op, values, False))
    if actions.large_communities is not None:
        op, values = actions.large_communities.operation()
        out = replace(out, large_communities=_communities(out.large_communities, op, values, True))
    if actions.med is not None:
        med = actions.med
        current = out.med or 0
        if med.set is not None:
            out = replace(out, med=med.set)
        else:
            delta = med.add if med.add is not None else -(med.subtract or 0)
            out = replace(out, med=max(0, min(4294967295, current + delta)))
    if actions.local_pref:  # gobgpd ignores local-pref 0
        out = replace(out, local_pref=actions.local_pref)
    prepend = actions.as_path_prepend
    if prepend is not None and isinstance(prepend.asn, int):
        out = out.prepended(prepend.asn, prepend.times)
    hop = actions.next_hop
    if hop == "self":
        if session.local_address is not None:
            out = replace(out, next_hop=session.local_address)
    elif hop not in (None, "unchanged"):
        out = replace(out, next_hop=hop)
    return out


def evaluate(
    policy: CompiledRouterPolicy,
    direction: str,
    path: PathAttrs,
    session: Session,
    budget: Budget | None = None,
) -> Outcome:
    """The path after ``direction``'s assignment for ``session``'s peer."""
    names, default = policy.assignments.get(direction, ((), "accept"))
    outcome = Outcome(attrs=path)
    current = path
    for name in names:
        compiled = policy.policies.get(name)
        if compiled is None:
            continue
        for item in compiled.statements:
            if not _conditions_match(
                item.statement, policy.sets, current, session.neighbor, budget
            ):
                continue
            current = apply_actions(item.statement, current, session)
            outcome.applied.append(item.name)
            disposition = item.statement.actions.disposition
            if disposition != "next":
                outcome.decided_by = item.name
                outcome.attrs = current if disposition == "accept" else None
                return outcome
    outcome.attrs = current if default == "accept" else None
    return outcome
