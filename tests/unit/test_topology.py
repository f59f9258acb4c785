"""Topology files are validated before anything is created; errors name the object."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdwan.lab.demo_tools import outage
from sdwan.lab.topology import TopologyError, load_topology

DEMO = Path(__file__).resolve().parents[2] / "examples" / "original-demo" / "topology.yaml"

GOOD = """\
nodes:
  r1: {kind: gobgp}
  e1: {kind: frr, config: e1.conf}
  pc: {kind: host, routes: [{to: 203.0.113.0/24, via: 198.18.9.1}]}
links:
  - a: {node: r1, addresses: [198.18.1.1/30, "2001:db8:1::1/64"]}
    b: {node: e1, addresses: [198.18.1.2/30, "2001:db8:1::2/64"]}
  - a: {node: r1, ifname: pc, addresses: [198.18.9.1/30]}
    b: {node: pc, addresses: [198.18.9.2/30]}
"""


def write(tmp_path: Path, text: str, conf: bool = True) -> Path:
    if conf:
        (tmp_path / "e1.conf").write_text("hostname e1\n")
    path = tmp_path / "topology.yaml"
    path.write_text(text)
    return path


def test_good_topology_loads(tmp_path: Path) -> None:
    topo = load_topology(write(tmp_path, GOOD))
    assert set(topo.nodes) == {"r1", "e1", "pc"}
    assert [e[3] for e in topo.endpoints()] == ["e0", "e0", "pc", "e0"]
    assert topo.frr_config("e1") == tmp_path / "e1.conf"


def test_the_demo_topology_is_valid() -> None:
    topo = load_topology(DEMO)
    assert {n for n, node in topo.nodes.items() if node.kind == "gobgp"} == {
        "gobgp1",
        "gobgp2",
        "gobgp3",
    }


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("kind: gobgp}", "kind: junos}", "nodes.r1.kind (line 2)"),
        ("b: {node: pc,", "b: {node: pc2,", "links[1].b: unknown node 'pc2'"),
        ("198.18.9.2/30", "198.20.0.2/30", "'198.20.0.2/30' is outside the lab address ranges"),
        ("203.0.113.0/24", "0.0.0.0/0", "default routes are not allowed"),
        ("via: 198.18.9.1", "via: 198.20.1.1", "outside the lab address ranges"),
        ("198.18.9.1/30]", "198.18.1.5/29]", "links[1].a: 198.18.1.5/29 overlaps 198.18.1.0/30"),
        ("e1.conf", "missing.conf", "node 'e1': FRR config"),
        ("{kind: frr, config: e1.conf}", "{kind: frr}", "node 'e1': kind frr needs"),
        ("r1: {kind: gobgp}", "r1: {kind: gobgp, color: red}", "nodes.r1.color"),
        ("ifname: pc,", "ifname: e0,", "interface 'e0' used twice on 'r1'"),
        ("r1: {kind: gobgp}", "router1: {kind: gobgp}", "nodes.router1"),
    ],
)
def test_bad_topologies_are_rejected_naming_the_object(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in GOOD
    with pytest.raises(TopologyError) as info:
        load_topology(write(tmp_path, GOOD.replace(old, new)))
    assert message in str(info.value)


def test_switch_members_share_a_subnet_and_vrrp_needs_vrrpd(tmp_path: Path) -> None:
    text = """\
nodes:
  a: {kind: frr, config: e1.conf, vrrp: true}
  b: {kind: host}
  lan: {kind: switch}
links:
  - a: {node: a, addresses: [203.0.113.2/24], vrrp: [{vrid: 1, address: 203.0.113.1/24}]}
    b: {node: lan}
  - a: {node: b, addresses: [203.0.113.3/24]}
    b: {node: lan}
"""
    assert load_topology(write(tmp_path, text))
    with pytest.raises(TopologyError, match=r"links\[0\].a: vrrp needs an frr node"):
        load_topology(write(tmp_path, text.replace("vrrp: true", "vrrp: false")))
    with pytest.raises(TopologyError, match="a switch port has no addresses"):
        load_topology(
            write(
                tmp_path,
                text.replace(
                    "b: {node: lan}\n  - a", "b: {node: lan, addresses: [198.18.0.1/30]}\n  - a", 1
                ),
            )
        )


def test_unreadable_and_non_mapping_files(tmp_path: Path) -> None:
    with pytest.raises(TopologyError, match="No such file"):
        load_topology(tmp_path / "nope.yaml")
    with pytest.raises(TopologyError, match="expected a mapping"):
        load_topology(write(tmp_path, "- 1\n"))


def test_outage_is_the_longest_gap_after_the_halt() -> None:
    text = "\n".join(
        f"[{t:.3f}] 64 bytes from 203.0.113.3: icmp_seq={i} ttl=60 time=0.1 ms"
        for i, t in enumerate([10.0, 10.01, 10.02, 10.3, 10.31])
    )
    assert outage(text, 10.015) == pytest.approx(0.28)
    assert outage(text, 9.0) is None
