"""The SD-WAN pages against a real orchestrator and three real gobgpd in network
namespaces: site router A with two uplinks, to provider B (mpls) and provider C
(internet), both announcing one prefix; an intent preferring B. The sites map, the
site page and the intent page show the live verdict and paths; the plan of a flipped
preference shows A's path moving to C, and applying it moves it; C's gobgpd dying
turns its uplink red on the map and the intent DEGRADED, live. The topology draws
each A-B and A-C session as one edge between the routers: A-B by addresses (each
peers at the other's router ID), A-C by C's session reporting A's BGP identifier
(C peers with A at a link address declared nowhere), live when that session comes
up. Screenshots for docs/ui.md are taken on the way. The tests run in order and build
on each other."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from sdwan.lab import GobgpdProcess, wait_for
from tests.support.dashboard import (
    Dashboard,
    Monitor,
    created,
    gobgpd_lab,
    screenshot,
    start_dashboard,
    stop_dashboard,
)

A_B, B_A = "198.18.110.1", "198.18.110.2"  # the A-B link
A_C, C_A = "198.18.110.5", "198.18.110.6"  # the A-C link
FAR = "203.0.113.0/24"
LAN = "198.51.100.0/24"
LIVE = 90_000  # ms: sessions come up, the intent controller checks within seconds
WRITE_CONTROLS = "#edit, #delete, #intent-plan-button, #intent-apply, #plan-prefer"
RED = "#d1382e"


@dataclass
class Trio:
    a: GobgpdProcess
    b: GobgpdProcess
    c: GobgpdProcess


@dataclass
class Ids:
    routers: dict[str, str] = field(default_factory=dict)
    neighbors: dict[str, str] = field(default_factory=dict)  # "AB": A's neighbor B
    site: str = ""
    uplinks: dict[str, str] = field(default_factory=dict)
    intent: str = ""


IDS = Ids()


@pytest.fixture(scope="module")
def trio(lab_environment: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trio]:
    with gobgpd_lab(lab_environment, tmp_path_factory.mktemp("gobgpd"), "s") as (lab, factory):
        ns_a, ns_b, ns_c = lab.namespace("a"), lab.namespace("b"), lab.namespace("c")
        lab.link(ns_a, "ab", ns_b, "ba", addrs_a=[f"{A_B}/30"], addrs_b=[f"{B_A}/30"])
        lab.link(ns_a, "ac", ns_c, "ca", addrs_a=[f"{A_C}/30"], addrs_b=[f"{C_A}/30"])
        yield Trio(factory("a", netns=ns_a), factory("b", netns=ns_b), factory("c", netns=ns_c))


@pytest.fixture(scope="module")
def ui(
    trio: Trio, browser: Browser, monitor: Monitor, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Dashboard]:
    workdir: Path = tmp_path_factory.mktemp("orchestrator")
    env = {"SDWAN_RECONCILE_INTERVAL": "2", "SDWAN_INTENT_CHECK_INTERVAL": "2"}
    server, dashboard = start_dashboard(workdir, browser, monitor, extra_env=env)
    dashboard.add_user("alice", "member")
    dashboard.add_user("rita", "reader")
    timers = {"hold_time": 9, "keepalive_interval": 3}
    with dashboard.api() as api:
        for name, router_id, asn, daemon in [
            ("A", A_B, 65001, trio.a),
            ("B", B_A, 65002, trio.b),
            ("C", C_A, 65003, trio.c),
        ]:
            body = {"name": name, "router_id": router_id, "asn": asn}
            answer = api.post("/v1/routers", json={**body, "api_address": daemon.api_address})
            IDS.routers[name] = created(answer)["id"]
        for key, router, address, asn in [
            ("AB", "A", B_A, 65002),
            ("AC", "A", C_A, 65003),
            ("BA", "B", A_B, 65001),
            ("CA", "C", A_C, 65001),  # A_C names A nowhere: only A's BGP identifier does
        ]:
            body = {"router": router, "address": address, "peer_asn": asn, **timers}
            IDS.neighbors[key] = created(api.post("/v1/neighbors", json=body))["id"]
        for router in ("B", "C"):
            created(api.post("/v1/announcements", json={"router": router, "prefix": FAR}))
        site = {"name": "hq", "routers": [{"router": "A"}], "prefixes": [{"prefix": LAN}]}
        IDS.site = created(api.post("/v1/sites", json=site))["id"]
        for name, neighbor, transport, cost in [
            ("vb", B_A, "mpls", 10),
            ("vc", C_A, "internet", 20),
        ]:
            body = {"site": "hq", "name": name, "router": "A", "neighbor": neighbor}
            body |= {"transport": transport, "cost": cost}
            IDS.uplinks[name] = created(api.post("/v1/uplinks", json=body))["id"]
        intent = {
            "site": "hq",
            "name": "far",
            "destination": {"type": "prefixes", "prefixes": [{"prefix": FAR}]},
            "prefer": [["vb"], ["vc"]],
        }
        IDS.intent = created(api.post("/v1/intents", json=intent))["id"]
    yield dashboard
    stop_dashboard(server, dashboard)


@pytest.fixture(scope="module")
def alice(ui: Dashboard) -> Page:
    return ui.login("alice")


def _verdict(ui: Dashboard) -> str | None:
    with ui.api() as api:
        verification = api.get(f"/v1/intents/{IDS.intent}").json()["verification"]
    return verification["verdict"] if verification else None


def _used_uplink(ui: Dashboard) -> str | None:
    with ui.api() as api:
        verification = api.get(f"/v1/intents/{IDS.intent}").json()["verification"]
    paths = verification["paths"] if verification else []
    return paths[0]["actual"]["uplink"] if paths and paths[0].get("actual") else None


def _established(ui: Dashboard, key: str) -> bool:
    with ui.api() as api:
        state = api.get(f"/v1/neighbors/{IDS.neighbors[key]}").json()["session_state"]
    return bool(state == "ESTABLISHED")


def _identified(ui: Dashboard, key: str) -> str | None:
    """The BGP identifier the neighbor's session reports (None unless Established)."""
    with ui.api() as api:
        identifier = api.get(f"/v1/neighbors/{IDS.neighbors[key]}").json()["remote_router_id"]
    return str(identifier) if identifier else None


