"""Property tests for the primitive formats: generated valid values pass, corrupted ones fail."""

from __future__ import annotations

import base64
import calendar
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bindeled.fhir.validation.primitives import PRIMITIVE_CHECKS, check_primitive

INT_MAX = 2**31 - 1


def ok(type_code: str, value: object) -> bool:
    return check_primitive(type_code, value) is None


offsets = st.one_of(
    st.just("Z"),
    st.builds(
        lambda sign, h, m: f"{sign}{h:02d}:{m:02d}",
        st.sampled_from("+-"),
        st.integers(0, 13),
        st.integers(0, 59),
    ),
    st.sampled_from(["+14:00", "-14:00"]),
)
times = st.builds(
    lambda t, frac: t.strftime("%H:%M:%S") + frac,
    st.times(),
    st.sampled_from(["", ".0", ".123", ".123456"]),
)
real_dates = st.dates(min_value=dt.date(1, 1, 1))


@given(real_dates, st.sampled_from([4, 7, 10]))
def test_dates_at_any_precision_pass(day: dt.date, width: int) -> None:
    assert ok("date", day.isoformat()[:width])
    assert ok("dateTime", day.isoformat()[:width])


@given(real_dates, times, offsets)
def test_datetimes_and_instants_with_zone_pass(day: dt.date, time: str, zone: str) -> None:
    assert ok("dateTime", f"{day.isoformat()}T{time}{zone}")
    assert ok("instant", f"{day.isoformat()}T{time}{zone}")


@given(real_dates, times)
def test_time_without_zone_fails_for_datetime_and_instant(day: dt.date, time: str) -> None:
    assert not ok("dateTime", f"{day.isoformat()}T{time}")
    assert not ok("instant", f"{day.isoformat()}T{time}")
    assert not ok("instant", day.isoformat())


@given(st.integers(1, 9999), st.integers(1, 12))
def test_day_after_month_end_fails(year: int, month: int) -> None:
    last = calendar.monthrange(year, month)[1]
    assert ok("date", f"{year:04d}-{month:02d}-{last:02d}")
    if last < 31:
        assert not ok("date", f"{year:04d}-{month:02d}-{last + 1:02d}")
    assert not ok("date", f"{year:04d}-13-01")
    assert not ok("date", f"{year:04d}-{month:02d}-00")


@given(times)
def test_times(time: str) -> None:
    assert ok("time", time)
    assert not ok("time", "24" + time[2:])
    assert not ok("time", time + "Z")


@given(st.integers(-(2**31), INT_MAX))
def test_integers_in_range_pass(n: int) -> None:
    assert ok("integer", n)
    assert ok("unsignedInt", n) == (n >= 0)
    assert ok("positiveInt", n) == (n >= 1)


@given(st.one_of(st.integers(INT_MAX + 1), st.integers(max_value=-(2**31) - 1)))
def test_integers_out_of_range_fail(n: int) -> None:
    assert not ok("integer", n)
    assert not ok("unsignedInt", n)


@pytest.mark.parametrize("value", [True, "1", Decimal("1.5"), 1.0])
def test_non_integers_fail(value: object) -> None:
    assert not ok("integer", value)


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_decimals(value: Decimal) -> None:
    assert ok("decimal", value)
    assert not ok("decimal", str(value))


def test_decimal_rejects_nan_and_bool() -> None:
    assert not ok("decimal", Decimal("NaN"))
    assert not ok("decimal", float("inf"))
    assert not ok("decimal", False)


@given(st.from_regex(r"[A-Za-z0-9\-.]{1,64}", fullmatch=True))
def test_ids(value: str) -> None:
    assert ok("id", value)
    assert not ok("id", value + "x" * (65 - len(value)))
    assert not ok("id", value + "_")


@given(st.from_regex(r"[a-z0-9]{1,10}( [a-z0-9]{1,10}){0,3}", fullmatch=True))
def test_codes(value: str) -> None:
    assert ok("code", value)
    assert not ok("code", " " + value)
    assert not ok("code", value + " ")
    assert not ok("code", value.replace(" ", "  ") if " " in value else value + "  x")


@given(st.uuids())
def test_uuids(value: object) -> None:
    assert ok("uuid", f"urn:uuid:{value}")
    assert not ok("uuid", str(value))
    assert not ok("uuid", f"urn:uuid:{value}".upper())


@given(st.lists(st.integers(0, 99999), min_size=1, max_size=6))
def test_oids(arcs: list[int]) -> None:
    oid = "urn:oid:1." + ".".join(str(a) for a in arcs)
    assert ok("oid", oid)
    assert not ok("oid", oid + ".")
    assert not ok("oid", "urn:oid:3." + ".".join(str(a) for a in arcs))


@given(st.binary(min_size=1))
def test_base64(data: bytes) -> None:
    encoded = base64.b64encode(data).decode()
    assert ok("base64Binary", encoded)
    assert not ok("base64Binary", encoded[:-1])
    assert not ok("base64Binary", encoded[:-1] + "!")


@given(st.text(min_size=1).filter(lambda s: not any(c.isspace() for c in s)))
def test_uris_and_strings(value: str) -> None:
    for kind in ("uri", "url", "canonical", "string", "markdown"):
        assert ok(kind, value)
    assert not ok("uri", value + " " + value)


@pytest.mark.parametrize("kind", sorted(PRIMITIVE_CHECKS))
def test_empty_and_wrong_json_kinds_fail(kind: str) -> None:
    assert not ok(kind, "")
    assert not ok(kind, {"value": 1})
    assert not ok(kind, None)


@pytest.mark.parametrize("value", [True, False])
def test_booleans(value: bool) -> None:
    assert ok("boolean", value)
    assert not ok("boolean", str(value).lower())
    assert not ok("boolean", int(value))
