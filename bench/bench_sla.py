"""Benchmark: SLA steering against BGP alone, in the lab, on the two-sites example.

Real daemons (gobgpd, FRR providers, FIB and probe agents, ``sdwan serve``) on the
topology of examples/two-sites (sdwan.lab.two_sites drives it). Tokyo's MPLS link is
impaired with ``sdwan lab impair`` (LabRunner.impair); "traffic on the backup" is read
in Tokyo's kernel over netlink (every route to Osaka's prefixes forwards via the
Internet provider, through its nexthop group) from the moment the impairment is in
effect: the routes are dumped once before it, then followed by the kernel's route and
nexthop notifications (only the changed routes read, the nexthop objects read on each
change), so reading 10 000 routes costs no more than 10 while a move is awaited. A
prefix without an Internet path in Tokyo's RIB cannot move: the bench says how many
there are and times the others. Between trials it waits on the uplink rows in the API
(both measured and within the class) and the steering events, never on the intent's
plan (which predicts every prefix: it is timed once at the end). In one run:

  BGP only    Tokyo's intent without a class, its uplinks not probed: each impairment
              once, Tokyo's kernel watched for --baseline-window seconds; plus a
              blackout that drops BGP too (the hold timer, 9 s here, is BGP's best)
  SLA         Tokyo's intent on the class gold (loss 2 %, round trip 50 ms, hold-down
              10 s): --trials per impairment, each until traffic is back on MPLS
              (after the hold-down, exactly one demotion and one return counted in the
              orchestrator's steering events); between trials the intent swaps to an
              identical class so no trial inherits the previous one's flap damping
  noise       1 % random loss plus 10 +- 5 ms on the primary (inside the class) for
              --noise-seconds: moves in the kernel and steering events, both zero
  blackout    at 10 and at --prefixes prefixes behind the uplink (/30s of
              198.19.0.0/16 originated by Osaka's gobgpd, part of Osaka's site)

Each SLA trial also prints where its time went (PARTS): the agent's detection (the
``since`` of its class verdict), its line reaching the controller (``received`` in the
``uplink.quality`` event), the steering decision and the recompiled policy written (the
``intent.steering`` event's time), Tokyo's gobgpd's best path moving (polled over
gRPC), the kernel (the end to end figure); and the p50/p95 of each part.

Targets (issue 23): latency p95 < 1 s, 5 % loss p95 < 3 s, 20 % loss p95 < 1 s,
blackout < 500 ms at both sizes and within 10 % of each other, noise zero moves,
return after the hold-down exactly once. p95 is the nearest rank of the trials.

    .venv/bin/python bench/bench_sla.py [--trials 10] [--noise-seconds 600]
        [--prefixes 10000] [--baseline-window 10] [--scenario-seconds 900]
        [--blackout-only]

Needs root, gobgpd and FRR (scripts/setup). Not a test: times on a shared machine vary
(the load average is printed with them).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import math
import os
import secrets
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc

from sdwan.fib.netlink import (
    RTM_NEWROUTE,
    RTNLGRP_IPV4_ROUTE,
    RTNLGRP_NEXTHOP,
    KernelRoute,
    Netlink,
    route_gateways,
)
from sdwan.fib.plan import RTPROT_BGP
from sdwan.gobgp._pb import gobgp_pb2_grpc
from sdwan.gobgp.paths import Table, decode_path, list_path_request
from sdwan.lab import demo_tools
from sdwan.lab.builder import default_root
from sdwan.lab.demo_tools import items_of
from sdwan.lab.server_process import free_port
from sdwan.lab.two_sites import INET_HOP, MPLS_HOP, OSAKA_LAN, TO_OSAKA, TwoSites
from sdwan.lab.uplinks import add_paths, prefixes
from sdwan.polling import wait_for
from sdwan.probe.client import ProbeClient

POLL_S = 0.01  # the kernel is read this often while a move is awaited
RETURN_S = 120.0  # a return may take the long window, the hold-down and the policy
CLASSES = ("gold", "gold-b")  # the example's class, and its twin for the damping reset
POOL = ipaddress.IPv4Network("198.19.0.0/16")  # sdwan.lab.uplinks.prefixes' pool
TOKYO_UPLINKS = ("tokyo/mpls", "tokyo/inet")
PLAN_TIMEOUT_S = 600.0  # the plan of Tokyo's intent, timed once at the end


@dataclass(frozen=True)
class Scenario:
    name: str
    impairment: dict[str, Any]  # sdwan.lab.impairment.Impairment's fields
    target_s: float
    deadline_s: float  # a trial that has not moved by then counts as a miss


SCENARIOS = (
    Scenario("latency +150 ms", {"delay_ms": 150.0, "direction": "out"}, 1.0, 20.0),
    Scenario("loss 5 %", {"loss_pct": 5.0, "direction": "out"}, 3.0, 30.0),
    Scenario("loss 20 %", {"loss_pct": 20.0, "direction": "out"}, 1.0, 20.0),
    Scenario("silent blackout", {"blackhole": True, "direction": "both"}, 0.5, 10.0),
)
BLACKOUT = SCENARIOS[-1]
WITH_BGP = Scenario(
    "blackout, BGP too", {"blackhole": True, "direction": "both", "include_bgp": True}, 0, 30.0
)
NOISE = {"loss_pct": 1.0, "delay_ms": 10.0, "jitter_ms": 5.0, "direction": "out"}


@dataclass
class Trial:
    moved_s: float | None  # from the impairment in effect to the kernel on the backup
    back_s: float | None = None  # from the impairment cleared to the kernel on MPLS
    demotes: int = 0
    returns: int = 0
    chain: dict[str, float] | None = None  # PARTS -> seconds (None: a part unseen)


# The reaction chain of a move, each part from the timestamps the components give (a
# blackout moves the kernel through the FIB agent's avoid set before the policy: the
# trial mostly ends before gobgpd moves: "push" and "fib" may show as "?"):
PARTS = (
    ("detect", "impairment in effect -> the agent's class state violated (its since)"),
    ("report", "-> the agent's line folded in the controller (event data received)"),
    ("decide", "-> steering decided, policy rows written (intent.steering event time)"),
    ("push", "-> Tokyo's gobgpd's best path to Osaka's LAN via inet (polled, gRPC)"),
    ("fib", "-> every route in Tokyo's kernel via inet (the end to end figure)"),
)


@dataclass
class Figures:
    trials: list[Trial] = field(default_factory=list)

    def moved(self) -> list[float]:
        return [t.moved_s for t in self.trials if t.moved_s is not None]

    def misses(self) -> int:
        return sum(t.moved_s is None for t in self.trials)

    def parts(self, name: str) -> list[float]:
        return [t.chain[name] for t in self.trials if t.chain is not None and name in t.chain]


def p95(values: list[float]) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def in_pool(prefix: str) -> bool:
    """Osaka's prefixes: its LAN and the /30s of the pool (IPv4 routes only here)."""
    return prefix == OSAKA_LAN or ipaddress.IPv4Network(prefix).subnet_of(POOL)


