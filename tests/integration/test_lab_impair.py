"""Link impairments on a real lab (tests/integration/lab_small: gobgpd r1, FRR e1, host
pc): delay and jitter seen by ping through the relay, loss rates, directions, a
blackhole that a real BGP session lives through, clearing, a crashed relay, and
``lab down`` leaving nothing behind."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from sdwan.gobgp._pb import gobgp_pb2 as pb
from sdwan.gobgp._pb import gobgp_pb2_grpc as pb_grpc
from sdwan.lab import list_namespaces, wait_for
from sdwan.lab.builder import LabRunner
from sdwan.lab.netlink import in_namespace
from sdwan.lab.processes import pid_alive
from sdwan.lab.topology import load_topology

SMALL = Path(__file__).parent / "lab_small" / "topology.yaml"
ROOT = Path("/run/sdwan-lab-test")
R1, E1 = "198.18.1.1", "198.18.1.2"  # r1:e0 <-> e1:e0

pytestmark = pytest.mark.usefixtures("frr_environment")


@pytest.fixture
def runner(lab_prefix: str) -> Iterator[LabRunner]:
    the_runner = LabRunner(lab_prefix, ROOT)
    the_runner.up(load_topology(SMALL))
    yield the_runner
    the_runner.down()


def ping_ms(runner: LabRunner, node: str, address: str, count: int, interval: float) -> list[float]:
    """Round-trip times of the answered pings."""
    argv = ["ping", "-n", "-c", str(count), "-i", str(interval), "-W", "2", address]
    out = runner.ns(node).run(argv, check=False, timeout=count * interval + 30).stdout
    return [float(t) for t in re.findall(r"time=([\d.]+) ms", out)]


def tables(runner: LabRunner, node: str) -> str:
    return runner.ns(node).run(["nft", "list", "tables"]).stdout


def test_delay_and_jitter_through_the_relay(runner: LabRunner) -> None:
    assert min(ping_ms(runner, "r1", E1, 3, 0.2)) < 100  # not delayed yet

    applied = runner.impair("r1", "e0", delay_ms=150, direction="out")
    assert applied.target == "r1:e0" and applied.interface == f"{runner.prefix}-e0"
    assert applied.started <= applied.effective
    rtts = ping_ms(runner, "r1", E1, 5, 0.2)
    assert len(rtts) == 5
    # The set delay, and not much more. The relay lets a packet go up to its learned
    # wake-up lag early (under 1 ms) and a loaded 2-core machine can hold one back by
    # tens of ms: the bounds keep a wrong delay out (a second 150 ms, or none).
    assert min(rtts) >= 148.5 and statistics.median(rtts) < 250, rtts

    # both ways: the replies wait at e1 before they leave (so even ping's kernel
    # receive timestamp on r1 sees it)
    runner.impair("r1", "e0", delay_ms=150)
    rtts = ping_ms(runner, "r1", E1, 3, 0.3)
    assert len(rtts) == 3 and min(rtts) >= 297.5 and statistics.median(rtts) < 400, rtts

    # jitter: each packet waits 100 ms ± 30 ms (uniform), pings 100 ms apart (wider
    # than the jitter's range, so the FIFO never holds one back). Mean of 40 draws:
    # standard deviation 30/sqrt(3)/sqrt(40) = 2.7 ms; the lower bound, 12 ms under,
    # is 4.4 of them (a false failure 5 in a million); the upper one leaves room for
    # a loaded machine and still fails a one-sided draw (mean 130). A spread under
    # 20 ms from 40 draws over 60 ms has odds below 1e-15.
    runner.impair("r1", "e0", delay_ms=100, jitter_ms=30, direction="out")
    rtts = ping_ms(runner, "r1", E1, 40, 0.1)
    assert len(rtts) == 40
    assert min(rtts) >= 68.5 and max(rtts) - min(rtts) > 20, rtts
    assert 88 < statistics.mean(rtts) < 120, rtts

    state = runner.load()
    assert state is not None
    relay = state.pids["r1/relay-e0"]
    assert runner.status()["nodes"]["r1"]["daemons"]["relay-e0"] is True

    cleared = runner.clear_impairment("r1", "e0")
    assert cleared.impairment is None
    assert min(ping_ms(runner, "r1", E1, 3, 0.2)) < 100
    wait_for(lambda: not pid_alive(relay), timeout=10, what="relay stopped")
    assert "sdwan_impair" not in tables(runner, "r1") + tables(runner, "e1")
    assert runner.impairments() == {}


class Udp:
    """Datagrams from one node to another, counted at the receiver (sockets made in
    the nodes' namespaces; no process runs there)."""

    def __init__(self, runner: LabRunner, src: str, dst: str, dst_address: str) -> None:
        self.tx = in_namespace(runner.lab.name(src), _udp)
        self.rx = in_namespace(runner.lab.name(dst), _udp)
        self.rx.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)  # SO_RCVBUFFORCE
        self.rx.bind((dst_address, 0))
        self.rx.setblocking(False)
        self.to = self.rx.getsockname()
        self.received = 0

    def drain(self) -> int:
        while True:
            try:
                self.rx.recv(64)
            except BlockingIOError:
                return self.received
            self.received += 1

    def send(self, count: int) -> None:
        for index in range(count):
            self.tx.sendto(b"%d" % index, self.to)
            if index % 200 == 199:
                self.drain()

    def close(self) -> None:
        self.tx.close()
        self.rx.close()


