"""Progress on stderr: a bar on a terminal, plain lines elsewhere, nothing for -o json;
and `sdwan apply --wait` polling until what it changed is pushed."""

from __future__ import annotations

import io
import json
from typing import Any

from sdwan.cli.progress import Progress
from tests.support.rest_api import FakeApi, ok, page, router, run


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _clock(times: list[float]) -> Any:
    return lambda: times[0]


def test_plain_lines_each_step_when_few() -> None:
    out, now = io.StringIO(), [0.0]
    with Progress("lab up", 3, stream=out, clock=_clock(now)) as progress:
        for name in ("r1", "r2", "r3"):
            now[0] += 0.25
            progress.advance(f"namespace {name}")
    assert out.getvalue().splitlines() == [
        "lab up 1/3 33 % 250 ms namespace r1",
        "lab up 2/3 67 % 500 ms namespace r2",
        "lab up 3/3 100 % 750 ms namespace r3",
    ]


def test_plain_lines_one_per_tenth_when_many() -> None:
    out, now = io.StringIO(), [0.0]
    with Progress("converging", 1000, stream=out, clock=_clock(now)) as progress:
        now[0] = 2.5
        for done in range(0, 1001, 7):
            progress.update(done)
        progress.update(1000)
    lines = out.getvalue().splitlines()
    assert len(lines) == 11 and lines[-1] == "converging 1000/1000 100 % 2.50 s"
    assert "\r" not in out.getvalue() and "[" not in out.getvalue()


def test_a_terminal_gets_one_bar_redrawn_in_place() -> None:
    out, now = _Terminal(), [0.0]
    with Progress("converging", 4, stream=out, clock=_clock(now)) as progress:
        progress.update(1)
        progress.update(2)  # within the redraw interval: not drawn
        now[0] = 1.0
        progress.update(4, "0 ERROR")
    text = out.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n")
    assert "\rconverging [######..................] 1/4 25 % 0.0 ms\x1b[K" in text
    assert "[########################] 4/4 100 % 1.00 s 0 ERROR" in text


def test_quiet_prints_nothing() -> None:
    out = _Terminal()
    with Progress("x", 2, stream=out, quiet=True) as progress:
        progress.advance()
        progress.advance()
    assert out.getvalue() == "" and progress.done == 2


FLEET = "routers:\n  - name: R1\n"
CHANGES = [
    {"action": "create", "kind": "router", "router": "R1", "key": "R1", "fields": {}},
    {"action": "create", "kind": "neighbor", "router": "R1", "key": "198.18.0.2", "fields": {}},
    {"action": "delete", "kind": "neighbor", "router": "R1", "key": "198.18.0.3", "fields": {}},
    {"action": "create", "kind": "policy", "router": "R1", "key": "p", "fields": {}},
]
APPLIED = {"changes": CHANGES, "effects": [], "applied": True, "revision": 7}


def _neighbor(status: str, detail: str = "") -> dict[str, Any]:
    return {
        "router_name": "R1",
        "address": "198.18.0.2",
        "status": status,
        "status_detail": detail,
    }


def _fleet_api(*neighbor_pages: tuple[int, Any]) -> FakeApi:
    api = FakeApi()
    api.on("POST", "/v1/fleet/apply", (200, APPLIED))
    pending, active = router(name="R1", status="PENDING_CREATE"), router(name="R1")
    api.on("GET", "/v1/routers", page(pending), page(active))
    api.on("GET", "/v1/neighbors", *neighbor_pages)
    return api


def _fleet_file(tmp_path: Any) -> str:
    path = tmp_path / "fleet.yaml"
    path.write_text(FLEET)
    return str(path)


def test_apply_wait_polls_until_the_changed_objects_are_active(tmp_path: Any) -> None:
    api = _fleet_api(page(_neighbor("PENDING_CREATE")), page(_neighbor("ACTIVE")))
    result = ok(run(api, "apply", "-f", _fleet_file(tmp_path), "--wait"))
    assert "Applied as revision 7. Waiting" in result.stdout
    assert "Pushed to the routers" in result.stdout
    lines = result.stderr.splitlines()  # not a terminal: plain lines, the router then both
    assert lines[0].startswith("converging 0/2 0 %") and lines[-1].startswith("converging 2/2")
    assert api.params("GET") == {"router": "R1", "limit": "1000", "offset": "0"}


def test_apply_wait_names_what_failed(tmp_path: Any) -> None:
    api = _fleet_api(page(_neighbor("ERROR", "gobgpd refused AddPeer")))
    result = run(api, "apply", "-f", _fleet_file(tmp_path), "--wait")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "error: 1 of 2 in ERROR: neighbor R1/198.18.0.2 (gobgpd refused AddPeer)"
    )


def test_apply_wait_json_prints_only_the_result(tmp_path: Any) -> None:
    api = _fleet_api(page(_neighbor("PENDING_CREATE")), page(_neighbor("ACTIVE")))
    result = ok(run(api, "apply", "-f", _fleet_file(tmp_path), "--wait", "-o", "json"))
    assert json.loads(result.stdout)["applied"] is True
    assert result.stderr == ""
    assert sum(r.url.path == "/v1/neighbors" for r in api.requests) == 2  # it did wait
