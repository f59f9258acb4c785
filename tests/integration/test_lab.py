"""`sdwan lab` and the FIB agent against real namespaces, gobgpd and FRR."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from sdwan.fib.netlink import Netlink, route_gateways
from sdwan.fib.plan import RTPROT_BGP
from sdwan.gobgp._pb import gobgp_pb2 as pb
from sdwan.gobgp._pb import gobgp_pb2_grpc as pb_grpc
from sdwan.lab import list_namespaces, wait_for
from sdwan.lab.builder import LabRunner
from sdwan.lab.frr import FRR_RUN, vtysh
from sdwan.lab.netns import LabError
from sdwan.lab.processes import pid_alive, stop_pid
from sdwan.lab.server_process import OrchestratorProcess
from sdwan.lab.topology import load_topology
from sdwan.probe.client import ProbeClient, ProbeClientError
from sdwan.unixhttp import UnixConnection
from tests.support.waits import wait_status

HERE = Path(__file__).parent
SMALL = HERE / "lab_small" / "topology.yaml"
ROOT = Path("/run/sdwan-lab-test")  # short: gobgpd's socket path must fit sun_path

pytestmark = pytest.mark.usefixtures("frr_environment")


@pytest.fixture
def runner(lab_prefix: str) -> Iterator[LabRunner]:
    the_runner = LabRunner(lab_prefix, ROOT)
    yield the_runner
    the_runner.down()


def kernel_routes(runner: LabRunner, node: str, family: str) -> str:
    """The FIB agent's routes (proto 186) in ``node``'s kernel, read with netlink, one
    "PREFIX via GATEWAY" line per gateway (a route points at a nexthop group)."""
    af = socket.AF_INET if family == "-4" else socket.AF_INET6
    with Netlink(runner.ns(node).name) as nl:
        routes = route_gateways(nl.routes(af), nl.nexthops(), RTPROT_BGP)
    return "\n".join(f"{p} via {g}" for p, gateways in sorted(routes.items()) for g in gateways)


def avoid_source(address: str) -> str | None:
    """Who set the avoid set of the FIB agent at ``address`` (None: nobody, or no
    answer)."""
    connection = UnixConnection(address.removeprefix("unix://"), 5.0)
    try:
        connection.request("GET", "/avoid")
        body = json.loads(connection.getresponse().read())
    except OSError:
        return None
    finally:
        connection.close()
    source = body.get("source")
    return source if isinstance(source, str) else None


def answering(probe: ProbeClient) -> bool:
    try:
        asyncio.run(probe.config())
    except ProbeClientError:
        return False
    return True


def stub(address: str) -> tuple[grpc.Channel, pb_grpc.GobgpApiStub]:
    channel = grpc.insecure_channel(address)
    return channel, pb_grpc.GobgpApiStub(channel)


def test_small_lab_up_fib_down(runner: LabRunner) -> None:
    assert runner.up(load_topology(SMALL)).endswith("(3 nodes, 2 links)")
    assert runner.up(load_topology(SMALL)).endswith("is already up")  # idempotent
    status = runner.status()
    assert status["up"]
    daemons = {"gobgpd": True, "fib-agent": True, "probe-agent": True}
    assert status["nodes"]["r1"]["daemons"] == daemons
    assert status["nodes"]["e1"]["daemons"] == {"zebra": True, "bgpd": True}
    assert (
        runner.ns("pc")
        .ip("route", "show", "203.0.113.0/24")
        .stdout.startswith("203.0.113.0/24 via 198.18.9.1")
    )
    state = runner.load()
    assert state is not None
    # the probe agent beside gobgpd: its control socket, an uplink measured (ICMP: e1
    # runs no agent), the FIB agent's socket as the place for its avoid set
    probe = ProbeClient(f"{state.sockets['r1']}.probe")
    uplink = {"id": "e1", "neighbor": "198.18.1.2", "target": "198.18.1.2", "method": "icmp"}
    wait_for(lambda: answering(probe), timeout=30, what="r1's probe agent")
    asyncio.run(probe.put_config({"generation": 1, "uplinks": [uplink]}))
    wait_for(
        lambda: asyncio.run(probe.quality())["uplinks"]["e1"]["state"] == "up",
        timeout=30,
        what="r1's probe agent measuring e1",
    )
    wait_for(
        lambda: avoid_source(f"{state.sockets['r1']}.fib") == "probe-agent",
        timeout=30,
        what="the probe agent's avoid set at r1's FIB agent",
    )
    channel, api = stub(state.sockets["r1"])
    with channel:
        api.StartBgp(
            pb.StartBgpRequest(**{"global": pb.Global(asn=65001, router_id="198.18.0.1")}),
            timeout=5,
        )
        for address, afi in (
            ("198.18.1.2", pb.Family.AFI_IP),
            ("2001:db8:1::2", pb.Family.AFI_IP6),
        ):
            family = pb.Family(afi=afi, safi=pb.Family.SAFI_UNICAST)
            api.AddPeer(
                pb.AddPeerRequest(
                    peer=pb.Peer(
                        conf=pb.PeerConf(neighbor_address=address, peer_asn=65000),
                        afi_safis=[
                            pb.AfiSafi(config=pb.AfiSafiConfig(family=family, enabled=True))
                        ],
                    )
                ),
                timeout=5,
            )
    # learned over BGP -> in r1's kernel table with proto 186, IPv4 and IPv6
    wait_for(
        lambda: "203.0.113.0/24 via 198.18.1.2" in kernel_routes(runner, "r1", "-4"),
        timeout=60,
        what="IPv4 route in r1's kernel",
    )
    wait_for(
        lambda: "2001:db8:113::/48 via 2001:db8:1::2" in kernel_routes(runner, "r1", "-6"),
        timeout=60,
        what="IPv6 route in r1's kernel",
    )
    assert "198.18.1.0/30" not in kernel_routes(runner, "r1", "-4")  # connected: untouched
    # withdrawn -> removed
    e1 = runner.lab.name("e1")
    vtysh(
        e1,
        "configure terminal",
        "router bgp 65000",
        "address-family ipv4 unicast",
        "no network 203.0.113.0/24",
    )
    wait_for(
        lambda: "203.0.113.0/24" not in kernel_routes(runner, "r1", "-4"),
        timeout=30,
        what="withdrawn route removed",
    )
    assert "2001:db8:113::/48" in kernel_routes(runner, "r1", "-6")
    # the agent removes its routes when it stops
    assert state.pids["r1/fib-agent"] in runner.ns("r1").pids()
    stop_pid(state.pids["r1/fib-agent"])
    assert kernel_routes(runner, "r1", "-6").strip() == ""

    pids = [p for n in state.namespaces for p in LabRunnerPids.of(n)]
    runner.down()
    assert not [n for n in list_namespaces() if n.startswith(f"{runner.prefix}-")]
    assert not runner.labdir.exists()
    assert not [p for p in pids if pid_alive(p)]  # zombies of reparented FRR daemons aside
    assert not (FRR_RUN / e1).exists()


class LabRunnerPids:
    @staticmethod
    def of(namespace: str) -> list[int]:
        out = subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]


def test_failed_up_leaves_nothing(runner: LabRunner, tmp_path: Path) -> None:
    text = SMALL.read_text().replace("via: 198.18.9.1", "via: 198.18.77.1")  # unreachable
    bad = tmp_path / "topology.yaml"
    bad.write_text(text)
    (tmp_path / "e1.conf").write_text((SMALL.parent / "e1.conf").read_text())
    with pytest.raises(LabError, match=r"198\.18\.77\.1"):
        runner.up(load_topology(bad))
    assert not [n for n in list_namespaces() if n.startswith(f"{runner.prefix}-")]
    assert not runner.labdir.exists()


def test_cli_rejects_bad_topology_before_creating_anything(tmp_path: Path, lab_prefix: str) -> None:
    bad = tmp_path / "t.yaml"
    bad.write_text("nodes:\n  r1: {kind: router}\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sdwan",
            "lab",
            "up",
            str(bad),
            "--prefix",
            lab_prefix,
            "--lab-dir",
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "nodes.r1.kind (line 2)" in proc.stderr
    assert not [n for n in list_namespaces() if n.startswith(f"{lab_prefix}-")]


def test_cli_up_register_status_exec_down(
    orchestrator: OrchestratorProcess, lab_prefix: str
) -> None:
    where = ["--prefix", lab_prefix, "--lab-dir", str(ROOT)]
    try:
        up = orchestrator.cli("lab", "up", str(SMALL), *where, "--register")
        assert "r1: registered as router 'r1'" in up.stdout
        # progress on stderr, plain lines (not a terminal), ending with every step done
        assert re.search(r"^lab up (\d+)/\1 100 % .* (gobgp|frr) \w+$", up.stderr, re.M)
        assert re.search(r"^registering (\d+)/\1 100 % .* router r\d$", up.stderr, re.M)
        wait_status(orchestrator, "/v1/routers/r1", "ACTIVE")
        status = orchestrator.cli("lab", "status", *where).stdout
        assert f"lab {lab_prefix}: up" in status
        assert "gobgpd=ok fib-agent=ok probe-agent=ok" in status
        out = orchestrator.cli("lab", "exec", "pc", *where, "--", "ip", "-4", "-o", "addr").stdout
        assert "198.18.9.2/30" in out
    finally:
        down = orchestrator.cli("lab", "down", *where)
    assert f"lab {lab_prefix} is down" in down.stdout
    assert not [n for n in list_namespaces() if n.startswith(f"{lab_prefix}-")]
