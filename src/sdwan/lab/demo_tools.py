"""What the demos look at, through the orchestrator's CLI and inside the lab's
namespaces: pings, traceroutes, a router's RIB, sessions, an intent's verdict, the
kernel routes the FIB agent installed, an FRR router's BGP table, what SLA steering
moved and why. Every wait polls with a deadline."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
from collections.abc import Callable
from typing import Any

from sdwan.lab.builder import LabRunner
from sdwan.lab.frr import vtysh
from sdwan.lab.server_process import OrchestratorProcess
from sdwan.polling import wait_for

QUIET = False


def say(text: str) -> None:
    if not QUIET:
        print(text, flush=True)


def items_of(body: Any) -> list[dict[str, Any]]:
    items = body.get("items", body) if isinstance(body, dict) else body
    return list(items)


class LabTools:
    """Needs ``runner`` (the lab) and, once started, ``orch`` (the orchestrator)."""

    runner: LabRunner
    orch: OrchestratorProcess | None = None

    def sdwan(self, *args: str, show: bool = True) -> str:
        assert self.orch is not None
        if show:
            say("$ sdwan " + " ".join(args))
        out = self.orch.cli(*args).stdout
        if show and out.strip():
            say(out.rstrip())
        return out

    def node_run(
        self, node: str, argv: list[str], timeout: float = 30
    ) -> subprocess.CompletedProcess[str]:
        return self.runner.ns(node).run(argv, check=False, timeout=timeout)

    def ping(self, source: str, target: str, count: int = 1) -> bool:
        argv = ["ping", "-n", "-c", str(count), "-W", "1", target]
        return self.node_run(source, argv).returncode == 0

    def traceroute(self, source: str, target: str, *, show: bool = True) -> list[str]:
        out = self.node_run(source, ["traceroute", "-n", "-q", "3", "-w", "1", target]).stdout
        if show:
            say(f"$ sdwan lab exec {source} -- traceroute -n {target}")
            say(out.rstrip())
        hops = []
        for line in out.splitlines()[1:]:
            found = re.search(r"\d+\.\d+\.\d+\.\d+", line)  # first answer of the hop
            hops.append(found.group(0) if found else "*")
        return hops

    def paths(self, router: str, prefix: str) -> list[dict[str, Any]]:
        body = json.loads(
            self.sdwan("rib", "show", router, "--prefix", prefix, "-o", "json", show=False)
        )
        found: list[dict[str, Any]] = []
        for item in items_of(body):
            found += item.get("paths", [item])
        return found

    def next_hops(self, router: str, prefix: str) -> list[str]:
        return sorted(str(p.get("next_hop")) for p in self.paths(router, prefix))

    def best_next_hop(self, router: str, prefix: str) -> str | None:
        best = [p.get("next_hop") for p in self.paths(router, prefix) if p.get("best")]
        return str(best[0]) if best else None

    def neighbors(self) -> dict[str, dict[str, Any]]:
        body = json.loads(self.sdwan("neighbor", "list", "-o", "json", show=False))
        return {f"{n['router_name']}/{n['address']}": n for n in items_of(body)}

    def sessions(self) -> dict[str, str]:
        return {key: str(n.get("session")) for key, n in self.neighbors().items()}

    def intent(self, ref: str) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(
            self.sdwan("intent", "show", ref, "-o", "json", show=False)
        )
        return found

    def verdict(self, ref: str) -> str | None:
        state = self.intent(ref).get("verification") or {}
        return state.get("verdict")

    def wait_verdict(self, ref: str, verdict: str, timeout: float = 60) -> dict[str, Any]:
        def reached() -> dict[str, Any] | None:
            intent = self.intent(ref)
            state = intent.get("verification") or {}
            current = state.get("intent_version") == intent.get("version")
            return state if current and state.get("verdict") == verdict else None

        found: dict[str, Any] = self.wait(reached, f"intent {ref} {verdict}", timeout)
        return found

    def kernel_gateways(self, node: str, prefix: str) -> list[str]:
        """The gateways of the FIB agent's route (proto 186) to ``prefix`` in ``node``'s
        kernel: through its nexthop group (``ip route`` shows only ``nhid N`` there),
        or its own gateways."""
        shown = self.node_run(node, ["ip", "-j", "route", "show", prefix, "proto", "186"])
        routes = _json_list(shown.stdout)
        if not routes:
            return []
        route = routes[0]
        if "nhid" not in route:
            hops = route.get("nexthops") or [route]
            return [str(h["gateway"]) for h in hops if "gateway" in h]
        objects = _json_list(self.node_run(node, ["ip", "-j", "nexthop", "show"]).stdout)
        by_id = {o.get("id"): o for o in objects}
        found = by_id.get(route["nhid"], {})
        members = [by_id.get(m.get("id"), {}) for m in found.get("group", [])] or [found]
        return sorted(str(m["gateway"]) for m in members if "gateway" in m)

    def kernel_route(self, node: str, prefix: str) -> str | None:
        """The (first) gateway of the FIB agent's route (proto 186) in ``node``'s kernel."""
        gateways = self.kernel_gateways(node, prefix)
        return gateways[0] if gateways else None

    def frr_as_path(self, node: str, prefix: str) -> str:
        """The AS path of an FRR router's best path to ``prefix``."""
        out = vtysh(self.runner.lab.name(node), f"show ip bgp {prefix} json")
        try:
            data = json.loads(out)
        except ValueError:
            return ""
        paths = data.get("paths") or []
        best = [p for p in paths if (p.get("bestpath") or {}).get("overall")] or paths
        return str((best[0].get("aspath") or {}).get("string", "")) if best else ""

    def steering_events(self, since: int = 0) -> list[dict[str, Any]]:
        """The orchestrator's ``intent.steering`` events after id ``since``, oldest
        first: ``message`` says what moved and why, ``data.moves`` each move,
        ``data.decided_at`` when (epoch seconds)."""
        return self._events("intent.steering", since)

    def class_met_at(self, uplink: str, since: int = 0) -> list[float]:
        """When the orchestrator heard that ``uplink`` (its name in the site) meets its
        class again, from its ``uplink.quality`` events after id ``since`` (epoch
        seconds, oldest first)."""
        return [
            float(e["data"]["received"])
            for e in self._events("uplink.quality", since)
            if e["data"].get("uplink") == uplink
            and e["data"].get("class_state") == "met"
            and e["data"].get("received") is not None
        ]

    def returned_after_hold_down(self, ref: str, uplink: str, since: int) -> float:
        """Seconds between ``uplink`` meeting intent ``ref``'s class again and its one
        return after event ``since`` (the hold-down it waited)."""
        (returned,) = [
            e
            for e in self.steering_events(since)
            if e["message"].startswith(f"intent {ref}:")
            and any(m["kind"] == "return" for m in e["data"]["moves"])
        ]
        decided = float(returned["data"]["decided_at"])
        met = [t for t in self.class_met_at(uplink, since) if t <= decided]
        assert met, f"{uplink} met its class before its return"
        return decided - met[-1]

    def _events(self, kind: str, since: int) -> list[dict[str, Any]]:
        assert self.orch is not None
        with self.orch.client() as client:
            answer = client.get("/v1/events", params={"kind": kind, "since": since, "limit": 1000})
            answer.raise_for_status()
        return items_of(answer.json())

    def last_event(self) -> int:
        """The id of the newest event (for ``steering_events(since=...)``)."""
        assert self.orch is not None
        with self.orch.client() as client:
            return int(client.get("/v1/events", params={"limit": 1}).json()["last_id"])

    def sla_states(self, ref: str) -> tuple[dict[str, str], list[Any]]:
        """What intent ``ref``'s plan says of its SLA class now: uplink -> its class
        state (met, violated, unknown), and the moves it would make."""
        plan = json.loads(self.sdwan("intent", "plan", ref, "-o", "json", show=False))
        sla = plan["prediction"]["sla"] or {}
        states = {str(u["uplink"]): str(u["class_state"]) for u in sla.get("uplinks", [])}
        return states, list(sla.get("moves") or [])

    def steering_moves(self, ref: str, since: int, kind: str) -> list[str]:
        """The messages of intent ``ref``'s steering events after ``since`` that hold a
        move of ``kind`` (``demote``, ``return``)."""
        return [
            e["message"]
            for e in self.steering_events(since)
            if e["message"].startswith(f"intent {ref}:")
            and any(m["kind"] == kind for m in e["data"]["moves"])
        ]

    def wait(self, condition: Callable[[], Any], what: str, timeout: float = 60) -> Any:
        return wait_for(condition, timeout=timeout, what=what, interval=0.2)


def _json_list(text: str) -> list[dict[str, Any]]:
    try:
        found = json.loads(text)
    except ValueError:
        return []
    return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []


def outage(ping_output: str, since: float) -> float | None:
    """Longest gap between consecutive replies after ``since`` (ping -D timestamps)."""
    stamps = [float(m) for m in re.findall(r"^\[(\d+\.\d+)\] \d+ bytes from", ping_output, re.M)]
    before = [t for t in stamps if t <= since]
    after = [t for t in stamps if t > since]
    if not before or not after:
        return None
    points = [before[-1], *after]
    return max(b - a for a, b in itertools.pairwise(points))
