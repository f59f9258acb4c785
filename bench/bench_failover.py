"""Benchmark: outage when the primary upstream router of the original demo halts.

Runs the whole original demo (lab, orchestrator, the original's CLI steps) and halts
VyOS-1 while pc1 pings VyOS-3 every 10 ms; the outage is the longest gap between
replies. Two ways, side by side:
  fast    the FIB agents reset a neighbor as soon as its link loses carrier (default
          gobgpd timers, as the original used)
  hold    no carrier reset; hold 3 s / keepalive 1 s (the original's best case,
          2.5-2.9 s measured by hand)
Target: fast < 0.5 s.

    .venv/bin/python bench/bench_failover.py [--rounds 3] [--modes fast,hold]

Needs root, gobgpd and FRR (scripts/setup). Not a test: times on a shared machine vary.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import sdwan.lab.demo as demo_module
from sdwan.lab.demo import Demo
from sdwan.lab.server_process import free_port

ROOT = Path("/run/sdwan-lab-bench")
MODES = {"fast": (True, None), "hold": (False, (3, 1))}


def one_round(mode: str, index: int) -> float | None:
    fast, timers = MODES[mode]
    demo = Demo(f"bf{mode[0]}{index}", ROOT, free_port(), fast_failover=fast, timers=timers)
    try:
        return demo.run(stop_after_failover=True).outage_s
    finally:
        demo.runner.down()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--modes", default="fast,hold")
    args = parser.parse_args()
    demo_module.QUIET = True
    for mode in args.modes.split(","):
        outages = [one_round(mode, i) for i in range(args.rounds)]
        measured = [o for o in outages if o is not None]
        shown = ", ".join(f"{o:.3f}" if o is not None else "n/a" for o in outages)
        median = f"{statistics.median(measured):.3f} s" if measured else "n/a"
        print(f"{mode:5}  outage per round: {shown}  median {median}", flush=True)


if __name__ == "__main__":
    main()
