"""In-process counters and histograms, rendered in the Prometheus text format
(version 0.0.4) by hand: a handful of series does not need a client library."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
Labels = tuple[tuple[str, str], ...]
COUNTERS = {
    "sdwan_reconcile_runs_total": "Reconcile passes run, by router and kind (full|targeted).",
    "sdwan_reconcile_errors_total": "Reconcile passes that failed (unreachable or refused).",
    "sdwan_drift_detected_total": "Differences on gobgpd that the orchestrator did not make.",
    "sdwan_drift_repairs_total": "Differences repaired (drift_mode=repair).",
    "sdwan_watch_reconnects_total": "WatchEvent streams re-opened after a break.",
}
HISTOGRAMS = {"sdwan_reconcile_duration_seconds": "Duration of reconcile passes."}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Labels, extra: Labels = ()) -> str:
    pairs = labels + extra
    if not pairs:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in pairs) + "}"


def _number(value: float) -> str:
    if value == int(value):
        return str(int(value))
    return repr(value)


class Metrics:
    """Thread-safe; the reconciler and the watchers count, /metrics renders."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, dict[Labels, float]] = {name: {} for name in COUNTERS}
        self._histograms: dict[str, dict[Labels, list[float]]] = {n: {} for n in HISTOGRAMS}

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            series = self._counters[name]
            series[key] = series.get(key, 0.0) + amount

    def observe(self, name: str, value: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            # buckets..., +Inf, sum
            state = self._histograms[name].setdefault(key, [0.0] * (len(DURATION_BUCKETS) + 2))
            for index, bound in enumerate(DURATION_BUCKETS):
                if value <= bound:
                    state[index] += 1
            state[-2] += 1
            state[-1] += value

    def value(self, name: str, **labels: str) -> float:
        with self._lock:
            return self._counters[name].get(tuple(sorted(labels.items())), 0.0)

    def render(
        self, gauges: Iterable[Gauge] = (), keep: Callable[[Labels], bool] | None = None
    ) -> str:
        """The text format; with ``keep``, only the series whose labels it accepts (a
        project-scoped caller sees its own routers' series only)."""
        lines: list[str] = []
        with self._lock:
            for name, help_text in COUNTERS.items():
                lines += [f"# HELP {name} {help_text}", f"# TYPE {name} counter"]
                for key, value in sorted(self._counters[name].items()):
                    if keep is not None and not keep(key):
                        continue
                    lines.append(f"{name}{_labels(key)} {_number(value)}")
            for name, help_text in HISTOGRAMS.items():
                lines += [f"# HELP {name} {help_text}", f"# TYPE {name} histogram"]
                for key, state in sorted(self._histograms[name].items()):
                    if keep is not None and not keep(key):
                        continue
                    for index, bound in enumerate(DURATION_BUCKETS):
                        le = (("le", _number(bound)),)
                        lines.append(f"{name}_bucket{_labels(key, le)} {_number(state[index])}")
                    lines.append(
                        f"{name}_bucket{_labels(key, (('le', '+Inf'),))} {_number(state[-2])}"
                    )
                    lines.append(f"{name}_sum{_labels(key)} {state[-1]!r}")
                    lines.append(f"{name}_count{_labels(key)} {_number(state[-2])}")
        for gauge in gauges:
            lines += [f"# HELP {gauge.name} {gauge.help}", f"# TYPE {gauge.name} gauge"]
            for labels, value in gauge.samples:
                if keep is not None and not keep(labels):
                    continue
                lines.append(f"{gauge.name}{_labels(labels)} {_number(value)}")
        return "\n".join(lines) + "\n"


class Gauge:
    """A value read at scrape time (from the store)."""

    def __init__(self, name: str, help_text: str, samples: Sequence[tuple[Labels, float]]) -> None:
        self.name = name
        self.help = help_text
        self.samples = samples
