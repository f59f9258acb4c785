"""Benchmark: how fast a rollout's verdict brings R gobgpd (default 50) back to the
revision before it, against a floor measured in the same run on the same daemons.

  floor     the same change undone by hand: POST /v1/revisions/{base}/rollback, timed
            from the request until no gobgpd has the change (read over gRPC by this
            script)
  rollout   the change applied as a rollout of one wave with confirm_within=1 and
            not confirmed: timed from the verdict (the time of its rollout.rolling_back
            event) until no gobgpd has the change; and until the rollout says
            rolled_back

The change is one announcement per router (every router's RIB changes, no session is
reset). The issue's target: the fleet back within 10 s of the verdict. Each way runs
--rounds times; medians are printed with the ratio rollout / floor (what the controller
adds to the rollback itself: its polling, the rollback's revision, the wait for the
routers' status).

    .venv/bin/python bench/bench_rollout.py [--routers 50] [--rounds 3]

Every gobgpd runs inside one network namespace of this run that has nothing but `lo`.
Needs root (scripts/setup installs gobgpd). Not a test: absolute times on a shared
2-core machine are noise; ratios are less so.
"""

from __future__ import annotations

import argparse
import contextlib
import secrets
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import grpc
import httpx

from sdwan.gobgp._pb import gobgp_pb2_grpc as pb_grpc
from sdwan.gobgp.paths import Table, list_path_request
from sdwan.lab import GobgpdProcess, wait_for
from sdwan.lab.netns import Namespace
from sdwan.lab.server_process import OrchestratorProcess

PREFIX = "198.51.100.0/24"
TARGET = 10.0  # seconds from the verdict to the whole fleet back


class Daemons:
    def __init__(self, workdir: Path, namespace: Namespace, count: int) -> None:
        self.daemons = [
            GobgpdProcess(f"r{i}", workdir, namespace, log_level="warn") for i in range(count)
        ]
        self.stubs: list[Any] = []
        self._channels: list[grpc.Channel] = []

    def start(self) -> None:
        for daemon in self.daemons:
            daemon.launch()
        for daemon in self.daemons:
            daemon.wait_ready(timeout=60)
            channel = grpc.insecure_channel(daemon.api_address)
            self._channels.append(channel)
            self.stubs.append(pb_grpc.GobgpApiStub(channel))

    def announcing(self) -> int:
        """How many daemons have PREFIX in their RIB."""
        request = list_path_request(Table.GLOBAL, "ipv4-unicast", prefix=PREFIX)
        count = 0
        for stub in self.stubs:
            with contextlib.suppress(grpc.RpcError):  # BGP not started: nothing announced
                count += any(True for _ in stub.ListPath(request, timeout=10))
        return count

    def stop(self) -> None:
        for channel in self._channels:
            channel.close()
        for daemon in self.daemons:
            daemon.stop()


def _until(check: Any, what: str, timeout: float = 120.0) -> float:
    """Polls ``check`` every 20 ms; the moment (epoch seconds) it first held."""
    wait_for(check, timeout=timeout, interval=0.02, what=what)
    return time.time()


def _fleet(daemons: Daemons, announce: bool) -> dict[str, Any]:
    return {
        "routers": [
            {
                "name": f"r{i}",
                "asn": 65001,
                "router_id": f"198.19.{i // 250}.{i % 250 + 1}",
                "api_address": d.api_address,
                "listen_port": -1,
                **({"announcements": [{"prefix": PREFIX}]} if announce else {}),
            }
            for i, d in enumerate(daemons.daemons)
        ]
    }


def floor_round(api: httpx.Client, daemons: Daemons) -> float:
    total = len(daemons.daemons)
    base = api.get("/v1/revisions").json()["latest"]
    assert api.post("/v1/fleet/apply", json={"fleet": _fleet(daemons, True)}).is_success
    _until(lambda: daemons.announcing() == total, "the change on every gobgpd")
    started = time.time()
    answer = api.post(f"/v1/revisions/{base}/rollback", json={})
    assert answer.is_success, answer.text
    return _until(lambda: daemons.announcing() == 0, "the change gone everywhere") - started


def rollout_round(api: httpx.Client, daemons: Daemons) -> tuple[float, float]:
    total = len(daemons.daemons)
    body = {"fleet": _fleet(daemons, True), "stages": ["100%"], "confirm_within": 1}
    answer = api.post("/v1/fleet/apply", json=body)
    assert answer.status_code == 202, answer.text
    rollout = answer.json()["rollout"]
    _until(lambda: daemons.announcing() == total, "the change on every gobgpd")
    back = _until(lambda: daemons.announcing() == 0, "the change gone everywhere")
    _until(
        lambda: api.get(f"/v1/rollouts/{rollout}").json()["state"] == "rolled_back",
        "the rollout rolled back",
    )
    found = api.get(f"/v1/rollouts/{rollout}").json()
    events = api.get("/v1/events", params={"limit": 1000}).json()["items"]
    (verdict,) = [
        datetime.fromisoformat(e["time"]).timestamp()
        for e in events
        if e["kind"] == "rollout.rolling_back" and e["resource_id"] == str(rollout)
    ]
    ended = datetime.fromisoformat(found["updated_at"]).timestamp()
    return back - verdict, ended - verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--routers", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    ns = Namespace(f"br{secrets.token_hex(3)}")
    ns.create()
    try:
        with tempfile.TemporaryDirectory(prefix="sdwan-rollout-") as tmp:
            daemons = Daemons(Path(tmp), ns, args.routers)
            orchestrator = OrchestratorProcess(
                Path(tmp) / "orchestrator", extra_env={"SDWAN_ROLLOUT_SETTLE": "0.5"}
            )
            try:
                daemons.start()
                orchestrator.start()
                run(orchestrator, daemons, args.rounds)
            finally:
                orchestrator.stop()
                daemons.stop()
    finally:
        ns.delete()


def run(orchestrator: OrchestratorProcess, daemons: Daemons, rounds: int) -> None:
    with orchestrator.client() as api:
        answer = api.post("/v1/fleet/apply", json={"fleet": _fleet(daemons, False)})
        assert answer.is_success, answer.text
        wait_for(
            lambda: all(r["status"] == "ACTIVE" for r in api.get("/v1/routers").json()["items"]),
            timeout=120,
            what="every router ACTIVE",
        )
        floors, backs, ends = [], [], []
        for _ in range(rounds):
            floors.append(floor_round(api, daemons))
            back, ended = rollout_round(api, daemons)
            backs.append(back)
            ends.append(ended)
    floor, back, ended = (statistics.median(v) for v in (floors, backs, ends))
    print(f"{len(daemons.daemons)} gobgpd, {rounds} rounds (medians; shared machine: noisy)")
    print(f"  floor   rollback by hand, request -> no gobgpd has the change: {floor:6.2f} s")
    print(f"  rollout verdict -> no gobgpd has the change:                  {back:6.2f} s")
    print(f"  rollout verdict -> rolled_back (every router's status read): {ended:6.2f} s")
    print(f"  ratio rollout / floor: {back / floor:.2f}")
    verdict = "met" if back <= TARGET else "MISSED"
    print(f"  target: the fleet back within {TARGET:g} s of the verdict: {verdict}")


if __name__ == "__main__":
    main()
