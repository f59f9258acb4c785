"""The lab topology file: nodes and links, validated before anything is created.

```yaml
nodes:
  gobgp1: {kind: gobgp}
  vyos1: {kind: frr, config: vyos1.conf, vrrp: true}
  lan: {kind: switch}                      # a Linux bridge in its own namespace
  pc1: {kind: host, routes: [{to: 203.0.113.0/24, via: 198.51.100.1}]}
links:
  - a: {node: gobgp1, ifname: e0, addresses: [198.18.1.1/30]}
    b: {node: vyos1, addresses: [198.18.1.2/30]}
```

Rules (each violation names the object): node names are ``[a-z0-9-]``, at most 6
chars (``<prefix>-<name>`` must fit an interface name); kinds are ``gobgp``, ``frr``,
``host``, ``switch``; links join known nodes; every address lies in the lab ranges
(:data:`sdwan.lab.netns.LAB_NETWORKS`) and no two links' subnets overlap (ends of one
link, or members of one switch, share theirs); routes never cover a default route;
FRR configs exist (relative paths are relative to the topology file).
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sdwan.lab.netns import LAB_NETWORKS, ensure_lab_address

__all__ = ["Endpoint", "Link", "Node", "Route", "Topology", "TopologyError", "load_topology"]

ShortName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,5}$")]
IfName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9]{0,5}$")]
Kind = Literal["gobgp", "frr", "host", "switch"]


class TopologyError(ValueError):
    """The topology file is invalid; the message names the offending object."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _lab_cidr(value: str) -> str:
    try:
        ensure_lab_address(value)
    except ValueError as exc:
        raise ValueError(str(exc)) from None
    return value


def _lab_network(value: str) -> str:
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"{value!r}: {exc}") from None
    if net.prefixlen == 0:
        raise ValueError(f"{value!r}: default routes are not allowed in a lab")
    if not any(net.version == n.version and net.subnet_of(n) for n in LAB_NETWORKS):  # type: ignore[arg-type]
        allowed = ", ".join(str(n) for n in LAB_NETWORKS)
        raise ValueError(f"{value!r} is outside the lab address ranges ({allowed})")
    return value


class Route(_Strict):
    to: str
    via: str

    @field_validator("to")
    @classmethod
    def _to(cls, value: str) -> str:
        return _lab_network(value)

    @field_validator("via")
    @classmethod
    def _via(cls, value: str) -> str:
        addr = ipaddress.ip_address(value)
        if not any(addr.version == n.version and addr in n for n in LAB_NETWORKS):
            raise ValueError(f"next hop {value!r} is outside the lab address ranges")
        return value


class Vrrp(_Strict):
    vrid: int = Field(ge=1, le=255)
    address: str  # the virtual address, with the LAN's prefix length

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        return _lab_cidr(value)


class Endpoint(_Strict):
    node: ShortName
    ifname: IfName | None = None  # default: e<index of the node's link>
    addresses: list[str] = Field(default_factory=list)
    vrrp: list[Vrrp] = Field(default_factory=list)

    @field_validator("addresses")
    @classmethod
    def _addresses(cls, values: list[str]) -> list[str]:
        return [_lab_cidr(v) for v in values]


class Link(_Strict):
    a: Endpoint
    b: Endpoint


class Node(_Strict):
    kind: Kind
    config: str | None = None  # frr: the frr.conf for zebra, bgpd (and vrrpd)
    vrrp: bool = False  # frr: also run vrrpd
    routes: list[Route] = Field(default_factory=list)  # static routes (any kind but switch)
    asn: int | None = Field(default=None, ge=1, le=4294967295)  # gobgp: for registering
    router_id: str | None = None  # gobgp: for registering
    multipath: bool = False  # gobgp: its FIB agent installs equal-cost paths together


