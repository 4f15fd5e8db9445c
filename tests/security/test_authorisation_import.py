"""Parsing authorisation-register snapshots: CSV and JSON, every defect refused with its row and column."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bindeled.errors import BindeledError, InvalidRequest
from bindeled.security.authorisation_import import AuthorisationRow, parse_snapshot, to_authorisation

CSV = b"""authorisation_id;name;education_code;status;valid_from;valid_to
GP7K2;Gitte Demo Praktiserende;7170;active;2001-06-01;
NS3B8;Nanna Demo Sygeplejerske;5166;revoked;2015-01-01;2025-12-31
HD4M9;Henrik Demo Overl\xc3\xa6ge;7170;restricted;2010-01-01T00:00:00+01:00;
"""


def test_a_semicolon_csv_snapshot_is_read_with_statuses_and_periods() -> None:
    rows = parse_snapshot(CSV, "text/csv; charset=utf-8")
    assert [(r.authorisation_id, r.status) for r in rows] == [
        ("GP7K2", "active"),
        ("NS3B8", "revoked"),
        ("HD4M9", "restricted"),
    ]
    assert rows[2].name == "Henrik Demo Overlæge"
    now = datetime(2026, 3, 1, tzinfo=UTC)
    assert to_authorisation(rows[0]).valid.contains(now)
    assert not to_authorisation(rows[1]).valid.contains(now)  # revoked: known, never valid
    assert to_authorisation(rows[2]).valid.contains(now)  # intensified supervision still counts
    assert not to_authorisation(rows[0]).valid.contains(datetime(2000, 1, 1, tzinfo=UTC))


def test_a_comma_csv_with_a_bom_and_columns_in_any_order() -> None:
    data = "\ufeffstatus,education_code,name,authorisation_id\r\nactive,7170,A B,X1\r\n\r\n".encode()
    assert parse_snapshot(data, "text/csv") == [AuthorisationRow("X1", "A B", "7170", "active")]


def test_json_snapshots_as_a_list_or_wrapped() -> None:
    item = {"authorisation_id": "X1", "name": "A", "education_code": "7170", "status": "active"}
    assert parse_snapshot(json.dumps([item]).encode(), "application/json") == parse_snapshot(
        json.dumps({"authorisations": [item]}).encode(), "application/json"
    )


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (b"authorisation_id,name,education_code\nX1,A,7170\n", "row 1"),
        (b"authorisation_id,name,education_code,status\nX1,A,717,active\n", "row 2, column education_code"),
        (b"authorisation_id,name,education_code,status\nX1,A,7170,dead\n", "row 2, column status"),
        (b"authorisation_id,name,education_code,status\nX-1,A,7170,active\n", "row 2, column authorisation_id"),
        (b"authorisation_id,name,education_code,status\nX1,,7170,active\n", "row 2, column name"),
        (b"authorisation_id,name,education_code,status\nX1,A,7170\n", "row 2"),
        (
            b"authorisation_id,name,education_code,status\nX1,A,7170,active\nX1,B,7170,active\n",
            "row 3, column authorisation_id",
        ),
        (
            b"authorisation_id,name,education_code,status,valid_from\nX1,A,7170,active,2020-01-01T10:00:00\n",
            "row 2, column valid_from",
        ),
        (
            b"authorisation_id,name,education_code,status,valid_from,valid_to\nX1,A,7170,active,2020-01-02,2020-01-01\n",
            "row 2, column valid_to",
        ),
        (b"", "row 1"),
        (b"\xff\xfe", "row 1"),
    ],
)
def test_defects_name_their_row_and_column(data: bytes, where: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_snapshot(data, "text/csv")
    assert refused.value.location == (where,)
    assert refused.value.details_code == "invalid_snapshot"


def test_other_media_types_and_bad_json_are_refused() -> None:
    with pytest.raises(InvalidRequest, match="text/csv or application/json"):
        parse_snapshot(b"x", "application/xml")
    for data in (b"{", b"{}", b"[1]", b'[{"authorisation_id": 5}]', b'[{"extra": "x"}]'):
        with pytest.raises(InvalidRequest):
            parse_snapshot(data, "application/json")


@settings(max_examples=200)
@given(st.binary(max_size=300), st.sampled_from(["text/csv", "application/json"]))
def test_any_bytes_either_parse_or_are_a_clear_400(data: bytes, media: str) -> None:
    try:
        rows = parse_snapshot(data, media)
    except BindeledError as error:
        assert error.status == 400 and error.location
    else:
        assert all(isinstance(r, AuthorisationRow) for r in rows)


_ID = st.text("ABCDEFGHJK0123456789", min_size=1, max_size=8)
_ROW = st.tuples(
    _ID,
    st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=20).filter(
        lambda s: s.strip() == s and s
    ),
    st.from_regex(r"\d{4}", fullmatch=True),
    st.sampled_from(["active", "restricted", "suspended", "revoked", "expired"]),
)


@settings(max_examples=100)
@given(st.lists(_ROW, max_size=10, unique_by=lambda r: (r[0], r[2])))
def test_csv_written_by_the_csv_module_round_trips(rows: list[tuple[str, str, str, str]]) -> None:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["authorisation_id", "name", "education_code", "status"])
    writer.writerows(rows)
    parsed = parse_snapshot(out.getvalue().encode(), "text/csv")
    assert [(r.authorisation_id, r.name, r.education_code, r.status) for r in parsed] == rows
