"""The nf_tables rules of a node's impairments, and their netlink encoding (pure).

Every impaired interface of a node gets rules in one table of the node's namespace,
``inet sdwan_impair``, all of them replaced in one transaction whenever one of them
changes (no packet ever sees half a change; the table and its chains stay until the
namespace's last impairment is cleared, because unhooking a chain is slow):

```
chain in_drop   prerouting  priority -300   iifname X ... drop     (loss, blackhole)
chain in_delay  prerouting  priority -290   iifname X jump relay_Q
chain out_drop  postrouting priority  300   oifname X ... drop
chain out_delay postrouting priority  310   oifname X jump relay_Q
chain relay_Q                               queue num Q bypass       (one per relay queue)
```

A drop chain first accepts what is spared (IPv6 neighbour discovery; BGP unless it
is included), then drops at random (``numgen random mod 10000 < N``) or everything
(a blackhole). An ``accept`` ends only its own chain, so spared packets still reach
the delay chain. This kernel has no nft ``queue`` expression (CONFIG_NFT_QUEUE is
off); a relay chain uses the xtables NFQUEUE target through nft_compat, with
``bypass`` (packets pass undelayed while no relay listens). ``nft list table inet
sdwan_impair`` in the namespace shows the rules (all but that target, which nft
cannot print in an inet table).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from sdwan.lab.impairment import LOSS_STEPS, Impairment
from sdwan.lab.netlink import (
    NFNL_SUBSYS_NFTABLES,
    NLM_F_APPEND,
    NLM_F_CREATE,
    Message,
    attr,
    be32,
    iter_attrs,
    nested,
    strz,
)

__all__ = [
    "TABLE",
    "Rule",
    "Side",
    "delete_table",
    "relay_chain",
    "relay_queues",
    "replace_rules",
    "rules_for",
]

TABLE = "sdwan_impair"
NFPROTO_INET = 1
BGP_PORT = 179

# nf_tables message types and attributes (linux/netfilter/nf_tables.h)
NFT_MSG_NEWTABLE, NFT_MSG_DELTABLE = 0, 2
NFT_MSG_NEWCHAIN, NFT_MSG_GETCHAIN, NFT_MSG_DELCHAIN = 3, 4, 5
NFT_MSG_NEWRULE, NFT_MSG_DELRULE = 6, 8
NFTA_TABLE_NAME = 1
NFTA_CHAIN_TABLE, NFTA_CHAIN_NAME, NFTA_CHAIN_HOOK, NFTA_CHAIN_TYPE = 1, 3, 4, 7
NFTA_HOOK_HOOKNUM, NFTA_HOOK_PRIORITY = 1, 2
NFTA_RULE_TABLE, NFTA_RULE_CHAIN, NFTA_RULE_EXPRESSIONS = 1, 2, 4
NFTA_LIST_ELEM, NFTA_EXPR_NAME, NFTA_EXPR_DATA = 1, 1, 2
NFTA_DATA_VALUE, NFTA_DATA_VERDICT, NFTA_VERDICT_CODE = 1, 2, 1
NF_INET_PRE_ROUTING, NF_INET_POST_ROUTING = 0, 4
NFT_REG_VERDICT, NFT_REG_1 = 0, 1
NFT_META_IIFNAME, NFT_META_OIFNAME, NFT_META_L4PROTO = 6, 7, 16
NFT_CMP_EQ, NFT_CMP_LT, NFT_CMP_LTE, NFT_CMP_GTE = 0, 2, 3, 5
NFT_PAYLOAD_TRANSPORT_HEADER = 2
NFT_NG_RANDOM = 1
NFT_BYTEORDER_HTON = 1
NF_DROP, NF_ACCEPT = 0, 1
NFT_JUMP = -3
RELAY_CHAIN = "relay_"
NFQ_FLAG_BYPASS = 0x01
IFNAMSIZ = 16
IPPROTO_TCP, IPPROTO_ICMPV6 = 6, 58
ND_TYPES = (133, 137)  # router/neighbour solicitation and advertisement, redirect

Chain = Literal["in_drop", "in_delay", "out_drop", "out_delay"]
#: chain -> (hook, priority)
CHAINS: dict[Chain, tuple[int, int]] = {
    "in_drop": (NF_INET_PRE_ROUTING, -300),
    "in_delay": (NF_INET_PRE_ROUTING, -290),
    "out_drop": (NF_INET_POST_ROUTING, 300),
    "out_delay": (NF_INET_POST_ROUTING, 310),
}


def _expr(name: str, *attrs: bytes) -> bytes:
    return nested(NFTA_LIST_ELEM, strz(NFTA_EXPR_NAME, name), nested(NFTA_EXPR_DATA, *attrs))


def _cmp(op: int, value: bytes) -> bytes:
    return _expr("cmp", be32(1, NFT_REG_1), be32(2, op), nested(3, attr(NFTA_DATA_VALUE, value)))


def _meta(key: int) -> bytes:
    return _expr("meta", be32(1, NFT_REG_1), be32(2, key))


def _l4proto(number: int) -> bytes:
    """``meta l4proto N``: the transport protocol, in IPv4 and IPv6 alike."""
    return _meta(NFT_META_L4PROTO) + _cmp(NFT_CMP_EQ, bytes([number]))


def _transport(offset: int, length: int) -> bytes:
    return _expr(
        "payload",
        be32(1, NFT_REG_1),
        be32(2, NFT_PAYLOAD_TRANSPORT_HEADER),
        be32(3, offset),
        be32(4, length),
    )


@dataclass(frozen=True)
class Interface:
    """``iifname X`` (in) or ``oifname X`` (out)."""

    direction: Literal["in", "out"]
    name: str

    def text(self) -> str:
        return f'{self.direction[0]}ifname "{self.name}"'

    def encode(self) -> bytes:
        key = NFT_META_IIFNAME if self.direction == "in" else NFT_META_OIFNAME
        return _meta(key) + _cmp(NFT_CMP_EQ, self.name.encode().ljust(IFNAMSIZ, b"\0"))


@dataclass(frozen=True)
class TcpPort:
    """``tcp sport P`` or ``tcp dport P``."""

    field: Literal["sport", "dport"]
    port: int

    def text(self) -> str:
        return f"tcp {self.field} {self.port}"

    def encode(self) -> bytes:
        offset = 0 if self.field == "sport" else 2
        port = struct.pack(">H", self.port)
        return _l4proto(IPPROTO_TCP) + _transport(offset, 2) + _cmp(NFT_CMP_EQ, port)


@dataclass(frozen=True)
class NeighbourDiscovery:
    """``icmpv6 type 133-137``: what ARP is to IPv4, never impaired."""

    def text(self) -> str:
        return f"icmpv6 type {ND_TYPES[0]}-{ND_TYPES[1]}"

    def encode(self) -> bytes:
        return (
            _l4proto(IPPROTO_ICMPV6)
            + _transport(0, 1)
            + _cmp(NFT_CMP_GTE, bytes([ND_TYPES[0]]))
            + _cmp(NFT_CMP_LTE, bytes([ND_TYPES[1]]))
        )


@dataclass(frozen=True)
class RandomBelow:
    """``numgen random mod M < N``: true for N of every M packets, in expectation."""

    below: int
    modulus: int = LOSS_STEPS

    def text(self) -> str:
        return f"numgen random mod {self.modulus} < {self.below}"

    def encode(self) -> bytes:
        numgen = _expr("numgen", be32(1, NFT_REG_1), be32(2, self.modulus), be32(3, NFT_NG_RANDOM))
        # numgen leaves a host-order number; cmp compares bytes: turn it big endian first
        hton = _expr(
            "byteorder",
            be32(1, NFT_REG_1),
            be32(2, NFT_REG_1),
            be32(3, NFT_BYTEORDER_HTON),
            be32(4, 4),
            be32(5, 4),
        )
        return numgen + hton + _cmp(NFT_CMP_LT, struct.pack(">I", self.below))


@dataclass(frozen=True)
class Counter:
    def text(self) -> str:
        return "counter"

    def encode(self) -> bytes:
        return _expr("counter")


@dataclass(frozen=True)
class Verdict:
    verdict: Literal["accept", "drop"]

    def text(self) -> str:
        return self.verdict

    def encode(self) -> bytes:
        code = NF_ACCEPT if self.verdict == "accept" else NF_DROP
        data = nested(2, nested(NFTA_DATA_VERDICT, be32(NFTA_VERDICT_CODE, code)))
        return _expr("immediate", be32(1, NFT_REG_VERDICT), data)


@dataclass(frozen=True)
class Jump:
    chain: str

    def text(self) -> str:
        return f"jump {self.chain}"

    def encode(self) -> bytes:
        verdict = nested(NFTA_DATA_VERDICT, be32(NFTA_VERDICT_CODE, NFT_JUMP), strz(2, self.chain))
        return _expr("immediate", be32(1, NFT_REG_VERDICT), nested(2, verdict))


@dataclass(frozen=True)
class Queue:
    """The xtables NFQUEUE target (revision 3), with ``bypass``."""

    number: int

    def text(self) -> str:
        return f"queue num {self.number} bypass"

    def encode(self) -> bytes:
        info = struct.pack("=HHH", self.number, 1, NFQ_FLAG_BYPASS).ljust(8, b"\0")
        return _expr("target", strz(1, "NFQUEUE"), be32(2, 3), attr(3, info))


Statement = (
    Interface | TcpPort | NeighbourDiscovery | RandomBelow | Counter | Verdict | Jump | Queue
)


def relay_chain(queue: int) -> str:
    """The regular chain that hands packets to a relay's queue ``queue``."""
    return f"{RELAY_CHAIN}{queue}"


