"""Input that used to crash the API with a 500: each class of it is a 422 naming the
field now (issue 10, item 10)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

HUGE = str(2**64)  # wider than any integer the store can hold


def _invalid(answer: object, field: str) -> None:
    response = answer  # an httpx.Response
    assert response.status_code == 422, response.text  # type: ignore[attr-defined]
    error = response.json()["error"]  # type: ignore[attr-defined]
    assert error["code"] == "invalid_input"
    assert error["field"] == field, error


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (f"/v1/routers?offset={HUGE}", "offset"),
        (f"/v1/neighbors?offset={HUGE}", "offset"),
        (f"/v1/audit?offset={HUGE}", "offset"),
        (f"/v1/policies?offset={HUGE}", "offset"),
        (f"/v1/routers?asn={HUGE}", "asn"),
        (f"/v1/neighbors?peer_asn={HUGE}", "peer_asn"),
        (f"/v1/events?since={HUGE}", "since"),
    ],
)
def test_integers_wider_than_the_store_are_422(client: TestClient, path: str, field: str) -> None:
    _invalid(client.get(path), field)


def test_unicode_digits_in_headers_and_paging_are_422(client: TestClient) -> None:
    _invalid(client.get("/v1/events", headers={"Last-Event-ID": HUGE}), "Last-Event-ID")
    _invalid(client.get("/v1/policies?offset=\u00b2"), "offset")
    created = client.post(
        "/v1/routers",
        json={
            "name": "r1",
            "router_id": "192.0.2.1",
            "asn": 65001,
            "api_address": "unix:///run/sdwan/r1.sock",
        },
    )
    assert created.status_code == 201, created.text
    answer = client.patch(
        "/v1/routers/r1",
        json={"description": "x"},
        headers={"If-Match": "\u00b2".encode("latin-1")},
    )
    _invalid(answer, "If-Match")


@pytest.mark.parametrize(
    "member",
    [
        "a{99999999999}",  # a repetition count Python's re cannot even hold
        "(" * 2000 + "a" + ")" * 2000,  # recursion in the regex parser
        "(" * 40 + "a" + ")" * 40,  # short, but nested beyond the limit
        "a{1001}",  # beyond RE2's (gobgpd's) repetition limit
        "^65001(?=_)",  # a lookahead: RE2 (gobgpd) has none
        "(65[0-9]+) \\1",  # a backreference: neither
    ],
)
def test_pathological_as_path_regexes_are_422(client: TestClient, member: str) -> None:
    client.post(
        "/v1/routers",
        json={
            "name": "r1",
            "router_id": "192.0.2.1",
            "asn": 65001,
            "api_address": "unix:///run/sdwan/r1.sock",
        },
    )
    answer = client.post(
        "/v1/defined-sets",
        json={"router": "r1", "name": "paths", "type": "as-path", "members": [member]},
    )
    _invalid(answer, "members")
    assert "members[0]" in answer.json()["error"]["message"]


@pytest.mark.parametrize(
    "action", ["local-pref 99999999999", "med +0", "as-prepend 0 3", "med 4294967296"]
)
def test_policyinfo_numbers_out_of_range_are_422(client: TestClient, action: str) -> None:
    client.post(
        "/v1/routers",
        json={
            "name": "r1",
            "router_id": "192.0.2.1",
            "asn": 65001,
            "api_address": "unix:///run/sdwan/r1.sock",
        },
    )
    answer = client.post(
        "/v1/policyinfo",
        json={
            "host_name": "r1",
            "policy_name": "p1",
            "statement_action": action,
            "apply_direction": "export",
            "apply_neighbor": "198.18.0.1",
        },
    )
    _invalid(answer, "statement_action")


@pytest.mark.parametrize("param", ["since", "until"])
def test_audit_times_without_a_time_zone_are_422(client: TestClient, param: str) -> None:
    _invalid(client.get(f"/v1/audit?{param}=2026-01-01T00:00:00"), param)
    assert client.get(f"/v1/audit?{param}=2026-01-01T00:00:00Z").status_code == 200
