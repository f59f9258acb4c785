"""`sdwan fib-agent`: gobgpd's best paths into the kernel routing table (pyroute2).

Runs beside one gobgpd, inside its network namespace. A WatchEvent stream on the
best-path table only wakes the agent; every wake-up (and every ``resync`` seconds)
is a full, level-triggered sync: best paths from ListPath (IPv4 and IPv6 unicast,
learned from a neighbor) against the kernel's routes with protocol
:data:`RTPROT_BGP` (186) in the main table. Routes of any other protocol are never
touched. Next hops that are not on a connected subnet are resolved through the
kernel's own route to them (recursive, like an IGP-resolved iBGP next hop); a path
whose next hop cannot be resolved, or is one of our own addresses, is skipped, and so
is a prefix the table already routes by another protocol (a connected subnet, say).

Multipath (``--multipath``): every path gobgpd itself would put in its multipath set
(equal to the best in gobgpd's ``Path.Compare``: iBGP/eBGP kind, local preference,
AS-path length, origin, MED; sdwan.domain.bestpath) goes into one kernel route with a
next hop each. gobgpd 3.10 computes that set only for its zebra client and WatchEvent,
with ``use_multiple_paths`` set at StartBgp, and advertises one best path anyway; the
agent reads all paths with ListPath and applies the same rule, so no BGP restart is
needed.

Fast failover: a netlink link monitor sees a link lose carrier and hard-resets
(ResetPeer) every neighbor whose address lies on that link's subnets, at once,
instead of waiting for gobgpd's hold timer; gobgpd reconnects by itself once the
link is back. On SIGTERM/SIGINT the agent removes every route it installed.
"""

from __future__ import annotations

import ipaddress
import logging
import signal
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import grpc
from pyroute2 import IPRoute

from sdwan.domain.bestpath import Candidate, multipath_equal
from sdwan.domain.endpoint import GobgpEndpoint
from sdwan.fib.status import StatusServer
from sdwan.gobgp._pb import gobgp_pb2 as pb
from sdwan.gobgp.channel import sync_channel
from sdwan.gobgp.paths import Route, Table, decode_destination, list_path_request
from sdwan.gobgp.rib_calls import attrs_of
from sdwan.gobgp.stub import gobgp_stub

__all__ = ["RTPROT_BGP", "FibAgent", "FibRoute", "plan_changes"]

log = logging.getLogger("sdwan.fib")

RTPROT_BGP = 186
MAIN_TABLE = 254
_FAMILIES = ("ipv4-unicast", "ipv6-unicast")
_IFF_LOWER_UP = 1 << 16


Gateways = tuple[str, ...]  # one, or several for a multipath route (sorted)


@dataclass(frozen=True)
class FibRoute:
    prefix: str
    gateways: Gateways


def plan_changes(
    desired: dict[str, Gateways], installed: dict[str, Gateways]
) -> tuple[list[FibRoute], list[str]]:
    """(routes to add or replace, prefixes to remove): a pure diff."""
    upserts = [FibRoute(p, gw) for p, gw in sorted(desired.items()) if installed.get(p) != gw]
    removals = sorted(p for p in installed if p not in desired)
    return upserts, removals


def multipath_hops(routes: list[Route], local_asn: int) -> list[str]:
    """The next hops of gobgpd's best path and of every path equal to it in gobgpd's
    ``Path.Compare`` (its multipath set); pure."""
    learned = [r for r in routes if r.neighbor is not None and r.next_hop]
    candidates = [
        (r, Candidate(str(r.neighbor), attrs_of(r), r.neighbor, r.source_asn == local_asn))
        for r in learned
    ]
    best = [c for r, c in candidates if r.best]
    if not best:
        return []
    return sorted({str(r.next_hop) for r, c in candidates if multipath_equal(best[0], c)})