@dataclass(frozen=True)
class Rule:
    chain: str
    statements: tuple[Statement, ...]

    def text(self) -> str:
        return " ".join(s.text() for s in self.statements)

    def encode(self) -> bytes:
        return b"".join(s.encode() for s in self.statements)


@dataclass(frozen=True)
class Side:
    """One part of one direction of an impairment, and where it is enforced: the
    namespace, the hook (``in``: prerouting, packets arriving on ``ifname``;
    ``out``: postrouting, leaving by it), what is done there (``drop``: loss and
    blackhole; ``delay``: hand to the relay's ``queue``)."""

    namespace: str
    hook: Literal["in", "out"]
    ifname: str
    part: Literal["drop", "delay"]
    queue: int | None = None


def rules_for(side: Side, impairment: Impairment) -> list[Rule]:
    """The rules of one side of an impairment."""
    match = Interface(side.hook, side.ifname)
    if side.part == "delay":
        if not impairment.delays:
            return []
        if side.queue is None:
            raise ValueError("a delaying impairment needs its relay's queue")
        delay: Chain = "in_delay" if side.hook == "in" else "out_delay"
        return [Rule(delay, (match, Counter(), Jump(relay_chain(side.queue))))]
    if not impairment.drops:
        return []
    drop: Chain = "in_drop" if side.hook == "in" else "out_drop"
    spared: list[Statement] = [NeighbourDiscovery()]
    if not impairment.include_bgp:
        spared += [TcpPort("dport", BGP_PORT), TcpPort("sport", BGP_PORT)]
    rules = [Rule(drop, (match, what, Verdict("accept"))) for what in spared]
    chance: tuple[Statement, ...] = (
        () if impairment.blackhole else (RandomBelow(impairment.loss_steps),)
    )
    rules.append(Rule(drop, (match, *chance, Counter(), Verdict("drop"))))
    return rules


