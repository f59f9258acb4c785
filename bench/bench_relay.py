"""Benchmark: the cost of the lab's delay relay, and how fast an impairment changes.

A lab of two hosts joined by one link (a <-> b); every figure is for the relay on
a's interface, delaying what a sends (direction out):
  overhead    ping RTT with a 10 ms delay, minus 10 ms, minus the RTT without it
              (pings 20 ms apart: the relay idle between them)
  throughput  UDP datagrams a -> b at a fixed rate for a few seconds through a 10 ms
              delay: delivered share, one-way time above the delay (the sender
              stamps each datagram), the relay's CPU share, how late it let
              packets go by its own count
  apply       how long LabRunner.impair takes to change a delay (relay only) and a
              loss rate (rules), and for how long the new value was in effect
              before the call returned

    .venv/bin/python bench/bench_relay.py [--rates 1000,2000,5000,10000] [--seconds 3]

Needs root (scripts/setup). Not a test: times on a shared machine vary.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import socket
import statistics
import struct
import tempfile
import time
from pathlib import Path

from sdwan.lab.builder import LabRunner
from sdwan.lab.impairment import Impairment
from sdwan.lab.netlink import in_namespace
from sdwan.lab.topology import load_topology

ROOT = Path("/run/sdwan-lab-bench")
TOPOLOGY = """\
nodes:
  a: {kind: host}
  b: {kind: host}
links:
  - a: {node: a, addresses: [198.18.77.1/30]}
    b: {node: b, addresses: [198.18.77.2/30]}
"""
A, B = "198.18.77.1", "198.18.77.2"
DELAY_MS = 10.0
STAMP = struct.Struct("=d")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def ping_ms(runner: LabRunner, count: int) -> list[float]:
    # -U: user-to-user times, as a program sees them
    out = runner.ns("a").run(["ping", "-n", "-U", "-c", str(count), "-i", "0.02", B]).stdout
    return [float(t) for t in re.findall(r"time=([\d.]+) ms", out)]


def overhead(runner: LabRunner, count: int) -> None:
    plain = ping_ms(runner, count)
    runner.impair("a", "e0", delay_ms=DELAY_MS, direction="out")
    delayed = ping_ms(runner, count)
    base = statistics.median(plain)
    extra = [rtt - DELAY_MS - base for rtt in delayed]
    print(
        f"overhead    RTT {base:.3f} ms undelayed; through the relay (+{DELAY_MS:g} ms) "
        f"extra median {statistics.median(extra):.3f} ms, p90 {percentile(extra, 0.9):.3f}, "
        f"max {max(extra):.3f} ({len(delayed)} pings)",
        flush=True,
    )


def send(sock: socket.socket, rate: float, seconds: float) -> None:
    """Paced in bursts of 1 ms worth of datagrams, each stamped with its send time."""
    start = time.monotonic()
    total = int(rate * seconds)
    sent = 0
    while sent < total:
        due = int((time.monotonic() - start) * rate) + 1
        while sent < min(due, total):
            sock.sendto(STAMP.pack(time.monotonic()), (B, 9))
            sent += 1
        time.sleep(0.001)


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def throughput(runner: LabRunner, rate: float, seconds: float) -> None:
    tx = in_namespace(
        runner.lab.name("a"), lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    )
    rx = in_namespace(
        runner.lab.name("b"), lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    )
    rx.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)  # SO_RCVBUFFORCE
    # a held datagram still counts against its sender's buffer (docs/lab.md): room for
    # the whole delay line, so that the relay, not the socket, sets the pace
    tx.setsockopt(socket.SOL_SOCKET, 32, 16 << 20)  # SO_SNDBUFFORCE
    rx.bind((B, 9))
    rx.settimeout(1.0)
    before = runner.relay_stats("a", "e0")
    relay = before["pid"]
    cpu = cpu_seconds(relay)
    sender = multiprocessing.get_context("fork").Process(target=send, args=(tx, rate, seconds))
    began = time.monotonic()
    sender.start()
    late: list[float] = []
    try:
        while True:
            data = rx.recv(64)
            late.append((time.monotonic() - STAMP.unpack(data)[0]) * 1000 - DELAY_MS)
    except TimeoutError:
        pass
    sender.join()
    spent = time.monotonic() - began - 1.0
    cpu = (cpu_seconds(relay) - cpu) / spent
    after = runner.relay_stats("a", "e0")
    queue = after["queues"][next(iter(after["queues"]))]
    relayed = queue["relayed"] - before["queues"][next(iter(before["queues"]))]["relayed"]
    total = int(rate * seconds)
    print(
        f"throughput  {rate:6.0f}/s: delivered {len(late)}/{total}, relayed {relayed}, "
        f"one-way above the delay median {statistics.median(late):.2f} ms, "
        f"p99 {percentile(late, 0.99):.2f}, relay CPU {cpu:.0%} of a core, "
        f"late by its count mean {queue['late_mean_ms']:.3f} ms, "
        f"max held {queue['max_held']}, lost {after['lost']}",
        flush=True,
    )
    tx.close()
    rx.close()


def apply_times(runner: LabRunner, rounds: int) -> None:
    base = Impairment(delay_ms=DELAY_MS, direction="out")
    for label, changed in (
        ("delay", Impairment(delay_ms=150.0, direction="out")),
        ("loss", Impairment(loss_pct=5.0, delay_ms=DELAY_MS, direction="out")),
    ):
        calls, effective = [], []
        for index in range(rounds):
            began = time.monotonic()
            applied = runner.impair("a", "e0", changed if index % 2 == 0 else base)
            ended = time.monotonic()
            calls.append((ended - began) * 1000)
            effective.append((ended - applied.effective) * 1000)
        print(
            f"apply       {label:5}: call median {statistics.median(calls):.2f} ms, "
            f"p95 {percentile(calls, 0.95):.2f}; in effect before it returned by "
            f"median {statistics.median(effective):.2f} ms ({rounds} changes)",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="1000,2000,5000,10000")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--pings", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "topology.yaml"
        path.write_text(TOPOLOGY)
        runner = LabRunner("brelay", ROOT)
        try:
            runner.up(load_topology(path))
            overhead(runner, args.pings)
            for rate in args.rates.split(","):
                throughput(runner, float(rate), args.seconds)
            apply_times(runner, 40)
        finally:
            runner.down()


if __name__ == "__main__":
    main()
