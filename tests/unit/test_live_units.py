"""Pure pieces of the live state: session transitions, the coalescing writer, metrics
rendering, and the drift rules of the reconciler against a FakeSpeaker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, event, text

from sdwan.domain.bgp import PeerConfig
from sdwan.domain.session import SessionObservation, advance, down_reason
from sdwan.events.log import EventLog
from sdwan.gobgp._pb import gobgp_pb2 as pb
from sdwan.gobgp.watch import observation_from_peer
from sdwan.live.writer import LiveWriter
from sdwan.metrics import Gauge, Labels, Metrics
from sdwan.service.live import LiveService
from sdwan.store import repo
from sdwan.store.batch_writer import BatchWriter
from sdwan.store.db import make_engine, migrate, sqlite_url
from tests.support.api import ROUTER
from tests.support.speaker import FakeSpeaker
from tests.support.store import committed
from tests.support.waits import wait_for

T0 = datetime(2024, 1, 1, tzinfo=UTC)
SOCK: str = ROUTER["api_address"]


def test_flap_counts_and_reason() -> None:
    up = advance(None, SessionObservation("198.18.0.1", "ESTABLISHED"), now=T0, reason="")
    assert up.established_at == T0 and up.flap_count == 0 and up.last_down_reason == ""
    before = SessionObservation("198.18.0.1", "ESTABLISHED", notifications_received=0,
                                notifications_sent=0, received=5, accepted=5)  # fmt: skip
    went = SessionObservation("198.18.0.1", "ACTIVE", notifications_received=1,
                              notifications_sent=0, received=0, accepted=0)  # fmt: skip
    reason = down_reason(went, before)
    assert reason == "NOTIFICATION received from the peer"
    down = advance(up, went, now=T0 + timedelta(seconds=5), reason=reason)
    assert (down.state, down.flap_count, down.established_at) == ("ACTIVE", 1, None)
    assert down.last_down_reason == reason and down.last_down_at == T0 + timedelta(seconds=5)
    # staying down is not another flap; coming back keeps the count
    again = advance(down, SessionObservation("198.18.0.1", "CONNECT"), now=T0, reason="x")
    assert again.flap_count == 1 and again.last_down_reason == reason
    back = advance(again, SessionObservation("198.18.0.1", "ESTABLISHED"), now=T0, reason="")
    assert back.flap_count == 1 and back.established_at == T0
    assert down_reason(SessionObservation("a", "IDLE", admin_down=True), None).startswith("admin")
    assert down_reason(SessionObservation("a", "IDLE", removed=True), None).startswith("peer re")
    assert down_reason(SessionObservation("a", "ACTIVE"), None).startswith("connection lost")


def test_the_peer_identifier_is_known_while_established_only() -> None:
    """The BGP identifier of the peer's OPEN: kept while the session is Established
    (a watch event without it keeps the one a full read gave), gone once it is not,
    and not carried into the next time it comes up without being reported again."""
    peer = "198.18.0.1"
    up = advance(
        None, SessionObservation(peer, "ESTABLISHED", remote_router_id="198.18.7.1"),
        now=T0, reason="",
    )  # fmt: skip
    assert up.remote_router_id == "198.18.7.1"
    still = advance(up, SessionObservation(peer, "ESTABLISHED"), now=T0, reason="")
    assert still.remote_router_id == "198.18.7.1"
    down = advance(still, SessionObservation(peer, "ACTIVE"), now=T0, reason="x")
    assert down.remote_router_id is None
    back = advance(down, SessionObservation(peer, "ESTABLISHED"), now=T0, reason="")
    assert back.remote_router_id is None  # not the one from before the flap
    new = advance(
        back, SessionObservation(peer, "ESTABLISHED", remote_router_id="198.18.7.2"),
        now=T0, reason="",
    )  # fmt: skip
    assert new.remote_router_id == "198.18.7.2"
    first_down = advance(None, SessionObservation(peer, "IDLE", remote_router_id="198.18.7.1"),
                         now=T0, reason="x")  # fmt: skip
    assert first_down.remote_router_id is None


def test_the_identifier_gobgpd_reports_is_read_only_from_an_established_peer() -> None:
    def observed(state: pb.PeerState.SessionState, router_id: str) -> str | None:
        peer = pb.Peer(
            state=pb.PeerState(neighbor_address="198.18.0.2", session_state=state,
                               router_id=router_id),
        )  # fmt: skip
        return observation_from_peer(peer).remote_router_id

    up = pb.PeerState.ESTABLISHED
    assert observed(up, "198.18.7.1") == "198.18.7.1"
    assert [observed(up, v) for v in ("", "<nil>", "0.0.0.0", "2001:db8::1")] == [None] * 4
    assert observed(pb.PeerState.ACTIVE, "198.18.7.1") is None  # left from an older OPEN


def _neighbor_row(neighbor_id: str, address: str) -> dict[str, Any]:
    stamp = repo.now()
    return {
        "id": neighbor_id, "router_uuid": "r1", "address": address, "peer_asn": 65002,
        "description": "", "local_address": None, "hold_time": 90, "keepalive_interval": 30,
        "passive": False, "ebgp_multihop_ttl": 0, "password_sealed": None,
        "route_reflector_client": False, "enabled": True, "families": ["ipv4-unicast"],
        "status": "ACTIVE", "status_detail": "", "version": 1, "created_at": stamp,
        "updated_at": stamp,
    }  # fmt: skip


def _store_with_router(tmp_path: Path) -> Engine:
    engine = make_engine(sqlite_url(tmp_path / "live.db"))
    migrate(engine)
    stamp = repo.now()
    with engine.begin() as conn:
        repo.insert_routers(conn, rows=[{
            "id": "r1", "project_id": "default", "name": "R1", "router_id": "198.18.0.1",
            "asn": 65001, "api_address": "unix:///x.sock", "listen_port": 179,
            "listen_addresses": [], "description": "", "status": "ACTIVE", "status_detail": "",
            "version": 1, "created_at": stamp, "updated_at": stamp,
        }])  # fmt: skip
        repo.insert_neighbors(conn, rows=[_neighbor_row("n1", "198.18.0.2")])
    return engine


def test_writer_folds_a_batch_in_one_transaction(tmp_path: Path) -> None:
    engine = _store_with_router(tmp_path)
    events = EventLog(engine)
    store_writer = BatchWriter(engine, on_commit=events.notify)
    writer = LiveWriter(store_writer, events)
    commits: list[int] = []
    event.listen(engine, "commit", lambda _conn: commits.append(1))
    # queued before the thread starts: all of it is one batch
    for state in ("ESTABLISHED", "ACTIVE", "ESTABLISHED", "IDLE"):
        writer.observe("r1", [SessionObservation("198.18.0.2", state)])
    writer.observe("r1", [SessionObservation("198.18.9.9", "ACTIVE")])  # not declared: ignored
    store_writer.start()
    try:
        wait_for(lambda: len(events.read(since=0, limit=100, kind="session.")) == 4)
        assert commits == [1]
        sessions = events.read(since=0, limit=100, kind="session.")
        assert [e["data"]["session_state"] for e in sessions] == [
            "ESTABLISHED", "ACTIVE", "ESTABLISHED", "IDLE",
        ]  # fmt: skip
        assert sessions[-1]["data"]["flap_count"] == 2
        # the same state again is not an event
        writer.observe("r1", [SessionObservation("198.18.0.2", "IDLE")])
        assert committed(store_writer)
        assert len(events.read(since=0, limit=100, kind="session.")) == 4
    finally:
        store_writer.stop()
        engine.dispose()


def _samples(text: str) -> dict[tuple[str, Labels], float]:
    """Every sample of an exposition, as the Prometheus client library parses it."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_text_format() -> None:
    metrics = Metrics()
    metrics.inc("sdwan_reconcile_runs_total", router='R"1', kind="full")
    metrics.observe("sdwan_reconcile_duration_seconds", 0.02, router="R1")
    metrics.reading("sdwan_reconcile_queue_depth", "due", lambda: 7)
    text = metrics.render([Gauge("sdwan_x", "help", [((("router", "R1"),), 3.0)])])
    assert 'sdwan_reconcile_runs_total{kind="full",router="R\\"1"} 1' in text
    samples = _samples(text)
    assert samples[("sdwan_reconcile_runs_total", (("kind", "full"), ("router", 'R"1')))] == 1
    bucket = "sdwan_reconcile_duration_seconds_bucket"
    assert samples[(bucket, (("le", "0.01"), ("router", "R1")))] == 0
    assert samples[(bucket, (("le", "0.025"), ("router", "R1")))] == 1
    assert samples[(bucket, (("le", "+Inf"), ("router", "R1")))] == 1
    assert samples[("sdwan_reconcile_duration_seconds_count", (("router", "R1"),))] == 1
    assert samples[("sdwan_reconcile_queue_depth", ())] == 7
    assert "# TYPE sdwan_x gauge" in text and samples[("sdwan_x", (("router", "R1"),))] == 3
    # families with no series yet are listed; the process's collectors are there
    assert "# TYPE sdwan_drift_repairs_total counter" in text
    assert "# TYPE sdwan_http_request_duration_seconds histogram" in text
    assert any(name == "process_cpu_seconds_total" for name, _ in samples)
    assert any(name == "python_gc_collections_total" for name, _ in samples)