class Kernel:
    """Tokyo's kernel over netlink: where its routes to Osaka's prefixes forward.

    While a move is awaited nothing is dumped: the routes are a copy kept by the
    kernel's own notifications (only the routes that changed are read), and the
    nexthop objects (a handful, whatever the number of routes) are read when the
    kernel tells of a change, so the wait costs the same at 10 and 10 000 routes."""

    def __init__(self, namespace: str, count: int) -> None:
        self.nl = Netlink(namespace)
        self.count = count  # routes expected (Osaka's LAN and its /30s)
        self.watch = Netlink(namespace)  # route and nexthop notifications
        self.watch.join(RTNLGRP_IPV4_ROUTE, RTNLGRP_NEXTHOP)
        self.routes: dict[str, KernelRoute] = {}
        self.dump_s: list[float] = []  # each full dump of the routes (resync)
        self.look_s: list[float] = []  # each look while a move is awaited
        self.resyncs = 0  # full dumps forced during a wait (overrun, unknown group)
        # the prefixes a move is awaited for: those with a backup in Tokyo's RIB (None:
        # every one); the routes of the others have nowhere to go
        self.backed: set[str] | None = None
        self._index: tuple[set[int], set[tuple[str, ...]]] | None = None  # of the copy

    def forwarding(self) -> dict[str, tuple[str, ...]]:
        found = route_gateways(self.nl.routes(socket.AF_INET), self.nl.nexthops(), RTPROT_BGP)
        return {p: g for p, g in found.items() if in_pool(p)}

    def all_via(self, gateway: str) -> bool:
        routes = self.forwarding()
        return len(routes) == self.count and all(g == (gateway,) for g in routes.values())

    def resync(self) -> None:
        """The copy of the routes from a full dump (notifications before it dropped)."""
        with contextlib.suppress(OSError):  # an overrun: the dump below is the truth
            self.watch.changes(0.0)
        began = time.monotonic()
        self.routes = {
            r.prefix: r
            for r in self.nl.routes(socket.AF_INET)
            if r.protocol == RTPROT_BGP and in_pool(r.prefix)
        }
        self._index = None
        self.dump_s.append(time.monotonic() - began)

    def _follow(self, timeout: float) -> bool:
        """Fold the kernel's notifications into the copy (waiting up to ``timeout``
        for the first); whether any came. An overrun of the socket's buffer (a policy
        move of 10 000 routes may) resyncs from a dump."""
        try:
            changes = self.watch.changes(timeout)
        except OSError:
            self.resyncs += 1
            self.resync()
            return True
        for kind, route in changes:
            if route is None or route.protocol != RTPROT_BGP or not in_pool(route.prefix):
                continue
            if kind == RTM_NEWROUTE:
                self.routes[route.prefix] = route
            else:
                self.routes.pop(route.prefix, None)
            self._index = None
        return bool(changes)

    def _groups(self) -> tuple[set[int], set[tuple[str, ...]]]:
        """The nexthop objects the awaited routes of the copy use, and the gateways of
        those that have their own: computed again only when a route changed (a swap
        in place changes the objects alone, and then a look reads just those)."""
        if self._index is None:
            groups: set[int] = set()
            own: set[tuple[str, ...]] = set()
            for route in self.routes.values():
                if self.backed is not None and route.prefix not in self.backed:
                    continue
                if route.nexthop_id:
                    groups.add(route.nexthop_id)
                else:
                    own.add(route.gateways)
            self._index = groups, own
        return self._index

    def _via(self, gateway: str, *, again: bool = True) -> bool:
        """Whether every route of the copy forwards via ``gateway`` alone (the nexthop
        objects read now); a route naming an unknown object resyncs and looks again."""
        if len(self.routes) != self.count:
            return False
        groups, own = self._groups()
        if own - {(gateway,)}:
            return False
        objects = {n.id: n for n in self.nl.nexthops()}
        if not groups <= objects.keys():
            if not again:
                return False
            self.resyncs += 1
            self.resync()
            return self._via(gateway, again=False)
        members = {
            objects[m].gateway if m in objects else None
            for g in groups
            for m in (objects[g].members if objects[g].group else (g,))
        }
        return members <= {gateway}

    def wait_all_via(
        self, gateway: str, deadline_s: float, *, synced: bool = False
    ) -> float | None:
        """The monotonic time at which every route forwards via ``gateway`` alone, or
        None after ``deadline_s``; ``synced``: the copy is current (``resync`` was
        called before the change awaited, so the wait starts without a dump)."""
        ends = time.monotonic() + deadline_s
        if not synced:
            self.resync()
        changed = True
        while True:
            if changed:
                began = time.monotonic()
                ok = self._via(gateway)
                now = time.monotonic()
                self.look_s.append(now - began)
                if ok:
                    return now
            if now > ends:
                return None
            changed = self._follow(min(0.5, max(0.0, ends - now)))
            now = time.monotonic()
            changed = changed or now > ends  # one last look at the deadline

    def close(self) -> None:
        self.nl.close()
        self.watch.close()


