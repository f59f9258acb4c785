"""Writers racing with the same If-Match, against a real `sdwan serve` (SQLite and
PostgreSQL): on every resource that takes If-Match, exactly one write wins, every other
writer is told 412 (never 409, never a second 200), and the version moved by one."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from sdwan.lab.server_process import OrchestratorProcess
from tests.support.backends import BOTH_BACKENDS

pytestmark = BOTH_BACKENDS

WRITERS = 6
ROUNDS = 3  # each round a new race: a lost race is as likely in the first as in the last


def _post(api: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = api.post(path, json=body)
    assert answer.status_code == 201, answer.text
    made: dict[str, Any] = answer.json()
    return made


def _declare(api: httpx.Client, socket_dir: str) -> dict[str, str]:
    """One object of every kind with If-Match; their paths by kind. The routers'
    gobgpd sockets do not exist: their passes fail, which changes no version."""
    paths: dict[str, str] = {}
    for name, router_id in (("R1", "198.18.0.1"), ("R2", "198.18.0.2")):
        router = _post(
            api,
            "/v1/routers",
            {
                "name": name,
                "router_id": router_id,
                "asn": 65001,
                "api_address": f"unix://{socket_dir}/{name}.sock",
            },
        )
        paths.setdefault("router", f"/v1/routers/{router['id']}")
    neighbor = _post(
        api, "/v1/neighbors", {"router": "R1", "address": "198.18.11.11", "peer_asn": 65000}
    )
    paths["neighbor"] = f"/v1/neighbors/{neighbor['id']}"
    _post(api, "/v1/neighbors", {"router": "R2", "address": "198.18.22.22", "peer_asn": 65000})
    spare = _post(
        api, "/v1/neighbors", {"router": "R1", "address": "198.18.31.3", "peer_asn": 65001}
    )
    paths["spare neighbor"] = f"/v1/neighbors/{spare['id']}"  # no uplink: deletable
    owned: dict[str, dict[str, Any]] = {
        "defined-sets": {"name": "lan", "type": "prefix", "members": ["198.51.100.0/24"]},
        "policies": {"name": "p", "statements": [{"actions": {"disposition": "accept"}}]},
        "policy-attachments": {"name": "a", "direction": "import", "policies": ["p"]},
        "announcements": {"prefix": "198.51.100.0/24"},
    }
    for collection, body in owned.items():
        made = _post(api, f"/v1/{collection}", {"router": "R1", **body})
        paths[collection] = f"/v1/{collection}/{made['id']}"
    site = _post(
        api,
        "/v1/sites",
        {"name": "hq", "routers": [{"router": "R1"}, {"router": "R2"}]},
    )
    paths["site"] = f"/v1/sites/{site['id']}"
    uplink = _post(
        api,
        "/v1/uplinks",
        {"site": "hq", "name": "mpls", "router": "R1", "neighbor": "198.18.11.11"},
    )
    paths["uplink"] = f"/v1/uplinks/{uplink['id']}"
    _post(
        api,
        "/v1/uplinks",
        {"site": "hq", "name": "inet", "router": "R2", "neighbor": "198.18.22.22"},
    )
    intent = _post(
        api,
        "/v1/intents",
        {
            "site": "hq",
            "name": "far",
            "destination": {"type": "prefixes", "prefixes": [{"prefix": "203.0.113.0/24"}]},
            "prefer": [["mpls"], ["inet"]],
        },
    )
    paths["intent"] = f"/v1/intents/{intent['id']}"
    rule = _post(api, "/v1/alert-rules", {"name": "down", "kind": "session_down", "threshold": 30})
    paths["alert rule"] = f"/v1/alert-rules/{rule['id']}"
    hook = {"name": "pager", "url": "http://127.0.0.1:9/hook", "secret": "s" * 16}
    paths["webhook"] = f"/v1/webhooks/{_post(api, '/v1/webhooks', hook)['id']}"
    sla = _post(api, "/v1/sla-classes", {"name": "gold", "loss_pct": 1, "latency_ms": 50})
    paths["sla class"] = f"/v1/sla-classes/{sla['id']}"
    return paths


def _race(
    clients: list[httpx.Client], send: Callable[[httpx.Client, int], httpx.Response]
) -> list[httpx.Response]:
    """Every client sends at once (as near as threads allow); their answers in order."""
    start = threading.Barrier(len(clients))
    answers: list[httpx.Response | BaseException | None] = [None] * len(clients)

    def one(index: int) -> None:
        try:
            start.wait(10)
            answers[index] = send(clients[index], index)
        except BaseException as exc:  # handed to the test's thread below
            answers[index] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    out: list[httpx.Response] = []
    for answer in answers:
        if isinstance(answer, BaseException):
            raise answer
        assert answer is not None, "a writer did not finish"
        out.append(answer)
    return out


def _patcher(path: str, version: int, mark: str) -> Callable[[httpx.Client, int], httpx.Response]:
    """Writer ``index`` changes the description (each to its own) with If-Match ``version``."""

    def patch(api: httpx.Client, index: int) -> httpx.Response:
        return api.patch(
            path,
            json={"description": f"{mark} writer {index}"},
            headers={"If-Match": f'"{version}"'},
        )

    return patch


def test_writers_with_the_same_if_match_one_wins_the_others_get_412(
    orchestrator: OrchestratorProcess,
) -> None:
    with orchestrator.client() as api:
        paths = _declare(api, str(orchestrator.workdir))
    clients = [orchestrator.client() for _ in range(WRITERS)]
    try:
        for kind, path in paths.items():
            if kind == "spare neighbor":
                continue
            for round_ in range(ROUNDS):
                version = clients[0].get(path).json()["version"]
                patch = _patcher(path, version, f"round {round_}")
                answers = _race(clients, patch)
                statuses = sorted(a.status_code for a in answers)
                assert statuses == [200] + [412] * (WRITERS - 1), (
                    kind,
                    [(a.status_code, a.json().get("error", {}).get("message")) for a in answers],
                )
                winner = next(a.json() for a in answers if a.status_code == 200)
                after = clients[0].get(path).json()
                assert after["version"] == version + 1 == winner["version"], kind
                assert after["description"] == winner["description"], kind
                for answer in answers:
                    if answer.status_code == 412:
                        error = answer.json()["error"]
                        assert error["code"] == "precondition_failed", error
                        assert "read it again" in error["message"], error
    finally:
        for client in clients:
            client.close()


@pytest.mark.parametrize("kind", ["spare neighbor", "intent", "alert rule", "webhook", "sla class"])
def test_deleters_with_the_same_if_match_one_wins_the_others_are_refused(
    orchestrator: OrchestratorProcess, kind: str
) -> None:
    """A delete marks the row (a neighbor: the reconciler removes it later) or removes
    it (an intent, an alert rule, a webhook, an SLA class): a deleter that read the same
    version as the winner is told 412, not answered as if it had deleted too; one that
    comes after the row is gone, 404."""
    with orchestrator.client() as api:
        path = _declare(api, str(orchestrator.workdir))[kind]
        version = api.get(path).json()["version"]
    clients = [orchestrator.client() for _ in range(WRITERS)]
    try:
        answers = _race(
            clients, lambda api, _index: api.delete(path, headers={"If-Match": f'"{version}"'})
        )
    finally:
        for client in clients:
            client.close()
    won = 202 if kind == "spare neighbor" else 200
    refused = {412} if kind == "spare neighbor" else {404, 412}
    statuses = [a.status_code for a in answers]
    assert statuses.count(won) == 1 and set(statuses) - {won} <= refused, [
        (a.status_code, a.text[:200]) for a in answers
    ]
