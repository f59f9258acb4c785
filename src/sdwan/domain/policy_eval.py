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
``_N$``, ``^N$``). Pure."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from sdwan.domain.policy import SetMatch, SetType, Statement
from sdwan.domain.policy_compile import CompiledRouterPolicy, SetSpec
from sdwan.domain.route import PathAttrs

_WELL_KNOWN = {  # gobgpd's names -> community values
    "graceful-shutdown": 0xFFFF0000,
    "accept-own": 0xFFFF0001,
    "llgr-stale": 0xFFFF0006,
    "no-llgr": 0xFFFF0007,
    "blackhole": 0xFFFF029A,
    "no-export": 0xFFFFFF01,
    "no-advertise": 0xFFFFFF02,
    "no-export-subconfed": 0xFFFFFF03,
    "no-peer": 0xFFFFFF04,
}
_MAGIC = "(^|[,{}() ]|$)"  # gobgpd's ASPATH_REGEXP_MAGIC, what "_" stands for


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


def community_number_text(text: str) -> str:
    """A community as gobgpd matches it: always ``ASN:VALUE`` digits."""
    value = _WELL_KNOWN.get(text)
    return f"{value >> 16}:{value & 0xFFFF}" if value is not None else text


@lru_cache(maxsize=4096)
def _community_regex(member: str) -> re.Pattern[str]:
    """gobgpd's ParseCommunityRegexp."""
    if member in _WELL_KNOWN:
        return re.compile(f"^{community_number_text(member)}$")
    if re.fullmatch(r"(\d+.)*\d+:\d+", member):
        return re.compile(f"^{member}$")
    return re.compile(member)


@lru_cache(maxsize=4096)
def _as_path_regex(member: str) -> re.Pattern[str]:
    return re.compile(member.replace("_", _MAGIC))


def _single_as(member: str) -> tuple[str, int] | None:
    """gobgpd's fast AS-path forms: include ``_N_``, left-most ``^N_``, origin
    ``_N$``, only ``^N$``."""
    for mode, pattern in (
        ("left", r"\^(\d+)_"),
        ("origin", r"_(\d+)\$"),
        ("include", r"_(\d+)_"),
        ("only", r"\^(\d+)\$"),
    ):
        found = re.fullmatch(pattern, member)
        if found:
            return mode, int(found.group(1))
    return None


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


def _regex_set_match(patterns: list[re.Pattern[str]], values: list[str], how: str) -> bool:
    """gobgpd's CommunityCondition: any/invert stop at the first member that matches."""
    result = False
    for pattern in patterns:
        result = any(pattern.search(v) for v in values)
        if how == "all" and not result:
            break
        if how in ("any", "invert") and result:
            break
    return not result if how == "invert" else result


def _as_path_set_match(members: tuple[Any, ...], path: PathAttrs, how: str) -> bool:
    singles = [s for s in (_single_as(str(m)) for m in members) if s is not None]
    regexes = [_as_path_regex(str(m)) for m in members if _single_as(str(m)) is None]
    for results in (
        [_single_match(mode, asn, path.as_sequence()) for mode, asn in singles],
        [bool(r.search(path.as_path_text())) for r in regexes],
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
    else:
        values = list(path.large_communities)
    patterns = [_community_regex(str(m)) for m in spec.members]
    return _regex_set_match(patterns, values, ref.match)


def _conditions_match(
    statement: Statement, sets: dict[str, SetSpec], path: PathAttrs, neighbor: str
) -> bool:
    conditions = statement.conditions
    if conditions.family and path.family not in conditions.family:
        return False
    for _field, _kind, ref in conditions.set_references():
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
    patterns = [_community_regex(v) for v in values]
    return tuple(
        c
        for c in current
        if not any(p.search(c if large else community_number_text(c)) for p in patterns)
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
    policy: CompiledRouterPolicy, direction: str, path: PathAttrs, session: Session
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
            if not _conditions_match(item.statement, policy.sets, current, session.neighbor):
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
