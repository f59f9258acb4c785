"""A few rounds of the rollout soak (issue 24; bench/soak_rollout.py runs a hundred):
three gobgpd, one orchestrator on SQLite, three rollouts in waves with a confirmation
window, each struck by a fault at a random moment of a fixed seed's choosing (gobgpd
restarted empty, the orchestrator SIGKILLed and started again). Each round checks
(src/sdwan/lab/rollout_soak.py) that the rollout ended done or rolled back, that every
router is fully on the new revision or fully on the old one, in the store and on its
gobgpd, and that none of its revisions was lost."""

from __future__ import annotations

import random
import secrets
from pathlib import Path

from sdwan.lab.rollout_soak import Timers, World, one_round
from tests.support.lab import LabSession

SEED = 14  # its rounds: a gobgpd restart, an orchestrator SIGKILL, a gobgpd restart
TIMERS = Timers(confirm_within=3.0, fault_within=3.0, stuck_after=45.0)


def test_three_soak_rounds_end_all_or_nothing(tmp_path: Path, lab_environment: LabSession) -> None:
    names = "t" + secrets.token_hex(3)
    lab_environment.prefixes.append(names)
    world = World(tmp_path, None, 3, None, names=f"{names}-", timers=TIMERS)
    rng = random.Random(SEED)
    outcomes = []
    try:
        for daemon in world.daemons:
            daemon.start(timeout=30)
        world.start()
        for round_no in range(1, 4):
            try:
                outcomes.append(one_round(world, round_no, rng))
            except (AssertionError, TimeoutError) as exc:
                raise AssertionError(f"{exc}\n{world.log_tail()}") from None
    finally:
        world.stop()
        for daemon in world.daemons:
            daemon.stop()
    assert [fault for _, fault in outcomes] == ["gobgpd", "orchestrator", "gobgpd"]