def _set_enabled(ui: Dashboard, key: str, enabled: bool) -> None:
    with ui.api() as api:
        answer = api.patch(f"/v1/neighbors/{IDS.neighbors[key]}", json={"enabled": enabled})
        assert answer.status_code == 200, answer.text


def test_the_sites_map_shows_the_site_and_its_uplinks_live(ui: Dashboard, alice: Page) -> None:
    for key in ("AB", "AC"):
        wait_for(partial(_established, ui, key), timeout=LIVE / 1000, what=f"{key} up")
    wait_for(lambda: _verdict(ui) == "VERIFIED", timeout=LIVE / 1000, what="intent VERIFIED")
    page = alice
    ui.open(page, "sites")
    expect(page.locator("#sites-canvas[data-ready=true]")).to_be_attached()
    expect(page.locator("#sites-summary")).to_contain_text("1 sites · 2 uplinks (2 up")
    expect(page.locator("#sites-summary")).to_contain_text("1 VERIFIED")
    for uplink in ("vb", "vc"):
        color = page.evaluate("id => window.sdwanSites.edgeColor(id)", IDS.uplinks[uplink])
        assert color == "#2e9d48", (uplink, color)
    assert page.evaluate("id => window.sdwanSites.siteVerdict(id)", IDS.site) == "VERIFIED"
    position = page.evaluate("id => window.sdwanSites.nodePosition(id)", IDS.site)
    box = page.locator("#sites-canvas").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + position["x"], box["y"] + position["y"])
    details = page.locator("#sites-details")
    expect(details).to_contain_text("Site hq")
    expect(details).to_contain_text("far")
    screenshot(page, "sites")


def test_the_site_page_lists_routers_uplinks_and_intents(ui: Dashboard, alice: Page) -> None:
    page = alice
    ui.open(page, f"sites/{IDS.site}")
    expect(page.locator("h1")).to_contain_text("Site hq")
    expect(page.locator("#site-routers")).to_contain_text("A")
    expect(page.locator("#site-routers")).to_contain_text("reachable")
    uplinks = page.locator("#site-uplinks")
    expect(uplinks.locator('tr[data-name="vb"]')).to_contain_text("ESTABLISHED")
    expect(uplinks.locator('tr[data-name="vc"]')).to_contain_text("internet")
    intent = page.locator('#site-intents tr[data-name="far"]')
    expect(intent).to_have_attribute("data-verdict", "VERIFIED")
    expect(intent).to_contain_text("vb; vc")
    # no path-quality measurements in this lab: each plot says so instead of drawing
    for uplink in ("vb", "vc"):
        expect(page.locator(f"#quality-{uplink}")).to_contain_text("No measurements")
    screenshot(page, "site")