class BestWatch:
    """Tokyo's gobgpd polled every POLL_S on a thread: the wall-clock time at which its
    best path to Osaka's LAN first goes via ``hop``."""

    def __init__(self, socket_path: str, hop: str, deadline_s: float) -> None:
        self.hop = hop
        self.at: float | None = None
        self._socket = socket_path
        self._ends = time.monotonic() + deadline_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="best-watch", daemon=True)
        self._thread.start()

    def _best(self, stub: gobgp_pb2_grpc.GobgpApiStub) -> str | None:
        request = list_path_request(Table.GLOBAL, "ipv4-unicast", prefix=OSAKA_LAN)
        for reply in stub.ListPath(request, timeout=5):
            for path in reply.destination.paths:
                if path.best:
                    return decode_path(path, prefix=OSAKA_LAN).next_hop
        return None

    def _run(self) -> None:
        with grpc.insecure_channel(self._socket) as channel:
            stub = gobgp_pb2_grpc.GobgpApiStub(channel)
            while not self._stop.is_set() and time.monotonic() < self._ends:
                if self._best(stub) == self.hop:
                    self.at = time.time()
                    return
                self._stop.wait(POLL_S)

    def stop(self) -> float | None:
        self._stop.set()
        self._thread.join(timeout=10)
        return self.at


