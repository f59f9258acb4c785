"""Metrics for /metrics, exposed by the Prometheus client library (text format 0.0.4).

Two kinds:
- per server (``Metrics``, one per runtime): the reconciler's and the watchers' counters
  and histograms labelled by router, and gauges read when scraped (the work queue's
  depth); a collector, so a project-scoped caller can be shown its own routers only;
- per process (the library's default registry): process and garbage collector
  collectors, the HTTP request latency (api/access.py) and gobgpd's gRPC call latency
  (gobgp/timing.py). Their observations are kept cheap: a label set's child is looked
  up once, then a dict hit per observation.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence

from prometheus_client import REGISTRY, Histogram, disable_created_metrics, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

# no *_created series beside each counter and histogram: nothing here reads them
disable_created_metrics()  # type: ignore[no-untyped-call]

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
Labels = tuple[tuple[str, str], ...]
COUNTERS = {
    "sdwan_reconcile_runs_total": "Reconcile passes run, by router and kind (full|targeted).",
    "sdwan_reconcile_errors_total": "Reconcile passes that failed (unreachable or refused).",
    "sdwan_drift_detected_total": "Differences on gobgpd that the orchestrator did not make.",
    "sdwan_drift_repairs_total": "Differences repaired (drift_mode=repair).",
    "sdwan_watch_reconnects_total": "WatchEvent streams re-opened after a break.",
    "sdwan_sla_moves_total": "Uplinks demoted or returned by an intent's SLA class.",
    "sdwan_probe_agent_reconnects_total": "Probe agents' quality streams re-opened.",
}
HISTOGRAMS = {"sdwan_reconcile_duration_seconds": "Duration of reconcile passes."}
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
GRPC_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_http = Histogram(
    "sdwan_http_request_duration_seconds",
    "HTTP requests by method, route template and status class (2xx, 4xx, ...), until the "
    "answer's last byte (an event stream: until it closed).",
    ("method", "route", "status"),
    buckets=HTTP_BUCKETS,
)
_grpc = Histogram(
    "sdwan_gobgp_call_duration_seconds",
    "gRPC calls to gobgpd by method and status code (streams: until their last message).",
    ("method", "code"),
    buckets=GRPC_BUCKETS,
)
_children: dict[tuple[str, ...], Histogram] = {}


def _child(family: Histogram, key: tuple[str, ...]) -> Histogram:
    child = _children.get(key)
    if child is None:  # a race makes the same child twice: labels() returns one
        child = _children[key] = family.labels(*key[1:])
    return child


def observe_http(method: str, route: str, status: int, seconds: float) -> None:
    _child(_http, ("http", method, route, f"{status // 100}xx")).observe(seconds)


def observe_grpc(method: str, code: str, seconds: float) -> None:
    _child(_grpc, ("grpc", method, code)).observe(seconds)


class Metrics(Collector):
    """Thread-safe; the reconciler and the watchers count, /metrics renders. Label sets
    are free per series (as keyword arguments); a family is listed even with none."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, dict[Labels, float]] = {name: {} for name in COUNTERS}
        self._histograms: dict[str, dict[Labels, list[float]]] = {n: {} for n in HISTOGRAMS}
        self._readings: dict[str, tuple[str, Callable[[], float]]] = {}

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

    def reading(self, name: str, help_text: str, read: Callable[[], float]) -> None:
        """A gauge without labels whose value ``read`` gives at each scrape."""
        with self._lock:
            self._readings[name] = (help_text, read)

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            counters = {name: sorted(series.items()) for name, series in self._counters.items()}
            histograms = {
                name: sorted((key, list(state)) for key, state in series.items())
                for name, series in self._histograms.items()
            }
            readings = list(self._readings.items())
        for name, series in counters.items():
            family = Metric(name.removesuffix("_total"), COUNTERS[name], "counter")
            family.samples = [Sample(name, dict(key), value) for key, value in series]
            yield family
        for name, hseries in histograms.items():
            family = Metric(name, HISTOGRAMS[name], "histogram")
            for key, state in hseries:
                labels = dict(key)
                for index, bound in enumerate(DURATION_BUCKETS):
                    le = {**labels, "le": repr(bound)}
                    family.samples.append(Sample(f"{name}_bucket", le, state[index]))
                inf = {**labels, "le": "+Inf"}
                family.samples.append(Sample(f"{name}_bucket", inf, state[-2]))
                family.samples.append(Sample(f"{name}_count", labels, state[-2]))
                family.samples.append(Sample(f"{name}_sum", labels, state[-1]))
            yield family
        for name, (help_text, read) in readings:
            family = Metric(name, help_text, "gauge")
            family.samples = [Sample(name, {}, float(read()))]
            yield family

    def render(
        self, gauges: Iterable[Gauge] = (), keep: Callable[[Labels], bool] | None = None
    ) -> str:
        """The text format: the process's families, this server's, then ``gauges``;
        with ``keep``, only the series whose labels it accepts (a project-scoped caller
        sees its own routers' series only)."""
        return generate_latest(_Families(self, gauges, keep)).decode()


class Gauge:
    """A value read at scrape time (from the store)."""

    def __init__(self, name: str, help_text: str, samples: Sequence[tuple[Labels, float]]) -> None:
        self.name = name
        self.help = help_text
        self.samples = samples

    def family(self) -> Metric:
        family = Metric(self.name, self.help, "gauge")
        family.samples = [Sample(self.name, dict(labels), value) for labels, value in self.samples]
        return family


class _Families(Collector):
    """What one scrape shows: every family, its series filtered by ``keep``."""

    def __init__(
        self, metrics: Metrics, gauges: Iterable[Gauge], keep: Callable[[Labels], bool] | None
    ) -> None:
        self._metrics = metrics
        self._gauges = gauges
        self._keep = keep

    def collect(self) -> Iterator[Metric]:
        families = itertools.chain(
            REGISTRY.collect(), self._metrics.collect(), (g.family() for g in self._gauges)
        )
        keep = self._keep
        for family in families:
            if keep is not None:
                family.samples = [s for s in family.samples if keep(tuple(s.labels.items()))]
            yield family
