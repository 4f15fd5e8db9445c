"""Metrics by route template, and the inline SVG plots (escaped, accessible, nothing external)."""

from __future__ import annotations

from starlette.routing import Mount, Route

from bindeled.web.metrics import ServiceMetrics, route_template
from bindeled.web.svg import bar_chart, control_chart, timeline


async def _endpoint() -> None:  # never called: only matched
    return None


ROUTES = [
    Route("/patient/{id}", _endpoint),
    Mount("/fhir", routes=[Route("/{type}/{id}", _endpoint), Route("/{type}", _endpoint)]),
]


def _scope(path: str, method: str = "GET") -> dict[str, object]:
    return {"type": "http", "path": path, "root_path": "", "method": method, "headers": [], "query_string": b""}


def test_route_templates_hide_ids_and_queries() -> None:
    assert route_template(ROUTES, _scope("/patient/6101709995")) == "/patient/{id}"
    assert route_template(ROUTES, _scope("/fhir/Patient/123")) == "/fhir/{type}/{id}"
    assert route_template(ROUTES, _scope("/fhir/Patient")) == "/fhir/{type}"
    assert route_template(ROUTES, _scope("/nowhere/6101709995")) == "<unmatched>"


def test_counts_latency_and_errors_per_route() -> None:
    metrics = ServiceMetrics()
    metrics.observe("/fhir/{type}", "GET", 200, 0.02)
    metrics.observe("/fhir/{type}", "GET", 503, 0.5)
    text = metrics.exposition().decode()
    assert 'bindeled_http_requests_total{method="GET",route="/fhir/{type}",status="2xx"} 1.0' in text
    assert 'bindeled_http_requests_total{method="GET",route="/fhir/{type}",status="5xx"} 1.0' in text
    assert 'bindeled_http_errors_total{method="GET",route="/fhir/{type}"} 1.0' in text
    assert 'bindeled_http_request_duration_seconds_count{method="GET",route="/fhir/{type}"} 2.0' in text
    assert "bindeled_uptime_seconds" in text


def test_two_apps_keep_separate_metrics() -> None:
    first, second = ServiceMetrics(), ServiceMetrics()
    first.observe("/", "GET", 200, 0.01)
    assert "bindeled_http_requests_total{" not in second.exposition().decode()


def test_timeline_places_points_in_their_lanes_and_escapes_labels() -> None:
    svg = timeline(
        [("2026-11-01 09:00", "municipal", "<script>x</script>"), ("2026-11-05 09:00", "regional", "Kontrol")],
        [("municipal", "Kommune"), ("regional", "Region"), ("", "Ukendt")],
        "Tidslinje",
    )
    assert str(svg).count("<circle") == 2 and 'role="img"' in svg and "<title id=" in svg
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")


def test_bar_chart_marks_suppressed_bars() -> None:
    svg = bar_chart([("Odense Kommune", 0.5), ("Ærø Kommune", None)], "Andel")
    assert str(svg).count("<rect") == 1 and "50.0 %" in svg and ">*</text>" in svg


def test_control_chart_marks_points_above_the_limit_and_leaves_gaps() -> None:
    svg = str(
        control_chart(
            ["2026-08", "2026-09", "2026-10", "2026-11"],
            [1.0, None, 9.0, 2.0],
            [4.0, 4.0, 4.0, 4.0],
            2.0,
            "Rate",
            "c1",
        )
    )
    assert svg.count("<rect") == 1 and svg.count("<circle") == 2  # 9.0 is above the limit
    assert "2026-10: 9.00" in svg and 'aria-labelledby="c1-title"' in svg
    assert svg.count('stroke-width="2"') == 1  # the gap splits the line: only 9.0–2.0 is a segment