def test_the_intent_page_shows_tiers_paths_and_the_deciding_step(
    ui: Dashboard, alice: Page
) -> None:
    page = alice
    ui.open(page, f"intents/{IDS.intent}")
    expect(page.locator("h1")).to_contain_text("Intent hq/far")
    expect(page.locator("#intent-tiers li")).to_have_text(["vb", "vc"])
    row = page.locator(f'#intent-paths tr[data-router="A"][data-prefix="{FAR}"]')
    expect(row).to_have_attribute("data-state", "primary")
    expect(row.locator("td.predicted")).to_contain_text("vb")
    expect(row.locator("td.used")).to_contain_text(f"vb ({B_A})")
    expect(row.locator("td.step")).to_contain_text("local preference")
    expect(page.locator('#verdict-history tr[data-verdict="VERIFIED"]').first).to_be_attached()
    screenshot(page, "intent")


def test_the_plan_of_a_flipped_preference_shows_the_move_then_applies_it(
    ui: Dashboard, alice: Page
) -> None:
    page = alice
    ui.open(page, f"intents/{IDS.intent}")
    expect(page.locator("#plan-prefer")).to_have_value("vb; vc")
    page.fill("#plan-prefer", "vc; vb")
    page.click("#intent-plan-button")
    moved = page.locator(f'#plan-paths tr[data-router="A"][data-prefix="{FAR}"]')
    expect(moved).to_have_attribute("data-moves", "true", timeout=LIVE)
    expect(moved.locator("td.predicted")).to_contain_text("vc")
    expect(moved).to_contain_text("local preference")
    expect(page.locator("#plan-summary")).to_contain_text("1 of 1 path(s) move")
    with ui.api() as api:  # planning changed nothing
        assert api.get(f"/v1/intents/{IDS.intent}").json()["prefer"] == [["vb"], ["vc"]]
    screenshot(page, "intent-plan")

    page.fill("#plan-prefer", "vc ; vb ")  # an edit after the plan: plan again first
    expect(page.locator("#intent-apply")).to_be_disabled()
    page.click("#intent-plan-button")
    expect(page.locator("#intent-apply")).to_be_enabled(timeout=LIVE)
    page.click("#intent-apply")
    expect(page.locator("#plan-status")).to_contain_text("Applied")
    with ui.api() as api:
        assert api.get(f"/v1/intents/{IDS.intent}").json()["prefer"] == [["vc"], ["vb"]]
    expect(page.locator("#intent-tiers li")).to_have_text(["vc", "vb"])  # redrawn live
    wait_for(lambda: _used_uplink(ui) == "vc", timeout=LIVE / 1000, what="A uses vc")
    row = page.locator(f'#intent-paths tr[data-router="A"][data-prefix="{FAR}"]')
    expect(row.locator("td.used")).to_contain_text(f"vc ({C_A})", timeout=LIVE)


def test_an_uplink_going_down_turns_red_and_degrades_the_intent_live(
    ui: Dashboard, alice: Page, trio: Trio
) -> None:
    page = alice
    ui.open(page, "sites")
    expect(page.locator("#sites-canvas[data-ready=true]")).to_be_attached()
    page.evaluate("window.__sameDocument = true")
    trio.c.kill()  # C's daemon dies: the preferred uplink's session goes down
    page.wait_for_function(
        "([id, red]) => window.sdwanSites.edgeColor(id) === red",
        arg=[IDS.uplinks["vc"], RED],
        timeout=LIVE,
    )
    page.wait_for_function(
        "id => window.sdwanSites.siteVerdict(id) === 'DEGRADED'", arg=IDS.site, timeout=LIVE
    )
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    expect(page.locator("#sites-summary")).to_contain_text("1 down")
    ui.open(page, f"intents/{IDS.intent}")
    newest = page.locator("#verdict-history tbody tr").first
    expect(newest).to_have_attribute("data-verdict", "DEGRADED", timeout=LIVE)
    trio.c.start()  # back: the orchestrator re-applies C, the intent recovers
    expect(newest).to_have_attribute("data-verdict", "VERIFIED", timeout=LIVE)  # live
    wait_for(lambda: _verdict(ui) == "VERIFIED", timeout=LIVE / 1000, what="VERIFIED again")


