"""A router with two eBGP uplinks and N prefixes behind both: the scenario of the FIB
agent's failover test (tests/integration/test_fib_avoid.py) and benchmark
(bench/bench_fib_failover.py).

::

    up1 (AS 65001) 198.18.201.2 ── 198.18.201.1 ┐
                                                 r (AS 65000: gobgpd + sdwan fib-agent)
    up2 (AS 65002) 198.18.202.2 ── 198.18.202.1 ┘

Both uplinks announce the same prefixes (/30s of 198.19.0.0/16), injected on their
gobgpd through the AddPathStream API in batches; up2 prepends its AS once more, so
gobgpd on ``r`` prefers up1 and holds up2's path as the alternative. Everything is
named ``<prefix>-...`` and removed by :meth:`UplinkLab.down`, also after a failure.
"""

from __future__ import annotations

import ipaddress
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sdwan.gobgp._pb import gobgp_pb2 as pb
from sdwan.gobgp.announce_convert import Announcement, announcement_to_path
from sdwan.lab.gobgpd import GobgpdProcess
from sdwan.lab.netns import Lab
from sdwan.lab.processes import end_child
from sdwan.polling import wait_for

__all__ = ["BACKUP", "PRIMARY", "UplinkLab", "add_paths", "prefixes"]

PRIMARY = "198.18.201.2"  # up1: the preferred path's next hop
BACKUP = "198.18.202.2"
ROUTER_ASN = 65000
_UPLINKS = {"up1": (65001, "198.18.201", ()), "up2": (65002, "198.18.202", (65002,))}
_BATCH = 1000
_POOL = ipaddress.ip_network("198.19.0.0/16")


def prefixes(count: int) -> list[str]:
    """``count`` distinct /30s of 198.19.0.0/16 (at most 16384)."""
    if not 0 < count <= 1 << 14:
        raise ValueError("between 1 and 16384 prefixes")
    return [str(_POOL.network_address + 4 * i) + "/30" for i in range(count)]


def add_paths(stub: Any, wanted: list[str], as_path: tuple[int, ...] = ()) -> None:
    """Originate ``wanted`` on the gobgpd behind ``stub`` (a ``GobgpApiStub``) with
    ``as_path`` prepended: AddPathStream, in batches of 1000 paths."""

    def batches() -> Iterator[pb.AddPathStreamRequest]:
        for start in range(0, len(wanted), _BATCH):
            paths = [
                announcement_to_path(Announcement(p, None, as_path=as_path))
                for p in wanted[start : start + _BATCH]
            ]
            yield pb.AddPathStreamRequest(table_type=pb.GLOBAL, paths=paths)

    stub.AddPathStream(batches(), timeout=120)


def _peer(address: str, asn: int, passive: bool) -> pb.AddPeerRequest:
    family = pb.Family(afi=pb.Family.AFI_IP, safi=pb.Family.SAFI_UNICAST)
    return pb.AddPeerRequest(
        peer=pb.Peer(
            conf=pb.PeerConf(neighbor_address=address, peer_asn=asn),
            transport=pb.Transport(passive_mode=passive),
            afi_safis=[pb.AfiSafi(config=pb.AfiSafiConfig(family=family, enabled=True))],
        )
    )