def test_metrics_keep_filters_series_not_families() -> None:
    metrics = Metrics()
    metrics.inc("sdwan_reconcile_runs_total", router="mine", kind="full")
    metrics.inc("sdwan_reconcile_runs_total", router="theirs", kind="full")
    text = metrics.render(keep=lambda labels: dict(labels).get("router") == "mine")
    assert 'router="mine"' in text and "theirs" not in text
    assert "# TYPE sdwan_reconcile_runs_total counter" in text
    assert "\nprocess_cpu_seconds_total " not in text  # no router label: not theirs to see


def _with_stray_peer(
    client: TestClient, speakers: dict[str, FakeSpeaker], mode: str
) -> FakeSpeaker:
    assert client.post("/v1/routers", json={**ROUTER, "drift_mode": mode}).status_code == 201
    item = {"router": "GoBGP-1", "address": "198.18.11.1", "peer_asn": 65000}
    assert client.post("/v1/neighbors", json=item).status_code == 201
    wait_for(lambda: SOCK in speakers and "198.18.11.1" in speakers[SOCK].peers, what="added")
    fake = speakers[SOCK]
    fake.peers["198.18.99.9"] = PeerConfig(address="198.18.99.9", peer_asn=65099)
    fake.peers["198.18.11.1"] = PeerConfig(address="198.18.11.1", peer_asn=65000, hold_time=40)
    return fake