Batch = list[tuple[int, int, bytes, str]]  # (message type, flags, attributes, what)


def delete_table() -> Batch:
    """Remove the table if it is there (creating it first makes the delete never fail).
    Slow (tens of ms): unhooking a chain waits for every CPU to leave it."""
    name = strz(NFTA_TABLE_NAME, TABLE)
    return [
        (NFT_MSG_NEWTABLE, NLM_F_CREATE, name, f"table {TABLE}"),
        (NFT_MSG_DELTABLE, 0, name, f"delete table {TABLE}"),
    ]


def replace_rules(rules: Iterable[Rule], relays: Iterable[int], present: Iterable[int]) -> Batch:
    """One transaction that leaves exactly ``rules`` in the table, and a chain for
    each queue in ``relays`` (``present``: the queues whose chain is there now).

    The table and its base chains are made when missing and kept, their rules
    replaced (fast). A relay's queue chain is made once, when its relay starts, and
    kept until it stops: the delay rules only jump to it, because removing the
    xtables target is slow (the kernel waits for it, ~10 ms)."""
    relays, present = set(relays), set(present)
    batch: Batch = [
        (NFT_MSG_NEWTABLE, NLM_F_CREATE, strz(NFTA_TABLE_NAME, TABLE), f"table {TABLE}")
    ]
    for base, (hook, priority) in CHAINS.items():
        hooked = nested(
            NFTA_CHAIN_HOOK, be32(NFTA_HOOK_HOOKNUM, hook), be32(NFTA_HOOK_PRIORITY, priority)
        )
        attrs = _chain(base) + hooked + strz(NFTA_CHAIN_TYPE, "filter")
        batch.append((NFT_MSG_NEWCHAIN, NLM_F_CREATE, attrs, f"chain {base}"))
        batch.append((NFT_MSG_DELRULE, 0, _rules_of(base), f"flush chain {base}"))
    for queue in sorted(relays - present):
        chain = relay_chain(queue)
        batch.append((NFT_MSG_NEWCHAIN, NLM_F_CREATE, _chain(chain), f"chain {chain}"))
        batch.append(_new_rule(Rule(chain, (Queue(queue),))))
    for queue in sorted(present - relays):
        chain = relay_chain(queue)
        batch.append((NFT_MSG_DELRULE, 0, _rules_of(chain), f"flush chain {chain}"))
        batch.append((NFT_MSG_DELCHAIN, 0, _chain(chain), f"delete chain {chain}"))
    batch += [_new_rule(rule) for rule in rules]
    return batch


