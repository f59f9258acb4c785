"""Each uplink's quality history: the agents' summaries (one a second) folded into
buckets of three resolutions, each kept for a bounded time, so an uplink holds at most
``MAX_ROWS`` rows whatever its age (docs/intent.md, "Path quality on the orchestrator").

| resolution | kept | rows per uplink |
|---|---|---|
| 10 s | 6 hours | 2160 |
| 1 min | 48 hours | 2880 |
| 15 min | 30 days | 2880 |

A bucket holds the number of reports, the mean and the largest of each figure of the
short window (loss, round-trip latency, jitter) and the seconds the uplink was dead.
The fold keeps what arrived since its last flush; the store merges it into the stored
bucket (quality_repo.add_history), so a bucket is written every flush while it is
open, never from scratch twice. Pure: the caller passes the time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sdwan.domain.uplink_report import UplinkReport
from sdwan.store.quality_repo import HistoryBucket, merged

__all__ = ["MAX_ROWS", "RESOLUTIONS", "History", "cutoffs"]

#: (seconds per bucket, seconds kept)
RESOLUTIONS: tuple[tuple[int, int], ...] = ((10, 6 * 3600), (60, 48 * 3600), (900, 30 * 86400))
MAX_ROWS = sum(kept // resolution + 1 for resolution, kept in RESOLUTIONS)
MAX_GAP = 5.0  # a summary counts for at most this many seconds of dead time


def _start(epoch: float, resolution: int) -> datetime:
    return datetime.fromtimestamp(epoch - epoch % resolution, UTC)


def cutoffs(now: float) -> dict[int, datetime]:
    """Resolution -> the start before which its buckets are pruned."""
    at = datetime.fromtimestamp(now, UTC)
    return {resolution: at - timedelta(seconds=kept) for resolution, kept in RESOLUTIONS}


class History:
    def __init__(self) -> None:
        self._open: dict[tuple[str, int, datetime], HistoryBucket] = {}
        self._last: dict[str, float] = {}  # uplink -> when its last summary came

    def add(self, report: UplinkReport, now: float) -> None:
        """One summary of one uplink, received at ``now`` (epoch seconds)."""
        last = self._last.get(report.uplink_id)
        self._last[report.uplink_id] = now
        gap = min(now - last, MAX_GAP) if last is not None and now > last else 0.0
        figures = report.short
        for resolution, _kept in RESOLUTIONS:
            one = HistoryBucket(
                report.uplink_id,
                resolution,
                _start(now, resolution),
                1,
                figures.loss_pct,
                figures.loss_pct,
                figures.latency_ms,
                figures.latency_ms,
                figures.jitter_ms,
                figures.jitter_ms,
                gap if report.state == "dead" else 0.0,
            )
            if report.state == "unknown":  # not measured: counted, no figures
                one = replace(
                    one,
                    loss_pct=None,
                    loss_max_pct=None,
                    latency_ms=None,
                    latency_max_ms=None,
                    jitter_ms=None,
                    jitter_max_ms=None,
                )
            key = one.key()
            self._open[key] = merged(self._open[key], one) if key in self._open else one

    def forget(self, uplink_id: str) -> None:
        self._last.pop(uplink_id, None)

    def flush(self) -> list[HistoryBucket]:
        """What arrived since the last flush, to be merged into the stored buckets."""
        out, self._open = list(self._open.values()), {}
        return out

    def pending(self) -> int:
        return len(self._open)
