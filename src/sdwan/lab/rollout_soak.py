"""One round of the rollout soak (bench/soak_rollout.py, and a few rounds in
tests/integration/test_rollout_soak.py): a new announcement rolled out to every router
in waves (stages 1, 50 %, 100 %) with a confirmation window; a coin decides whether it
is confirmed (it ends done) or the window passes (it ends rolled back). At a random
moment of the round one fault is injected: the orchestrator killed with SIGKILL and
started again (with replicas: one of the two, so that about half of these are
takeovers), or one gobgpd killed and started again empty, or none.

After the round, checked:
  - the rollout ended done or rolled_back (never failed, never stuck);
  - done: every router has the round's prefix in the store and on its gobgpd;
    rolled_back: none has it, in the store or on gobgpd (zero mixed states);
  - every revision the rollout recorded (its waves', its rollback's) is in the log
    (zero lost revisions).
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx

from sdwan.gobgp._pb import gobgp_pb2_grpc as pb_grpc
from sdwan.gobgp.paths import Table, list_path_request
from sdwan.lab.gobgpd import GobgpdProcess
from sdwan.lab.netns import Namespace
from sdwan.lab.replicas import ReplicaFleet
from sdwan.lab.server_process import OrchestratorProcess
from sdwan.polling import wait_for

FAULTS = ("none", "orchestrator", "gobgpd")


def prefix_of(round_no: int) -> str:
    return f"198.51.{100 + round_no // 250}.{round_no % 250}/32"


@dataclass(frozen=True)
class Timers:
    """How long a round's windows last: the rollout's confirmation window and the
    span in which the fault strikes (seconds)."""

    confirm_within: float = 4.0
    fault_within: float = 4.0
    stuck_after: float = 180.0  # a rollout not final by then is a violation


class World:
    """R gobgpd (``s0``..., their daemons named ``<names>s0``...) and one orchestrator
    (``database_url`` None: on SQLite) or two replicas on ``database_url``."""

    def __init__(
        self,
        workdir: Path,
        ns: Namespace | None,
        count: int,
        database_url: str | None,
        *,
        names: str = "",
        timers: Timers = Timers(),
    ) -> None:
        self.timers = timers
        self.daemons = [
            GobgpdProcess(f"{names}s{i}", workdir, ns, log_level="warn") for i in range(count)
        ]
        env = {"SDWAN_ROLLOUT_SETTLE": "0.5"}
        self.replicas: ReplicaFleet | None = None
        if database_url is None:
            self.processes = [OrchestratorProcess(workdir / "orchestrator", extra_env=env)]
        else:
            self.replicas = ReplicaFleet(
                workdir / "replicas", database_url, count=2, lease=2.0, extra_env=env
            )
            self.processes = list(self.replicas.replicas)

    def start(self) -> None:
        if self.replicas is not None:
            self.replicas.start()
        else:
            self.processes[0].start()

    def stop(self) -> None:
        for process in self.processes:
            process.stop()

    def api(self) -> httpx.Client:
        """A client of a running orchestrator (any replica)."""
        running = [p for p in self.processes if p.pid is not None]
        return (running or self.processes)[0].client()

    def log_tail(self) -> str:
        return "\n".join(p.log_tail(20) for p in self.processes)

    def on_gobgpd(self, prefix: str) -> list[bool]:
        request = list_path_request(Table.GLOBAL, "ipv4-unicast", prefix=prefix)
        found = []
        for daemon in self.daemons:
            has = False
            with (
                contextlib.suppress(grpc.RpcError),
                grpc.insecure_channel(daemon.api_address) as channel,
            ):
                stub = pb_grpc.GobgpApiStub(channel)
                has = any(True for _ in stub.ListPath(request, timeout=10))
            found.append(has)
        return found

    def in_store(self, api: httpx.Client, prefix: str) -> list[bool]:
        items = api.get("/v1/announcements", params={"limit": 1000}).json()["items"]
        routers = {a["router_name"] for a in items if a["prefix"] == prefix}
        return [f"s{i}" in routers for i in range(len(self.daemons))]

    def fleet(self, prefix: str) -> dict[str, Any]:
        return {
            "routers": [
                {
                    "name": f"s{i}",
                    "asn": 65001,
                    "router_id": f"198.19.0.{i + 1}",
                    "api_address": d.api_address,
                    "listen_port": -1,
                    "announcements": [{"prefix": prefix}],
                }
                for i, d in enumerate(self.daemons)
            ]
        }


def _get(world: World, path: str) -> Any:
    """GET through restarts of the orchestrator: retried until it answers."""
    deadline = time.monotonic() + 60
    while True:
        try:
            with world.api() as api:
                answer = api.get(path)
            if answer.status_code < 500:
                return answer.json()
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"GET {path}: no answer for 60 s")
        time.sleep(0.2)


def inject(
    world: World, fault: str, rng: random.Random, after: float, errors: list[BaseException]
) -> None:
    try:
        _inject(world, fault, rng, after)
    except BaseException as exc:  # reported by the round, not lost in this thread
        errors.append(exc)


def _inject(world: World, fault: str, rng: random.Random, after: float) -> None:
    time.sleep(after)
    if fault == "orchestrator":
        victim = world.processes[rng.randrange(len(world.processes))]
        victim.kill()
        victim.start()
    elif fault == "gobgpd":
        world.daemons[rng.randrange(len(world.daemons))].restart(timeout=30)


def one_round(world: World, round_no: int, rng: random.Random) -> tuple[str, str]:
    """One rollout to every router with one fault at a random moment; raises
    AssertionError (or TimeoutError) on a violation; (how it ended, the fault)."""
    prefix = prefix_of(round_no)
    confirm = rng.random() < 0.5
    fault = rng.choice(FAULTS)
    timers = world.timers
    body = {
        "fleet": world.fleet(prefix),
        "stages": ["1", "50%", "100%"],
        "confirm_within": timers.confirm_within,
    }
    with world.api() as api:
        answer = api.post("/v1/fleet/apply", json=body)
    if answer.status_code != 202:
        raise AssertionError(f"round {round_no}: {answer.status_code} {answer.text}")
    rollout = answer.json()["rollout"]
    errors: list[BaseException] = []
    after = rng.uniform(0, timers.fault_within)
    injector = threading.Thread(target=inject, args=(world, fault, rng, after, errors))
    injector.start()
    deadline = time.monotonic() + timers.stuck_after
    confirmed = False
    while True:
        found = _get(world, f"/v1/rollouts/{rollout}")
        if found["state"] in ("done", "rolled_back", "failed"):
            break
        if confirm and not confirmed and found["state"] == "awaiting_confirm":
            with contextlib.suppress(httpx.HTTPError), world.api() as api:
                confirmed = api.post(f"/v1/rollouts/{rollout}/confirm").status_code == 200
        if time.monotonic() > deadline:
            raise AssertionError(f"round {round_no}: rollout {rollout} stuck: {found}")
        time.sleep(0.2)
    injector.join()
    if errors:
        raise AssertionError(f"round {round_no}: the {fault} fault failed: {errors[0]!r}")
    state = found["state"]
    if state == "failed":
        raise AssertionError(f"round {round_no}: rollout failed: {found['detail']}")
    wanted = state == "done"
    with world.api() as api:
        wait_for(
            lambda: world.in_store(api, prefix) == [wanted] * len(world.daemons),
            timeout=5,
            what=f"round {round_no}: the store {'all' if wanted else 'none'}",
        )
        numbers = [n for n in [*found["wave_revisions"], found["rollback_revision"]] if n]
        for number in numbers:
            if api.get(f"/v1/revisions/{number}").status_code != 200:
                raise AssertionError(f"round {round_no}: revision {number} lost")
    wait_for(
        lambda: world.on_gobgpd(prefix) == [wanted] * len(world.daemons),
        timeout=60,
        what=f"round {round_no}: gobgpd {'all' if wanted else 'none'} with {prefix}",
    )
    return state, fault