def event_time(event: dict[str, Any]) -> float:
    """An event's time (stamped when it was recorded) as epoch seconds."""
    stamp = datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()


class Bench:
    def __init__(self, args: argparse.Namespace, root: Path) -> None:
        self.args = args
        self.sites = TwoSites(f"bs{secrets.token_hex(2)}", root, free_port())
        self.kernel: Kernel | None = None
        self.sla_class = CLASSES[0]
        self.loads: list[float] = []

    # --- the lab ----------------------------------------------------------------

    def up(self) -> None:
        demo_tools.QUIET = True
        sites = self.sites
        sites.setup()
        sites.apply_intents()
        sites.sdwan("sla", "create", CLASSES[1], "--loss", "2", "--latency", "50",
                    "--hold-down", "10", show=False)  # fmt: skip
        self.prefixes_behind(10)

    def prefixes_behind(self, count: int) -> None:
        """Osaka's LAN and ``count - 1`` /30s of 198.19.0.0/16 behind both providers,
        part of Osaka's site (so Tokyo's intent steers them too); returns once
        Tokyo's kernel routes every one of them via MPLS."""
        sites = self.sites
        sites.sdwan("site", "set", "osaka", "--prefix", OSAKA_LAN,
                    "--prefix", f"{POOL},ge=30,le=30", show=False)  # fmt: skip
        state = sites.runner.load()
        assert state is not None
        with grpc.insecure_channel(state.sockets["os"]) as channel:
            add_paths(gobgp_pb2_grpc.GobgpApiStub(channel), prefixes(count - 1))
        if self.kernel is not None:
            self.kernel.close()
        self.kernel = Kernel(sites.runner.lab.name("tk"), count)
        kernel = self.kernel
        wait_for(lambda: kernel.all_via(MPLS_HOP), timeout=300, what=f"{count} routes via MPLS")
        kernel.backed = self.backed_up(state.sockets["tk"])
        kernel.resync()
        if len(kernel.backed) < count:
            print(
                f"  {count - len(kernel.backed)} of {count} prefixes without an Internet path"
                f" in Tokyo's RIB (received but rejected: see the Internet provider's best"
                f" path); the blackout is timed on the other {len(kernel.backed)}",
                flush=True,
            )

    def backed_up(self, socket_path: str) -> set[str]:
        """Osaka's prefixes for which Tokyo's gobgpd holds a path via the Internet
        provider (the backup a blackout moves to)."""
        found = set()
        with grpc.insecure_channel(socket_path) as channel:
            stub = gobgp_pb2_grpc.GobgpApiStub(channel)
            for reply in stub.ListPath(list_path_request(Table.GLOBAL, "ipv4-unicast"), timeout=60):
                prefix = reply.destination.prefix
                if in_pool(prefix) and any(
                    decode_path(path, prefix=prefix).next_hop == INET_HOP
                    for path in reply.destination.paths
                ):
                    found.add(prefix)
        return found

    def steering(self, since: int) -> tuple[int, int]:
        """(demotions, returns) of Tokyo's intent in the steering events after ``since``."""
        demotes = self.sites.steering_moves(TO_OSAKA, since, "demote")
        return len(demotes), len(self.sites.steering_moves(TO_OSAKA, since, "return"))

    def chain(self, since: int, start: float, best: float | None, moved: float) -> dict[str, float]:
        """The parts of one move's chain (PARTS; wall-clock ``start`` of the impairment,
        ``best`` and ``moved`` from the bench's own polls): from MPLS's first violation
        event and the intent's first demotion after event ``since``."""
        assert self.sites.orch is not None
        with self.sites.orch.client() as client:
            answer = client.get(
                "/v1/events", params={"kind": "uplink.quality", "since": since, "limit": 1000}
            )
            answer.raise_for_status()
        violated = [
            e["data"]
            for e in answer.json()["items"]
            if e["data"].get("uplink") == "mpls" and e["data"].get("class_state") == "violated"
        ]
        demotes = [
            e
            for e in self.sites.steering_events(since)
            if e["message"].startswith(f"intent {TO_OSAKA}:")
            and any(m["kind"] == "demote" for m in e["data"]["moves"])
        ]
        marks: list[float | None] = [
            start,
            violated[0].get("since") if violated else None,
            violated[0].get("received") if violated else None,
            event_time(demotes[0]) if demotes else None,
            best,
            moved,
        ]
        parts = {}
        for (name, _), begin, end in zip(PARTS, marks[:-1], marks[1:], strict=True):
            if begin is not None and end is not None:
                parts[name] = end - begin
        return parts

    def classes_met(self) -> bool:
        """Tokyo's two uplinks measured and within the intent's class: their rows in the
        API (the agents' last reports, not stale). Cheap at any number of prefixes,
        unlike the intent's plan, which predicts every prefix."""
        assert self.sites.orch is not None
        with self.sites.orch.client() as client:
            answer = client.get("/v1/uplinks", params={"site": "tokyo"})
            answer.raise_for_status()
        states = {}
        for uplink in items_of(answer.json()):
            quality = uplink.get("quality") or {}
            verdict = (quality.get("classes") or {}).get(self.sla_class) or {}
            if not quality.get("stale"):
                states[str(uplink["name"])] = verdict.get("state")
        return states == {"mpls": "met", "inet": "met"}

    def settled(self, since: int) -> bool:
        """Both uplinks within the class and every demotion of Tokyo's intent since
        event ``since`` returned (the steering events): nothing left to move."""
        demotes, returns = self.steering(since)
        return returns >= demotes and self.classes_met()

    def probing(self, on: bool) -> None:
        """Tokyo's intent on its class with its uplinks probed, or BGP alone."""
        sites = self.sites
        for uplink in TOKYO_UPLINKS:
            sites.sdwan("uplink", "set", uplink, "--probe", "udp" if on else "none", show=False)
        if on:
            sites.sdwan("intent", "set", TO_OSAKA, "--sla", self.sla_class, "--wait", show=False)
            sites.wait(self.classes_met, "both uplinks within the class", timeout=120)
        else:
            sites.sdwan("intent", "set", TO_OSAKA, "--no-sla", "--wait", show=False)
            state = sites.runner.load()
            assert state is not None
            agent = ProbeClient(f"{state.sockets['tk']}.probe")
            sites.wait(lambda: not asyncio.run(agent.config())["uplinks"], "Tokyo's agent idle", 60)

    def fresh_class(self) -> None:
        """Swap the intent to the twin class: steering starts anew (no flap damping
        carried from the last trial; both classes have the same limits)."""
        self.sla_class = CLASSES[1] if self.sla_class == CLASSES[0] else CLASSES[0]
        self.sites.sdwan("intent", "set", TO_OSAKA, "--sla", self.sla_class, show=False)
        self.sites.wait(self.classes_met, "both uplinks within the class", timeout=120)

    def plan_seconds(self) -> float:
        """How long the API takes to plan Tokyo's intent (every prefix predicted):
        printed for comparison, never waited on between trials."""
        orch = self.sites.orch
        assert orch is not None
        with orch.client() as client:
            site, name = TO_OSAKA.split("/")
            found = client.get("/v1/intents", params={"site": site, "name": name})
            found.raise_for_status()
            (intent,) = items_of(found.json())
            began = time.monotonic()
            answer = client.get(f"/v1/intents/{intent['id']}/plan", timeout=PLAN_TIMEOUT_S)
            answer.raise_for_status()
            return time.monotonic() - began

    def note_load(self) -> None:
        self.loads.append(os.getloadavg()[0])

    # --- the measurements --------------------------------------------------------

    def baseline(self, scenario: Scenario, window_s: float) -> Trial:
        """BGP alone: does Tokyo's kernel leave MPLS within ``window_s``?"""
        kernel, sites = self.kernel, self.sites
        assert kernel is not None
        kernel.resync()
        applied = sites.impair_primary(**scenario.impairment)
        try:
            moved = kernel.wait_all_via(INET_HOP, window_s, synced=True)
        finally:
            sites.clear_primary()
        wait_for(lambda: kernel.all_via(MPLS_HOP), timeout=RETURN_S, what="back on MPLS")
        if scenario.impairment.get("include_bgp"):
            sites.wait(lambda: set(sites.sessions().values()) == {"UP"}, "sessions UP", 120)
        return Trial(moved - applied.effective if moved is not None else None)

    def sla_trial(self, scenario: Scenario) -> Trial:
        kernel, sites = self.kernel, self.sites
        assert kernel is not None
        self.note_load()
        since = sites.last_event()
        state = sites.runner.load()
        assert state is not None
        watch = BestWatch(state.sockets["tk"], INET_HOP, scenario.deadline_s)
        kernel.resync()  # the wait below starts without a dump
        applied = sites.impair_primary(**scenario.impairment)
        try:
            moved = kernel.wait_all_via(INET_HOP, scenario.deadline_s, synced=True)
        finally:
            cleared = sites.clear_primary()
            best = watch.stop()
        back = kernel.wait_all_via(MPLS_HOP, RETURN_S)
        sites.wait(lambda: self.settled(since), "the class met, the intent returned", 120)
        demotes, returns = self.steering(since)
        chain = None
        if moved is not None:
            wall = applied.wall + (moved - applied.effective)
            chain = self.chain(since, applied.wall, best, wall)
        self.fresh_class()
        return Trial(
            moved - applied.effective if moved is not None else None,
            back - cleared.effective if back is not None else None,
            demotes,
            returns,
            chain,
        )

    def trials(self, scenario: Scenario) -> Figures:
        figures = Figures()
        kernel = self.kernel
        assert kernel is not None
        kernel.dump_s.clear()
        kernel.look_s.clear()
        kernel.resyncs = 0
        ends = time.monotonic() + self.args.scenario_seconds
        while len(figures.trials) < self.args.trials and time.monotonic() < ends:
            trial = self.sla_trial(scenario)
            figures.trials.append(trial)
            back = f"{trial.back_s:.1f} s" if trial.back_s is not None else "never"
            print(
                f"    {scenario.name}: on the backup after {seconds(trial.moved_s).strip()},"
                f" back {back} after the clear ({trial.demotes} demotion(s),"
                f" {trial.returns} return(s)); {chain_text(trial.chain)}",
                flush=True,
            )
        looks = sorted(kernel.look_s) or [0.0]
        print(
            f"    reading {kernel.count} routes: a full dump {min(kernel.dump_s) * 1000:.0f}-"
            f"{max(kernel.dump_s) * 1000:.0f} ms (before each impairment, outside the"
            f" timed wait); each look while waiting (the notified routes folded in,"
            f" the nexthop objects read) median {looks[len(looks) // 2] * 1000:.1f} ms,"
            f" max {looks[-1] * 1000:.1f} ms, {len(looks)} looks; dumps forced in a wait"
            f" {kernel.resyncs}",
            flush=True,
        )
        return figures

    def noise(self, seconds: float) -> tuple[int, int, int, dict[str, Any]]:
        """(samples read, samples off MPLS, steering moves) over ``seconds`` of 1 %
        loss and jitter inside the class, and the primary's last measured quality."""
        kernel, sites = self.kernel, self.sites
        assert kernel is not None
        since = sites.last_event()
        sites.impair_primary(**NOISE)
        samples = off = 0
        try:
            ends = time.monotonic() + seconds
            while time.monotonic() < ends:  # bounded by time; read ten times a second
                samples += 1
                off += not kernel.all_via(MPLS_HOP)
                time.sleep(0.1)
                if samples % 600 == 0:
                    self.note_load()
            plan = json.loads(sites.sdwan("intent", "plan", TO_OSAKA, "-o", "json", show=False))
            sla = plan["prediction"]["sla"] or {}
            mpls: dict[str, Any] = next(
                (u for u in sla.get("uplinks", []) if u["uplink"] == "mpls"), {}
            )
        finally:
            sites.clear_primary()
        demotes, returns = self.steering(since)
        return samples, off, demotes + returns, mpls

    def down(self) -> None:
        if self.kernel is not None:
            self.kernel.close()
        self.sites.runner.down()