class Topology(_Strict):
    nodes: dict[ShortName, Node]
    links: list[Link] = Field(default_factory=list)
    base_dir: Path = Path(".")  # where relative FRR configs are looked up

    def frr_config(self, name: str) -> Path:
        config = self.nodes[name].config
        assert config is not None
        path = Path(config)
        return path if path.is_absolute() else self.base_dir / path

    def endpoints(self) -> list[tuple[int, str, Endpoint, str]]:
        """(link index, side, endpoint, interface short name) for every link end."""
        counters: dict[str, int] = {}
        result = []
        for index, link in enumerate(self.links):
            for side, end in (("a", link.a), ("b", link.b)):
                n = counters.get(end.node, 0)
                counters[end.node] = n + 1
                result.append((index, side, end, end.ifname or f"e{n}"))
        return result

    def peers(self) -> dict[str, str]:
        """``node:ifname`` -> the ``node:ifname`` at the other end of its link, for the
        links between two nodes that are not switches (both ways)."""
        ends: dict[int, list[str]] = {}
        for index, _side, end, short in self.endpoints():
            if self.nodes[end.node].kind != "switch":
                ends.setdefault(index, []).append(f"{end.node}:{short}")
        pairs = [pair for pair in ends.values() if len(pair) == 2]
        return {a: b for x, y in pairs for a, b in ((x, y), (y, x))}

    def check(self) -> Topology:
        """Cross-object rules; raises TopologyError naming the object."""
        for name, node in self.nodes.items():
            where = f"node {name!r}"
            if node.kind == "frr":
                if not node.config:
                    raise TopologyError(f"{where}: kind frr needs `config: FILE`")
                if not self.frr_config(name).is_file():
                    raise TopologyError(f"{where}: FRR config {self.frr_config(name)} not found")
            elif node.config or node.vrrp:
                raise TopologyError(f"{where}: `config`/`vrrp` only apply to kind frr")
            if node.kind == "switch" and node.routes:
                raise TopologyError(f"{where}: a switch has no routes")
        seen_ifnames: set[tuple[str, str]] = set()
        owners: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str, str]] = []
        for index, side, end, ifname in self.endpoints():
            where = f"links[{index}].{side}"
            if end.node not in self.nodes:
                raise TopologyError(f"{where}: unknown node {end.node!r}")
            kind = self.nodes[end.node].kind
            if (end.node, ifname) in seen_ifnames:
                raise TopologyError(f"{where}: interface {ifname!r} used twice on {end.node!r}")
            seen_ifnames.add((end.node, ifname))
            if kind == "switch" and (end.addresses or end.vrrp):
                raise TopologyError(f"{where}: a switch port has no addresses")
            if end.vrrp and not (kind == "frr" and self.nodes[end.node].vrrp):
                raise TopologyError(f"{where}: vrrp needs an frr node with `vrrp: true`")
            segment = self._segment(index, end)
            for cidr in [*end.addresses, *(v.address for v in end.vrrp)]:
                net = ipaddress.ip_interface(cidr).network
                for other_net, other_segment, other_where in owners:
                    if other_segment != segment and net.overlaps(other_net):
                        raise TopologyError(
                            f"{where}: {cidr} overlaps {other_net} of {other_where}"
                        )
                owners.append((net, segment, where))
        return self

    def _segment(self, index: int, end: Endpoint) -> str:
        """Name of the L2 segment an endpoint is on: its link, or the switch's."""
        link = self.links[index]
        for other in (link.a, link.b):
            if other is not end and self.nodes.get(other.node, Node(kind="host")).kind == "switch":
                return f"switch:{other.node}"
        return f"link:{index}"


def _line_of(text: str, loc: tuple[int | str, ...]) -> str:
    """`` (line N)`` for the deepest key of ``loc`` found in order in the file."""
    lines = text.splitlines()
    found = start = 0
    for key in loc:
        if not isinstance(key, str):
            continue
        pattern = re.compile(rf"(^|[\s{{,]){re.escape(key)}\s*:")
        for number in range(start, len(lines)):
            if pattern.search(lines[number]):
                found, start = number + 1, number
                break
    return f" (line {found})" if found else ""


def load_topology(path: str | Path) -> Topology:
    """Read, parse and validate a topology file; raises TopologyError."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise TopologyError(f"{path}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TopologyError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise TopologyError(f"{path}: expected a mapping with `nodes` and `links`")
    data.pop("base_dir", None)
    try:
        topology = Topology(**data, base_dir=path.parent.absolute())
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise TopologyError(
            f"{path}: {loc}{_line_of(text, first['loc'])}: {first['msg']}"
        ) from None
    try:
        return topology.check()
    except TopologyError as exc:
        raise TopologyError(f"{path}: {exc}") from None
