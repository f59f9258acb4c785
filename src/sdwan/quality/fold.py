"""The agents' reports folded into what the orchestrator keeps: the latest report of
each uplink (in memory for the steering; ``uplink_quality`` written at most once per
``write_interval`` per uplink, a change at once), the history's buckets, and an
``uplink.quality`` event on every change of an uplink's state (up, dead, unknown) or
of its state against a class (met, violated). The cost follows the uplinks and the
summaries (one a second per agent), never the probe rate."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sdwan.domain.sla import ClassVerdict
from sdwan.domain.uplink_report import UplinkReport
from sdwan.events.model import Event
from sdwan.quality.history import History
from sdwan.quality.inputs import UplinkInfo
from sdwan.store.quality_repo import UplinkQualityRecord

__all__ = ["UPLINK_QUALITY", "Folded", "QualityFold"]

UPLINK_QUALITY = "uplink.quality"  # the event kind
_KEPT_CLASS_STATES = (ClassVerdict.MET, ClassVerdict.VIOLATED)


@dataclass
class Folded:
    changed: set[str] = field(default_factory=set)  # uplinks whose state or class moved
    addresses: bool = False  # an agent reports a new local address (far agents' targets)


@dataclass(frozen=True)
class _Seen:
    state: str
    classes: dict[str, str]  # class name -> met | violated (unknown is not a change)


def _seen(report: UplinkReport, before: _Seen | None) -> _Seen:
    """What the report says; a class ``unknown`` now (not evaluated: no samples) keeps
    what was said of it before."""
    kept = {}
    for name, verdict in report.classes.items():
        if verdict.state in _KEPT_CLASS_STATES:
            kept[name] = str(verdict.state)
        elif before is not None and name in before.classes:
            kept[name] = before.classes[name]
    return _Seen(report.state, kept)


def _stamp(epoch: float, fallback: datetime) -> datetime:
    return datetime.fromtimestamp(epoch, UTC) if epoch > 0 else fallback


class QualityFold:
    def __init__(self, *, write_interval: float = 1.0) -> None:
        self.write_interval = write_interval
        self.latest: dict[str, UplinkReport] = {}  # uplink id -> its agent's last word
        self.local_addresses: dict[str, str] = {}  # uplink id -> its router's address on it
        self.history = History()
        self._uplinks: dict[str, UplinkInfo] = {}
        self._seen: dict[str, _Seen] = {}  # what the events have said so far
        self._pending: dict[str, UplinkQualityRecord] = {}
        self._urgent: set[str] = set()
        self._written: dict[str, float] = {}  # uplink id -> when its row was last queued
        self._events: list[Event] = []

    def reset(
        self, uplinks: Mapping[str, UplinkInfo], stored: Mapping[str, UplinkQualityRecord]
    ) -> None:
        """The uplinks now known; ``stored`` (uplink id -> its stored report) is where the
        events of an uplink not reported since the start begin from."""
        self._uplinks = dict(uplinks)
        for gone in set(self.latest) - set(uplinks):
            self.latest.pop(gone, None)
            self._seen.pop(gone, None)
            self.history.forget(gone)
        for uplink_id, record in stored.items():
            if uplink_id not in self._seen:
                classes = {
                    name: str(item.get("state"))
                    for name, item in record.classes.items()
                    if isinstance(item, dict) and item.get("state") in ("met", "violated")
                }
                self._seen[uplink_id] = _Seen(record.state, classes)
            if uplink_id not in self.local_addresses and record.local_address:
                self.local_addresses[uplink_id] = record.local_address

    def drop(self, uplink_ids: list[str]) -> None:
        """Forget what these uplinks' agent said (another replica follows it now)."""
        for uplink_id in uplink_ids:
            self.latest.pop(uplink_id, None)
            self._seen.pop(uplink_id, None)
            self._pending.pop(uplink_id, None)
            self.history.forget(uplink_id)

    def fold(
        self,
        agent: str,
        kind: str,
        reports: Mapping[str, UplinkReport],
        *,
        now: float,
        why: str = "",
    ) -> Folded:
        """One line of an agent's stream, received at ``now`` (epoch seconds); ``why``
        explains an uplink turning unknown."""
        out = Folded()
        stamp = datetime.fromtimestamp(now, UTC)
        for uplink_id, report in reports.items():
            info = self._uplinks.get(uplink_id)
            if info is None:
                continue  # an uplink the agent still measures from an older configuration
            self.latest[uplink_id] = report
            if report.local_address and self.local_addresses.get(uplink_id) != report.local_address:
                self.local_addresses[uplink_id] = report.local_address
                out.addresses = True
            if kind == "summary":
                self.history.add(report, now)
            if self._events_of(info, report, why, received=now):
                out.changed.add(uplink_id)
                self._urgent.add(uplink_id)
            self._pending[uplink_id] = UplinkQualityRecord(
                uplink_id,
                report.state,
                _stamp(report.since, stamp),
                report.short.public(),
                report.long.public(),
                {
                    name: {"state": str(c.state), "since": c.since, "reason": c.reason}
                    for name, c in report.classes.items()
                },
                agent,
                stamp,
                report.local_address,
                report.interface,
            )
        return out

    def unreachable(self, agent: str, uplink_ids: list[str], why: str, *, now: float) -> set[str]:
        """An agent's stream broke: its uplinks are unmeasured (unknown) until it is
        back; returns those that were not unknown already."""
        lost = {
            u: UplinkReport(u, "unknown", now)
            for u in uplink_ids
            if u in self.latest and self.latest[u].state != "unknown"
        }
        self.fold(agent, "change", lost, now=now, why=why)
        return set(lost)

    def _events_of(
        self, info: UplinkInfo, report: UplinkReport, why: str, *, received: float
    ) -> bool:
        """Events for what moved; a class's event carries the agent's ``since`` (when it
        decided) and ``received`` (when its line was folded here), epoch seconds."""
        before = self._seen.get(info.id)
        now = _seen(report, before)
        self._seen[info.id] = now
        if before is None:
            before = _Seen("unknown", {})
            if now.state == "unknown" and not now.classes:
                return False  # nothing measured yet: nothing to say
        changed = False
        if before.state != now.state:
            text = {"dead": "dead (probes unanswered)", "up": "up", "unknown": "unknown"}
            message = f"uplink {info.label}: {text[now.state]}"
            if now.state == "unknown" and why:
                message += f" ({why[:300]})"
            self._event(info, message, {"state": now.state})
            changed = True
        for name, state in sorted(now.classes.items()):
            if before.classes.get(name) == state:
                continue
            if state == ClassVerdict.VIOLATED:
                reason = report.classes[name].reason
                message = f"uplink {info.label}: violates {name}"
                message += f": {reason}" if reason else ""
            else:
                message = f"uplink {info.label}: meets {name}"
            verdict = report.classes.get(name)
            self._event(
                info,
                message,
                {"class": name, "class_state": state},
                since=verdict.since if verdict is not None else None,
                received=received,
            )
            changed = True
        return changed

    def _event(
        self,
        info: UplinkInfo,
        message: str,
        data: dict[str, str],
        *,
        since: float | None = None,
        received: float | None = None,
    ) -> None:
        times = {"since": since, "received": received} if received is not None else {}
        self._events.append(
            Event(
                UPLINK_QUALITY,
                "uplink",
                info.id,
                info.router_name,
                message,
                {"site": info.site_id, "uplink": info.name, **data, **times},
                info.project_id,
            )
        )

    def drain(self, tick: float) -> tuple[list[UplinkQualityRecord], list[Event]]:
        """The rows due now (a change at once, others once per write interval) and the
        events since the last drain."""
        due = [
            u
            for u in self._pending
            if u in self._urgent or tick - self._written.get(u, -1e18) >= self.write_interval
        ]
        rows = [self._pending.pop(u) for u in due]
        for u in due:
            self._written[u] = tick
        self._urgent.clear()
        events, self._events = self._events, []
        return rows, events

    def has_urgent(self) -> bool:
        return bool(self._urgent or self._events)
