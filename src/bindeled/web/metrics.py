"""Service health as Prometheus metrics at ``/metrics``: requests, latency and errors per route template.

Labels are the route *template* (``/fhir/{type}/{id}``), the method and the status class — never the
raw path or query, which can hold CPR numbers or names. Each app has its own registry, so several
apps in one process (tests) do not collide.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["MetricsMiddleware", "ServiceMetrics", "metrics_endpoint", "route_template"]

UNMATCHED = "<unmatched>"


class ServiceMetrics:
    """The metrics of one app."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "bindeled_http_requests",
            "HTTP requests by route template",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.errors = Counter(
            "bindeled_http_errors", "HTTP responses with status 5xx by route template", ["route", "method"],
            registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "bindeled_http_request_duration_seconds",
            "Request latency by route template",
            ["route", "method"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.started = time.time()
        uptime = Gauge("bindeled_uptime_seconds", "Seconds since the process started serving", registry=self.registry)
        uptime.set_function(lambda: time.time() - self.started)

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, f"{status // 100}xx").inc()
        if status >= 500:
            self.errors.labels(route, method).inc()
        self.latency.labels(route, method).observe(seconds)

    def summary(self) -> list[tuple[str, int, int, float | None]]:
        """Per route template: requests, 5xx errors and mean latency in seconds (busiest first)."""
        requests: dict[str, float] = {}
        errors: dict[str, float] = {}
        latency: dict[str, list[float]] = {}
        for family in self.registry.collect():
            for sample in family.samples:
                route = sample.labels.get("route")
                if route is None:
                    continue
                if sample.name == "bindeled_http_requests_total":
                    requests[route] = requests.get(route, 0) + sample.value
                elif sample.name == "bindeled_http_errors_total":
                    errors[route] = errors.get(route, 0) + sample.value
                elif sample.name.endswith("_sum") or sample.name.endswith("_count"):
                    pair = latency.setdefault(route, [0.0, 0.0])
                    pair[0 if sample.name.endswith("_sum") else 1] += sample.value
        rows = []
        for route, count in requests.items():
            total, n = latency.get(route, [0.0, 0.0])
            rows.append((route, int(count), int(errors.get(route, 0)), total / n if n else None))
        return sorted(rows, key=lambda row: (-row[1], row[0]))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def route_template(routes: Sequence[BaseRoute], scope: Scope, prefix: str = "") -> str:
    """The template of the route that serves ``scope`` (``/fhir/{type}/{id}``), or ``<unmatched>``."""
    for route in routes:
        match, child = route.matches(scope)
        if match == Match.NONE:
            continue
        if isinstance(route, Mount):
            inner = route.routes
            if not inner:
                return f"{prefix}{route.path}/{{path}}"
            return route_template(inner, {**scope, **child}, prefix + route.path)
        return prefix + str(getattr(route, "path", UNMATCHED))
    return UNMATCHED


class MetricsMiddleware:
    """Times every HTTP request and counts it under its route template."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = route_template(self.routes, scope)
            self.metrics.observe(route, str(scope.get("method", "")), status, time.perf_counter() - started)


async def metrics_endpoint(request: Request) -> Response:
    metrics: ServiceMetrics = request.app.state.metrics
    return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
