"""Between compiled policy objects (sdwan.domain.policy_compile) and gobgpd's
DefinedSet / Policy / PolicyAssignment messages, in the form gobgpd reports them back
(it rewrites communities to anchored regular expressions, neighbors to CIDRs)."""

from __future__ import annotations

import ipaddress
from typing import Any

from sdwan.domain.policy import Conditions, SetType, Statement
from sdwan.domain.policy_compile import CompiledPolicy, SetSpec
from sdwan.gobgp._pb import gobgp_pb2 as pb

SET_TYPES = {
    SetType.PREFIX: pb.PREFIX,
    SetType.NEIGHBOR: pb.NEIGHBOR,
    SetType.COMMUNITY: pb.COMMUNITY,
    SetType.LARGE_COMMUNITY: pb.LARGE_COMMUNITY,
    SetType.AS_PATH: pb.AS_PATH,
}
SET_TYPE_NAMES = {value: key for key, value in SET_TYPES.items()}
WELL_KNOWN = {
    "no-export": "65535:65281",
    "no-advertise": "65535:65282",
    "no-export-subconfed": "65535:65283",
    "no-peer": "65535:65284",
    "blackhole": "65535:666",
    "graceful-shutdown": "65535:0",
    "accept-own": "65535:1",
    "llgr-stale": "65535:6",
    "no-llgr": "65535:7",
}
_MATCH = {"any": pb.MatchSet.ANY, "all": pb.MatchSet.ALL, "invert": pb.MatchSet.INVERT}
_DISPOSITION = {"accept": pb.ACCEPT, "reject": pb.REJECT, "next": pb.NONE}
_DEFAULT = {"accept": pb.ACCEPT, "reject": pb.REJECT}
_DIRECTION = {"import": pb.IMPORT, "export": pb.EXPORT}
_FAMILY = {
    "ipv4-unicast": (pb.Family.AFI_IP, pb.Family.SAFI_UNICAST),
    "ipv6-unicast": (pb.Family.AFI_IP6, pb.Family.SAFI_UNICAST),
}
_COMMUNITY_OPS = {
    "add": pb.CommunityAction.ADD,
    "remove": pb.CommunityAction.REMOVE,
    "replace": pb.CommunityAction.REPLACE,
}
_LENGTH_OPS = {"eq": pb.AsPathLength.EQ, "ge": pb.AsPathLength.GE, "le": pb.AsPathLength.LE}

# A set as gobgpd reports it: type and a sorted tuple of members in its own spelling.
ActualSet = tuple[SetType, tuple[Any, ...]]


def _anchored(value: str) -> str:
    if value in WELL_KNOWN:
        value = WELL_KNOWN[value]
    if value[:1].isdigit() and all(part.isdigit() for part in value.split(":")):
        return f"^{value}$"
    return value


def gobgp_members(spec: SetSpec) -> tuple[Any, ...]:
    """Members in the spelling gobgpd reports, sorted, for comparison."""
    if spec.set_type == SetType.PREFIX:
        out = []
        for member in spec.members:
            network = ipaddress.ip_network(member["prefix"])
            low = member.get("ge", network.prefixlen)
            high = member.get("le", network.max_prefixlen if "ge" in member else low)
            out.append((str(network), low, high))
        return tuple(sorted(out))
    if spec.set_type == SetType.NEIGHBOR:
        return tuple(
            sorted(
                str(ipaddress.ip_network(m if "/" in m else f"{m}/{128 if ':' in m else 32}"))
                for m in spec.members
            )
        )
    if spec.set_type in (SetType.COMMUNITY, SetType.LARGE_COMMUNITY):
        return tuple(sorted(_anchored(str(m)) for m in spec.members))
    return tuple(sorted(str(m) for m in spec.members))