def seconds(value: float | None) -> str:
    return f"{value * 1000:7.0f} ms" if value is not None else "  never"


def chain_text(chain: dict[str, float] | None) -> str:
    if chain is None:
        return "no chain"
    return (
        " ".join(
            f"{name} {chain[name] * 1000:.0f}" if name in chain else f"{name} ?"
            for name, _ in PARTS
        )
        + " ms"
    )


def report_chain(figures: Figures) -> None:
    """p50 and p95 of each part of the chain (PARTS)."""
    cells = []
    for name, _ in PARTS:
        values = sorted(figures.parts(name))
        if values:
            cells.append(f"{name} {values[len(values) // 2] * 1000:.0f}/{p95(values) * 1000:.0f}")
    if cells:
        print(f"  {'':24} chain p50/p95 ms: {', '.join(cells)}", flush=True)


def report_sla(name: str, figures: Figures, target_s: float, bgp: Trial | None) -> None:
    moved = figures.moved()
    if not moved:
        print(f"  {name:24} no move in {len(figures.trials)} trials", flush=True)
        return
    high = p95(moved)
    backs = [t.back_s for t in figures.trials if t.back_s is not None]
    once = sum(t.demotes == 1 and t.returns == 1 for t in figures.trials)
    versus = "BGP only: stays on MPLS"
    if bgp is not None and bgp.moved_s is not None:
        versus = f"BGP only {bgp.moved_s:.2f} s ({bgp.moved_s / high:.0f}x)"
    print(
        f"  {name:24} p95 {seconds(high)} (median {seconds(sorted(moved)[len(moved) // 2])},"
        f" max {seconds(max(moved))}, n={len(moved)}, missed {figures.misses()})"
        f" target < {target_s * 1000:.0f} ms: {'met' if high < target_s else 'MISSED'};"
        f" {versus}",
        flush=True,
    )
    report_chain(figures)
    if backs:
        print(
            f"  {'':24} back on MPLS {min(backs):.1f}-{max(backs):.1f} s after the clear"
            f" (hold-down 10 s); one demotion and one return in {once} of"
            f" {len(figures.trials)} trials",
            flush=True,
        )


