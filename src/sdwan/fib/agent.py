"""`sdwan fib-agent`: gobgpd's best paths into the kernel routing table.

Runs beside one gobgpd, inside its network namespace. A WatchEvent stream on the
best-path table only wakes the agent (gobgpd sends an event for a destination whose
other paths change too); every wake-up (and every ``resync`` seconds) is a full,
level-triggered sync: the paths of ListPath (IPv4 and IPv6 unicast, learned
from a neighbor) against the kernel's routes with protocol :data:`RTPROT_BGP` (186) in
the main table and the agent's nexthop objects (:mod:`sdwan.fib.kernel`). Routes of any
other protocol are never touched. Next hops that are not on a connected subnet are
resolved through the kernel's own route to them (recursive, like an IGP-resolved iBGP
next hop); a path whose next hop cannot be resolved, or is one of our own addresses,
is skipped, and so is a prefix the table already routes by another protocol.

Each route points at a nexthop group whose candidates are gobgpd's best path (with
``--multipath`` its multipath set), then the best of the other paths, and so on
(:mod:`sdwan.fib.candidates`); the group holds the first that is not avoided. The
avoid set (``PUT /avoid`` on the status socket, from the probe agent) moves groups,
never routes, at once; the syncs keep computing the same thing, so BGP catching up
later moves nothing.

Fast failover: a netlink link monitor sees a link lose carrier and hard-resets
(ResetPeer) every neighbor whose address lies on that link's subnets, at once,
instead of waiting for gobgpd's hold timer; gobgpd reconnects by itself once the
link is back. On SIGTERM/SIGINT the agent removes every route and nexthop object it
installed.
"""

from __future__ import annotations

import ipaddress
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

import grpc
from pyroute2 import IPRoute

from sdwan.domain.endpoint import GobgpEndpoint
from sdwan.fib.candidates import LearnedPath, multipath_hops, next_hop_tiers
from sdwan.fib.kernel import KernelFib
from sdwan.fib.plan import RTPROT_BGP, Hop, Tiers
from sdwan.fib.status import StatusServer
from sdwan.gobgp._pb import gobgp_pb2 as pb
from sdwan.gobgp.channel import sync_channel
from sdwan.gobgp.paths import Table, decode_path, list_path_request
from sdwan.gobgp.stub import gobgp_stub

__all__ = ["RTPROT_BGP", "FibAgent", "multipath_hops"]

log = logging.getLogger("sdwan.fib")

_FAMILIES = ("ipv4-unicast", "ipv6-unicast")
_IFF_LOWER_UP = 1 << 16
SWITCH_INTERVAL = 0.0005  # seconds

NextHopTiers = list[list[str]]  # BGP next hops, best tier first


