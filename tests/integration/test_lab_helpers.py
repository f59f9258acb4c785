"""The lab helpers themselves, against a real gobgpd and real namespaces."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from sdwan.gobgp._pb import gobgp_pb2
from sdwan.lab import (
    GobgpdFactory,
    GobgpdProcess,
    Lab,
    LabError,
    Namespace,
    VethLink,
    ensure_lab_address,
    find_gobgpd,
    list_namespaces,
    wait_for,
)

ESTABLISHED = gobgp_pb2.PeerState.SessionState.ESTABLISHED


def global_asn(daemon: GobgpdProcess) -> int:
    resp = daemon.grpc_stub().GetBgp(gobgp_pb2.GetBgpRequest(), timeout=5)
    return int(getattr(resp, "global").asn)


def start_bgp(daemon: GobgpdProcess, asn: int, router_id: str, listen_port: int) -> None:
    glob = gobgp_pb2.Global(asn=asn, router_id=router_id, listen_port=listen_port)
    daemon.grpc_stub().StartBgp(gobgp_pb2.StartBgpRequest(**{"global": glob}), timeout=5)


def add_peer(daemon: GobgpdProcess, address: str, peer_asn: int) -> None:
    peer = gobgp_pb2.Peer(
        conf=gobgp_pb2.PeerConf(neighbor_address=address, peer_asn=peer_asn),
        timers=gobgp_pb2.Timers(
            config=gobgp_pb2.TimersConfig(hold_time=3, keepalive_interval=1, connect_retry=1)
        ),
    )
    daemon.grpc_stub().AddPeer(gobgp_pb2.AddPeerRequest(peer=peer), timeout=5)


def session_state(daemon: GobgpdProcess, address: str) -> int | None:
    for resp in daemon.grpc_stub().ListPeer(gobgp_pb2.ListPeerRequest(address=address), timeout=5):
        return int(resp.peer.state.session_state)
    return None


# -- gobgpd -------------------------------------------------------------------


def test_gobgpd_starts_and_answers_getbgp(gobgpd_factory: GobgpdFactory) -> None:
    daemon = gobgpd_factory("r1")
    assert daemon.running
    assert daemon.pid is not None
    assert daemon.api_address == f"unix://{daemon.socket_path}"
    assert daemon.api_address.startswith("unix:///")
    assert daemon.socket_path.is_socket()
    assert daemon.name.startswith(gobgpd_factory.prefix + "-")
    assert global_asn(daemon) == 0  # empty until StartBgp


def test_stop_removes_socket_and_reaps(gobgpd_factory: GobgpdFactory) -> None:
    daemon = gobgpd_factory("r1")
    pid = daemon.pid
    assert pid is not None
    daemon.stop()
    assert not daemon.running
    assert daemon.pid is None
    assert not daemon.socket_path.exists()
    assert not Path(f"/proc/{pid}").exists()  # exited and reaped, not a zombie
    daemon.stop()  # idempotent


def test_kill_then_restart_is_empty_again(gobgpd_factory: GobgpdFactory) -> None:
    daemon = gobgpd_factory("r1")
    start_bgp(daemon, asn=64512, router_id="192.0.2.1", listen_port=-1)  # -1: no listener
    assert global_asn(daemon) == 64512
    pid = daemon.pid
    daemon.kill()
    assert not daemon.running
    assert not Path(f"/proc/{pid}").exists()
    assert daemon.socket_path.is_socket()  # a crash leaves the socket behind...
    daemon.restart()  # ...and start() copes with it
    assert daemon.running
    assert daemon.pid != pid
    assert global_asn(daemon) == 0


@pytest.mark.gobgpd
def test_context_manager_stops_daemon(tmp_path: Path, lab_prefix: str) -> None:
    with GobgpdProcess(f"{lab_prefix}-cm", tmp_path) as daemon:
        pid = daemon.pid
        assert global_asn(daemon) == 0
    assert not daemon.running
    assert not Path(f"/proc/{pid}").exists()
    assert not daemon.socket_path.exists()


@pytest.mark.gobgpd
def test_start_failure_reports_log(tmp_path: Path, lab_prefix: str) -> None:
    daemon = GobgpdProcess(f"{lab_prefix}-bad", tmp_path, extra_args=["--no-such-flag"])
    with pytest.raises(Exception, match="exited during startup"):
        daemon.start(timeout=5)
    assert not daemon.running


def test_gobgpd_in_netns_pid_is_gobgpd_itself(lab: Lab, gobgpd_factory: GobgpdFactory) -> None:
    ns = lab.namespace("r1")
    daemon = gobgpd_factory("r1", netns=ns)
    assert daemon.pid is not None
    # `ip netns exec` execs gobgpd: the Popen PID is gobgpd's, in the namespace.
    exe = os.path.realpath(f"/proc/{daemon.pid}/exe")
    gobgpd = find_gobgpd()
    assert gobgpd is not None
    assert exe == os.path.realpath(gobgpd)
    identify = subprocess.run(
        ["ip", "netns", "identify", str(daemon.pid)], capture_output=True, text=True, check=True
    )
    assert identify.stdout.strip() == ns.name
    assert ns.pids() == [daemon.pid]
    assert global_asn(daemon) == 0  # API reachable from the root namespace
    daemon.stop()
    assert ns.pids() == []


def test_two_gobgpd_in_namespaces_establish(lab: Lab, gobgpd_factory: GobgpdFactory) -> None:
    ns1, ns2 = lab.namespace("r1"), lab.namespace("r2")
    lab.link(
        ns1,
        "e1",
        ns2,
        "e2",
        addrs_a=["198.18.0.1/30", "2001:db8:0:1::1/64"],
        addrs_b=["198.18.0.2/30", "2001:db8:0:1::2/64"],
    )
    ns1_routes = ns1.run(["ip", "-4", "route", "show"]).stdout
    assert "default" not in ns1_routes
    assert "198.18.0.0/30" in ns1_routes
    assert ns1.run(["cat", "/proc/sys/net/ipv4/ip_forward"]).stdout.strip() == "1"

    d1 = gobgpd_factory("r1", netns=ns1)
    d2 = gobgpd_factory("r2", netns=ns2)
    start_bgp(d1, asn=64512, router_id="192.0.2.1", listen_port=179)
    start_bgp(d2, asn=64513, router_id="192.0.2.2", listen_port=179)
    add_peer(d1, "198.18.0.2", 64513)
    add_peer(d2, "198.18.0.1", 64512)

    wait_for(
        lambda: session_state(d1, "198.18.0.2") == ESTABLISHED,
        timeout=30,
        what="r1 -> r2 session ESTABLISHED",
    )
    wait_for(
        lambda: session_state(d2, "198.18.0.1") == ESTABLISHED,
        timeout=30,
        what="r2 -> r1 session ESTABLISHED",
    )


# -- namespaces and links -----------------------------------------------------


def test_lab_context_manager_leaves_nothing(lab_prefix: str) -> None:
    with Lab(lab_prefix) as the_lab:
        ns1, ns2 = the_lab.namespace("a"), the_lab.namespace("b")
        link = the_lab.link(
            ns1, "a0", ns2, "b0", addrs_a=["192.0.2.1/24"], addrs_b=["192.0.2.2/24"]
        )
        assert sorted(the_lab.leftovers()) == sorted([ns1.name, ns2.name])
        assert link.exists
        assert f"{lab_prefix}-b0" in ns2.ip("-br", "link").stdout
        ping = shutil.which("ping")
        if ping:  # not always installed; BGP establishment below proves veths anyway
            ns1.run([ping, "-c", "1", "-W", "2", "192.0.2.2"])
    assert not [n for n in list_namespaces() if n.startswith(f"{lab_prefix}-")]
    the_lab.teardown()  # idempotent


def test_lab_teardown_tolerates_removed_parts(lab_prefix: str) -> None:
    the_lab = Lab(lab_prefix)
    try:
        ns1, ns2 = the_lab.namespace("a"), the_lab.namespace("b")
        link = the_lab.link(ns1, "a0", ns2, "b0")
        link.delete()  # already gone before teardown
        ns2.delete()
    finally:
        the_lab.teardown()
    assert not the_lab.leftovers()


def test_lab_teardown_reports_processes_left_in_namespace(lab_prefix: str) -> None:
    the_lab = Lab(lab_prefix)
    ns = the_lab.namespace("a")
    proc = ns.exec(["sleep", "60"])
    try:
        wait_for(lambda: ns.pids() == [proc.pid], timeout=5, what="sleep in namespace")
        with pytest.raises(LabError, match="still had processes"):
            the_lab.teardown()
        assert not ns.exists  # removed anyway
    finally:
        proc.kill()
        proc.wait(timeout=5)
        the_lab.teardown()


# -- validation (no root needed) ----------------------------------------------


@pytest.mark.parametrize(
    "cidr",
    [
        "198.18.0.1/30",
        "198.19.255.254/24",
        "192.0.2.1/24",
        "198.51.100.7/32",
        "203.0.113.9/25",
        "2001:db8::1/64",
        "2001:db8:ffff::1/48",
    ],
)
def test_lab_addresses_accepted(cidr: str) -> None:
    assert str(ensure_lab_address(cidr)) == cidr


@pytest.mark.parametrize(
    "cidr",
    [
        "198.20.0.1/24",
        "127.0.0.1/8",
        "198.18.0.1/14",
        "192.0.2.1/23",
        "0.0.0.0/0",
        "2001:db9::1/64",
        "2001:db8::1/31",
        "fe80::1/64",
        "198.18.0.1",
        "not-an-ip/24",
    ],
)
def test_lab_addresses_rejected(cidr: str) -> None:
    with pytest.raises(ValueError):
        ensure_lab_address(cidr)


def test_veth_rejects_addresses_outside_lab_ranges() -> None:
    a, b = Namespace("x-a"), Namespace("x-b")
    with pytest.raises(ValueError, match="outside the lab address ranges"):
        VethLink(a, "x-a0", b, "x-b0", addrs_a=["192.0.2.1/24"], addrs_b=["198.20.1.2/24"])
    with pytest.raises(ValueError, match="interface name"):
        VethLink(a, "much-too-long-ifname", b, "x-b0")


@pytest.mark.parametrize("prefix", ["", "T123", "t_1", "-t1", "t1234567x", "t/1"])
def test_lab_prefix_validated(prefix: str) -> None:
    with pytest.raises(ValueError):
        Lab(prefix)


def test_lab_names_fit_interface_limit() -> None:
    the_lab = Lab("t1a2b3c")
    assert the_lab.name("r1") == "t1a2b3c-r1"
    with pytest.raises(ValueError):
        the_lab.name("toolongname")
    with pytest.raises(ValueError):
        the_lab.name("Bad_Name")
