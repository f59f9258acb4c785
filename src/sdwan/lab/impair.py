"""Link impairments of a lab at run time: nf_tables rules in the namespaces at both
ends of the link and, for delay and jitter, a relay process (docs/lab.md, "Link
impairments").

:class:`LinkImpairer` works on the lab's records (``node:ifname`` -> what is set, its
queues, its relay) and daemon PIDs, both kept in the lab's state file by its caller
(``LabRunner.impair``), which saves them through ``persist`` before each process is
started, so ``lab down`` stops a relay even after a crash. A change is quick (one
netlink transaction from this process, no command run; a relay starts only the first
time an interface is delayed, and stays until the impairment is cleared) and says
when it took effect (:class:`Applied`).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sdwan.lab.impairment import Impairment, ImpairmentError
from sdwan.lab.netlink import NamespaceSockets, NetlinkError, in_namespace
from sdwan.lab.netns import LabError, Namespace
from sdwan.lab.nftrules import (
    LIST_CHAINS,
    NFPROTO_INET,
    Rule,
    Side,
    delete_table,
    relay_queues,
    replace_rules,
    rules_for,
)
from sdwan.lab.processes import pid_alive, start_time, stop_pid
from sdwan.lab.relay import RelayError, relay_call
from sdwan.polling import wait_for

__all__ = [
    "Applied",
    "LinkImpairer",
    "check_node",
    "impairments_status",
    "relay_role",
    "relay_sides",
    "sides",
]

#: first nfnetlink queue number of a relay (numbered across the lab: a relay's
#: queues live in the namespaces at both ends of its link)
QUEUE_BASE = 2300
RELAY_START_TIMEOUT = 30.0


@dataclass(frozen=True)
class Applied:
    """An impairment set (``impairment``) or cleared (None) on ``target``
    (``node:ifname``). ``effective`` is the ``time.monotonic()`` reading right after
    the kernel acknowledged the last change (the rules' transaction, or the relay's
    new delay: the moment it held from is at most this); ``wall`` the same moment as
    ``time.time()``; ``started`` when the call began."""

    target: str
    interface: str
    impairment: Impairment | None
    started: float
    effective: float
    wall: float

    @property
    def took_s(self) -> float:
        return self.effective - self.started


def relay_role(node: str, short: str) -> str:
    """The relay's role among the lab's daemons (``state.pids``)."""
    return f"{node}/relay-{short}"


class LinkImpairer:
    """Sets and clears the impairments of one lab's interfaces (see the module doc).

    ``peers``: ``node:ifname`` -> the far end of its link (two nodes, no switch),
    where half of an impairment is enforced (:func:`sides`).
    """

    def __init__(
        self,
        prefix: str,
        relay_dir: Path,
        records: dict[str, dict[str, Any]],
        peers: dict[str, str],
        pids: dict[str, int],
        persist: Callable[[], None],
        children: list[subprocess.Popen[bytes]],
        sockets: NamespaceSockets,
    ) -> None:
        self.sockets = sockets
        self.prefix = prefix
        self.relay_dir = relay_dir
        self.records = records
        self.peers = peers
        self.pids = pids
        self.persist = persist
        self.children = children

    def end(self, node: str, ifname: str) -> tuple[str, dict[str, str]]:
        """``node:short`` and the end's node, namespace and full interface name, for an
        interface given with or without the lab prefix."""
        mark = f"{self.prefix}-"
        short = ifname.removeprefix(mark)
        return f"{node}:{short}", {
            "node": node,
            "namespace": f"{mark}{node}",
            "interface": f"{mark}{short}",
        }

    # -- set / clear ---------------------------------------------------------

    def apply(self, node: str, ifname: str, impairment: Impairment) -> Applied:
        started = time.monotonic()
        key, here = self.end(node, ifname)
        peer = self.peers.get(key)
        if peer is not None and peer in self.records:
            raise ImpairmentError(
                f"{peer}, the other end of {key}'s link, is impaired already: one "
                f"impairment per link (change or clear {peer})"
            )
        old = self.records.get(key)
        if old is None:
            _check_interface(here)
        record: dict[str, Any] = {**(old or {}), **here}
        record["peer"] = {"target": peer, **self.end(*peer.split(":", 1))[1]} if peer else None
        record["impairment"] = impairment.to_json()
        relay_at = None
        if impairment.delays:
            if not self._relay_alive(record):
                self._start_relay(key, record)
            values = {"delay_ms": impairment.delay_ms, "jitter_ms": impairment.jitter_ms}
            queues = {str(q): values for q in record["queues"]}
            relay_at = self._relay(record, {"op": "set", "queues": queues})["at"]
        elif self._relay_alive(record):
            self._relay(record, {"op": "set", "queues": _still(record["queues"])})
        unchanged = old is not None and old.get("impairment") == record["impairment"]
        record["since"] = old["since"] if old and unchanged else time.time()
        effective = self._replace(key, record)
        if effective is None:
            effective = relay_at if relay_at is not None else time.monotonic()
        self.persist()
        return Applied(key, here["interface"], impairment, started, effective, _wall(effective))

    def clear(self, node: str, ifname: str) -> Applied:
        started = time.monotonic()
        key, here = self.end(node, ifname)
        record = self.records.get(key)
        if record is None:
            raise ImpairmentError(f"{key} is not impaired")
        effective = self._replace(key, None) or time.monotonic()
        self.persist()
        # no rule queues to the relay any more: it lets what it holds go, and exits
        self._stop_relay(record)
        self.pids.pop(relay_role(node, key.split(":", 1)[1]), None)
        self.persist()
        return Applied(key, here["interface"], None, started, effective, _wall(effective))

    def stats(self, key: str) -> dict[str, Any] | None:
        """The relay's counters for ``key`` (None without a live relay)."""
        record = self.records.get(key)
        if record is None or not self._relay_alive(record):
            return None
        return self._relay(record, {"op": "stats"})

    # -- parts ---------------------------------------------------------------

    def _replace(self, key: str, record: dict[str, Any] | None) -> float | None:
        """Put ``record`` (None: nothing) in place of ``key``'s and rewrite the rules
        of each namespace where they change, one transaction each; when the last
        was acknowledged (None: no rule changed). The records stay as they were
        when the kernel refuses."""
        old = self.records.get(key)
        before = self._rules()
        if record is None:
            del self.records[key]
        else:
            self.records[key] = record
        after = self._rules()
        effective = None
        try:
            for namespace in sorted(set(before) | set(after)):
                wanted = after.get(namespace, ([], set()))
                if wanted == before.get(namespace):
                    continue
                self._write(namespace, *wanted)
                effective = time.monotonic()
        except BaseException:
            if old is None:
                self.records.pop(key, None)
            else:
                self.records[key] = old
            raise
        return effective

    def _write(self, namespace: str, rules: list[Rule], relays: set[int]) -> None:
        try:
            nl = self.sockets.get(namespace)
            if not rules and not relays:
                nl.transact(NFPROTO_INET, delete_table())  # the last one: slow, once
                return
            present = relay_queues(nl.dump(LIST_CHAINS, NFPROTO_INET))
            nl.transact(NFPROTO_INET, replace_rules(rules, relays, present))
        except FileNotFoundError:
            raise LabError(f"namespace {namespace} is missing") from None
        except NetlinkError as exc:
            self.sockets.forget(namespace)
            raise LabError(f"nf_tables in {namespace} refused the rules: {exc}") from None

    def _rules(self) -> dict[str, tuple[list[Rule], set[int]]]:
        """namespace -> its rules and its relay queues, from every record."""
        found: dict[str, tuple[list[Rule], set[int]]] = {}
        for record in self.records.values():
            impairment = Impairment.from_json(record["impairment"])
            for side in sides(record):
                rules, _ = found.setdefault(side.namespace, ([], set()))
                rules.extend(rules_for(side, impairment))
            if record.get("queues"):  # a relay: its chains stay, delaying or not
                for side in relay_sides(record):
                    _, relays = found.setdefault(side.namespace, ([], set()))
                    if side.queue is not None:
                        relays.add(side.queue)
        return found

    def _relay(self, record: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
        try:
            return relay_call(Path(record["relay_control"]), request)
        except RelayError as exc:
            raise LabError(str(exc)) from None

    def _relay_alive(self, record: dict[str, Any]) -> bool:
        pid = record.get("relay_pid")
        if not isinstance(pid, int):
            return False
        return pid_alive(pid) and start_time(pid) == record.get("relay_started")

    def _start_relay(self, key: str, record: dict[str, Any]) -> None:
        node, short = key.split(":", 1)
        if not record.get("queues"):
            # unique in the lab: a relay's queue may live in its link's far end
            used = {q for r in self.records.values() for q in r.get("queues") or ()}
            base = next(b for b in range(QUEUE_BASE, 65535, 2) if b not in used)
            record["queues"] = [base, base + 1]  # out, in
        self.relay_dir.mkdir(parents=True, exist_ok=True)
        control = self.relay_dir / f"{node}-{short}.sock"
        argv = [sys.executable, "-m", "sdwan.lab.relay", "--control", str(control)]
        for side in relay_sides(record):
            argv += ["--queue", f"{side.queue}@{side.namespace}"]
        with (self.relay_dir / f"{node}-{short}.log").open("ab") as log:
            proc = Namespace(record["namespace"]).exec(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # outlives `sdwan lab impair`
            )
        self.children.append(proc)
        record.update(relay_pid=proc.pid, relay_started=start_time(proc.pid))
        record["relay_control"] = str(control)
        self.pids[relay_role(node, short)] = proc.pid
        self.persist()

        def ready() -> bool:
            if proc.poll() is not None:
                log = (self.relay_dir / f"{node}-{short}.log").read_text()[-2000:]
                raise LabError(f"relay for {key} exited ({proc.returncode}): {log.strip()}")
            try:
                relay_call(control, {"op": "ping"}, timeout=1.0)
            except RelayError:
                return False
            return True

        wait_for(ready, timeout=RELAY_START_TIMEOUT, what=f"relay for {key}", interval=0.02)

    def _stop_relay(self, record: dict[str, Any]) -> None:
        pid = record.get("relay_pid")
        if pid and self._relay_alive(record):
            stop_pid(pid)
        for proc in self.children:
            if proc.pid == pid:
                proc.poll()


def check_node(kinds: dict[str, str], node: str, prefix: str) -> None:
    """``node`` is in the lab, and not a switch (which has no IP layer to impair)."""
    kind = kinds.get(node)
    if kind is None:
        raise ImpairmentError(f"no node {node!r} in lab {prefix}")
    if kind == "switch":
        raise ImpairmentError(
            f"{node!r} is a switch: impair the other end of the link instead "
            "(its 'in' is the switch's 'out')"
        )


def impairments_status(records: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What ``lab status`` shows of the impairments (its daemons show the relays)."""
    return {
        key: {
            "interface": record["interface"],
            "description": Impairment.from_json(record["impairment"]).describe(),
            **record["impairment"],
            "far_end": (record.get("peer") or {}).get("target"),
            "since": record.get("since"),
            "relay_pid": record.get("relay_pid"),
        }
        for key, record in sorted(records.items())
    }


def sides(record: dict[str, Any]) -> list[Side]:
    """Where a record's impairment is enforced. A packet is delayed as it leaves its
    sender and dropped as it reaches its receiver, as on a wire: so ``out`` drops
    happen on arrival at the link's far end (the node's own programs never see an
    error for a dropped packet) and ``in`` delays on departure from it (a receive
    timestamp on the node, taken before any rule there runs, sees the delay). A
    link to a switch has no far end: both parts are enforced on the node."""
    impairment = Impairment.from_json(record["impairment"])
    return [side for d in impairment.directions for side in _both_parts(record, d)]


def relay_sides(record: dict[str, Any]) -> list[Side]:
    """Where the queues of a record's relay are (both directions)."""
    return [s for d in ("out", "in") for s in _both_parts(record, d) if s.part == "delay"]


def _both_parts(record: dict[str, Any], direction: str) -> list[Side]:
    """Where ``direction``'s packets are delayed and dropped."""
    node, ifname = record["namespace"], record["interface"]
    peer = record.get("peer")
    queue = (record.get("queues") or [None, None])[0 if direction == "out" else 1]
    if peer is None:  # both here
        hook: Literal["in", "out"] = "out" if direction == "out" else "in"
        return [Side(node, hook, ifname, "delay", queue), Side(node, hook, ifname, "drop")]
    far, far_ifname = peer["namespace"], peer["interface"]
    if direction == "out":
        return [Side(node, "out", ifname, "delay", queue), Side(far, "in", far_ifname, "drop")]
    return [Side(far, "out", far_ifname, "delay", queue), Side(node, "in", ifname, "drop")]


def _check_interface(end: dict[str, str]) -> None:
    try:
        in_namespace(end["namespace"], lambda: socket.if_nametoindex(end["interface"]))
    except FileNotFoundError:
        raise LabError(f"namespace {end['namespace']} of node {end['node']!r} is missing") from None
    except OSError:
        raise ImpairmentError(f"node {end['node']!r} has no interface {end['interface']}") from None


def _wall(monotonic: float) -> float:
    return time.time() - (time.monotonic() - monotonic)


def _still(queues: list[int]) -> dict[str, dict[str, float]]:
    return {str(q): {"delay_ms": 0.0, "jitter_ms": 0.0} for q in queues}