def test_repair_mode_repairs_drift(client: TestClient, speakers: dict[str, FakeSpeaker]) -> None:
    fake = _with_stray_peer(client, speakers, "repair")
    # the fake reports no restart, so only the periodic pass finds it: ask for one
    client.app.state.services.routers._notifier.router_changed(  # type: ignore[attr-defined]
        client.get("/v1/routers/GoBGP-1").json()["id"]
    )
    wait_for(lambda: "198.18.99.9" not in fake.peers, what="stray peer deleted")
    wait_for(lambda: fake.peers["198.18.11.1"].hold_time == 90, what="hold time repaired")
    neighbor = client.get("/v1/neighbors").json()["items"][0]
    wait_for(
        lambda: (
            client.get(f"/v1/neighbors/{neighbor['id']}").json()["status_detail"]
            == "drift repaired: peer 198.18.11.1: hold_time changed on gobgpd"
        ),
        what="neighbor detail",
    )
    events = client.get("/v1/events", params={"kind": "drift."}).json()["items"]
    assert events and events[-1]["kind"] == "drift.repaired"


def test_report_mode_leaves_gobgpd_alone(
    client: TestClient, speakers: dict[str, FakeSpeaker]
) -> None:
    fake = _with_stray_peer(client, speakers, "report")
    router_id = client.get("/v1/routers/GoBGP-1").json()["id"]
    client.app.state.services.routers._notifier.router_changed(router_id)  # type: ignore[attr-defined]
    detail = wait_for(
        lambda: (
            (d := client.get("/v1/routers/GoBGP-1").json()["status_detail"]).startswith(
                "drift (report-only)"
            )
            and d
        ),
        what="drift reported",
    )
    assert "198.18.99.9" in detail and "hold_time" in detail
    assert "198.18.99.9" in fake.peers and fake.peers["198.18.11.1"].hold_time == 40
    calls = [c for c in fake.calls if c.startswith(("AddPeer", "DeletePeer", "UpdatePeer"))]
    assert calls == ["AddPeer 198.18.11.1"]  # only the user's own create


