"""URL query parameters → SearchRequest."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bindeled.errors import InvalidRequest, UnsupportedParameter
from bindeled.fhir.definitions import Definitions, load_definitions
from bindeled.fhir.search import (
    MAX_COUNT,
    Chain,
    Criterion,
    DateQuery,
    Has,
    MissingQuery,
    NumberQuery,
    QuantityQuery,
    ReferenceQuery,
    StringQuery,
    TokenQuery,
    UriQuery,
    parse_search,
)


def one(definitions: Definitions, rtype: str, name: str, value: str) -> Criterion:
    request = parse_search(rtype, [(name, value)], definitions, strict=True)
    (cond,) = request.conditions
    assert isinstance(cond, Criterion)
    return cond


def test_token_forms(definitions: Definitions) -> None:
    c = one(definitions, "Patient", "identifier", "urn:oid:1.2|123,|abc,http://x|,plain")
    assert c.values == (
        TokenQuery("urn:oid:1.2", "123"),
        TokenQuery("", "abc"),
        TokenQuery("http://x", None),
        TokenQuery(None, "plain"),
    )


def test_token_modifiers(definitions: Definitions) -> None:
    assert one(definitions, "Observation", "code:text", "Body Wéight").values == (
        TokenQuery(None, None, text="body weight"),
    )
    assert one(definitions, "Patient", "identifier:of-type", "http://t|MR|42").values == (
        TokenQuery(None, "42", type_system="http://t", type_code="MR"),
    )
    assert one(definitions, "Patient", "gender:not", "male").modifier == "not"
    codes = one(definitions, "Patient", "gender:in", "http://hl7.org/fhir/ValueSet/administrative-gender").values
    assert codes == (TokenQuery(None, None, codes=(("http://hl7.org/fhir/administrative-gender", None),)),)


def test_escaped_separators(definitions: Definitions) -> None:
    c = one(definitions, "Patient", "name", r"a\,b,c\\,d\$e")
    assert c.values == (StringQuery("a,b", "a,b"), StringQuery("c\\", "c\\"), StringQuery("d$e", "d$e"))


def test_string_is_folded(definitions: Definitions) -> None:
    assert one(definitions, "Patient", "name:exact", "SØREN").values == (StringQuery("soren", "SØREN"),)


def test_date_prefixes(definitions: Definitions) -> None:
    c = one(definitions, "Patient", "birthdate", "ge2020,2021-06-01,sa2022-01-01T10:00:00Z")
    assert [v.prefix for v in c.values] == ["ge", "eq", "sa"]  # type: ignore[union-attr]
    assert c.values[2] == DateQuery("sa", "2022-01-01T10:00:00.000000", "2022-01-01T10:00:01.000000")


def test_number_and_quantity(definitions: Definitions) -> None:
    n = one(definitions, "RiskAssessment", "probability", "gt0.8")
    assert n.values == (NumberQuery("gt", Decimal("0.8"), Decimal("0.75"), Decimal("0.85")),)
    q = one(definitions, "Observation", "value-quantity", "le5.40|http://unitsofmeasure.org|mg,100||kg")
    assert q.values == (
        QuantityQuery("le", Decimal("5.40"), Decimal("5.395"), Decimal("5.405"), "http://unitsofmeasure.org", "mg"),
        QuantityQuery("eq", Decimal("100"), Decimal("99.5"), Decimal("100.5"), None, "kg"),
    )


def test_reference_forms(definitions: Definitions) -> None:
    c = one(definitions, "Observation", "subject", "123,Patient/9,http://other.org/fhir/Patient/1")
    assert c.values[0] == ReferenceQuery(target_id="123", target_types=("Group", "Device", "Patient", "Location"))
    assert c.values[1] == ReferenceQuery("Patient", "9")
    assert c.values[2] == ReferenceQuery(url="http://other.org/fhir/Patient/1")
    assert one(definitions, "Observation", "subject:Patient", "9").values == (ReferenceQuery("Patient", "9"),)
    assert one(definitions, "Observation", "subject:identifier", "urn:oid:1|7").values == (
        ReferenceQuery(identifier_system="urn:oid:1", identifier_value="7"),
    )


def test_uri_above(definitions: Definitions) -> None:
    c = one(definitions, "ValueSet", "url:above", "http://acme.org/fhir/ValueSet/x")
    assert c.values == (
        UriQuery(
            "http://acme.org/fhir/ValueSet/x",
            (
                "http://acme.org",
                "http://acme.org/fhir",
                "http://acme.org/fhir/ValueSet",
                "http://acme.org/fhir/ValueSet/x",
            ),
        ),
    )


def test_missing(definitions: Definitions) -> None:
    assert one(definitions, "Patient", "birthdate:missing", "true").values == (MissingQuery(True),)
    with pytest.raises(InvalidRequest) as err:
        one(definitions, "Patient", "birthdate:missing", "yes")
    assert err.value.location == ("birthdate:missing",)


def test_chain_and_has(definitions: Definitions) -> None:
    request = parse_search(
        "Observation",
        [
            ("subject:Patient.name", "peter"),
            ("patient.organization.name", "acme"),
            ("_has:Provenance:target:agent", "x"),
        ],
        definitions,
        strict=True,
    )
    first, second, third = request.conditions
    assert isinstance(first, Chain)
    assert first.target_types == ("Patient",)
    assert isinstance(second, Chain)
    assert isinstance(second.inner, Chain)
    assert isinstance(third, Has)
    assert third.source_type == "Provenance"


def test_result_parameters(definitions: Definitions) -> None:
    request = parse_search(
        "Observation",
        [
            ("_count", "5000"),
            ("_offset", "20"),
            ("_sort", "-date,code"),
            ("_include", "Observation:subject:Patient"),
            ("_include:iterate", "Patient:organization"),
            ("_revinclude", "Provenance:target"),
            ("_total", "accurate"),
            ("_summary", "count"),
            ("_elements", "id,code"),
            ("_format", "json"),
        ],
        definitions,
        strict=True,
    )
    assert request.count == MAX_COUNT
    assert request.offset == 20
    assert [(k.param.code, k.descending) for k in request.sort] == [("date", True), ("code", False)]
    assert [(i.source_type, i.target_type, i.iterate) for i in request.includes] == [
        ("Observation", "Patient", False),
        ("Patient", None, True),
    ]
    assert request.revincludes[0].source_type == "Provenance"
    assert (request.total, request.summary, request.elements) == ("accurate", "count", ("id", "code"))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("nonsense", "1"),
        ("name:fancy", "x"),
        ("birthdate:exact", "2020"),
        ("_has:Nope:subject:code", "1"),
        ("_sort", "nonsense"),
        ("_text", "x"),
        ("general-practitioner:Device", "1"),
    ],
)
def test_strict_refuses_unknown(definitions: Definitions, name: str, value: str) -> None:
    with pytest.raises(UnsupportedParameter) as err:
        parse_search("Patient", [(name, value)], definitions, strict=True)
    assert err.value.location == (name,)
    lenient = parse_search("Patient", [(name, value), ("gender", "male")], definitions, strict=False)
    assert lenient.ignored == (name,)
    assert len(lenient.conditions) == 1


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("birthdate", "2020-13-01"),
        ("birthdate", "gt"),
        ("identifier", "a|b|c"),
        ("_count", "-1"),
        ("_total", "maybe"),
        ("_include", "Patient"),
        ("_include", "Observation:subject"),
        ("gender.name", "x"),
        ("name", ""),
    ],
)
def test_bad_values_are_invalid_in_both_modes(definitions: Definitions, name: str, value: str) -> None:
    for strict in (True, False):
        with pytest.raises(InvalidRequest) as err:
            parse_search("Patient", [(name, value)], definitions, strict=strict)
        assert not isinstance(err.value, UnsupportedParameter)
        assert err.value.location == (name,)


_text = st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=12)


def _escape(text: str) -> str:
    return "".join("\\" + ch if ch in "\\,|$" else ch for ch in text)


@given(st.lists(st.tuples(_text, _text), min_size=1, max_size=4))
def test_token_escaping_round_trips(pairs: list[tuple[str, str]]) -> None:
    value = ",".join(f"{_escape(s)}|{_escape(c)}" for s, c in pairs)
    c = one(load_definitions(), "Patient", "identifier", value)
    assert c.values == tuple(TokenQuery(s, c) for s, c in pairs)
