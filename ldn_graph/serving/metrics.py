"""Request metrics counted across every worker, written in the Prometheus text format.

Each server worker answers its share of the requests, and a scrape reaches one of them, so counts
kept per process would be partial and would restart with every reload. The counters therefore live in
shared memory made before the workers fork (:mod:`ldn_graph.serving.shared_memory`), one fixed slot per
(route, status) pair and per histogram bucket: routes are the server's URL rules, a bounded set known
when the application is made, so no label can grow without bound.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ldn_graph.serving.shared_memory import Layout

UNMATCHED = "(unmatched)"  # a request no URL rule matched (a 404 or 405 before any view)
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
STATUSES = (
    200,
    204,
    206,
    301,
    302,
    303,
    304,
    400,
    403,
    404,
    405,
    406,
    412,
    413,
    414,
    415,
    416,
    429,
    500,
    503,
)
OTHER_STATUS = "other"
CACHE_OUTCOMES = ("hit", "miss")
REFUSAL_REASONS = ("concurrency", "query_time")
RELOAD_OUTCOMES = ("loaded", "refused")


@dataclass(frozen=True)
class Gauge:
    name: str
    help: str
    value: float
    labels: Mapping[str, str] | None = None


class RequestMetrics:
    """Counters of requests by route and status, a latency histogram per route, cache outcomes,
    fair-use refusals and reloads; shared by every process forked after it was made."""

    def __init__(self, routes: Iterable[str]):
        self.routes = (*sorted(set(routes)), UNMATCHED)
        self._route = {route: number for number, route in enumerate(self.routes)}
        self._status = {status: number for number, status in enumerate(STATUSES)}
        routes_count, statuses = len(self.routes), len(STATUSES) + 1
        layout = Layout()
        layout.add("requests", routes_count * statuses, "d")
        layout.add("buckets", routes_count * len(BUCKETS), "d")
        layout.add("seconds", routes_count, "d")
        layout.add("bytes", routes_count, "d")
        layout.add("in_flight", 1, "d")
        layout.add("cache", len(CACHE_OUTCOMES), "d")
        layout.add("refused", len(REFUSAL_REASONS), "d")
        layout.add("reloads", len(RELOAD_OUTCOMES), "d")
        self._memory, self._arrays = layout.make()

    def started(self) -> None:
        with self._memory.locked():
            self._arrays["in_flight"][0] += 1

    def finished(
        self, route: str, status: int, seconds: float, size: int | None = None, cache: str | None = None
    ) -> None:
        r = self._route.get(route, self._route[UNMATCHED])
        s = self._status.get(status, len(STATUSES))
        arrays = self._arrays
        with self._memory.locked():
            arrays["in_flight"][0] -= 1
            arrays["requests"][r * (len(STATUSES) + 1) + s] += 1
            for number, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    arrays["buckets"][r * len(BUCKETS) + number] += 1
            arrays["seconds"][r] += seconds
            arrays["bytes"][r] += size or 0
            if cache in CACHE_OUTCOMES:
                arrays["cache"][CACHE_OUTCOMES.index(cache)] += 1

    def refused(self, reason: str) -> None:
        with self._memory.locked():
            self._arrays["refused"][REFUSAL_REASONS.index(reason)] += 1

    def reloaded(self, outcome: str) -> None:
        with self._memory.locked():
            self._arrays["reloads"][RELOAD_OUTCOMES.index(outcome)] += 1

    def snapshot(self) -> dict[str, list[float]]:
        with self._memory.locked():
            return {name: list(array) for name, array in self._arrays.items()}

    def exposition(self, gauges: Sequence[Gauge] = ()) -> str:
        """Every metric in the Prometheus text exposition format (version 0.0.4)."""
        counts = self.snapshot()
        statuses = [str(status) for status in STATUSES] + [OTHER_STATUS]
        lines = _header(
            "ldngraph_http_requests_total", "counter", "HTTP requests answered, by route and status."
        )
        for r, route in enumerate(self.routes):
            for s, status in enumerate(statuses):
                value = counts["requests"][r * len(statuses) + s]
                if value:
                    lines.append(_sample("ldngraph_http_requests_total", value, route=route, status=status))
        name = "ldngraph_http_request_duration_seconds"
        lines += _header(name, "histogram", "Time from a request's arrival in a worker to its response.")
        for r, route in enumerate(self.routes):
            total = sum(counts["requests"][r * len(statuses) : (r + 1) * len(statuses)])
            if not total:
                continue
            for b, bound in enumerate(BUCKETS):
                lines.append(
                    _sample(
                        name + "_bucket",
                        counts["buckets"][r * len(BUCKETS) + b],
                        route=route,
                        le=f"{bound:g}",
                    )
                )
            lines.append(_sample(name + "_bucket", total, route=route, le="+Inf"))
            lines.append(_sample(name + "_sum", counts["seconds"][r], route=route))
            lines.append(_sample(name + "_count", total, route=route))
        lines += _header(
            "ldngraph_http_response_bytes_total", "counter", "Body bytes of the responses, by route."
        )
        for r, route in enumerate(self.routes):
            if counts["bytes"][r]:
                lines.append(_sample("ldngraph_http_response_bytes_total", counts["bytes"][r], route=route))
        lines += _header("ldngraph_http_requests_in_flight", "gauge", "Requests being answered now.")
        lines.append(_sample("ldngraph_http_requests_in_flight", counts["in_flight"][0]))
        lines += _header(
            "ldngraph_query_cache_total", "counter", "SPARQL answers from the result cache or not."
        )
        for number, outcome in enumerate(CACHE_OUTCOMES):
            lines.append(_sample("ldngraph_query_cache_total", counts["cache"][number], outcome=outcome))
        lines += _header("ldngraph_fair_use_refused_total", "counter", "Requests refused with 429, by limit.")
        for number, reason in enumerate(REFUSAL_REASONS):
            lines.append(_sample("ldngraph_fair_use_refused_total", counts["refused"][number], reason=reason))
        lines += _header("ldngraph_reloads_total", "counter", "Reload signals, by outcome.")
        for number, outcome in enumerate(RELOAD_OUTCOMES):
            lines.append(_sample("ldngraph_reloads_total", counts["reloads"][number], outcome=outcome))
        for gauge in gauges:
            lines += _header(gauge.name, "gauge", gauge.help)
            lines.append(_sample(gauge.name, gauge.value, **(gauge.labels or {})))
        return "\n".join(lines) + "\n"


def _header(name: str, kind: str, text: str) -> list[str]:
    return [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]


def _sample(name: str, value: float, **labels: str) -> str:
    number = str(int(value)) if float(value).is_integer() else repr(float(value))
    if not labels:
        return f"{name} {number}"
    text = ",".join(f'{key}="{_escape(str(label))}"' for key, label in labels.items())
    return f"{name}{{{text}}} {number}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
