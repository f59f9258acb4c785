"""The dashboard against a real orchestrator and two real gobgpd peering in network
namespaces, in Chromium: log in, create a router and a neighbor through the forms and
see them on the topology, watch the session turn Established and back to down live,
find a learned route in the RIB explorer, a reader without write controls, a
conflicting edit, a session-resetting change confirmed first. Screenshots for
docs/ui.md are taken on the way. The tests run in order and build on each other."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Browser, Page, expect

from sdwan.lab import GobgpdProcess, wait_for
from tests.support.dashboard import (
    Dashboard,
    Monitor,
    gobgpd_lab,
    screenshot,
    start_dashboard,
    stop_dashboard,
)

A_ADDR, B_ADDR = "198.18.102.1", "198.18.102.2"
PREFIX = "203.0.113.0/24"
WRITE_CONTROLS: tuple[str, ...] = ("#new-router", "#new-neighbor", "#edit", "#delete")
WRITE_CONTROLS += ("#fleet-plan-button", "#fleet-apply", "button.danger")
LIVE = 60_000  # ms: a session between two fresh gobgpd comes up within seconds


@dataclass
class Pair:
    a: GobgpdProcess
    b: GobgpdProcess


@dataclass
class Ids:
    router_a: str = ""
    router_b: str = ""
    neighbor_ab: str = ""  # A's neighbor B, made through the form


IDS = Ids()


@pytest.fixture(scope="module")
def pair(lab_environment: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    with gobgpd_lab(lab_environment, tmp_path_factory.mktemp("gobgpd"), "t") as (lab, factory):
        ns_a, ns_b = lab.namespace("a"), lab.namespace("b")
        lab.link(ns_a, "a0", ns_b, "b0", addrs_a=[f"{A_ADDR}/30"], addrs_b=[f"{B_ADDR}/30"])
        yield Pair(factory("a", netns=ns_a), factory("b", netns=ns_b))


@pytest.fixture(scope="module")
def ui(
    pair: Pair, browser: Browser, monitor: Monitor, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Dashboard]:
    workdir: Path = tmp_path_factory.mktemp("orchestrator")
    server, dashboard = start_dashboard(
        workdir, browser, monitor, extra_env={"SDWAN_RECONCILE_INTERVAL": "2"}
    )
    dashboard.add_user("alice", "member")
    dashboard.add_user("rita", "reader")
    yield dashboard
    stop_dashboard(server, dashboard)


@pytest.fixture(scope="module")
def alice(ui: Dashboard) -> Page:
    return ui.login("alice")


def test_login_then_create_router_and_neighbor_through_the_forms(
    ui: Dashboard, alice: Page, pair: Pair
) -> None:
    login = ui.page()
    ui.open(login, "login")
    expect(login.locator("#login-form")).to_be_visible()
    screenshot(login, "login")
    login.context.close()

    page = alice
    ui.open(page, "routers")
    page.click("#new-router")
    page.fill("#field-name", "A")
    page.fill("#field-router_id", A_ADDR)
    page.fill("#field-asn", "65001")
    page.fill("#field-api_address", pair.a.api_address)
    page.click("#form-submit")
    expect(page.locator("h1")).to_contain_text("Router A")
    IDS.router_a = page.url.rsplit("/", 1)[1]
    expect(page.locator("h1 .badge")).to_have_text("ACTIVE", timeout=LIVE)
    applied = page.locator('.conditions tr[data-type="Applied"]')  # the API's conditions
    expect(applied).to_contain_text("True", timeout=LIVE)
    expect(page.locator('.conditions tr[data-type="Reachable"]')).to_contain_text(
        "Answering", timeout=LIVE
    )
    loose_text = "el => [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.data).join('')"
    assert page.locator(".detail").evaluate(loose_text) == ""  # an absent part printed no "null"

    ui.open(page, "neighbors/new?router=A")
    page.select_option("#field-router", "A")
    page.fill("#field-address", B_ADDR)
    page.fill("#field-peer_asn", "65002")
    page.fill("#field-hold_time", "9")
    page.fill("#field-keepalive_interval", "3")
    page.click("#form-submit")
    expect(page.locator("h1")).to_contain_text(f"Neighbor A/{B_ADDR}")
    IDS.neighbor_ab = page.url.rsplit("/", 1)[1]

    ui.open(page, "topology")
    expect(page.locator("#topology-canvas[data-ready=true]")).to_be_attached()
    assert page.evaluate("id => window.sdwanTopology.hasNode(id)", IDS.router_a)
    state = page.evaluate("id => window.sdwanTopology.edgeState(id)", IDS.neighbor_ab)
    assert state is not None and state != "ESTABLISHED"  # B is not declared yet
    assert f"{B_ADDR} (AS65002)" in page.evaluate("window.sdwanTopology.nodeLabels()")


def _edge_state_is(page: Page, state: str, negate: bool = False) -> None:
    test = "!==" if negate else "==="
    page.wait_for_function(
        f"([id, s]) => window.sdwanTopology && window.sdwanTopology.edgeState(id) {test} s",
        arg=[IDS.neighbor_ab, state],
        timeout=LIVE,
    )


def test_session_goes_established_and_down_live_on_the_topology(
    ui: Dashboard, alice: Page, pair: Pair
) -> None:
    page = alice
    ui.open(page, "topology")
    expect(page.locator("#topology-canvas[data-ready=true]")).to_be_attached()
    page.evaluate("window.__sameDocument = true")
    with ui.api() as api:
        router_b = {
            "name": "B",
            "router_id": B_ADDR,
            "asn": 65002,
            "api_address": pair.b.api_address,
        }
        created = api.post("/v1/routers", json=router_b)
        assert created.status_code == 201
        IDS.router_b = created.json()["id"]
        back = {
            "router": "B",
            "address": A_ADDR,
            "peer_asn": 65001,
            "hold_time": 9,
            "keepalive_interval": 3,
        }
        assert api.post("/v1/neighbors", json=back).status_code == 201

    _edge_state_is(page, "ESTABLISHED")
    assert page.evaluate("id => window.sdwanTopology.edgeColor(id)", IDS.neighbor_ab) == "#2e9d48"
    expect(page.locator("#topology-summary")).to_contain_text("established")
    assert int(page.locator("#topology-summary").get_attribute("data-established") or 0) >= 1
    _point_at_the_session(page)
    screenshot(page, "topology")

    pair.b.kill()  # the peer's daemon dies: A's session leaves Established
    _edge_state_is(page, "ESTABLISHED", negate=True)
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    pair.b.start()  # back, empty: the orchestrator re-applies B, the session returns
    _edge_state_is(page, "ESTABLISHED")
    assert page.evaluate("window.__sameDocument") is True


def _point_at_the_session(page: Page) -> None:
    """Hover router A, then the A-B edge (the midpoint of the two routers), with the
    mouse: the details panel shows the router, then the session's live figures."""
    box = page.locator("#topology-canvas").bounding_box()
    assert box is not None
    a, b = (
        page.evaluate("id => window.sdwanTopology.nodePosition(id)", node)
        for node in (IDS.router_a, IDS.router_b)
    )
    page.mouse.move(box["x"] + a["x"], box["y"] + a["y"])
    details = page.locator("#topology-details")
    expect(details).to_contain_text("Router A")
    expect(details).to_contain_text("1 of 1 established")
    middle = (box["x"] + (a["x"] + b["x"]) / 2, box["y"] + (a["y"] + b["y"]) / 2)
    page.mouse.move(*middle, steps=4)
    expect(details).to_contain_text("Uptime")
    expect(details).to_contain_text("Prefixes received")
    expect(details).to_contain_text("ESTABLISHED")
    page.mouse.click(*middle)
    page.mouse.move(box["x"] + 2, box["y"] + 2)  # leave: the clicked session stays shown
    expect(details).to_contain_text("Flaps")


