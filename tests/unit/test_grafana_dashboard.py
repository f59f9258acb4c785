"""docs/grafana/sdwan.json reads only series the server exposes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sdwan.runtime import Runtime

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana" / "sdwan.json"
NAME = re.compile(r"\b((?:sdwan|process|python)_[a-z_]+)\b")


def _exprs(panels: list[dict[str, Any]]) -> list[str]:
    return [t["expr"] for p in panels for t in p.get("targets", [])]


def test_every_series_the_dashboard_reads_is_exposed(runtime: Runtime) -> None:
    exposed: set[str] = set()
    for match in re.finditer(r"^# TYPE (\S+) (\S+)$", runtime.services.live.metrics_text(), re.M):
        name, kind = match.groups()
        exposed.add(name)
        if kind == "histogram":
            exposed |= {f"{name}_bucket", f"{name}_count", f"{name}_sum"}
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = _exprs(dashboard["panels"])
    assert len(exprs) > 20
    read = {name for expr in exprs for name in NAME.findall(expr)}
    assert read - exposed == set()
    assert {"sdwan_gobgp_call_duration_seconds_bucket", "sdwan_reconcile_queue_depth"} <= read
    variables = dashboard["templating"]["list"]
    assert all(NAME.findall(v["definition"])[0] in exposed for v in variables if "definition" in v)
