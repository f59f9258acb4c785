"""Log lines as JSON or text with their context, the request id, and the access line."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from sdwan import logs
from sdwan.api.app import create_app
from sdwan.api.deps import PrincipalDep
from sdwan.runtime import Runtime
from tests.support.api import ADMIN_TOKEN


def _record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("sdwan.test", logging.WARNING, __file__, 1, message, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    logs.ContextFilter().filter(record)
    return record


def test_json_line_has_the_fixed_fields_the_context_and_its_own() -> None:
    with logs.bound(request_id="r-1", router_id="abc"):
        record = _record("pass of %s\nsecond line", "R1", fields={"status": 200})
    line = logs.JsonFormatter().format(record)
    assert "\n" not in line  # one event, one line
    event = json.loads(line)
    assert event["level"] == "warning" and event["logger"] == "sdwan.test"
    assert event["message"] == "pass of R1\nsecond line"
    assert event["time"].endswith("+00:00") and "T" in event["time"]
    assert (event["request_id"], event["router_id"], event["status"]) == ("r-1", "abc", 200)


def test_context_cannot_replace_the_fixed_fields_and_ends_with_its_block() -> None:
    with logs.bound(message="forged", level="debug"):
        event = json.loads(logs.JsonFormatter().format(_record("real")))
    assert (event["message"], event["level"]) == ("real", "warning")
    assert "request_id" not in json.loads(logs.JsonFormatter().format(_record("after")))


def test_json_line_carries_the_traceback() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord(
            "sdwan.test", logging.ERROR, __file__, 1, "failed", (), __import__("sys").exc_info()
        )
    event = json.loads(logs.JsonFormatter().format(record))
    assert "ValueError: boom" in event["exception"] and event["message"] == "failed"


def test_text_line_appends_the_context_before_a_traceback() -> None:
    with logs.bound(router_id="abc", router="R1"):
        record = _record("pass failed")
    assert (
        logs.TextFormatter()
        .format(record)
        .endswith("WARNING sdwan.test: pass failed router_id=abc router=R1")
    )


def test_context_is_per_thread_of_control() -> None:
    seen: list[object] = []
    with logs.bound(request_id="outer"):
        thread = threading.Thread(target=lambda: seen.append(logs.context().get("request_id")))
        thread.start()
        thread.join()
        assert logs.context()["request_id"] == "outer"
    assert seen == [None]  # a plain thread starts empty: only copied contexts carry it
    assert logs.context() == {}


@pytest.mark.parametrize("offered", ["abc-123", "0f0e:1.2_x/y+z=", "a" * 128])
def test_a_sane_request_id_is_kept(offered: str) -> None:
    assert logs.request_id(offered) == offered


@pytest.mark.parametrize("offered", [None, "", "a b", "x\ny", '"q"', "a" * 129, "é"])
def test_any_other_request_id_is_replaced(offered: str | None) -> None:
    made = logs.request_id(offered)
    assert made != offered and len(made) == 32 and int(made, 16) >= 0


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="text, json"):
        logs.formatter("yaml")


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logs.JsonFormatter())
        self.addFilter(logs.ContextFilter())
        self.lines: list[dict[str, object]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def lines() -> Iterator[_Lines]:
    handler = _Lines()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
def logging_client(runtime: Runtime) -> Iterator[TestClient]:
    app = create_app(runtime)

    @app.get("/v1/test-log/{name}")
    def log_in_worker_thread(name: str, _caller: PrincipalDep) -> dict[str, str]:  # a thread
        logging.getLogger("sdwan.test").info("working on %s", name)
        return {"thread": threading.current_thread().name}

    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as client:
        yield client


def _of(lines: _Lines, request_id: str) -> list[dict[str, object]]:
    return [line for line in lines.lines if line.get("request_id") == request_id]


def test_a_requests_lines_share_its_id_and_end_with_the_access_line(
    logging_client: TestClient, lines: _Lines
) -> None:
    answer = logging_client.get(
        "/v1/test-log/R1?token=SECRET-IN-QUERY", headers={"X-Request-Id": "req-42"}
    )
    assert answer.status_code == 200 and answer.headers["x-request-id"] == "req-42"
    assert answer.json()["thread"] != threading.current_thread().name
    mine = _of(lines, "req-42")
    assert [line["logger"] for line in mine] == ["sdwan.test", "sdwan.access"]
    access = mine[-1]
    assert access["method"] == "GET" and access["route"] == "/v1/test-log/{name}"
    assert access["status"] == 200 and access["principal"] == "bootstrap-admin"
    assert isinstance(access["duration_ms"], float)
    ours = json.dumps([line for line in lines.lines if str(line["logger"]).startswith("sdwan")])
    assert "SECRET" not in ours and ADMIN_TOKEN not in ours


def test_refused_credentials_are_logged_with_the_request_id_and_no_token(
    logging_client: TestClient, lines: _Lines
) -> None:
    answer = logging_client.get(
        "/v1/routers", headers={"Authorization": "Bearer not-a-token-at-all"}
    )
    assert answer.status_code == 401
    made = answer.headers["x-request-id"]
    assert len(made) == 32  # none offered: one made
    mine = _of(lines, made)
    assert [line["logger"] for line in mine] == ["sdwan.api.errors", "sdwan.access"]
    assert "principal" not in mine[-1] and mine[-1]["status"] == 401
    assert "not-a-token-at-all" not in json.dumps(mine)


def test_requests_are_timed_by_route_template_and_status_class(
    logging_client: TestClient,
) -> None:
    labels = {"method": "GET", "route": "/v1/routers/{key}", "status": "4xx"}
    name = "sdwan_http_request_duration_seconds_count"
    before = REGISTRY.get_sample_value(name, labels) or 0.0
    for missing in ("nope-1", "nope-2"):
        assert logging_client.get(f"/v1/routers/{missing}").status_code == 404
    assert REGISTRY.get_sample_value(name, labels) == before + 2
    unmatched = {"method": "GET", "route": "unmatched", "status": "4xx"}
    before = REGISTRY.get_sample_value(name, unmatched) or 0.0
    assert logging_client.get("/no/such/path").status_code == 404
    assert REGISTRY.get_sample_value(name, unmatched) == before + 1
