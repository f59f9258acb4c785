"""Which uplinks each probe agent measures, towards what (domain/probe_plan.py), and
how agents' reports are read (domain/uplink_report.py)."""

from __future__ import annotations

from sdwan.domain.probe_plan import ProbedUplink, ProbeSettings, agent_configs
from sdwan.domain.quality import ClassLimits
from sdwan.domain.sla import ClassVerdict
from sdwan.domain.uplink_report import parse_line


def uplink(
    ident: str, site: str, name: str, router: str, transport: str, **probe: object
) -> ProbedUplink:
    settings = ProbeSettings.model_validate(probe) if probe else ProbeSettings()
    return ProbedUplink(
        ident, f"s-{site}", site, name, router, f"198.18.{len(ident)}.1", transport, settings
    )


TK_MPLS = uplink("u1", "tokyo", "mpls", "tk", "mpls")
TK_INET = uplink("u2", "tokyo", "inet", "tk", "internet")
OS_MPLS = uplink("u3", "osaka", "mpls", "os", "mpls")
OS_INET = uplink("u4", "osaka", "inet", "os", "internet")
FAR = {"s-tokyo": ["s-osaka"], "s-osaka": ["s-tokyo"]}
GOLD = ClassLimits("gold", 2.0, 50.0, None)


def targets(configs: dict[str, dict[str, object]], router: str) -> dict[str, object]:
    items = configs[router]["uplinks"]
    assert isinstance(items, list)
    return {i["name"]: i["target"] for i in items}


def test_the_default_target_is_the_far_agent_on_the_same_transport() -> None:
    addresses = {"u3": "198.18.42.1", "u4": "198.18.52.1", "u1": "198.18.41.1"}
    configs = agent_configs(
        [TK_MPLS, TK_INET, OS_MPLS, OS_INET], far_sites=FAR, classes={}, local_addresses=addresses
    )
    assert targets(configs, "tk") == {"tokyo/mpls": "198.18.42.1", "tokyo/inet": "198.18.52.1"}
    # osaka's internet uplink: tokyo's agent has not reported its inet address yet
    assert targets(configs, "os") == {"osaka/mpls": "198.18.41.1", "osaka/inet": "198.18.41.1"}


def test_an_uplink_without_a_known_target_is_still_listed_so_its_agent_reports_its_address() -> (
    None
):
    configs = agent_configs([TK_MPLS], far_sites={}, classes={}, local_addresses={})
    assert targets(configs, "tk") == {"tokyo/mpls": None}


def test_explicit_targets_methods_and_classes() -> None:
    icmp = uplink("u5", "hq", "vyos1", "g1", "mpls", method="icmp", target="203.0.113.3")
    off = uplink("u6", "hq", "vyos2", "g2", "internet", method="none")
    configs = agent_configs([icmp, off], far_sites={}, classes={"u5": [GOLD]}, local_addresses={})
    (item,) = configs["g1"]["uplinks"]
    assert item["method"] == "icmp" and item["target"] == "203.0.113.3"
    assert item["classes"] == [
        {"name": "gold", "loss_pct": 2.0, "latency_ms": 50.0, "jitter_ms": None}
    ]
    assert configs["g2"]["uplinks"] == []  # measured by nobody, but the agent is told so


def test_the_generation_changes_with_the_configuration_only() -> None:
    one = agent_configs([TK_MPLS], far_sites={}, classes={}, local_addresses={})
    two = agent_configs([TK_MPLS], far_sites={}, classes={}, local_addresses={})
    three = agent_configs([TK_MPLS], far_sites={}, classes={"u1": [GOLD]}, local_addresses={})
    assert one["tk"]["generation"] == two["tk"]["generation"] != three["tk"]["generation"]


def test_reports_are_parsed_and_anything_malformed_is_dropped() -> None:
    line = {
        "kind": "change",
        "uplinks": {
            "u1": {
                "state": "up",
                "since": 10.0,
                "local_address": "198.18.41.1",
                "short": {"window_s": 0.5, "sent": 80, "answered": 75, "loss_pct": 6.25},
                "long": {"loss_pct": 6.1, "latency_ms": 0.2, "jitter_ms": float("nan")},
                "classes": {
                    "gold": {"state": "violated", "since": 11.0, "reason": "loss 6.1 % > 2 %"},
                    "x": {"state": "??"},
                },
            },
            "u2": {"state": "sideways"},
            "u3": "not an object",
        },
    }
    kind, reports = parse_line(line)
    assert kind == "change" and list(reports) == ["u1"]
    report = reports["u1"]
    assert report.short.answered == 75 and report.long.jitter_ms is None
    assert list(report.classes) == ["gold"]
    quality = report.quality()
    assert quality.loss_pct == 6.1 and quality.classes["gold"].state == ClassVerdict.VIOLATED
    assert parse_line({"uplinks": {}})[0] == "snapshot"
