"""Probes leave through their uplink whatever the main table prefers: per uplink, a
socket mark, a rule ``fwmark MARK lookup TABLE`` and, in that table, one route to the
target via the uplink's neighbor on its interface (pyroute2).

What the agent owns, chosen so that nothing else is touched (the FIB agent programs
the main table with protocol 186):

- marks ``MARK_BASE + slot`` (0x5d0a0001...), matched exactly (mask 0xffffffff);
- tables ``TABLE_BASE + slot`` (18601 ... 18600 + MAX_SLOTS);
- rules at priority ``RULE_PRIORITY`` (1860: after the local table's rule 0, before
  main's 32766) with protocol ``RTPROT_PROBE``;
- routes with protocol ``RTPROT_PROBE`` (185, unassigned in iproute2's rt_protos).

A slot is an uplink's for as long as the uplink is configured. On start and on exit
the agent removes every rule and route of its kind (a killed agent's too); there is
one probe agent per network namespace.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyroute2 import IPRoute

from sdwan.fib.netlink import (
    NLM_F_CREATE,
    NLM_F_REPLACE,
    RTA_DST,
    RTA_GATEWAY,
    RTA_OIF,
    RTA_TABLE,
    RTM_NEWROUTE,
    Netlink,
    Request,
)
from sdwan.netlinkcore import attr

__all__ = [
    "MARK_BASE",
    "MAX_SLOTS",
    "RTPROT_PROBE",
    "RULE_PRIORITY",
    "TABLE_BASE",
    "Egress",
    "ProbeRouting",
]

log = logging.getLogger("sdwan.probe")

MARK_BASE = 0x5D0A_0000
TABLE_BASE = 18600
MAX_SLOTS = 255
RULE_PRIORITY = 1860
RTPROT_PROBE = 185
_ONLINK = 4  # RTNH_F_ONLINK
_FAMILIES = (socket.AF_INET, socket.AF_INET6)
_RTMSG = struct.Struct("=BBBBBBBBI")  # family dst_len src_len tos table proto scope type flags
_U32 = struct.Struct("=I")
RTA_PRIORITY = 6
RTN_UNICAST, RTN_UNREACHABLE = 1, 7
RT_SCOPE_UNIVERSE, RT_SCOPE_LINK = 0, 253
LAST_RESORT = 0xFFFF_FFFF  # the unreachable default's metric


@dataclass(frozen=True)
class Egress:
    """Where an uplink's probes leave: the neighbor's interface, and this router's own
    address on the neighbor's subnet (where its probes come from and its reflector
    answers: the far agents' target)."""

    ifindex: int
    ifname: str
    address: str = ""


def mark_of(slot: int) -> int:
    return MARK_BASE + slot


def table_of(slot: int) -> int:
    return TABLE_BASE + slot


def _ours(table: int) -> bool:
    return TABLE_BASE < table <= TABLE_BASE + MAX_SLOTS