def _udp() -> socket.socket:
    return socket.socket(socket.AF_INET, socket.SOCK_DGRAM)


def dropped(runner: LabRunner, node: str, chain: str) -> int:
    """Packets counted by the drop rules of ``chain`` in ``node``'s namespace."""
    argv = ["nft", "-j", "list", "chain", "inet", "sdwan_impair", chain]
    listing = json.loads(runner.ns(node).run(argv).stdout)["nftables"]
    counted = 0
    for item in listing:
        expressions = item.get("rule", {}).get("expr", [])
        if any("drop" in e for e in expressions):
            counted += sum(e["counter"]["packets"] for e in expressions if "counter" in e)
    return counted


def loss_of(runner: LabRunner, udp: Udp, count: int, node: str, chain: str) -> int:
    """Send ``count`` datagrams; how many were lost, once every one of them is
    accounted for (received, or counted by a drop rule)."""
    start_received, start_dropped = udp.drain(), dropped(runner, node, chain)
    udp.send(count)
    wait_for(
        lambda: (
            udp.drain() - start_received + dropped(runner, node, chain) - start_dropped >= count
        ),
        timeout=30,
        what=f"{count} datagrams received or dropped",
    )
    return count - (udp.received - start_received)


def test_loss_rates(runner: LabRunner) -> None:
    udp = Udp(runner, "r1", "e1", E1)
    try:
        # 20 000 datagrams per rate. Binomial: at 5 % the standard deviation is 31
        # datagrams, at 0.5 % it is 10; the bounds are 5 of them (a false failure
        # below one in a million each). 0.5 % is exact, neither 0 nor 1 % (the
        # bounds exclude 0 and 200 lost).
        count = 20000
        # (dropped as they reach e1, as on a wire: r1's sender never sees an error)
        runner.impair("r1", "e0", loss_pct=5, direction="out")
        assert abs(loss_of(runner, udp, count, "e1", "in_drop") - 1000) <= 155
        runner.impair("r1", "e0", loss_pct=0.5, direction="out")
        assert abs(loss_of(runner, udp, count, "e1", "in_drop") - 100) <= 50
        runner.impair("r1", "e0", loss_pct=100, direction="out")
        assert loss_of(runner, udp, 500, "e1", "in_drop") == 500
    finally:
        udp.close()


def test_directions_and_clear(runner: LabRunner) -> None:
    out = Udp(runner, "r1", "e1", E1)  # leaves r1 by e0
    back = Udp(runner, "e1", "r1", R1)  # arrives at r1 on e0
    # pc's packets to e1 are forwarded by r1 through e0
    runner.ns("pc").ip("route", "add", "198.18.1.0/30", "via", "198.18.9.1")
    runner.ns("e1").ip("route", "add", "198.18.9.0/30", "via", R1)
    assert len(ping_ms(runner, "pc", E1, 2, 0.2)) == 2
    try:
        # dropped where they arrive: out at e1, in at r1
        runner.impair("r1", "e0", blackhole=True, direction="out")
        assert loss_of(runner, out, 300, "e1", "in_drop") == 300
        back.send(300)
        wait_for(lambda: back.drain() == 300, timeout=10, what="e1 -> r1 passes")

        runner.impair("r1", "e0", blackhole=True, direction="in")
        assert loss_of(runner, back, 300, "r1", "in_drop") == 300
        out.send(300)
        wait_for(lambda: out.drain() == 300, timeout=10, what="r1 -> e1 passes")

        runner.impair("r1", "e0", blackhole=True)  # both
        assert loss_of(runner, out, 100, "e1", "in_drop") == 100
        assert loss_of(runner, back, 100, "r1", "in_drop") == 100
        assert ping_ms(runner, "pc", E1, 2, 0.2) == []  # forwarded traffic too

        runner.clear_impairment("r1", "e0")
        out.send(100)
        back.send(100)
        wait_for(lambda: out.drain() == 400, timeout=10, what="r1 -> e1 restored")
        wait_for(lambda: back.drain() == 400, timeout=10, what="e1 -> r1 restored")
        assert len(ping_ms(runner, "pc", E1, 2, 0.2)) == 2
    finally:
        out.close()
        back.close()


