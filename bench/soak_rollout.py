"""Soak: rollouts with faults injected at random moments end all or nothing.

R gobgpd (default 6) in one namespace, one orchestrator on SQLite (or, with --db
postgresql, two replicas on a PostgreSQL this run starts). Each of --rounds
rounds rolls out a new announcement to every router in waves with a confirmation
window, confirmed or not, while one fault (orchestrator SIGKILL, gobgpd restart, or
none) strikes at a random moment, then checks zero mixed states and zero lost
revisions: the round and its checks are src/sdwan/lab/rollout_soak.py (a few rounds
also run in tests/integration/test_rollout_soak.py).

    .venv/bin/python bench/soak_rollout.py [--rounds 100] [--routers 6] [--seed 1]
        [--db postgresql]

Needs root (scripts/setup installs gobgpd). Prints one line per round and a summary;
exits 1 on the first violation (the orchestrator's log tail is printed).
"""

from __future__ import annotations

import argparse
import random
import secrets
import sys
import tempfile
import time
from pathlib import Path

from sdwan.lab.netns import Namespace
from sdwan.lab.postgres import PostgresServer
from sdwan.lab.rollout_soak import World, one_round


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--routers", type=int, default=6)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    ns = Namespace(f"sr{secrets.token_hex(3)}")
    ns.create()
    tally: dict[tuple[str, str], int] = {}
    server = PostgresServer(port=54341).start() if args.db == "postgresql" else None
    try:
        with tempfile.TemporaryDirectory(prefix="sdwan-soak-") as tmp:
            url = server.create_database("soak") if server is not None else None
            world = World(Path(tmp), ns, args.routers, url)
            try:
                for daemon in world.daemons:
                    daemon.start(timeout=30)
                world.start()
                for round_no in range(1, args.rounds + 1):
                    started = time.monotonic()
                    try:
                        outcome = one_round(world, round_no, rng)
                    except (AssertionError, TimeoutError) as exc:
                        print(f"VIOLATION: {exc}\n{world.log_tail()}")
                        sys.exit(1)
                    tally[outcome] = tally.get(outcome, 0) + 1
                    took = time.monotonic() - started
                    state, fault = outcome
                    print(f"round {round_no:3d}: {state:11s} fault {fault:12s} {took:5.1f} s")
            finally:
                world.stop()
                for daemon in world.daemons:
                    daemon.stop()
    finally:
        if server is not None:
            server.close()
        ns.delete()
    print(f"{args.rounds} rounds, zero mixed states, zero lost revisions:")
    for (state, fault), count in sorted(tally.items()):
        print(f"  {state:11s} after fault {fault:12s} {count}")


if __name__ == "__main__":
    main()