class ProbeRouting:
    """The agent's rules and tables in this namespace."""

    def __init__(self) -> None:
        self._ipr = IPRoute()
        self._nl = Netlink()  # the refreshes: packed here, two messages, one send

    def close(self) -> None:
        self._ipr.close()
        self._nl.close()

    def egress(self, neighbor: str) -> Egress | None:
        """The interface with a connected subnet holding ``neighbor`` (None: none)."""
        address = ipaddress.ip_address(neighbor)
        family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        for msg in self._ipr.get_addr(family=family):
            local = msg.get_attr("IFA_ADDRESS")
            if local is None or local == neighbor:
                continue
            network = ipaddress.ip_interface(f"{local}/{msg['prefixlen']}").network
            if address in network and network.prefixlen < network.max_prefixlen:
                index = msg["index"]
                links = self._ipr.get_links(index)
                name = links[0].get_attr("IFLA_IFNAME") if links else str(index)
                return Egress(index, str(name), str(local))
        return None

    def strict_rp_filter(self, ifname: str) -> bool:
        """Strict reverse-path filtering drops answers that come back on an interface
        the main table would not use for their source."""
        values = []
        for name in ("all", ifname):
            try:
                values.append(int(Path(f"/proc/sys/net/ipv4/conf/{name}/rp_filter").read_text()))
            except (OSError, ValueError):
                continue
        return max(values, default=0) == 1

    def install(self, slot: int, target: str, neighbor: str, egress: Egress) -> None:
        """The rule and the routes of ``slot`` (idempotent), and no other route in its
        table (an earlier target's)."""
        v6 = ":" in target
        family = socket.AF_INET6 if v6 else socket.AF_INET
        table = table_of(slot)
        if not any(
            (msg.get_attr("FRA_TABLE") or msg["table"]) == table
            for msg in self._ipr.get_rules(family=family)
        ):
            self._ipr.rule(
                "add",
                family=family,
                priority=RULE_PRIORITY,
                fwmark=mark_of(slot),
                fwmask=0xFFFF_FFFF,
                table=table,
                protocol=RTPROT_PROBE,
            )
        self.refresh(slot, target, neighbor, egress)
        bits = 128 if v6 else 32
        for msg in self._ipr.get_routes(family=family, table=table):
            dst = msg.get_attr("RTA_DST")
            if dst is not None and (str(dst), msg["dst_len"]) != (target, bits):
                self._delete_route(msg, table)  # the target of an earlier configuration

    def refresh(self, slot: int, target: str, neighbor: str, egress: Egress) -> None:
        """The two routes of ``slot`` again (two netlink messages in one send, no
        dump): the route to the target, and an unreachable default so that marked
        probes never fall through to the main table when the kernel has dropped that
        route with its link. Raises the kernel's error (NetlinkError, an OSError)."""
        for error in self._nl.execute(route_requests(slot, target, neighbor, egress)):
            if error is not None:
                raise error

    def remove(self, slot: int) -> None:
        self._remove_rules(slot)
        self._flush_table(table_of(slot))

    def cleanup(self) -> int:
        """Remove every rule and route of the agent's kind; returns how many."""
        removed = 0
        for family in _FAMILIES:  # rules first: nothing marked reaches an emptied table
            for msg in self._ipr.get_rules(family=family):
                table = msg.get_attr("FRA_TABLE") or msg["table"]
                if msg.get_attr("FRA_PRIORITY") == RULE_PRIORITY and _ours(table):
                    removed += self._delete_rule(msg)
            for msg in self._ipr.get_routes(family=family):
                table = msg.get_attr("RTA_TABLE") or msg["table"]
                if _ours(table):
                    removed += self._delete_route(msg, table)
        return removed

    def owned(self) -> dict[str, list[str]]:
        """The agent's rules and routes now (for tests and status)."""
        rules, routes = [], []
        for family in _FAMILIES:
            for msg in self._ipr.get_rules(family=family):
                table = msg.get_attr("FRA_TABLE") or msg["table"]
                if _ours(table):
                    rules.append(f"fwmark {msg.get_attr('FRA_FWMARK'):#x} lookup {table}")
            for msg in self._ipr.get_routes(family=family):
                table = msg.get_attr("RTA_TABLE") or msg["table"]
                if _ours(table):
                    dst = f"{msg.get_attr('RTA_DST') or 'default'}"
                    via = msg.get_attr("RTA_GATEWAY") or ("link" if msg["type"] == 1 else "none")
                    routes.append(f"{dst} via {via} table {table}")
        return {"rules": sorted(rules), "routes": sorted(routes)}

    # -- helpers -------------------------------------------------------------------

    def _remove_rules(self, slot: int) -> None:
        table = table_of(slot)
        for family in _FAMILIES:
            for msg in self._ipr.get_rules(family=family):
                if (msg.get_attr("FRA_TABLE") or msg["table"]) == table:
                    self._delete_rule(msg)

    def _flush_table(self, table: int) -> None:
        for family in _FAMILIES:
            for msg in self._ipr.get_routes(family=family, table=table):
                self._delete_route(msg, table)

    def _delete_rule(self, msg: Any) -> int:
        try:
            self._ipr.rule(
                "del",
                family=msg["family"],
                priority=msg.get_attr("FRA_PRIORITY"),
                fwmark=msg.get_attr("FRA_FWMARK"),
                fwmask=msg.get_attr("FRA_FWMASK"),
                table=msg.get_attr("FRA_TABLE") or msg["table"],
            )
            return 1
        except Exception as exc:  # gone meanwhile
            log.debug("cannot remove rule %s: %s", msg, exc)
            return 0

    def _delete_route(self, msg: Any, table: int) -> int:
        dst = msg.get_attr("RTA_DST")
        if dst is None:  # the unreachable default
            dst = "::" if msg["family"] == socket.AF_INET6 else "0.0.0.0"
        try:
            self._ipr.route(
                "del",
                dst=f"{dst}/{msg['dst_len']}",
                type=msg["type"],
                priority=msg.get_attr("RTA_PRIORITY"),
                table=table,
                family=msg["family"],
                scope=msg["scope"],
            )
            return 1
        except Exception as exc:
            log.debug("cannot remove route %s: %s", dst, exc)
            return 0


def route_requests(slot: int, target: str, neighbor: str, egress: Egress) -> list[Request]:
    """``ip route replace TARGET [via NEIGHBOR onlink] dev EGRESS table T proto 185``
    and ``ip route replace unreachable default table T proto 185 metric 2**32-1``,
    packed as iproute2 packs them (a table above 255 in RTA_TABLE)."""
    v6 = ":" in target
    family = socket.AF_INET6 if v6 else socket.AF_INET
    bits = 128 if v6 else 32
    table = attr(RTA_TABLE, _U32.pack(table_of(slot)))
    flags = NLM_F_CREATE | NLM_F_REPLACE
    via = target != neighbor
    header = _RTMSG.pack(
        family,
        bits,
        0,
        0,
        0,
        RTPROT_PROBE,
        RT_SCOPE_UNIVERSE if via else RT_SCOPE_LINK,
        RTN_UNICAST,
        _ONLINK if via else 0,
    )
    route = header + attr(RTA_DST, ipaddress.ip_address(target).packed) + table
    route += attr(RTA_OIF, _U32.pack(egress.ifindex))
    if via:
        route += attr(RTA_GATEWAY, ipaddress.ip_address(neighbor).packed)
    default = _RTMSG.pack(family, 0, 0, 0, 0, RTPROT_PROBE, RT_SCOPE_UNIVERSE, RTN_UNREACHABLE, 0)
    default += table + attr(RTA_PRIORITY, _U32.pack(LAST_RESORT))
    return [Request(RTM_NEWROUTE, flags, route), Request(RTM_NEWROUTE, flags, default)]