def noise(bench: Bench, seconds: float) -> None:
    samples, off, moves, mpls = bench.noise(seconds)
    print(
        f"  noise {seconds:g} s (1 % loss, 10 +- 5 ms one way): {moves} moves,"
        f" kernel off MPLS in {off} of {samples} reads; MPLS measured at loss"
        f" {mpls.get('loss_pct')} %, latency {mpls.get('latency_ms')} ms,"
        f" jitter {mpls.get('jitter_ms')} ms",
        flush=True,
    )


def run(args: argparse.Namespace, root: Path) -> None:
    bench = Bench(args, root)
    started = time.monotonic()
    try:
        bench.up()
        print(
            f"two-sites lab, 10 prefixes behind Tokyo's MPLS uplink; load average"
            f" {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        print(f"BGP only (Tokyo's intent without a class, not probed), {args.baseline_window:g} s"
              " watched per impairment:", flush=True)  # fmt: skip
        bench.probing(False)
        bgp: dict[str, Trial] = {}
        chosen = (BLACKOUT,) if args.blackout_only else SCENARIOS
        for scenario in (*chosen, WITH_BGP):
            window = WITH_BGP.deadline_s if scenario is WITH_BGP else args.baseline_window
            bgp[scenario.name] = bench.baseline(scenario, window)
            print(f"  {scenario.name:24} {seconds(bgp[scenario.name].moved_s)}", flush=True)
        bench.probing(True)
        print(f"SLA class gold, {args.trials} trials each (at most"
              f" {args.scenario_seconds:g} s):", flush=True)  # fmt: skip
        for name, what in PARTS:
            print(f"  chain: {name:7} {what}", flush=True)
        blackouts: dict[int, Figures] = {}
        for scenario in chosen:
            figures = bench.trials(scenario)
            against = bgp[WITH_BGP.name] if scenario is BLACKOUT else bgp[scenario.name]
            name = f"{scenario.name} (10)" if scenario is BLACKOUT else scenario.name
            report_sla(name, figures, scenario.target_s, against)
            if scenario is BLACKOUT:
                blackouts[10] = figures
        if not args.blackout_only:
            noise(bench, args.noise_seconds)
        bench.prefixes_behind(args.prefixes)
        blackouts[args.prefixes] = bench.trials(BLACKOUT)
        report_sla(f"silent blackout ({args.prefixes})", blackouts[args.prefixes],
                   BLACKOUT.target_s, bgp[WITH_BGP.name])  # fmt: skip
        moved = [sorted(blackouts[n].moved()) for n in (10, args.prefixes)]
        if all(moved):
            (small, large), medians = (p95(m) for m in moved), [m[len(m) // 2] for m in moved]
            print(
                f"  blackout {args.prefixes} / 10 prefixes: p95 {large / small:.2f}, median"
                f" {medians[1] / medians[0]:.2f} (target within 10 %)",
                flush=True,
            )
        assert bench.sites.orch is not None
        print(f"  the plan of Tokyo's intent at {args.prefixes} prefixes (API, server pid"
              f" {bench.sites.orch.pid}) ...", flush=True)  # fmt: skip
        print(f"  ... took {bench.plan_seconds():.1f} s", flush=True)
    finally:
        bench.down()
    loads = bench.loads or [0.0]
    print(
        f"{time.monotonic() - started:.0f} s; load average during the trials"
        f" {min(loads):.1f}-{max(loads):.1f} (2 cores)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--noise-seconds", type=float, default=600.0)
    parser.add_argument(
        "--prefixes", type=int, default=10_000, help="the large blackout (10 always runs too)"
    )
    parser.add_argument("--baseline-window", type=float, default=10.0)
    parser.add_argument("--scenario-seconds", type=float, default=900.0)
    parser.add_argument(
        "--blackout-only", action="store_true", help="the blackouts at both sizes alone"
    )
    args = parser.parse_args()
    if not 1 <= args.trials <= 100 or not 11 <= args.prefixes <= 16384:
        sys.exit("--trials 1..100, --prefixes 11..16384")
    run(args, default_root())  # the lab removes its own directory there


if __name__ == "__main__":
    main()
