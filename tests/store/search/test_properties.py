"""Property tests: the SQL search on both backends agrees with the in-memory oracle.

Hypothesis generates small corpora of Patients and Observations (Danish names in mixed case and
accents, dates of every precision, codes, quantities, references) and queries over them (every
prefix, modifiers, OR and AND, chains, ``_has``, ``:missing``). Each example is loaded into a fresh
store and every query's result set must equal the oracle's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bindeled.fhir.definitions import load_definitions
from bindeled.fhir.search import parse_search
from bindeled.store.base import Store
from bindeled.store.factory import open_store
from bindeled.store.search import SearchIndexer, search
from tests.store.search._oracle import Oracle

FAMILIES = ["Søren", "SØRENSEN", "soren", "Hansen", "Åse", "ase", "Ærø", "aero", "Jensen", "Sø"]
GIVENS = ["Anne", "ANNE-Marie", "Bjørn", "bjorn", "Åge", "Mette"]
ID_SYSTEMS = ["urn:oid:1.2.208.176.1.2", "http://example.org/mrn"]
ID_VALUES = ["0101", "0102", "x|y", "a,b"]
CODES = [("http://loinc.org", "1234-5"), ("http://loinc.org", "2222-2"), ("http://snomed.info/sct", "1234-5")]
UNITS = [("http://unitsofmeasure.org", "mg"), ("http://unitsofmeasure.org", "kg")]
NUMBERS = ["0", "1", "1.5", "1.50", "2", "10", "15", "100", "0.25", "-3"]


_years = st.integers(1990, 1992).map(str)
_months = st.tuples(_years, st.integers(1, 12)).map(lambda t: f"{t[0]}-{t[1]:02d}")
_days = st.tuples(_months, st.integers(1, 28)).map(lambda t: f"{t[0]}-{t[1]:02d}")
_instants = st.tuples(_days, st.integers(0, 23), st.sampled_from(["Z", "+01:00", "-05:00"])).map(
    lambda t: f"{t[0]}T{t[1]:02d}:30:00{t[2]}"
)


def _date_texts() -> st.SearchStrategy[str]:
    return st.one_of(_years, _months, _days, _instants)


def _maybe(key: str, strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(st.just({}), strategy.map(lambda v: {key: v}))


@st.composite
def patients(draw: st.DrawFn, index: int) -> dict[str, Any]:
    r: dict[str, Any] = {"resourceType": "Patient", "id": f"p{index}"}
    r["name"] = [{"family": draw(st.sampled_from(FAMILIES)), "given": [draw(st.sampled_from(GIVENS))]}]
    r |= draw(_maybe("gender", st.sampled_from(["male", "female", "other"])))
    r |= draw(_maybe("birthDate", st.one_of(_years, _months, _days)))
    r |= draw(_maybe("active", st.booleans()))
    idents = draw(st.lists(st.tuples(st.sampled_from(ID_SYSTEMS), st.sampled_from(ID_VALUES)), max_size=2))
    if idents:
        r["identifier"] = [{"system": s, "value": v} for s, v in idents]
    return r


@st.composite
def observations(draw: st.DrawFn, index: int, patient_count: int) -> dict[str, Any]:
    system, code = draw(st.sampled_from(CODES))
    r: dict[str, Any] = {"resourceType": "Observation", "id": f"o{index}", "status": "final"}
    r["code"] = {"coding": [{"system": system, "code": code}]}
    if patient_count:
        r |= draw(_maybe("subject", st.integers(0, patient_count - 1).map(lambda i: {"reference": f"Patient/p{i}"})))
    unit = draw(st.sampled_from(UNITS))
    quantity = st.sampled_from(NUMBERS).map(lambda n: {"value": Decimal(n), "system": unit[0], "code": unit[1]})
    r |= draw(_maybe("valueQuantity", quantity))
    r |= draw(_maybe("effectiveDateTime", _instants))
    return r


@st.composite
def corpora(draw: st.DrawFn) -> list[dict[str, Any]]:
    n_pat = draw(st.integers(0, 10))
    n_obs = draw(st.integers(0, 10))
    return [draw(patients(i)) for i in range(n_pat)] + [draw(observations(i, n_pat)) for i in range(n_obs)]


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(",", "\\,").replace("|", "\\|")


PREFIXES = ["", "eq", "ne", "gt", "lt", "ge", "le", "sa", "eb"]


def _or(values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(values, min_size=1, max_size=2).map(",".join)


_patient_names = st.sampled_from(["name", "family", "given", "name:exact", "name:contains", "family:contains"])
_folded_bits = st.sampled_from([*FAMILIES, *GIVENS, "s", "SØ", "an", "ren", "ae", "æ"])
_identifier = st.one_of(
    st.sampled_from(ID_VALUES).map(_escape),
    st.tuples(st.sampled_from(ID_SYSTEMS), st.sampled_from(ID_VALUES)).map(lambda t: f"{t[0]}|{_escape(t[1])}"),
    st.sampled_from(ID_SYSTEMS).map(lambda s: f"{s}|"),
)
_date_query = st.tuples(st.sampled_from(PREFIXES), _date_texts()).map(lambda t: t[0] + t[1])
_quantity_query = st.tuples(st.sampled_from(PREFIXES), st.sampled_from(NUMBERS), st.sampled_from([None, *UNITS])).map(
    lambda t: t[0] + t[1] + ("" if t[2] is None else f"|{t[2][0]}|{t[2][1]}")
)
_code_query = st.one_of(
    st.sampled_from(CODES).map(lambda c: f"{c[0]}|{c[1]}"), st.sampled_from(CODES).map(lambda c: c[1])
)
_missing = st.sampled_from(["true", "false"])

PATIENT_PARAMS: list[st.SearchStrategy[tuple[str, str]]] = [
    st.tuples(_patient_names, _or(_folded_bits)),
    st.tuples(st.sampled_from(["gender", "gender:not"]), _or(st.sampled_from(["male", "female", "other"]))),
    st.tuples(st.just("active"), st.sampled_from(["true", "false"])),
    st.tuples(st.just("identifier"), _or(_identifier)),
    st.tuples(st.just("birthdate"), _or(_date_query)),
    st.tuples(st.sampled_from(["birthdate:missing", "gender:missing", "identifier:missing"]), _missing),
    st.tuples(st.just("_has:Observation:patient:code"), _or(_code_query)),
]
OBSERVATION_PARAMS: list[st.SearchStrategy[tuple[str, str]]] = [
    st.tuples(st.sampled_from(["code", "code:not"]), _or(_code_query)),
    st.tuples(st.just("value-quantity"), _or(_quantity_query)),
    st.tuples(st.just("date"), _or(_date_query)),
    st.tuples(st.just("subject"), _or(st.integers(0, 8).map(lambda i: f"Patient/p{i}") | st.just("p1"))),
    st.tuples(st.sampled_from(["subject:Patient.family", "subject:Patient.name"]), _or(_folded_bits)),
    st.tuples(st.just("subject:Patient.birthdate"), _date_query),
    st.tuples(st.sampled_from(["value-quantity:missing", "subject:missing", "date:missing"]), _missing),
]


def queries() -> st.SearchStrategy[tuple[str, list[tuple[str, str]]]]:
    patient = st.lists(st.one_of(PATIENT_PARAMS), min_size=1, max_size=3).map(lambda q: ("Patient", q))
    observation = st.lists(st.one_of(OBSERVATION_PARAMS), min_size=1, max_size=3).map(lambda q: ("Observation", q))
    return st.one_of(patient, observation)


async def _truncate(store: Store) -> None:
    rows = await store.fetch_all(
        "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'"
    )
    async with store.transaction() as tx:
        await tx.fetch_all(f"TRUNCATE {', '.join(r[0] for r in rows)} RESTART IDENTITY CASCADE")


async def _check(url: str, corpus: list[dict[str, Any]], cases: list[tuple[str, list[tuple[str, str]]]]) -> None:
    definitions = load_definitions()
    store = open_store(url, indexer=SearchIndexer(definitions))
    await store.open()
    try:
        if store.dialect == "postgresql":
            await _truncate(store)
        async with store.transaction() as tx:
            for r in corpus:
                await tx.update(r["resourceType"], r["id"], r)
        oracle = Oracle(corpus)
        for rtype, params in cases:
            request = parse_search(rtype, [*params, ("_count", "100")], definitions, strict=True)
            result = await search(store, request)
            found = {r.id for r in result.resources}
            assert found == oracle.search(rtype, params), (rtype, params)
            ordered = [(r.last_updated, r.id) for r in result.resources]
            assert ordered == sorted(ordered)
    finally:
        await store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "sqlite":
        yield "sqlite:///:memory:"
    else:
        yield request.getfixturevalue("postgres_url")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(corpus=corpora(), cases=st.lists(queries(), min_size=5, max_size=15))
def test_search_agrees_with_the_oracle(
    database_url: str, corpus: list[dict[str, Any]], cases: list[tuple[str, list[tuple[str, str]]]]
) -> None:
    asyncio.run(_check(database_url, corpus, cases))


def _fixed_corpus() -> list[dict[str, Any]]:
    """A corpus with every date precision and a spread of quantities, for the exhaustive checks."""
    dates = ["1990", "1990-05", "1990-05-10", "1991-12-31", "1992-01-01", "1990-05-31"]
    instants = [
        "1990-05-10T10:30:00Z",
        "1990-05-31T23:30:00+01:00",
        "1991-12-31T23:30:00-05:00",
        "1992-01-01T00:30:00Z",
    ]
    corpus: list[dict[str, Any]] = [
        {"resourceType": "Patient", "id": f"p{i}", "name": [{"family": "X"}], "birthDate": d}
        for i, d in enumerate(dates)
    ]
    corpus.append({"resourceType": "Patient", "id": "p-none", "name": [{"family": "Y"}]})
    for i, number in enumerate(NUMBERS):
        unit = UNITS[i % 2]
        corpus.append(
            {
                "resourceType": "Observation",
                "id": f"o{i}",
                "status": "final",
                "code": {"coding": [{"system": CODES[0][0], "code": CODES[0][1]}]},
                "valueQuantity": {"value": Decimal(number), "system": unit[0], "code": unit[1]},
                "effectiveDateTime": instants[i % len(instants)],
            }
        )
    return corpus


def _exhaustive_cases() -> list[tuple[str, list[tuple[str, str]]]]:
    dates = ["1990", "1990-05", "1990-05-10", "1990-05-10T10:30:00Z", "1991-12-31", "1992", "1989", "1990-05-31"]
    cases: list[tuple[str, list[tuple[str, str]]]] = []
    for prefix in PREFIXES:
        cases += [("Patient", [("birthdate", prefix + d)]) for d in dates]
        cases += [("Observation", [("date", prefix + d)]) for d in dates]
        cases += [("Observation", [("value-quantity", prefix + n)]) for n in NUMBERS]
        cases += [
            ("Observation", [("value-quantity", f"{prefix}{n}|{UNITS[0][0]}|{UNITS[0][1]}")]) for n in NUMBERS[:4]
        ]
    return cases


def test_every_prefix_agrees_with_the_oracle(database_url: str) -> None:
    asyncio.run(_check(database_url, _fixed_corpus(), _exhaustive_cases()))
