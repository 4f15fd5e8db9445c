"""The operators' indicator page: message traffic per type and municipality beside the use of the overview."""

from __future__ import annotations

import csv
import io

from tests.web.conftest import PageClient


def test_traffic_per_type_and_municipality_with_records_and_suppression(pages: PageClient) -> None:
    pages.login("operator")
    page = pages.get("/indicators")
    assert page.status_code == 200 and 'id="traffic-table"' in page.text
    assert "hospital-notification-message" in page.text and "bindeled.message-traffic" in page.text
    rows = list(csv.DictReader(io.StringIO(pages.get("/indicators/traffic.csv").text)))
    assert rows and {r["letters_id"] for r in rows} == {"bindeled.message-traffic"}
    types = {r["message_type"] for r in rows}
    assert "hospital-notification-message" in types and "acknowledgement-message" in types
    for kind in types:
        of_kind = [r for r in rows if r["message_type"] == kind]
        shown = sum(int(r["letters"]) for r in of_kind if r["letters"])
        total = int(of_kind[0]["letters_denominator"]) if of_kind[0]["letters_denominator"] else None
        assert total is None or shown <= total
        for r in of_kind:
            assert (r["letters"] == "") == (r["letters_suppressed"] == "true")
            assert r["letters_suppressed"] == "false" or r["delivery_p50_seconds"] == ""
    assert any(r["receiver_name"].endswith("Kommune") for r in rows)
    assert any(r["sender_municipality"] == "-" for r in rows)  # hospitals are outside any municipality


def test_an_empty_period_says_so(pages: PageClient) -> None:
    pages.login("operator")
    page = pages.get("/indicators", **{"from": "2001-01-01", "to": "2001-01-31"})
    assert page.status_code == 200 and "Ingen meddelelser i perioden." in page.text
    assert pages.get("/indicators/traffic.csv", **{"from": "2001-02-01", "to": "2001-01-01"}).status_code == 400
