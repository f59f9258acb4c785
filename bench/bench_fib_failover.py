"""Benchmark: the FIB agent moves N prefixes off an avoided next hop, at N = 10 and
N = 10 000, side by side (the time must not grow with N).

A router (gobgpd + sdwan fib-agent) with two eBGP uplinks, each a gobgpd announcing the
same N prefixes (injected with AddPathStream in batches of 1000; sdwan.lab.uplinks),
the first preferred. Per size:
  install   from starting the agent to all N kernel routes via the primary
  failover  from sending PUT /avoid [primary] (raw HTTP on the agent's status socket)
            to every route forwarding via the backup, read with netlink (the nexthop
            objects, polled; the routes themselves are dumped before and after, and
            must still point at the same groups)
  answered  from sending the PUT to its answer
  in agent  the agent's own time for the swap, from its log (lock, plan, netlink)
  return    the same for PUT /avoid [] (back to gobgpd's best)
Two kernel modes: "groups" (the agent's default: nexthop_compat_mode off) and
"compat" (--nexthop-compat: the kernel then sends a notification per route behind a
replaced group). Prints the medians and the ratio 10 000 / 10 of the failover times.

    .venv/bin/python bench/bench_fib_failover.py [--sizes 10,10000] [--rounds 5]
        [--modes groups,compat]

Needs root and gobgpd (scripts/setup). Not a test: times on a shared machine vary.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import socket
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from sdwan.fib.netlink import Netlink, route_gateways
from sdwan.fib.plan import RTPROT_BGP
from sdwan.lab.uplinks import BACKUP, PRIMARY, UplinkLab

DEADLINE = 10.0  # seconds a single move may take before the round counts as failed


@dataclass
class Figures:
    install: float = 0.0
    failover: list[float] = field(default_factory=list)
    answered: list[float] = field(default_factory=list)
    back: list[float] = field(default_factory=list)
    in_agent: list[float] = field(default_factory=list)


def all_via(nl: Netlink, gateway: str, count: int) -> bool:
    routes = route_gateways(nl.routes(socket.AF_INET), nl.nexthops(), RTPROT_BGP)
    return len(routes) == count and all(g == (gateway,) for g in routes.values())


def put_raw(path: str, next_hops: list[str]) -> socket.socket:
    """Send PUT /avoid without waiting for the answer (read it with answer())."""
    body = json.dumps({"next_hops": next_hops, "source": "bench"}).encode()
    head = (
        "PUT /avoid HTTP/1.1\r\nHost: fib-agent\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(path)
    conn.sendall(head.encode() + body)
    return conn


def answer(conn: socket.socket) -> str:
    data = b""
    with conn:
        while chunk := conn.recv(65536):
            data += chunk
    return data.split(b"\r\n", 1)[0].decode()


def agent_routes(nl: Netlink) -> dict[str, int]:
    """prefix -> nexthop group, of the agent's routes."""
    return {r.prefix: r.nexthop_id for r in nl.routes(socket.AF_INET) if r.protocol == RTPROT_BGP}


def move(nl: Netlink, status_path: str, avoid: list[str], gateway: str) -> tuple[float, float]:
    """(seconds until every group forwards via ``gateway``, seconds until answered)."""
    before = agent_routes(nl)
    groups = set(before.values())
    started = time.perf_counter()
    conn = put_raw(status_path, avoid)
    moved = None
    while time.perf_counter() - started < DEADLINE:
        objects = {n.id: n for n in nl.nexthops()}
        gateways = {objects[m].gateway for g in groups if g in objects for m in objects[g].members}
        if gateways == {gateway} and all(g in objects for g in groups):
            moved = time.perf_counter() - started
            break
    status = answer(conn)
    answered = time.perf_counter() - started
    if moved is None or not status.endswith("200 OK"):
        raise RuntimeError(f"no move to {gateway} within {DEADLINE} s ({status})")
    after = agent_routes(nl)
    if after != before:
        raise RuntimeError("routes changed: the agent moved routes, not groups")
    return moved, answered


class Site:
    """One scenario of ``count`` prefixes with its agent running."""

    def __init__(self, count: int, mode: str, workdir: Path) -> None:
        self.count = count
        self.mode = mode
        self.figures = Figures()
        self.lab = UplinkLab(f"bf{secrets.token_hex(2)}", workdir)
        self.nl: Netlink | None = None
        self.status_path = ""

    def start(self) -> None:
        count, mode = self.count, self.mode
        self.lab.up()
        self.lab.announce(count)
        self.nl = Netlink(self.lab.router_ns)
        started = time.perf_counter()
        self.lab.start_agent(*(["--nexthop-compat"] if mode == "compat" else []))
        while not all_via(self.nl, PRIMARY, count):
            if time.perf_counter() - started > 300:
                raise RuntimeError(f"{count} routes not installed in 300 s")
            time.sleep(0.02)
        self.figures.install = time.perf_counter() - started
        self.status_path = self.lab.status_socket.removeprefix("unix://")

    def one_round(self) -> None:
        assert self.nl is not None
        moved, answered = move(self.nl, self.status_path, [PRIMARY], BACKUP)
        self.figures.failover.append(moved)
        self.figures.answered.append(answered)
        self.figures.back.append(move(self.nl, self.status_path, [], PRIMARY)[0])
        if not all_via(self.nl, PRIMARY, self.count):
            raise RuntimeError("not every route back on the primary")

    def read_agent_log(self) -> None:
        """The swap times the agent logged ("... groups moved in 0.25 ms")."""
        text = self.lab.agent_log.read_text(errors="replace")
        found = re.findall(r"groups moved in ([0-9.]+) ms", text)
        self.figures.in_agent = [float(v) / 1000 for v in found]

    def close(self) -> None:
        try:
            if self.nl is not None:
                self.nl.close()
        finally:
            self.lab.down()


def one_mode(sizes: list[int], rounds: int, mode: str, workdir: Path) -> dict[int, Figures]:
    """Every size up at once, their rounds interleaved: the machine's noise falls on
    all of them alike."""
    sites: list[Site] = []
    try:
        for count in sizes:
            sites.append(Site(count, mode, workdir))
            sites[-1].start()
        for _round in range(rounds):
            for site in sites:
                site.one_round()
        for site in sites:
            site.read_agent_log()
        return {site.count: site.figures for site in sites}
    finally:
        for site in sites:
            site.close()


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:7.2f} ms (max {max(values) * 1000:.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,10000")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--modes", default="groups,compat")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench-fib-", dir="/run") as tmp:
        for mode in args.modes.split(","):
            medians = {}
            for count, f in one_mode(sizes, args.rounds, mode, Path(tmp)).items():
                medians[count] = statistics.median(f.failover)
                print(
                    f"{mode:6} N={count:<6} install {f.install:6.2f} s  failover {ms(f.failover)}"
                    f"  answered {ms(f.answered)}  return {ms(f.back)}"
                    f"  in agent {ms(f.in_agent)}",
                    flush=True,
                )
            low, high = medians[min(sizes)], medians[max(sizes)]
            print(
                f"{mode:6} failover N={max(sizes)} / N={min(sizes)}: {high / low:.2f}"
                f" ({(high - low) * 1000:+.2f} ms)",
                flush=True,
            )


if __name__ == "__main__":
    main()