def gobgp_peer(address: str) -> pb.Peer:
    channel = grpc.insecure_channel(address)
    with channel:
        (reply,) = pb_grpc.GobgpApiStub(channel).ListPeer(pb.ListPeerRequest(address=E1), timeout=5)
    peer: pb.Peer = reply.peer
    return peer


def test_blackhole_spares_a_real_bgp_session(runner: LabRunner) -> None:
    state = runner.load()
    assert state is not None
    address = state.sockets["r1"]
    with grpc.insecure_channel(address) as channel:
        api = pb_grpc.GobgpApiStub(channel)
        api.StartBgp(
            pb.StartBgpRequest(**{"global": pb.Global(asn=65001, router_id="198.18.0.1")}),
            timeout=5,
        )
        timers = pb.Timers(config=pb.TimersConfig(hold_time=3, keepalive_interval=1))
        peer = pb.Peer(conf=pb.PeerConf(neighbor_address=E1, peer_asn=65000), timers=timers)
        api.AddPeer(pb.AddPeerRequest(peer=peer), timeout=5)

    def established() -> bool:
        return gobgp_peer(address).state.session_state == pb.PeerState.ESTABLISHED

    wait_for(established, timeout=60, what="r1 <-> e1 established")
    runner.impair("r1", "e0", blackhole=True)
    assert ping_ms(runner, "r1", E1, 3, 0.2) == []
    before = gobgp_peer(address)
    # keepalives keep coming through the blackhole, for longer than the hold time
    wait_for(
        lambda: (
            gobgp_peer(address).state.messages.received.keepalive
            >= before.state.messages.received.keepalive + 5
        ),
        timeout=30,
        what="5 more keepalives from e1",
    )
    after = gobgp_peer(address)
    assert after.state.session_state == pb.PeerState.ESTABLISHED
    assert after.timers.state.uptime == before.timers.state.uptime  # the same session

    runner.impair("r1", "e0", blackhole=True, include_bgp=True)
    wait_for(lambda: not established(), timeout=30, what="the session to drop (hold 3 s)")


def cli(runner: LabRunner, *args: str) -> str:
    argv = [sys.executable, "-m", "sdwan", "lab", *args, "--prefix", runner.prefix]
    proc = subprocess.run(
        [*argv, "--lab-dir", str(ROOT)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_crashed_relay_bypassed_and_down_leaves_nothing(runner: LabRunner) -> None:
    out = cli(runner, "impair", "r1:e0", "--delay", "60", "--jitter", "5")
    assert out.startswith("r1:e0 (") and "delay 60 ± 5 ms (both directions)" in out
    cli(runner, "impair", "r1:pc", "--loss", "2.5", "--direction", "in")
    status = cli(runner, "status")
    assert "relay-e0=ok" in status
    assert f"impaired r1:pc ({runner.prefix}-pc, far end pc:e0): loss 2.5 % (in only" in status
    shown = json.loads(cli(runner, "status", "--json"))
    assert shown["impairments"]["r1:e0"]["delay_ms"] == 60
    assert shown["impairments"]["r1:e0"]["far_end"] == "e1:e0"
    assert shown["impairments"]["r1:pc"]["far_end"] == "pc:e0"
    assert min(ping_ms(runner, "r1", E1, 2, 0.2)) >= 108  # 60 ± 5 each way

    state = runner.load()
    assert state is not None
    relay = state.pids["r1/relay-e0"]
    os.kill(relay, signal.SIGKILL)
    wait_for(lambda: not pid_alive(relay), timeout=10, what="relay gone")
    # no relay: the rules let packets pass undelayed (bypass), and status says so
    assert min(ping_ms(runner, "r1", E1, 2, 0.2)) < 60
    assert "r1/relay-e0" in " ".join(runner.status()["problems"])

    # a new delay starts a new relay
    runner.impair("r1", "e0", delay_ms=30, direction="out")
    assert min(ping_ms(runner, "r1", E1, 2, 0.2)) >= 28.5
    relays = [pid for role, pid in (runner.load() or state).pids.items() if "relay" in role]
    assert relays and relay not in relays

    removed = runner.down()
    assert any(f"namespace {runner.prefix}-r1" == r for r in removed)
    assert not [n for n in list_namespaces() if n.startswith(f"{runner.prefix}-")]
    assert not [pid for pid in relays if pid_alive(pid)]
    assert not runner.labdir.exists()