class UplinkLab:
    def __init__(self, prefix: str, workdir: Path) -> None:
        self.lab = Lab(prefix)
        self.workdir = workdir
        self.daemons: dict[str, GobgpdProcess] = {}
        self.agent: subprocess.Popen[bytes] | None = None
        self._stubs: dict[str, Any] = {}

    @property
    def router_ns(self) -> str:
        return self.lab.name("r")

    @property
    def status_socket(self) -> str:
        return f"{self.daemons['r'].api_address}.fib"

    @property
    def agent_log(self) -> Path:
        return self.workdir / f"{self.lab.prefix}-fib-agent.log"

    def up(self) -> UplinkLab:
        """Namespaces, links, the three gobgpd and both sessions Established."""
        router = self._router = self.lab.namespace("r")
        for name, (_asn, net, _prepend) in _UPLINKS.items():
            far = self.lab.namespace(name)
            self.lab.link(
                router, f"r{name[-1]}", far, name, addrs_a=[f"{net}.1/30"], addrs_b=[f"{net}.2/30"]
            )
        for name in ("r", *_UPLINKS):
            daemon = GobgpdProcess(self.lab.name(name), self.workdir, self.lab.name(name))
            self.daemons[name] = daemon
            daemon.start()
            self._stubs[name] = daemon.grpc_stub()
        self._start_bgp("r", ROUTER_ASN, "198.18.200.1")
        for asn, net, _prepend in _UPLINKS.values():
            self._stubs["r"].AddPeer(_peer(f"{net}.2", asn, passive=True), timeout=5)
        for name, (asn, net, _prepend) in _UPLINKS.items():
            self._start_bgp(name, asn, f"{net}.2")
            self._stubs[name].AddPeer(_peer(f"{net}.1", ROUTER_ASN, passive=False), timeout=5)
        wait_for(self._established, timeout=60, what="both uplink sessions Established")
        return self

    def _start_bgp(self, name: str, asn: int, router_id: str) -> None:
        request = pb.StartBgpRequest(**{"global": pb.Global(asn=asn, router_id=router_id)})
        self._stubs[name].StartBgp(request, timeout=5)

    def _established(self) -> bool:
        peers = list(self._stubs["r"].ListPeer(pb.ListPeerRequest(), timeout=5))
        states = [p.peer.state.session_state for p in peers]
        return len(states) == 2 and all(s == pb.PeerState.ESTABLISHED for s in states)

    def announce(self, count: int, uplinks: tuple[str, ...] = ("up1", "up2")) -> None:
        """Both uplinks announce the first ``count`` prefixes (AddPathStream, batches
        of 1000 paths); returns once ``r`` holds every path."""
        wanted = prefixes(count)
        for name in uplinks:
            add_paths(self._stubs[name], wanted, _UPLINKS[name][2])
        wait_for(
            lambda: self.paths_on_router() >= count * len(uplinks),
            timeout=120,
            what=f"{count * len(uplinks)} paths on r",
        )

    def withdraw(self, name: str, prefix: str) -> None:
        """``name`` withdraws one prefix."""
        path = announcement_to_path(Announcement(prefix, None, as_path=_UPLINKS[name][2]))
        request = pb.DeletePathRequest(table_type=pb.GLOBAL, family=path.family, path=path)
        self._stubs[name].DeletePath(request, timeout=5)

    def paths_on_router(self) -> int:
        family = pb.Family(afi=pb.Family.AFI_IP, safi=pb.Family.SAFI_UNICAST)
        request = pb.GetTableRequest(table_type=pb.GLOBAL, family=family)
        reply = self._stubs["r"].GetTable(request, timeout=10)
        return int(reply.num_path)

    def start_agent(self, *args: str) -> subprocess.Popen[bytes]:
        """``sdwan fib-agent`` in r's namespace, with its status socket."""
        router = self.daemons["r"]
        argv = [
            sys.executable,
            "-m",
            "sdwan",
            "fib-agent",
            "--api",
            router.api_address,
            "--status",
            self.status_socket,
            *args,
        ]
        with self.agent_log.open("ab") as log:
            self.agent = self._router.exec(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        socket_path = Path(self.status_socket.removeprefix("unix://"))
        wait_for(socket_path.exists, timeout=30, what="the FIB agent's status socket")
        return self.agent

    def stop_agent(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Stop the agent (SIGTERM: it cleans up; SIGKILL: a crash); its exit code."""
        agent, self.agent = self.agent, None
        if agent is None:
            return 0
        return end_child(agent, timeout, sig)

    def down(self) -> None:
        """Stop the agent and the daemons, remove namespaces and links."""
        try:
            self.stop_agent()
        finally:
            for daemon in self.daemons.values():
                daemon.close()
            self.lab.teardown()
