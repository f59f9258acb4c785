"""The alerts page against a real orchestrator and a real gobgpd in a namespace whose
one neighbor never answers (its link's far end runs no daemon): a `session_down` rule
with a 2 s threshold fires for it, and the page shows the alert appear, resolve when
the neighbor is disabled, and a new one fire when it is enabled again, all live from
the event stream, with the count of firing alerts in the navigation. A reader sees the
page with no control that writes. A screenshot for docs/ui.md is taken on the way."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from sdwan.lab import GobgpdProcess
from tests.support.dashboard import (
    Dashboard,
    Monitor,
    created,
    gobgpd_lab,
    screenshot,
    start_dashboard,
    stop_dashboard,
)

A_B, B_A = "198.18.120.1", "198.18.120.2"  # B's end of the link has no gobgpd
LIVE = 60_000  # ms: the rule's 2 s threshold, the controller's evaluation, the stream
SUBJECT = f"A/{B_A}"


@pytest.fixture(scope="module")
def gobgpd(
    lab_environment: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GobgpdProcess]:
    with gobgpd_lab(lab_environment, tmp_path_factory.mktemp("gobgpd"), "w") as (lab, factory):
        ns_a, ns_b = lab.namespace("a"), lab.namespace("b")
        lab.link(ns_a, "ab", ns_b, "ba", addrs_a=[f"{A_B}/30"], addrs_b=[f"{B_A}/30"])
        yield factory("a", netns=ns_a)


@pytest.fixture(scope="module")
def ui(
    gobgpd: GobgpdProcess,
    browser: Browser,
    monitor: Monitor,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Dashboard]:
    workdir: Path = tmp_path_factory.mktemp("orchestrator")
    server, dashboard = start_dashboard(workdir, browser, monitor)
    dashboard.add_user("alice", "member")
    dashboard.add_user("rita", "reader")
    with dashboard.api() as api:
        body = {"name": "A", "router_id": A_B, "asn": 65001, "api_address": gobgpd.api_address}
        created(api.post("/v1/routers", json=body))
        body = {"router": "A", "address": B_A, "peer_asn": 65002}
        created(api.post("/v1/neighbors", json=body))
    yield dashboard
    stop_dashboard(server, dashboard)


def _set_neighbor_enabled(ui: Dashboard, enabled: bool) -> None:
    with ui.api() as api:
        found = api.get("/v1/neighbors", params={"router": "A"}).json()["items"]
        assert len(found) == 1, found
        answer = api.patch(f"/v1/neighbors/{found[0]['id']}", json={"enabled": enabled})
        assert answer.status_code == 200, answer.text


def test_an_alert_fires_and_resolves_live_with_the_count_in_the_navigation(
    ui: Dashboard,
) -> None:
    page = ui.login("alice")
    ui.open(page, "alerts")
    expect(page.locator("#alerts-table")).to_contain_text("No alerts.")
    expect(page.locator("#alerts-firing")).to_be_hidden()
    page.evaluate("window.__sameDocument = true")
    with ui.api() as api:
        rule = {"name": "peer-down", "kind": "session_down", "threshold": 2}
        created(api.post("/v1/alert-rules", json={**rule, "severity": "critical"}))

    rows = page.locator("#alerts-table tbody tr[data-id]")
    expect(rows).to_have_count(1, timeout=LIVE)
    first = rows.first
    expect(first).to_have_attribute("data-state", "firing")
    expect(first).to_have_attribute("data-subject", SUBJECT)
    expect(first).to_contain_text("critical")
    expect(first).to_contain_text("peer-down")
    expect(first.locator("td.detail")).to_contain_text(f"session {SUBJECT} is")
    expect(page.locator("#alerts-firing")).to_have_attribute("data-count", "1")
    expect(page.locator("#alerts-firing")).to_have_text("1")

    _set_neighbor_enabled(ui, False)  # a disabled neighbor's session does not count
    expect(first).to_have_attribute("data-state", "resolved", timeout=LIVE)
    expect(page.locator("#alerts-firing")).to_have_attribute("data-count", "0")

    _set_neighbor_enabled(ui, True)  # down again: a new alert, the old one stays resolved
    expect(rows).to_have_count(2, timeout=LIVE)
    expect(rows.nth(0)).to_have_attribute("data-state", "firing")  # firing first
    expect(rows.nth(1)).to_have_attribute("data-state", "resolved")
    expect(page.locator("#alerts-firing")).to_have_attribute("data-count", "1")
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    screenshot(page, "alerts")

    page.select_option("#alerts-state", "resolved")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-state", "resolved")
    assert "state=resolved" in page.url


def test_a_reader_sees_the_alerts_without_write_controls(ui: Dashboard) -> None:
    page = ui.login("rita")
    ui.open(page, "alerts")
    expect(page.locator('#alerts-table tr[data-state="firing"]')).to_have_count(1)
    expect(page.locator("#alerts-firing")).to_have_attribute("data-count", "1")
    assert page.locator("#page button, #page input, #page textarea").count() == 0
    page.context.close()