class FibAgent:
    def __init__(
        self,
        endpoint: GobgpEndpoint,
        *,
        resync: float = 10.0,
        fast_failover: bool = True,
        status: str | None = None,
        multipath: bool = False,
        nexthop_compat: bool = False,
    ) -> None:
        self.target = endpoint.target
        self.multipath = multipath
        self.resync = resync
        self.fast_failover = fast_failover
        self._channel = sync_channel(endpoint)
        self._stub = gobgp_stub(self._channel)
        self._ipr = IPRoute()  # addresses and route lookups, by the sync thread
        self._link_ipr = IPRoute()  # the link monitor's lookups
        self.kernel = KernelFib(keep_compat=nexthop_compat)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._watch_call: Any = None
        self._tiers_seen: dict[bytes, NextHopTiers] = {}  # destination as sent -> tiers
        self._tiers_asn = 0
        self._status = StatusServer(status, self) if status else None

    # -- what the status socket serves ----------------------------------------

    def routes_status(self, prefixes: Sequence[str]) -> dict[str, Any]:
        return {
            "routes": self.kernel.routes(prefixes),
            "synced_at": self.kernel.synced_at,
            "avoided": self.kernel.avoided()["since"],
            "no_alternative": self.kernel.no_alternative(prefixes),
        }

    def avoid_status(self) -> dict[str, Any]:
        return self.kernel.avoided()

    def set_avoid(self, next_hops: Sequence[str], source: str | None) -> dict[str, Any]:
        return self.kernel.avoid(next_hops, source)

    # -- desired state ---------------------------------------------------------

    def candidate_paths(self) -> dict[str, NextHopTiers]:
        """prefix -> the BGP next hops of each tier (gobgpd's best set first).

        A destination gobgpd sends exactly as last time keeps its tiers without being
        decoded again: a periodic sync of a large, quiet table costs little CPU."""
        result: dict[str, NextHopTiers] = {}
        reply = self._stub.GetBgp(pb.GetBgpRequest(), timeout=10)
        local_asn = reply.__getattribute__("global").asn
        known = self._tiers_seen if self._tiers_asn == local_asn else {}
        seen: dict[bytes, NextHopTiers] = {}
        for family in _FAMILIES:
            request = list_path_request(Table.GLOBAL, family)
            for answer in self._stub.ListPath(request, timeout=30):
                destination = answer.destination
                key = destination.SerializeToString(deterministic=True)
                tiers = known.get(key)
                if tiers is None:
                    tiers = self._tiers(destination, local_asn)
                seen[key] = tiers
                if tiers:
                    result[destination.prefix] = tiers
        self._tiers_seen, self._tiers_asn = seen, local_asn
        return result

    def _tiers(self, destination: pb.Destination, local_asn: int) -> NextHopTiers:
        paths = [
            LearnedPath(
                decode_path(p, prefix=destination.prefix), p.source_id or None, p.is_nexthop_invalid
            )
            for p in destination.paths
        ]
        return next_hop_tiers(paths, local_asn, multipath=self.multipath)

    def _local_addresses(self) -> set[str]:
        return {str(m.get_attr("IFA_ADDRESS")) for m in self._ipr.get_addr()}

    def resolve(self, next_hop: str, local: set[str]) -> Hop | None:
        """How the kernel reaches ``next_hop``: itself as gateway when on a connected
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
        oif = msg.get_attr("RTA_OIF")
        if oif is None:
            return None
        gateway = msg.get_attr("RTA_GATEWAY")
        canonical = str(ipaddress.ip_address(gateway or next_hop))
        return Hop(str(ipaddress.ip_address(next_hop)), canonical, int(oif))

    def desired(self, foreign: set[str]) -> dict[str, Tiers]:
        """prefix -> the tiers of kernel hops its route chooses from."""
        local = self._local_addresses()
        hops: dict[str, Hop | None] = {}
        result: dict[str, Tiers] = {}
        for prefix, tiers in self.candidate_paths().items():
            if prefix in foreign:
                log.debug("skipping %s: routed by another protocol", prefix)
                continue
            resolved = []
            for tier in tiers:
                for next_hop in tier:
                    if next_hop not in hops:
                        hops[next_hop] = self.resolve(next_hop, local)
                found = tuple(sorted({h for n in tier if (h := hops[n]) is not None}))
                if found:
                    resolved.append(found)
            if resolved:
                result[prefix] = tuple(resolved)
            else:
                log.debug("skipping %s: next hops %s unreachable", prefix, tiers)
        return result

    def sync(self) -> tuple[int, int]:
        """One full sync; returns (routes added or re-pointed, routes removed)."""
        routes, nexthops = self.kernel.read()
        foreign = {r.prefix for r in routes if r.protocol != RTPROT_BGP}
        plan = self.kernel.apply(self.desired(foreign), routes, nexthops)
        return len(plan.routes), len(plan.removed_routes)

    def cleanup(self) -> None:
        self.kernel.cleanup()

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
        networks = [
            ipaddress.ip_interface(f"{m.get_attr('IFA_ADDRESS')}/{m['prefixlen']}").network
            for m in self._link_ipr.get_addr(index=index)
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
                except OSError as exc:  # netlink: the next wake-up tries again
                    log.warning("sync failed: %s", exc)
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
        self._link_ipr.close()
        self.kernel.close()


def main(
    endpoint: GobgpEndpoint,
    resync: float,
    fast_failover: bool,
    status: str | None = None,
    multipath: bool = False,
    nexthop_compat: bool = False,
) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    target = endpoint.target
    agent = FibAgent(
        endpoint,
        resync=resync,
        fast_failover=fast_failover,
        status=status,
        multipath=multipath,
        nexthop_compat=nexthop_compat,
    )
    # A full sync of a large table keeps one thread busy in Python for seconds; the
    # status socket's thread must get the interpreter back within half a millisecond
    # of each system call, not 5 ms, so that an avoid request is not slowed by it.
    sys.setswitchinterval(SWITCH_INTERVAL)
    signal.signal(signal.SIGTERM, agent.stop)
    signal.signal(signal.SIGINT, agent.stop)
    log.info("fib-agent for %s (proto %d, resync %gs)", target, RTPROT_BGP, resync)
    agent.run()
