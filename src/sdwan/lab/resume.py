"""Bring back a node that ``LabRunner.halt`` stopped: its links up again (veths before
the VRRP macvlans on them), then its FRR daemons started from the same config. The
processes need no bookkeeping: ``down`` stops everything living in the lab's
namespaces."""

from __future__ import annotations

from pathlib import Path

from sdwan.lab.builder import LabRunner
from sdwan.lab.frr import start_frr
from sdwan.lab.netns import LabError
from sdwan.lab.topology import load_topology


def resume(runner: LabRunner, node: str) -> list[str]:
    """Returns the interfaces brought up."""
    state = runner.load()
    if state is None or node not in state.kinds:
        raise LabError(f"no node {node!r} in lab {runner.prefix}")
    topology = load_topology(Path(state.topology))
    ns = runner.ns(node)
    links = ns.ip("-o", "link", "show").stdout.splitlines()
    names = [line.split(":")[1].strip().split("@")[0] for line in links]
    ours = [n for n in names if n.startswith(f"{runner.prefix}-")]
    macvlans = [n for n in ours if n.startswith(f"{runner.prefix}-vr")]
    for name in [n for n in ours if n not in macvlans] + macvlans:
        ns.ip("link", "set", "dev", name, "up")
    spec = topology.nodes[node]
    if spec.kind == "frr":
        start_frr(
            ns,
            node,
            runner.labdir,
            topology.frr_config(node),
            prefix=runner.prefix,
            vrrp=spec.vrrp,
        )
    return ours