def test_events_and_metrics_api_errors(client: TestClient) -> None:
    assert client.get("/v1/events", params={"since": -1}).status_code == 422
    bad = client.get("/v1/events", headers={"Last-Event-ID": "abc", "Accept": "text/event-stream"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "Last-Event-ID"
    assert client.get("/v1/events", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": ""}).status_code == 401
    wrong = client.post("/v1/routers", json={**ROUTER, "drift_mode": "ignore"})
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "drift_mode"
    created = client.post("/v1/routers", json=ROUTER).json()
    assert created["drift_mode"] == "repair"
    history = client.get("/v1/events").json()
    assert history["items"][0]["kind"] == "resource.created"
    assert history["items"][0]["resource_id"] == created["id"]
    assert history["last_id"] == history["items"][-1]["id"]
    after = client.get("/v1/events", params={"since": history["items"][0]["id"]}).json()
    later = [e["id"] for e in history["items"][1:]]  # the worker may add more meanwhile
    assert [e["id"] for e in after["items"]][: len(later)] == later
    assert all(e["id"] > history["items"][0]["id"] for e in after["items"])


def test_sse_parsing() -> None:
    from sdwan.cli.sse import parse

    lines = [": sdwan events", "", "id: 7", "event: x", 'data: {"id": 7}', "", ": keep-alive", ""]
    assert list(parse(iter(lines))) == [{"id": 7}]


def test_writer_learns_new_and_recreated_neighbors_without_reading_them_all(
    tmp_path: Path,
) -> None:
    """A neighbor added later is looked up alone (not the router's whole list), and one
    deleted and declared again at the same address gets its live row under its new id."""
    engine = _store_with_router(tmp_path)
    with engine.begin() as conn:
        repo.insert_neighbors(
            conn, rows=[_neighbor_row(f"m{i}", f"198.18.1.{i}") for i in range(1, 200)]
        )
    events = EventLog(engine)
    store_writer = BatchWriter(engine, on_commit=events.notify)
    writer = LiveWriter(store_writer, events)
    store_writer.start()
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    def live_ids() -> set[str]:
        with engine.connect() as conn:
            return set(conn.execute(text("SELECT neighbor_id FROM neighbor_live")).scalars())

    try:
        writer.observe("r1", [SessionObservation("198.18.0.2", "ACTIVE")])
        assert committed(store_writer)
        with engine.begin() as conn:
            repo.insert_neighbors(conn, rows=[_neighbor_row("n2", "198.18.0.3")])
        event.listen(engine, "before_cursor_execute", record)
        writer.observe("r1", [SessionObservation("198.18.0.3", "ACTIVE")])
        assert committed(store_writer)
        event.remove(engine, "before_cursor_execute", record)
        lookups = [s for s in statements if "FROM neighbors" in s and "neighbors.address" in s]
        assert lookups and all(" IN (" in s for s in lookups), statements
        assert {"n1", "n2"} <= live_ids()

        with engine.begin() as conn:  # n2 deleted, the address declared again as n3
            conn.execute(text("DELETE FROM neighbors WHERE id = 'n2'"))
            repo.insert_neighbors(conn, rows=[_neighbor_row("n3", "198.18.0.3")])
        writer.observe("r1", [SessionObservation("198.18.0.3", "IDLE")])
        assert committed(store_writer)
        writer.observe("r1", [SessionObservation("198.18.0.3", "ACTIVE")])
        assert committed(store_writer)
        assert "n3" in live_ids()
    finally:
        store_writer.stop()
        engine.dispose()


def test_the_live_writer_stores_and_clears_the_peer_identifier(tmp_path: Path) -> None:
    """Through the writer's fold into neighbor_live and out of the API's live fields:
    the identifier while Established (filled in by a pass's counters when the event
    lacked it), null once the session left Established; the events carry it."""
    engine = _store_with_router(tmp_path)
    events = EventLog(engine)
    store_writer = BatchWriter(engine, on_commit=events.notify)
    writer = LiveWriter(store_writer, events)
    live = LiveService(engine=engine, events=events, metrics=Metrics())
    peer = "198.18.0.2"

    def shown() -> Any:
        return live.sessions(["n1"])["n1"]["remote_router_id"]

    store_writer.start()
    try:
        writer.observe("r1", [SessionObservation(peer, "ESTABLISHED")])
        assert committed(store_writer)
        assert shown() is None  # the watch event did not carry it
        counted = SessionObservation(peer, "ESTABLISHED", received=3, accepted=3,
                                     remote_router_id="198.18.7.2")  # fmt: skip
        writer.counters("r1", [counted])
        assert committed(store_writer)
        assert shown() == "198.18.7.2"
        writer.observe("r1", [SessionObservation(peer, "ACTIVE")])
        again = SessionObservation(peer, "ESTABLISHED", remote_router_id="198.18.7.3")
        writer.observe("r1", [again])
        assert committed(store_writer)
        assert shown() == "198.18.7.3"
        writer.observe("r1", [SessionObservation(peer, "IDLE")])
        assert committed(store_writer)
        assert shown() is None
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT remote_router_id FROM neighbor_live")).scalar()
        assert stored is None
        sessions = events.read(since=0, limit=100, kind="session.")
        assert [(e["data"]["session_state"], e["data"]["remote_router_id"]) for e in sessions] == [
            ("ESTABLISHED", None), ("ACTIVE", None), ("ESTABLISHED", "198.18.7.3"), ("IDLE", None),
        ]  # fmt: skip
    finally:
        store_writer.stop()
        engine.dispose()