def test_rib_explorer_shows_the_route_learned_over_the_session(ui: Dashboard, alice: Page) -> None:
    with ui.api() as api:
        announced = api.post(
            "/v1/announcements",
            json={"router": "B", "prefix": PREFIX, "communities": ["65002:100"]},
        )
        assert announced.status_code == 201, announced.text
        wait_for(
            lambda: api.get("/v1/routers/A/rib", params={"prefix": PREFIX}).json()["items"],
            timeout=LIVE / 1000,
            what=f"{PREFIX} in A's RIB through the API",
        )
    page = alice
    ui.open(page, "rib?router=A")
    row = page.locator(f'#rib-table-view tr[data-prefix="{PREFIX}"]')
    expect(row).to_contain_text("★ best")
    expect(row).to_contain_text("65002")
    row.locator("button").click()
    paths = page.locator("#prefix-paths")
    expect(paths).to_contain_text("chosen by gobgpd")
    expect(paths).to_contain_text("65002:100")
    graph = page.locator("#aspath-graph")
    expect(graph).to_have_attribute("data-nodes", "3")  # AS65001 -> AS65002 -> prefix
    screenshot(page, "rib")

    page.select_option("#rib-table", "in")
    page.click("#rib-search")
    expect(page.locator(f'#rib-table-view tr[data-prefix="{PREFIX}"]')).to_contain_text(B_ADDR)


