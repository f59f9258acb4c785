"""The quality controller against in-process probe agents (their real control server
over unix sockets, reports set by the test) and a real store: configurations pushed
and kept, far agents' addresses as default targets, reports folded into rows and
events, an agent that goes away, and intents steered on their SLA class (demote at
once, return after the hold-down, persisted across a restart)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sdwan.quality.controller import QualityController
from sdwan.service import intent_sync
from sdwan.service.uow import DeferredCalls
from sdwan.store import intent_repo, quality_repo
from tests.support.probe_agent import report
from tests.support.quality_world import World, build_world
from tests.support.waits import wait_for

GOLD_MET = {"gold": ("met", "")}
LOSSY = {"gold": ("violated", "loss 6.1 % > 2 %")}


@pytest.fixture
def world(tmp_path: Path, database_url: str) -> Iterator[World]:
    yield from build_world(tmp_path, database_url)


@pytest.fixture
def running(world: World) -> Iterator[QualityController]:
    world.start_agent("tk")
    world.start_agent("os")
    controller = world.controller()
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def configured(world: World, router: str) -> dict[str, str]:
    return wait_for(
        lambda: world.agents[router].uplink_ids() or None, what=f"{router}'s agent configured"
    )


def test_agents_are_configured_and_far_agents_become_targets(
    world: World,
    running: QualityController,
) -> None:
    tk, os_ = world.agents["tk"], world.agents["os"]
    assert set(configured(world, "tk")) == {"tokyo/mpls", "tokyo/inet"}
    assert set(configured(world, "os")) == {"osaka/mpls", "osaka/inet"}
    assert tk.targets() == {"tokyo/mpls": None, "tokyo/inet": None}  # no far address yet
    # Osaka's agent tells its own addresses: Tokyo's uplinks probe them, by transport
    os_.set("osaka/mpls", report("unknown", local="198.18.42.1"))
    os_.set("osaka/inet", report("unknown", local="198.18.52.1"))
    wait_for(
        lambda: tk.targets() == {"tokyo/mpls": "198.18.42.1", "tokyo/inet": "198.18.52.1"},
        what="Tokyo probing Osaka's agent",
    )
    assert all(not u["classes"] for u in tk.current.to_json()["uplinks"])
    # an SLA class on the intent: Tokyo's uplinks are checked against it
    world.set_class(loss_pct=2.0, latency_ms=50.0)
    wait_for(
        lambda: all(
            [c["name"] for c in u["classes"]] == ["gold"] for u in tk.current.to_json()["uplinks"]
        ),
        what="gold in Tokyo's configuration",
    )
    gold = tk.current.to_json()["uplinks"][0]["classes"][0]
    assert (gold["loss_pct"], gold["latency_ms"], gold["jitter_ms"]) == (2.0, 50.0, None)
    # a restarted agent (generation 0) gets its configuration again
    generation = tk.current.generation
    tk.stop()
    fresh = world.start_agent("tk")
    wait_for(lambda: fresh.current.generation == generation, what="the configuration again")
    assert fresh.targets()["tokyo/mpls"] == "198.18.42.1"


def test_reports_become_rows_and_events_and_a_lost_agent_makes_them_unknown(
    world: World,
    running: QualityController,
) -> None:
    world.set_class()
    tk = world.agents["tk"]
    ids = configured(world, "tk")
    wait_for(lambda: tk.current.uplinks[0].classes, what="the class configured")
    tk.set("tokyo/mpls", report(local="198.18.41.1", classes=GOLD_MET))
    tk.set("tokyo/inet", report(local="198.18.51.1", classes=GOLD_MET))

    def row(name: str) -> quality_repo.UplinkQualityRecord | None:
        with world.runtime.engine.connect() as conn:
            return quality_repo.quality_of(conn, uplink_ids=[ids[name]]).get(ids[name])

    def up(name: str) -> quality_repo.UplinkQualityRecord | None:
        found = row(name)
        return found if found is not None and found.state == "up" else None

    stored = wait_for(lambda: up("tokyo/mpls"), what="a row")
    assert stored.local_address == "198.18.41.1"
    assert stored.classes["gold"]["state"] == "met"
    assert stored.agent == f"unix://{world.socket('tk')}.probe"
    tk.set("tokyo/mpls", report(local="198.18.41.1", classes=LOSSY, loss=6.1))
    wait_for(
        lambda: (
            "uplink tokyo/mpls: violates gold: loss 6.1 % > 2 %"
            in [e["message"] for e in world.events("uplink.quality")]
        ),
        what="the violation's event",
    )
    tk.set("tokyo/mpls", report("dead", local="198.18.41.1", classes=LOSSY, loss=100.0))
    wait_for(lambda: (r := row("tokyo/mpls")) and r.state == "dead", what="dead stored")
    messages = [e["message"] for e in world.events("uplink.quality")]
    assert "uplink tokyo/mpls: dead (probes unanswered)" in messages
    assert "uplink tokyo/mpls: up" in messages  # from nothing to up: said once
    assert messages.count("uplink tokyo/mpls: violates gold: loss 6.1 % > 2 %") == 1
    event = next(e for e in world.events("uplink.quality") if "dead" in e["message"])
    assert event["resource_type"] == "uplink" and event["router_name"] == "tk"
    # the agent goes away: what it measured is unknown now, and said so
    tk.stop()
    wait_for(lambda: (r := row("tokyo/inet")) and r.state == "unknown", what="inet unknown")
    gone = [e["message"] for e in world.events("uplink.quality") if "unknown" in e["message"]]
    assert {m.split(":")[0] for m in gone} == {"uplink tokyo/mpls", "uplink tokyo/inet"}
    assert all("probe agent unreachable" in m for m in gone)


def _steering_events(world: World) -> list[str]:
    return [e["message"] for e in world.events("intent.steering")]


def test_a_violation_demotes_at_once_and_the_return_waits_for_the_hold_down(
    world: World,
    running: QualityController,
) -> None:
    # the minimum interval leaves a loaded machine 5 s to send the violation after
    # the return; the return waits for it too (5 s after the demotion)
    world.set_class(hold_down_s=1.0, min_interval_s=5.0)
    tk = world.agents["tk"]
    configured(world, "tk")
    wait_for(lambda: tk.current.uplinks[0].classes, what="the class configured")
    tk.set("tokyo/inet", report(classes=GOLD_MET))
    tk.set("tokyo/mpls", report(classes=GOLD_MET))
    assert world.local_prefs() == {"mpls": 300, "inet": 200}
    tk.set("tokyo/mpls", report(classes=LOSSY, loss=6.1))
    wait_for(lambda: world.local_prefs() == {"inet": 300, "mpls": 200}, what="mpls demoted")
    assert _steering_events(world) == [
        "intent tokyo/to-osaka: mpls demoted: loss 6.1 % > 2 %; traffic on inet"
    ]
    (demoted,) = world.events("intent.steering")  # decided, then written with the policy
    written = datetime.fromisoformat(demoted["time"])
    written_at = (written if written.tzinfo else written.replace(tzinfo=UTC)).timestamp()
    assert demoted["data"]["decided_at"] <= written_at + 0.001
    with world.runtime.engine.connect() as conn:
        state = quality_repo.get_steering(conn, intent_ids=[world.intent_id])[world.intent_id]
    assert list(state.state["demoted"]) == ["mpls"]
    tiers = world.client.get(f"/v1/intents/{world.intent_id}").json()["tiers"]
    assert tiers == [["inet"], ["mpls"]]  # in force: the steered ones
    assert world.metrics.value(
        "sdwan_sla_moves_total", router="tk", site="tokyo", uplink="mpls", kind="demote"
    )
    # within the class again: back after the hold-down (1 s), once
    tk.set("tokyo/mpls", report(classes=GOLD_MET))
    met = time.monotonic()
    back = {"mpls": 300, "inet": 200}
    wait_for(lambda: world.local_prefs() == back, timeout=30, what="mpls back")
    assert time.monotonic() - met >= 0.95  # the hold-down, whatever the machine's load
    returned = [m for m in _steering_events(world) if "returned" in m]
    assert returned == ["intent tokyo/to-osaka: mpls returned: met gold for 1 s; traffic on mpls"]
    # a violation within the minimum interval after the return does not move it
    tk.set("tokyo/mpls", report(classes=LOSSY, loss=3.0))
    tk.set("tokyo/inet", report(classes=GOLD_MET, loss=0.1))  # a line after it: folded
    wait_for(
        lambda: running.fold.latest[configured(world, "tk")["tokyo/inet"]].long.loss_pct == 0.1,
        what="both lines folded",
    )
    assert world.local_prefs() == {"mpls": 300, "inet": 200}
    assert len(_steering_events(world)) == 2
    tiers = world.client.get(f"/v1/intents/{world.intent_id}").json()["tiers"]
    assert tiers == [["mpls"], ["inet"]]


def test_a_restart_reads_the_steering_state_and_moves_nothing(
    world: World,
) -> None:
    world.set_class(hold_down_s=30.0)
    tk, _os = world.start_agent("tk"), world.start_agent("os")
    first = world.controller()
    first.start()
    try:
        configured(world, "tk")
        wait_for(lambda: tk.current.uplinks[0].classes, what="the class configured")
        tk.set("tokyo/inet", report(classes=GOLD_MET))
        tk.set("tokyo/mpls", report(classes=LOSSY, loss=6.1))
        wait_for(lambda: world.local_prefs()["inet"] == 300, what="mpls demoted")
        # meeting the class again, the hold-down running: the controller stops
        tk.set("tokyo/mpls", report(classes=GOLD_MET))
        ids = configured(world, "tk")
        wait_for(
            lambda: first.steerer.state(world.intent_id).demoted["mpls"].met_since,  # type: ignore[union-attr]
            what="the hold-down started",
        )
    finally:
        first.stop()
    second = world.controller()
    second.start()
    try:
        wait_for(
            lambda: (
                ids["tokyo/mpls"] in second.fold.latest
                and second.steerer.state(world.intent_id) is not None
            ),
            what="the new controller following",
        )
        state = second.steerer.state(world.intent_id)
        assert state is not None and "mpls" in state.demoted  # read back, not re-decided
        assert world.local_prefs() == {"inet": 300, "mpls": 200}
        assert _steering_events(world) == [
            "intent tokyo/to-osaka: mpls demoted: loss 6.1 % > 2 %; traffic on inet"
        ]
    finally:
        second.stop()


def test_a_new_class_starts_from_nothing_demoted(world: World) -> None:
    """A stored state belongs to the class it was decided for: changing (or clearing)
    the intent's class puts its own tiers back at the next compile."""
    world.set_class()
    tk, _os = world.start_agent("tk"), world.start_agent("os")
    controller = world.controller()
    controller.start()
    try:
        configured(world, "tk")
        wait_for(lambda: tk.current.uplinks[0].classes, what="the class configured")
        tk.set("tokyo/mpls", report(classes=LOSSY, loss=6.1))
        wait_for(lambda: world.local_prefs()["inet"] == 300, what="mpls demoted")
    finally:
        controller.stop()
    world.set_class(name="silver", loss_pct=10.0)
    with world.runtime.engine.begin() as conn:
        site = intent_repo.get_site(conn, key="tokyo")
        assert site is not None
        intent_sync.sync(conn, DeferredCalls(world.runtime.router_controller), site_ids=[site.id])
    assert world.local_prefs() == {"mpls": 300, "inet": 200}


def test_history_is_written_in_buckets(world: World) -> None:
    tk, _os = world.start_agent("tk"), world.start_agent("os")
    controller = world.controller(history_every=0.2)
    controller.start()
    try:
        ids = configured(world, "tk")
        tk.set("tokyo/mpls", report(classes=GOLD_MET, loss=1.0))

        def buckets() -> list[quality_repo.HistoryBucket]:
            with world.runtime.engine.connect() as conn:
                return quality_repo.history(
                    conn,
                    uplink_id=ids["tokyo/mpls"],
                    resolution=10,
                    since=None,
                    until=None,
                    limit=10,
                )

        found = wait_for(lambda: buckets() or None, timeout=30, what="a 10 s bucket")
    finally:
        controller.stop()
    assert found[0].reports >= 1 and found[0].loss_pct == 1.0
    assert isinstance(found[0].bucket_start, datetime)
    assert found[0].bucket_start.timestamp() % 10 == 0