def test_the_topology_draws_a_session_between_two_routers_as_one_edge(
    ui: Dashboard, alice: Page
) -> None:
    page = alice
    # C's neighbor A is joined by the identifier its session reports: A's router ID
    wait_for(lambda: _identified(ui, "CA") == A_B, timeout=LIVE / 1000, what="C sees A's ID")
    ui.open(page, "topology")
    expect(page.locator("#topology-canvas[data-ready=true]")).to_be_attached()
    r = IDS.routers
    for pair, (one, other) in {"AB": ("A", "B"), "AC": ("A", "C")}.items():
        ends = page.evaluate("id => window.sdwanTopology.edgeEnds(id)", IDS.neighbors[pair])
        assert sorted(ends) == sorted([r[one], r[other]]), (pair, ends)
        back = page.evaluate("id => window.sdwanTopology.edgeEnds(id)", IDS.neighbors[pair[::-1]])
        assert back == ends  # B's neighbor A is the same edge as A's neighbor B
        count = page.evaluate(
            "([a, b]) => window.sdwanTopology.edgeCount(a, b)", [r[one], r[other]]
        )
        assert count == 1, (pair, count)
    labels = page.evaluate("window.sdwanTopology.nodeLabels()")
    assert sorted(labels) == ["A", "B", "C"]  # no peer node for a managed router
    page.wait_for_function(
        "id => window.sdwanTopology.edgeState(id) === 'ESTABLISHED'",
        arg=IDS.neighbors["CA"],
        timeout=LIVE,
    )


def test_a_session_joined_by_bgp_identifier_joins_live_when_it_comes_up(
    ui: Dashboard, alice: Page
) -> None:
    """Down, C's neighbor A reports no identifier: a page loaded then draws it to an
    external peer; once it is up again the page moves it onto the A-C edge by itself."""
    page = alice
    r, ca = IDS.routers, IDS.neighbors["CA"]
    _set_enabled(ui, "CA", False)
    try:
        wait_for(lambda: not _established(ui, "CA"), timeout=LIVE / 1000, what="C-A down")
        assert _identified(ui, "CA") is None
        ui.open(page, "sites")  # away and back: the topology is loaded anew
        expect(page.locator("#sites-canvas[data-ready=true]")).to_be_attached()
        ui.open(page, "topology")
        expect(page.locator("#topology-canvas[data-ready=true]")).to_be_attached()
        ends = page.evaluate("id => window.sdwanTopology.edgeEnds(id)", ca)
        assert r["C"] in ends and r["A"] not in ends, ends  # C to a peer node
        assert f"{A_C} (AS65001)" in page.evaluate("window.sdwanTopology.nodeLabels()")
        page.evaluate("window.__sameDocument = true")
    finally:
        _set_enabled(ui, "CA", True)
    page.wait_for_function(
        "([id, a, c]) => { const e = window.sdwanTopology.edgeEnds(id);"
        " return Boolean(e) && e.includes(a) && e.includes(c); }",
        arg=[ca, r["A"], r["C"]],
        timeout=LIVE,
    )
    assert page.evaluate("window.__sameDocument") is True  # no navigation happened
    assert page.evaluate("([a, c]) => window.sdwanTopology.edgeCount(a, c)", [r["A"], r["C"]]) == 1
    assert page.evaluate("id => window.sdwanTopology.edgeEnds(id)", IDS.neighbors["AC"]) == (
        page.evaluate("id => window.sdwanTopology.edgeEnds(id)", ca)
    )
    assert sorted(page.evaluate("window.sdwanTopology.nodeLabels()")) == ["A", "B", "C"]


def test_a_router_plots_its_sessions_since_the_page_opened(ui: Dashboard, alice: Page) -> None:
    page = alice
    ui.open(page, f"routers/{IDS.routers['A']}")
    plot = page.locator("#router-sessions-plot")
    expect(plot.locator("canvas").first).to_be_attached()
    expect(plot).not_to_have_attribute("data-points", "0")
    expect(plot).not_to_have_attribute("data-points", "1", timeout=30_000)  # a new read, 10 s on


def test_a_reader_sees_the_sdwan_pages_without_write_controls(ui: Dashboard) -> None:
    page = ui.login("rita")
    for route, ready in [
        ("sites", "#sites-canvas[data-ready=true]"),
        (f"sites/{IDS.site}", '#site-intents tr[data-name="far"]'),
        (f"intents/{IDS.intent}", "#intent-paths tr[data-router]"),
    ]:
        ui.open(page, route)
        expect(page.locator(ready).first).to_be_attached()
        assert page.locator(WRITE_CONTROLS).count() == 0, f"write control on {route}"
    page.context.close()
