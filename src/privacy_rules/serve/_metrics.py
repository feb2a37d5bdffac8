"""Counters and a latency histogram, written in the Prometheus text format (version 0.0.4).

Kept by hand instead of with prometheus_client: a handful of series, updated from the event
loop only (one thread), so plain dicts suffice and the hot path stays a few dict updates.
Label values are bounded: routes are the service's own paths (anything else is ``other``),
questions and outcomes come from the pack's vocabulary.
"""

from __future__ import annotations

import bisect
from typing import Iterable, Mapping

#: latency buckets, seconds
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """The service's metrics. Not thread-safe: update from the event loop."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], int] = {}
        self.latency: dict[str, list[int]] = {}  # route -> counts per bucket (+Inf last)
        self.latency_sum: dict[str, float] = {}
        self.decisions: dict[tuple[str, str], int] = {}
        self.in_flight = 0

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        counts = self.latency.get(route)
        if counts is None:
            counts = self.latency[route] = [0] * (len(BUCKETS) + 1)
            self.latency_sum[route] = 0.0
        counts[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.latency_sum[route] += seconds

    def decided(self, question: str, outcome: str, n: int = 1) -> None:
        key = (question, outcome)
        self.decisions[key] = self.decisions.get(key, 0) + n

    def render(self, *, reloads: Mapping[str, int], pack: Mapping[str, str], ready: bool) -> str:
        out: list[str] = []
        out += _family("privacy_rules_http_requests_total", "counter", "HTTP requests answered",
                       ((f'method="{m}",route="{r}",status="{s}"', n) for (m, r, s), n in sorted(self.requests.items())))
        out.append("# HELP privacy_rules_http_request_duration_seconds Time from request start to the last byte sent")
        out.append("# TYPE privacy_rules_http_request_duration_seconds histogram")
        for route in sorted(self.latency):
            counts = self.latency[route]
            total = 0
            for bound, n in zip((*(repr(b) for b in BUCKETS), "+Inf"), counts):
                total += n
                out.append(f'privacy_rules_http_request_duration_seconds_bucket{{route="{route}",le="{bound}"}} {total}')
            out.append(f'privacy_rules_http_request_duration_seconds_sum{{route="{route}"}} {self.latency_sum[route]!r}')
            out.append(f'privacy_rules_http_request_duration_seconds_count{{route="{route}"}} {total}')
        out += _family("privacy_rules_decisions_total", "counter", "Answers given, by question and outcome",
                       ((f'question="{_esc(q)}",outcome="{o}"', n) for (q, o), n in sorted(self.decisions.items())))
        out += _family("privacy_rules_pack_reloads_total", "counter", "Pack reloads, by result",
                       ((f'result="{k}"', n) for k, n in sorted(reloads.items())))
        out += _family("privacy_rules_pack_info", "gauge", "The pack being served (value 1)",
                       [(f'id="{_esc(pack["id"])}",version="{_esc(pack["version"])}",hash="{_esc(pack["hash"])}"', 1)])
        out += _family("privacy_rules_ready", "gauge", "1 when the pack on disk is the one serving", [("", int(ready))])
        out += _family("privacy_rules_http_requests_in_flight", "gauge", "Requests being answered", [("", self.in_flight)])
        return "\n".join(out) + "\n"


def _family(name: str, kind: str, help: str, samples: Iterable[tuple[str, int]]) -> list[str]:
    lines = [f"# HELP {name} {help}", f"# TYPE {name} {kind}"]
    for labels, value in samples:
        lines.append(f"{name}{{{labels}}} {value}" if labels else f"{name} {value}")
    return lines


def _esc(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


__all__ = ["CONTENT_TYPE", "Metrics"]
