"""Benchmark: the CPU an agent uses to measure 8 uplinks at its default rate.

One namespace runs the measuring agent with N uplinks (one veth each) to a second
namespace whose agent reflects them all; a client reads the agent's quality stream
all along, as the orchestrator does. CPU is read from /proc/<pid>/stat (user + system
time of all threads) over the measurement, side by side in the same seconds with:
  wake floor     a Python process that only wakes up at the probe rate and sleeps
                 again (what any userspace prober waking once per period pays here)
  syscall floor  a Python process in a third namespace that sends the same probes
                 over N links of its own to the same reflector and reads the answers,
                 one socket each, and measures nothing (the agent's system calls and
                 the kernel's work for them, without its bookkeeping)
  reflector      the agent answering all 2N uplinks' probes
Target: the measuring agent under 5 % of one core.

    .venv/bin/python bench/bench_probe_cost.py [--uplinks 8] [--seconds 60] [--rate R]

Needs root. Not a test: a shared, loaded machine inflates every figure (the load
average is printed with them).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sdwan.domain.quality import DEFAULT_RATE
from sdwan.lab import Lab, wait_for
from sdwan.lab.probe_agent import ProbeAgentProcess
from sdwan.lab.processes import stop_pid

TICKS = os.sysconf("SC_CLK_TCK")
FLOOR = """
import select, sys, time
period = 1.0 / float(sys.argv[1])
poll = select.epoll().poll
due = time.monotonic()
while True:
    due += period
    wait = due - time.monotonic()
    if wait > 0:
        poll(wait)
"""
SYSCALL_FLOOR = """
import select, socket, sys, time
period, targets = 1.0 / float(sys.argv[1]), sys.argv[2:]
sockets = []
for target in targets:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, 35, 1)  # kernel receive timestamps, as the agent
    sock.setblocking(False)
    sock.connect((target, 862))
    sockets.append(sock)
ready = select.epoll()
by_fd = {s.fileno(): s for s in sockets}
for sock in sockets:
    ready.register(sock.fileno(), select.EPOLLIN)
poll = select.epoll().poll
probe, answer = bytearray(41), [bytearray(128)]
due = time.monotonic()
while True:
    for sock in sockets:
        sock.send(probe)
    for fd, _ in ready.poll(0):
        by_fd[fd].recvmsg_into(answer, 64)
    due += period
    wait = due - time.monotonic()
    if wait > 0:
        poll(wait)
"""


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of ``pid`` so far, all threads."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICKS, int(fields[12]) / TICKS


def uplinks_config(count: int, rate: float | None) -> dict[str, Any]:
    gold = {"name": "gold", "loss_pct": 2.0, "latency_ms": 50.0, "jitter_ms": 10.0}
    return {
        "generation": 1,
        "uplinks": [
            {
                "id": f"u{i}",
                "name": f"bench/u{i}",
                "neighbor": f"198.18.{200 + i}.2",
                "target": f"198.18.{200 + i}.2",
                "rate": rate,
                "classes": [gold],
            }
            for i in range(count)
        ],
    }


def read_stream(agent: ProbeAgentProcess, lines: list[int], stop: threading.Event) -> None:
    async def follow() -> None:
        async for _line in agent.client().stream(timeout=10):
            lines[0] += 1
            if stop.is_set():
                return

    asyncio.run(follow())


def run(count: int, seconds: float, rate: float | None) -> None:
    lab = Lab("bpc" + secrets.token_hex(2))
    workdir = Path(tempfile.mkdtemp(prefix="bench-probe-"))
    agents: list[ProbeAgentProcess] = []
    floors: list[subprocess.Popen[bytes]] = []
    try:
        a, b, c = lab.namespace("a"), lab.namespace("b"), lab.namespace("c")
        for i in range(count):
            lab.link(
                a,
                f"x{i}",
                b,
                f"y{i}",
                addrs_a=[f"198.18.{200 + i}.1/30"],
                addrs_b=[f"198.18.{200 + i}.2/30"],
            )
            lab.link(
                c,
                f"z{i}",
                b,
                f"w{i}",
                addrs_a=[f"198.18.{150 + i}.1/30"],
                addrs_b=[f"198.18.{150 + i}.2/30"],
            )
        reflector = ProbeAgentProcess(b, workdir / "b.probe", workdir / "b.log").start()
        agents.append(reflector)
        config_file = workdir / "a.json"
        config_file.write_text(json.dumps(uplinks_config(count, rate)))
        agent = ProbeAgentProcess(
            a, workdir / "a.probe", workdir / "a.log", extra=["--config", str(config_file)]
        ).start()
        agents.append(agent)
        probe_rate = rate or DEFAULT_RATE
        floor = subprocess.Popen([sys.executable, "-c", FLOOR, str(probe_rate)])
        floors.append(floor)
        targets = [f"198.18.{150 + i}.2" for i in range(count)]
        syscalls = c.exec([sys.executable, "-c", SYSCALL_FLOOR, str(probe_rate), *targets])
        floors.append(syscalls)
        pids = (agent.pid, syscalls.pid, floor.pid, reflector.pid)
        lines = [0]
        stop = threading.Event()
        reader = threading.Thread(target=read_stream, args=(agent, lines, stop), daemon=True)
        reader.start()

        def all_met() -> bool:
            uplinks = agent.quality()["uplinks"]
            return all(u["classes"]["gold"]["state"] == "met" for u in uplinks.values())

        wait_for(all_met, timeout=60, what="every uplink up and within its class")
        before = {p: cpu_seconds(p) for p in pids}
        load_before = os.getloadavg()[0]
        started = time.monotonic()
        time.sleep(seconds)
        elapsed = time.monotonic() - started
        after = {p: cpu_seconds(p) for p in pids}
        snapshot = agent.quality()
        stop.set()
        load = (load_before + os.getloadavg()[0]) / 2

        def share(pid: int) -> str:
            user = after[pid][0] - before[pid][0]
            system = after[pid][1] - before[pid][1]
            return (
                f"{100 * (user + system) / elapsed:5.2f} % of a core "
                f"(user {100 * user / elapsed:.2f} %, system {100 * system / elapsed:.2f} %)"
            )

        long = [u["long"] for u in snapshot["uplinks"].values()]
        sent = sum(w["sent"] for w in long) / (len(long) * long[0]["window_s"])
        lost = sum(w["sent"] - w["answered"] for w in long)
        print(
            f"{count} uplinks at {probe_rate:g} probes/s, {elapsed:.0f} s, load average {load:.1f}"
        )
        print(f"  measuring agent  {share(agent.pid)}")
        print(f"  syscall floor    {share(syscalls.pid)}")
        print(f"  wake floor       {share(floor.pid)}")
        print(f"  reflector        {share(reflector.pid)} (for both)")
        print(
            f"  probes sent {sent:.1f}/s per uplink over the long window, {lost} lost; "
            f"{lines[0]} stream lines read"
        )
    finally:
        for process in floors:
            stop_pid(process.pid)
            process.wait()
        for agent_process in agents:
            agent_process.stop()
        lab.teardown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uplinks", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=None, help="probes/s (default: the agent's)")
    args = parser.parse_args()
    if not 1 <= args.uplinks <= 50:
        raise SystemExit("--uplinks: 1 to 50")
    run(args.uplinks, args.seconds, args.rate)


if __name__ == "__main__":
    main()