def _chain(name: str) -> bytes:
    """Names a chain (NEWCHAIN, DELCHAIN)."""
    return strz(NFTA_CHAIN_TABLE, TABLE) + strz(NFTA_CHAIN_NAME, name)


def _rules_of(chain: str) -> bytes:
    """Names the rules of one chain (NEWRULE; DELRULE without a handle flushes the
    chain, and without the chain every chain of the table)."""
    return strz(NFTA_RULE_TABLE, TABLE) + strz(NFTA_RULE_CHAIN, chain)


def _new_rule(rule: Rule) -> tuple[int, int, bytes, str]:
    attrs = _rules_of(rule.chain) + nested(NFTA_RULE_EXPRESSIONS, rule.encode())
    return (NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, attrs, f"rule {rule.text()}")


LIST_CHAINS = NFT_MSG_GETCHAIN  # dumped as NEWCHAIN messages


def relay_queues(chains: Iterable[Message]) -> set[int]:
    """The queues whose relay chain is among the dumped ``chains`` (any table's)."""
    found = set()
    for msg in chains:
        if msg.kind != (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWCHAIN:
            continue
        values = dict(iter_attrs(msg.payload, 4))
        table = values.get(NFTA_CHAIN_TABLE, b"").rstrip(b"\0").decode()
        name = values.get(NFTA_CHAIN_NAME, b"").rstrip(b"\0").decode()
        number = name.removeprefix(RELAY_CHAIN)
        if table == TABLE and name.startswith(RELAY_CHAIN) and number.isdigit():
            found.add(int(number))
    return found
