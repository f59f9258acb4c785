"""What the reconciler reports to besides the store's status columns: live state,
events and metrics. Absent (None) in unit tests that only exercise the diff."""

from __future__ import annotations

from dataclasses import dataclass

from sdwan.events.log import EventLog
from sdwan.live.writer import LiveWriter
from sdwan.metrics import Metrics


@dataclass
class LiveHooks:
    writer: LiveWriter
    events: EventLog
    metrics: Metrics