def test_a_reader_sees_no_write_control(ui: Dashboard) -> None:
    page = ui.login("rita")
    write_controls = ", ".join(WRITE_CONTROLS)
    for route, ready in [
        ("routers", "#routers-table tbody tr[data-id]"),
        (f"routers/{IDS.router_a}", "#router-neighbors tr[data-id]"),
        ("neighbors", "#neighbors-table tbody tr[data-id]"),
        (f"neighbors/{IDS.neighbor_ab}", "#recent-events"),
        ("fleet", "#fleet-yaml"),
        ("topology", "#topology-canvas[data-ready=true]"),
    ]:
        ui.open(page, route)
        expect(page.locator(ready).first).to_be_attached()
        assert page.locator(write_controls).count() == 0, f"write control on {route}"
    expect(page.locator("#whoami")).to_contain_text("reader")
    page.click("#logout")
    expect(page.locator("#login-form")).to_be_visible()
    page.context.close()


def test_a_conflicting_edit_shows_the_conflict(
    ui: Dashboard, alice: Page, monitor: Monitor
) -> None:
    page = alice
    ui.open(page, f"routers/{IDS.router_a}")
    page.click("#edit")
    expect(page.locator("#edit-form")).to_be_visible()
    with ui.api() as api:  # someone else changes the router meanwhile
        assert (
            api.patch("/v1/routers/A", json={"description": "edited elsewhere"}).status_code == 200
        )
    monitor.allowed = {412}
    page.fill("#field-description", "my edit")
    page.click("#form-submit")
    conflict = page.locator("#conflict")
    expect(conflict).to_contain_text("someone else changed this router")
    expect(conflict).to_contain_text('description was changed from "" to "edited elsewhere"')
    page.click("#conflict-reload")
    expect(page.locator("#field-description")).to_have_value("edited elsewhere")
    with ui.api() as api:
        assert api.get("/v1/routers/A").json()["description"] == "edited elsewhere"
    screenshot(page, "conflict")


def test_a_session_resetting_change_asks_first(ui: Dashboard, alice: Page) -> None:
    page = alice
    ui.open(page, f"neighbors/{IDS.neighbor_ab}")
    expect(page.locator("h1 .badge").first).to_have_text("ACTIVE", timeout=LIVE)
    expect(page.locator('.conditions tr[data-type="Applied"]')).to_contain_text("True")
    page.click("#edit")
    page.fill("#field-peer_asn", "65003")
    page.click("#form-submit")
    dialog = page.locator("dialog.confirm")
    expect(dialog).to_contain_text("resets the BGP session")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.locator(".form-status")).to_contain_text("Not applied")
    page.fill("#field-description", "transit B")  # a change that resets nothing: no question
    page.fill("#field-peer_asn", "65002")
    page.click("#form-submit")
    expect(page.locator(".message.ok")).to_contain_text("Saved")
    with ui.api() as api:
        neighbor = api.get(f"/v1/neighbors/{IDS.neighbor_ab}").json()
    assert (neighbor["peer_asn"], neighbor["description"]) == (65002, "transit B")
    expect(page.locator("#recent-events")).to_contain_text("resource.updated")
    expect(page.locator("#object-audit")).to_contain_text("alice")
    screenshot(page, "neighbor")


def test_the_other_pages_for_the_docs(ui: Dashboard, alice: Page) -> None:
    page = alice
    with ui.api() as api:
        fleet = api.get("/v1/fleet/export", params={"router": "A"}).json()
    fleet["routers"][0]["neighbors"][0]["hold_time"] = 12
    fleet["routers"][0]["neighbors"][0]["keepalive_interval"] = 4
    ui.open(page, "fleet")
    page.fill("#fleet-yaml", yaml.safe_dump(fleet, sort_keys=False))
    page.click("#fleet-plan-button")
    plan = page.locator("#fleet-plan")
    expect(plan).to_contain_text("hold_time")
    expect(plan).to_contain_text("12")
    screenshot(page, "fleet")
    page.click("#fleet-apply")
    expect(page.locator("#fleet-status")).to_contain_text("Applied 1 change(s)")
    with ui.api() as api:
        assert api.get(f"/v1/neighbors/{IDS.neighbor_ab}").json()["hold_time"] == 12

    for route, ready, name in [
        ("routers", "#routers-table tbody tr[data-id]", "routers"),
        (f"routers/{IDS.router_a}", "#router-neighbors tr[data-id]", "router"),
        ("policy?router=B", "#announcements", "policy"),
        ("events", "#events-table tbody tr", "events"),
        ("audit", "#audit-table tbody tr[data-id]", "audit"),
    ]:
        ui.open(page, route)
        expect(page.locator(ready).first).to_be_attached()
        screenshot(page, name)
    ui.open(page, "audit?actor=alice&resource_type=neighbor")
    expect(page.locator("#audit-table")).to_contain_text("hold_time")
