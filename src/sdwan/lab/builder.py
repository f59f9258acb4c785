"""`sdwan lab up|down|status|exec`: a topology built from namespaces, veths and daemons.

Everything is named ``<prefix>-<name>``. ``up`` writes ``<root>/<prefix>/state.json``
*before* creating each object (namespaces, processes), so ``down`` can remove all of
it even after an ``up`` that failed half-way. ``down`` stops every process living in
the lab's namespaces, by PID (SIGTERM, SIGKILL after a deadline), deletes the
namespaces (which removes their veths, bridges and macvlans), FRR's runtime dirs and
the lab directory. ``up`` on a lab that is already up and healthy does nothing; on a
broken one it tears it down and builds it again.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sdwan.lab.frr import remove_rundir, start_frr
from sdwan.lab.gobgpd import GobgpdProcess
from sdwan.lab.impair import Applied, LinkImpairer, check_node, impairments_status
from sdwan.lab.impairment import Impairment
from sdwan.lab.netlink import NamespaceSockets
from sdwan.lab.netns import Lab, LabError, Namespace, VethLink, list_namespaces
from sdwan.lab.probe_agent import probe_agent_argv
from sdwan.lab.processes import pid_alive, read_pid, start_time, stop_pid, wait_pid
from sdwan.lab.topology import Topology

__all__ = ["LabRunner", "LabState", "default_root"]


def default_root() -> Path:
    """Where labs keep their state: SDWAN_LAB_DIR, read when asked (not at import)."""
    return Path(os.environ.get("SDWAN_LAB_DIR", "/run/sdwan-lab"))


@dataclass
class LabState:
    prefix: str
    topology: str = ""
    complete: bool = False
    namespaces: list[str] = field(default_factory=list)
    pids: dict[str, int] = field(default_factory=dict)  # role -> pid
    pidfiles: list[str] = field(default_factory=list)  # FRR daemons (they daemonize)
    sockets: dict[str, str] = field(default_factory=dict)  # gobgp node -> gRPC target
    kinds: dict[str, str] = field(default_factory=dict)  # node -> kind
    host_pids: dict[str, list[int]] = field(default_factory=dict)  # role -> [pid, start time]
    peers: dict[str, str] = field(default_factory=dict)  # node:ifname -> node:ifname
    impairments: dict[str, dict[str, Any]] = field(default_factory=dict)  # node:ifname -> ...


class LabRunner:
    def __init__(self, prefix: str, root: Path | None = None) -> None:
        self.lab = Lab(prefix)  # validates the prefix
        self.prefix = prefix
        self.root = Path(root) if root is not None else default_root()
        self.labdir = self.root / prefix
        self.state_path = self.labdir / "state.json"
        # Daemons started by this object: kept referenced (a collected Popen of a live
        # process warns) and polled after ``down`` so they are reaped.
        self._children: list[subprocess.Popen[bytes]] = []
        self._fast_failover = True
        self._on_step: Callable[[str], None] = lambda _what: None
        self._netfilter = NamespaceSockets()  # impairments' sockets, kept open

    # -- state -------------------------------------------------------------

    def load(self) -> LabState | None:
        try:
            return LabState(**json.loads(self.state_path.read_text()))
        except FileNotFoundError:
            return None

    def _save(self, state: LabState) -> None:
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(state), indent=2))
        tmp.replace(self.state_path)

    def ns(self, node: str) -> Namespace:
        return Namespace(self.lab.name(node))

    # -- up ----------------------------------------------------------------

    def up(
        self,
        topology: Topology,
        source: str = "",
        *,
        fast_failover: bool = True,
        on_step: Callable[[str], None] | None = None,
    ) -> str:
        """Build the lab (see the module doc); ``fast_failover=False`` starts the FIB
        agents without the carrier-loss reset (for the failover benchmark). ``on_step``
        is told each of the ``steps(topology)`` steps done (a node, a link, a daemon)."""
        self._fast_failover = fast_failover
        self._on_step = on_step or (lambda _what: None)
        state = self.load()
        if state is not None:
            if state.complete and not self.problems(state):
                return f"lab {self.prefix} is already up"
            self.down()
        self.labdir.mkdir(parents=True, exist_ok=True)
        state = LabState(
            prefix=self.prefix,
            topology=source,
            kinds={name: node.kind for name, node in topology.nodes.items()},
            peers=topology.peers(),
        )
        self._save(state)
        try:
            self._build(topology, state)
        except BaseException:
            self.down()
            raise
        state.complete = True
        self._save(state)
        return f"lab {self.prefix} is up ({len(topology.nodes)} nodes, {len(topology.links)} links)"

    @staticmethod
    def steps(topology: Topology) -> int:
        """What ``up`` counts: each node's namespace, each link, each node's daemons."""
        daemons = sum(node.kind in ("gobgp", "frr") for node in topology.nodes.values())
        return len(topology.nodes) + len(topology.links) + daemons

    def _build(self, topology: Topology, state: LabState) -> None:
        names = {name: self.lab.name(name) for name in topology.nodes}  # checks lengths
        ifnames = {
            (index, side): self.lab.name(short) for index, side, _end, short in topology.endpoints()
        }
        for name, node in topology.nodes.items():
            ns = Namespace(names[name])
            state.namespaces.append(ns.name)
            self._save(state)
            ns.create()
            for key in (
                "net.ipv6.conf.all.forwarding=1",
                "net.ipv4.conf.all.rp_filter=0",
                "net.ipv4.conf.default.rp_filter=0",
                "net.ipv4.icmp_ratelimit=0",  # traceroute answers from every hop
            ):
                ns.run(["sysctl", "-qw", key])
            if node.kind == "switch":
                ns.ip("link", "add", "br0", "type", "bridge")
                ns.ip("link", "set", "br0", "up")
            self._on_step(f"namespace {name}")
        for index, link in enumerate(topology.links):
            ends = (link.a, link.b)
            veth = VethLink(
                Namespace(names[link.a.node]),
                ifnames[(index, "a")],
                Namespace(names[link.b.node]),
                ifnames[(index, "b")],
                addrs_a=link.a.addresses,
                addrs_b=link.b.addresses,
            )
            veth.create()
            for side, end in zip(("a", "b"), ends, strict=True):
                ns = Namespace(names[end.node])
                ifname = ifnames[(index, side)]
                if topology.nodes[end.node].kind == "switch":
                    ns.ip("link", "set", "dev", ifname, "master", "br0")
                for vrrp in end.vrrp:
                    self._vrrp_macvlan(ns, ifname, vrrp.vrid, vrrp.address)
            self._on_step(f"link {link.a.node}-{link.b.node}")
        for name, node in topology.nodes.items():
            for route in node.routes:
                Namespace(names[name]).ip("route", "add", route.to, "via", route.via)
        for name, node in topology.nodes.items():
            ns = Namespace(names[name])
            if node.kind == "gobgp":
                self._start_gobgp(name, ns, state, node.multipath)
            elif node.kind == "frr":
                pidfiles = start_frr(
                    ns,
                    name,
                    self.labdir,
                    topology.frr_config(name),
                    prefix=self.prefix,
                    vrrp=node.vrrp,
                )
                state.pidfiles += [str(p) for p in pidfiles]
                self._save(state)
                for pidfile in pidfiles:
                    state.pids[f"{name}/{pidfile.stem}"] = wait_pid(pidfile)
                self._save(state)
            if node.kind in ("gobgp", "frr"):
                self._on_step(f"{node.kind} {name}")

    def _vrrp_macvlan(self, ns: Namespace, ifname: str, vrid: int, address: str) -> None:
        mac = f"00:00:5e:00:01:{vrid:02x}"
        name = self.lab.name(f"vr{vrid}")
        ns.run(["sysctl", "-qw", f"net.ipv4.conf.{ifname}.arp_ignore=1"])
        ns.ip("link", "add", name, "link", ifname, "type", "macvlan", "mode", "bridge")
        ns.ip("link", "set", "dev", name, "address", mac)
        ns.ip("link", "set", "dev", name, "addrgenmode", "random")
        ns.ip("addr", "add", address, "dev", name)
        ns.ip("link", "set", "dev", name, "up")

    def _start_gobgp(self, name: str, ns: Namespace, state: LabState, multipath: bool) -> None:
        gobgpd = GobgpdProcess(self.lab.name(name), self.labdir / "gobgp", ns)
        gobgpd.start()
        if gobgpd._proc is not None:
            self._children.append(gobgpd._proc)
        assert gobgpd.pid is not None
        state.pids[f"{name}/gobgpd"] = gobgpd.pid
        state.sockets[name] = gobgpd.api_address
        self._save(state)
        api = gobgpd.api_address
        self._start_agent(
            name,
            ns,
            state,
            "fib-agent",
            [
                sys.executable,
                "-m",
                "sdwan",
                "fib-agent",
                "--api",
                api,
                "--status",  # beside gobgpd's: where intent verification looks
                f"{api}.fib",
                *([] if self._fast_failover else ["--no-fast-failover"]),
                *(["--multipath"] if multipath else []),
            ],
        )
        # beside gobgpd's too: where the orchestrator configures and reads it
        self._start_agent(
            name, ns, state, "probe-agent", probe_agent_argv(f"{api}.probe", fib=f"{api}.fib")
        )

    def _start_agent(
        self, name: str, ns: Namespace, state: LabState, role: str, argv: list[str]
    ) -> None:
        """An agent beside ``name``'s gobgpd, logging to ``<node>-<role>.log``."""
        log = (self.labdir / "gobgp" / f"{name}-{role}.log").open("ab")
        with log:
            agent = ns.exec(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._children.append(agent)
        state.pids[f"{name}/{role}"] = agent.pid
        self._save(state)

    # -- down --------------------------------------------------------------

    def down(self) -> list[str]:
        """Remove everything the lab made; returns what was removed (for messages)."""
        self._netfilter.close()
        state = self.load() or LabState(prefix=self.prefix)
        namespaces = [Namespace(n) for n in state.namespaces]
        existing = set(list_namespaces())
        pids: list[int] = []
        for pidfile in state.pidfiles:
            pid = read_pid(Path(pidfile))
            if pid:
                pids.append(pid)
        in_namespaces = [p for ns in namespaces if ns.name in existing for p in ns.pids()]
        # Only processes inside the lab's namespaces: a recorded PID that now lives
        # elsewhere has been reused by someone else and is left alone.
        targets = [p for p in (*state.pids.values(), *pids) if p in in_namespaces]
        targets += [p for p in in_namespaces if p not in targets]
        removed = []
        for role, (pid, started) in state.host_pids.items():
            if start_time(pid) == started:  # still the process we adopted
                stop_pid(pid)
                removed.append(f"{role} {pid}")
        for pid in targets:
            stop_pid(pid)
            removed.append(f"process {pid}")
        while self._children:
            self._children.pop().poll()
        for ns in reversed(namespaces):
            if ns.name in existing:
                ns.delete()
                removed.append(f"namespace {ns.name}")
            remove_rundir(ns.name)
        if self.labdir.is_dir() and self.labdir.parent == self.root:
            shutil.rmtree(self.labdir)
        left = [n for n in list_namespaces() if n in state.namespaces]
        if left:
            raise LabError(f"namespaces left behind: {left}")
        return removed

    def adopt(
        self, role: str, pid: int, process: subprocess.Popen[bytes] | None = None
    ) -> None:
        """Record a process outside the namespaces (the demo's orchestrator) so that
        ``down`` stops it too (checked by PID and start time, never by name).
        ``process``: our own child's handle, reaped by ``down`` of this object."""
        if process is not None:
            self._children.append(process)
        state = self.load()
        started = start_time(pid)
        if state is None or started is None:
            raise LabError(f"cannot adopt pid {pid} into lab {self.prefix}")
        state.host_pids[role] = [pid, started]
        self._save(state)

    # -- halt (the demo's "router halts") -----------------------------------

    def halt(self, node: str) -> list[str]:
        """Stop ``node``'s daemons (by PID) and take its links down; the namespace
        stays (``down`` removes it). Returns the interfaces taken down."""
        state = self.load()
        if state is None or node not in state.kinds:
            raise LabError(f"no node {node!r} in lab {self.prefix}")
        ns = self.ns(node)
        # Links first: a daemon stopped while its links are up says goodbye (BGP
        # NOTIFICATION), which a router that halts or loses power never does.
        links = ns.ip("-o", "link", "show").stdout.splitlines()
        names = [line.split(":")[1].strip().split("@")[0] for line in links]
        down = [n for n in names if n.startswith(f"{self.prefix}-")]
        for name in down:
            ns.ip("link", "set", "dev", name, "down")
        inside = set(ns.pids())
        for role, pid in list(state.pids.items()):
            if role.startswith(f"{node}/") and pid in inside:
                stop_pid(pid)
        return down

    # -- link impairments (impair.py) ----------------------------------------

    def impair(
        self, node: str, ifname: str, impairment: Impairment | None = None, **values: Any
    ) -> Applied:
        """Set (or replace) the impairment of ``node``'s interface ``ifname`` (with or
        without the prefix), given as an :class:`Impairment` or its fields
        (``loss_pct``, ``delay_ms``, ``jitter_ms``, ``blackhole``, ``direction``,
        ``include_bgp``). Returns when it is in effect, and since when."""
        wanted = impairment if impairment is not None else Impairment(**values)
        with self._impairer(node) as impairer:
            return impairer.apply(node, ifname, wanted)

    def clear_impairment(self, node: str, ifname: str) -> Applied:
        """Remove the impairment of ``node``'s ``ifname``: its rules, then its relay."""
        with self._impairer(node) as impairer:
            return impairer.clear(node, ifname)

    def relay_stats(self, node: str, ifname: str) -> dict[str, Any]:
        """The counters of the relay delaying ``node``'s ``ifname`` (docs/lab.md)."""
        with self._impairer(node) as impairer:
            key, _ = impairer.end(node, ifname)
            stats = impairer.stats(key)
        if stats is None:
            raise LabError(f"no relay delays {key}")
        return stats

    def impairments(self) -> dict[str, dict[str, Any]]:
        """``node:ifname`` -> what is set there (as in the state file)."""
        state = self.load()
        return dict(state.impairments) if state else {}

    @contextlib.contextmanager
    def _impairer(self, node: str) -> Iterator[LinkImpairer]:
        """The lab's impairments, its state file locked against another impairing
        process for the duration."""
        if not self.labdir.is_dir():
            raise LabError(f"lab {self.prefix} is not up")
        with (self.labdir / "impair.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            state = self.load()
            if state is None or not state.complete:
                raise LabError(f"lab {self.prefix} is not up")
            check_node(state.kinds, node, self.prefix)
            yield LinkImpairer(
                self.prefix,
                self.labdir / "relay",
                state.impairments,
                state.peers,
                state.pids,
                lambda: self._save(state),
                self._children,
                self._netfilter,
            )

    # -- status / exec -----------------------------------------------------

    def problems(self, state: LabState) -> list[str]:
        existing = set(list_namespaces())
        problems = [f"namespace {n} missing" for n in state.namespaces if n not in existing]
        problems += [
            f"{role} (pid {pid}) not running"
            for role, pid in state.pids.items()
            if not pid_alive(pid)
        ]
        return problems

    def status(self) -> dict[str, Any]:
        state = self.load()
        if state is None:
            return {"prefix": self.prefix, "up": False, "nodes": {}}
        alive = {role: pid_alive(pid) for role, pid in state.pids.items()}
        existing = set(list_namespaces())
        nodes = {}
        for node, kind in state.kinds.items():
            daemons = {
                r.split("/", 1)[1]: ok for r, ok in alive.items() if r.startswith(f"{node}/")
            }
            nodes[node] = {
                "kind": kind,
                "namespace": self.lab.name(node),
                "present": self.lab.name(node) in existing,
                "daemons": daemons,
                "api_address": state.sockets.get(node),
            }
        return {
            "prefix": self.prefix,
            "up": state.complete and not self.problems(state),
            "complete": state.complete,
            "problems": self.problems(state),
            "topology": state.topology,
            "nodes": nodes,
            "impairments": impairments_status(state.impairments),
        }

    def exec_argv(self, node: str, argv: list[str]) -> list[str]:
        state = self.load()
        if state is None or node not in state.kinds:
            raise LabError(f"no node {node!r} in lab {self.prefix}")
        return self.ns(node).argv(argv)


def labs(root: Path | None = None) -> list[str]:
    """Prefixes of the labs with a state file under ``root`` (default_root())."""
    root = root if root is not None else default_root()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "state.json").is_file())