class FibAgent:
    def __init__(
        self,
        endpoint: GobgpEndpoint,
        *,
        resync: float = 10.0,
        fast_failover: bool = True,
        status: str | None = None,
        multipath: bool = False,
    ) -> None:
        self.target = endpoint.target
        self.multipath = multipath
        self.resync = resync
        self.fast_failover = fast_failover
        self._channel = sync_channel(endpoint)
        self._stub = gobgp_stub(self._channel)
        self._ipr = IPRoute()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._watch_call: Any = None
        self._routes: tuple[dict[str, list[str]], float] = ({}, 0.0)  # after the last sync
        self._status = StatusServer(status, self.routes) if status else None

    def routes(self) -> tuple[dict[str, list[str]], float]:
        """prefix -> gateways installed by the last sync, and when it ended (the
        status socket's answer)."""
        return self._routes

    # -- desired and installed state ----------------------------------------

    def best_paths(self) -> dict[str, list[str]]:
        """prefix -> BGP next hop(s) of every best path learned from a neighbor (with
        ``multipath``: of every path equal to it, as gobgpd's multipath set)."""
        result: dict[str, list[str]] = {}
        local_asn = 0
        if self.multipath:
            reply = self._stub.GetBgp(pb.GetBgpRequest(), timeout=10)
            local_asn = reply.__getattribute__("global").asn
        for family in _FAMILIES:
            request = list_path_request(Table.GLOBAL, family)
            for reply in self._stub.ListPath(request, timeout=10):
                routes = decode_destination(reply.destination, best_only=not self.multipath)
                if self.multipath:
                    hops = multipath_hops(routes, local_asn)
                    if hops:
                        result[reply.destination.prefix] = hops
                    continue
                for route in routes:
                    if route.neighbor is not None and route.next_hop:
                        result[route.prefix] = [route.next_hop]
        return result

    def installed(self) -> dict[str, Gateways]:
        result: dict[str, Gateways] = {}
        for family in (2, 10):  # AF_INET, AF_INET6
            for msg in self._ipr.get_routes(family=family, table=MAIN_TABLE, proto=RTPROT_BGP):
                dst = msg.get_attr("RTA_DST")
                gateway = msg.get_attr("RTA_GATEWAY")
                hops = [gateway] if gateway is not None else []
                for nexthop in msg.get_attr("RTA_MULTIPATH") or []:
                    hops.append(nexthop.get_attr("RTA_GATEWAY"))
                if dst is not None and hops and None not in hops:
                    result[f"{dst}/{msg['dst_len']}"] = tuple(sorted(str(h) for h in hops))
        return result

    def foreign_prefixes(self) -> set[str]:
        """Prefixes the main table already routes by another protocol (connected,
        static, ...): never replaced, so the agent cannot take over someone's route."""
        result: set[str] = set()
        for family in (2, 10):
            for msg in self._ipr.get_routes(family=family, table=MAIN_TABLE):
                dst = msg.get_attr("RTA_DST")
                if msg["proto"] != RTPROT_BGP and dst is not None:
                    result.add(f"{dst}/{msg['dst_len']}")
        return result

    def _local_addresses(self) -> set[str]:
        return {str(m.get_attr("IFA_ADDRESS")) for m in self._ipr.get_addr()}

    def resolve(self, next_hop: str, local: set[str]) -> str | None:
        """The gateway to program for ``next_hop``: itself when on a connected
        subnet, else the gateway of the kernel's route to it; None if unreachable."""
        if next_hop in local:
            return None
        try:
            answer = self._ipr.route("get", dst=next_hop)
        except Exception:
            return None
        if not answer:
            return None
        msg = answer[0]
        if msg.get_attr("RTA_PREFSRC") is None and msg.get_attr("RTA_OIF") is None:
            return None
        gateway = msg.get_attr("RTA_GATEWAY")
        return str(gateway) if gateway else next_hop

    def sync(self) -> tuple[int, int]:
        """One full sync; returns (routes added or replaced, routes removed)."""
        with self._lock:
            local = self._local_addresses()
            desired: dict[str, Gateways] = {}
            foreign = self.foreign_prefixes()
            for prefix, next_hops in self.best_paths().items():
                if prefix in foreign:
                    log.debug("skipping %s: routed by another protocol", prefix)
                    continue
                gateways = {g for g in (self.resolve(h, local) for h in next_hops) if g}
                if not gateways:
                    log.debug("skipping %s: next hop %s unreachable", prefix, next_hops)
                else:
                    desired[prefix] = tuple(sorted(gateways))
            upserts, removals = plan_changes(desired, self.installed())
            for route in upserts:
                self._install(route)
            self._remove(removals)
            installed = self.installed()
            self._routes = ({p: list(gw) for p, gw in installed.items()}, time.time())
            return len(upserts), len(removals)

    def _install(self, route: FibRoute) -> None:
        way: dict[str, Any] = {"gateway": route.gateways[0]}
        if len(route.gateways) > 1:
            way = {"multipath": [{"gateway": g} for g in route.gateways]}
        try:
            self._ipr.route("replace", dst=route.prefix, proto=RTPROT_BGP, table=MAIN_TABLE, **way)
            log.info("route %s via %s", route.prefix, ", ".join(route.gateways))
        except Exception as exc:
            log.warning("cannot install %s via %s: %s", route.prefix, route.gateways, exc)

    def _remove(self, prefixes: Iterable[str]) -> None:
        for prefix in prefixes:
            try:
                self._ipr.route("del", dst=prefix, proto=RTPROT_BGP, table=MAIN_TABLE)
                log.info("route %s removed", prefix)
            except Exception as exc:
                log.warning("cannot remove %s: %s", prefix, exc)

    def cleanup(self) -> None:
        with self._lock:
            self._remove(list(self.installed()))

    # -- threads -------------------------------------------------------------

    def _watch_table(self) -> None:
        request = pb.WatchEventRequest(
            table=pb.WatchEventRequest.Table(
                filters=[pb.WatchEventRequest.Table.Filter(type="BEST", init=False)]
            )
        )
        while not self._stop.is_set():
            try:
                self._watch_call = self._stub.WatchEvent(request)
                self._wake.set()  # (re)connected: sync everything
                for _reply in self._watch_call:
                    self._wake.set()
            except grpc.RpcError as exc:
                if self._stop.is_set():
                    return
                log.debug("watch stream ended: %s", exc)
            self._stop.wait(1.0)  # gobgpd restarting: retry once a second

    def _monitor_links(self) -> None:
        with IPRoute() as mon:
            mon.bind()
            down: set[int] = set()
            while not self._stop.is_set():
                try:
                    messages = mon.get()
                except OSError:
                    return
                for msg in messages:
                    if msg.get("event") != "RTM_NEWLINK":
                        continue
                    index = msg["index"]
                    carrier = bool(msg["flags"] & _IFF_LOWER_UP)
                    if not carrier and index not in down:
                        down.add(index)
                        self.carrier_lost(index, msg.get_attr("IFLA_IFNAME"))
                    elif carrier:
                        down.discard(index)

    def carrier_lost(self, index: int, ifname: str | None) -> list[str]:
        """Hard-reset every neighbor on the subnets of interface ``index``."""
        with self._lock:
            networks = [
                ipaddress.ip_interface(f"{m.get_attr('IFA_ADDRESS')}/{m['prefixlen']}").network
                for m in self._ipr.get_addr(index=index)
            ]
        reset = []
        for reply in self._stub.ListPeer(pb.ListPeerRequest(), timeout=5):
            address = reply.peer.conf.neighbor_address
            try:
                addr = ipaddress.ip_address(address)
            except ValueError:
                continue
            if any(addr.version == n.version and addr in n for n in networks):
                self._stub.ResetPeer(
                    pb.ResetPeerRequest(address=address, communication="carrier lost"),
                    timeout=5,
                )
                reset.append(address)
        if reset:
            log.warning("%s lost carrier: reset neighbors %s", ifname, ", ".join(reset))
        self._wake.set()
        return reset

    def run(self) -> None:
        threads = [threading.Thread(target=self._watch_table, daemon=True)]
        if self.fast_failover:
            threads.append(threading.Thread(target=self._monitor_links, daemon=True))
        for thread in threads:
            thread.start()
        if self._status is not None:
            self._status.start()
        try:
            while not self._stop.is_set():
                self._wake.wait(self.resync)
                self._wake.clear()
                if self._stop.is_set():
                    break
                try:
                    self.sync()
                except grpc.RpcError as exc:
                    log.warning("gobgpd at %s unreachable: %s", self.target, exc.code())
        finally:
            if self._status is not None:
                self._status.stop()
            self.cleanup()
            self.close()

    def stop(self, *_: object) -> None:
        self._stop.set()
        self._wake.set()
        if self._watch_call is not None:
            self._watch_call.cancel()

    def close(self) -> None:
        self._channel.close()
        self._ipr.close()


def main(
    endpoint: GobgpEndpoint,
    resync: float,
    fast_failover: bool,
    status: str | None = None,
    multipath: bool = False,
) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    target = endpoint.target
    agent = FibAgent(
        endpoint, resync=resync, fast_failover=fast_failover, status=status, multipath=multipath
    )
    signal.signal(signal.SIGTERM, agent.stop)
    signal.signal(signal.SIGINT, agent.stop)
    log.info("fib-agent for %s (proto %d, resync %gs)", target, RTPROT_BGP, resync)
    agent.run()