def set_to_proto(name: str, set_type: SetType, members: tuple[Any, ...]) -> pb.DefinedSet:
    """``members`` in gobgpd spelling (from gobgp_members)."""
    message = pb.DefinedSet(defined_type=SET_TYPES[set_type], name=name)
    if set_type == SetType.PREFIX:
        message.prefixes.extend(
            pb.Prefix(ip_prefix=p, mask_length_min=low, mask_length_max=high)
            for p, low, high in members
        )
    else:
        message.list.extend(members)
    return message


def set_from_proto(message: pb.DefinedSet) -> ActualSet:
    set_type = SET_TYPE_NAMES[message.defined_type]
    if set_type == SetType.PREFIX:
        members: tuple[Any, ...] = tuple(
            sorted(
                (str(ipaddress.ip_network(p.ip_prefix)), p.mask_length_min, p.mask_length_max)
                for p in message.prefixes
            )
        )
    else:
        members = tuple(sorted(message.list))
    return set_type, members


def _match(ref: Any) -> pb.MatchSet:
    return pb.MatchSet(type=_MATCH[ref.match], name=ref.name)


def _conditions(conditions: Conditions) -> pb.Conditions:
    message = pb.Conditions()
    for field, _kind, ref in conditions.set_references():
        getattr(message, field).CopyFrom(_match(ref))
    if conditions.as_path_length is not None:
        message.as_path_length.CopyFrom(
            pb.AsPathLength(
                type=_LENGTH_OPS[conditions.as_path_length.op],
                length=conditions.as_path_length.length,
            )
        )
    for family in conditions.family or ():
        afi, safi = _FAMILY[family]
        message.afi_safi_in.append(pb.Family(afi=afi, safi=safi))
    return message


def _actions(statement: Statement) -> pb.Actions:
    actions = statement.actions
    message = pb.Actions(route_action=_DISPOSITION[actions.disposition])
    if actions.next_hop == "self":
        message.nexthop.CopyFrom(pb.NexthopAction(self=True))
    elif actions.next_hop == "unchanged":
        message.nexthop.CopyFrom(pb.NexthopAction(unchanged=True))
    elif actions.next_hop is not None:
        message.nexthop.CopyFrom(pb.NexthopAction(address=actions.next_hop))
    if actions.local_pref is not None:
        message.local_pref.CopyFrom(pb.LocalPrefAction(value=actions.local_pref))
    if actions.med is not None:
        med = actions.med
        if med.set is not None:
            message.med.CopyFrom(pb.MedAction(type=pb.MedAction.REPLACE, value=med.set))
        else:
            delta = med.add if med.add is not None else -(med.subtract or 0)
            message.med.CopyFrom(pb.MedAction(type=pb.MedAction.MOD, value=delta))
    if actions.as_path_prepend is not None:
        asn = actions.as_path_prepend.asn
        assert isinstance(asn, int), "compile resolves 'own'"
        message.as_prepend.CopyFrom(
            pb.AsPrependAction(asn=asn, repeat=actions.as_path_prepend.times)
        )
    for field, action in (
        ("community", actions.communities),
        ("large_community", actions.large_communities),
    ):
        if action is not None:
            op, values = action.operation()
            getattr(message, field).CopyFrom(
                pb.CommunityAction(
                    type=_COMMUNITY_OPS[op],
                    communities=[WELL_KNOWN.get(v, v) for v in values],
                )
            )
    return message


def policy_to_proto(policy: CompiledPolicy) -> pb.Policy:
    return pb.Policy(
        name=policy.name,
        statements=[
            pb.Statement(
                name=s.name,
                conditions=_conditions(s.statement.conditions),
                actions=_actions(s.statement),
            )
            for s in policy.statements
        ],
    )


def assignment_to_proto(
    direction: str, names: tuple[str, ...], default: str
) -> pb.PolicyAssignment:
    return pb.PolicyAssignment(
        name="global",
        direction=_DIRECTION[direction],
        policies=[pb.Policy(name=n) for n in names],
        default_action=_DEFAULT[default],
    )


def direction_to_proto(direction: str) -> int:
    return _DIRECTION[direction]


def default_from_proto(action: int) -> str:
    return "reject" if action == pb.REJECT else "accept"
