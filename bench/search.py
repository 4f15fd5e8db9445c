"""Search benchmark: latency and throughput of a fixed query mix, beside hand-written SQL baselines.

For each backend: generate Synthea-like data (patients with encounters, observations, conditions,
medication requests and appointments; vectorised with numpy), bulk-load it through the store with the
real :class:`~bindeled.store.search.SearchIndexer` in large transactions, ``ANALYZE``, then run the
query mix at 1 and 16 concurrent clients in a fresh process (the "server": its peak RSS is reported).
Every query's time is printed beside a baseline measured in the same run on the same database: the
best hand-written SQL we know for the same answer over the same tables.

    .venv/bin/python -m bench.search --backend both --resources 100000
    .venv/bin/python -m bench.search --backend postgresql --resources 1000000 --keep

``--resources`` is the total number of resources (about 51 per patient).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg
import numpy as np

from bindeled.fhir.definitions import load_definitions
from bindeled.fhir.search import date_range, fold, parse_search
from bindeled.store.base import Store
from bindeled.store.factory import open_store
from bindeled.store.search import SearchIndexer, everything, search

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
CPR = "urn:oid:1.2.208.176.1.2"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"

PER_PATIENT = {"Encounter": 10, "Observation": 30, "Condition": 4, "MedicationRequest": 4, "Appointment": 2}
"""Resources per patient besides the Patient itself (51 in all)."""

FAMILIES = np.array(
    ["Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen", "Rasmussen",
     "Jørgensen", "Petersen", "Madsen", "Kristensen", "Olsen", "Thomsen", "Christiansen", "Poulsen", "Johansen",
     "Møller", "Mortensen", "Knudsen", "Jakobsen", "Mikkelsen", "Olesen", "Frederiksen", "Laursen", "Henriksen",
     "Lund", "Schmidt", "Eriksen", "Holm", "Kristiansen", "Clausen", "Simonsen", "Svendsen", "Andreasen"]
)  # fmt: skip
GIVEN = np.array(
    ["Anne", "Kirsten", "Mette", "Hanne", "Helle", "Susanne", "Lene", "Maria", "Marianne", "Camilla", "Peter",
     "Michael", "Lars", "Jens", "Thomas", "Henrik", "Søren", "Christian", "Martin", "Jan", "Morten", "Rasmus"]
)  # fmt: skip
LOINC_CODES = np.array(["8302-2", "29463-7", "39156-5", "8867-4", "9279-1", "8480-6", "8462-4", "2339-0", "718-7",
                        "4548-4", "2093-3", "2571-8"])  # fmt: skip
CONDITIONS = np.array(["44054006", "38341003", "195662009", "10509002", "444814009", "40055000", "15777000",
                       "271737000", "162864005", "59621000"])  # fmt: skip
MEDICATIONS = np.array(["310965", "314076", "849574", "197361", "1049221", "308136"])
CLASSES = np.array(["AMB", "AMB", "AMB", "EMER", "IMP", "HH"])
EPOCH = np.datetime64("2005-01-01T00:00:00")
SPAN_SECONDS = 20 * 365 * 86400


@dataclass(frozen=True)
class Data:
    """The generated population: what the query mix draws its parameters from."""

    patients: int
    cprs: list[str]
    families: list[str]


def _instants(rng: np.random.Generator, n: int) -> np.ndarray:
    seconds = rng.integers(0, SPAN_SECONDS, n)
    return (EPOCH + seconds.astype("timedelta64[s]")).astype(str)


def generate(patients: int, seed: int = 7) -> tuple[Data, Iterator[list[tuple[str, str, dict[str, Any]]]]]:
    """The population (drawn up front, vectorised) and an iterator of per-1000-patient resource chunks."""
    rng = np.random.default_rng(seed)
    cprs = [f"{d:02d}{m:02d}{y:02d}{s:04d}" for d, m, y, s in zip(
        rng.integers(1, 29, patients), rng.integers(1, 13, patients), rng.integers(0, 100, patients),
        rng.permutation(patients) % 10000, strict=True)]  # fmt: skip
    cprs = [f"{c}-{i}" for i, c in enumerate(cprs)]  # unique
    families = FAMILIES[rng.integers(0, len(FAMILIES), patients)].tolist()
    data = Data(patients, cprs, families)

    def chunks() -> Iterator[list[tuple[str, str, dict[str, Any]]]]:
        step = 1000
        for start in range(0, patients, step):
            yield _chunk(rng, data, range(start, min(start + step, patients)))

    return data, chunks()


def _chunk(rng: np.random.Generator, data: Data, span: range) -> list[tuple[str, str, dict[str, Any]]]:
    n = len(span)
    out: list[tuple[str, str, dict[str, Any]]] = []
    given = GIVEN[rng.integers(0, len(GIVEN), n)]
    births = (np.datetime64("1930-01-01") + rng.integers(0, 90 * 365, n).astype("timedelta64[D]")).astype(str)
    genders = np.where(rng.random(n) < 0.5, "female", "male")
    for k, i in enumerate(span):
        out.append(("Patient", f"p{i}", {
            "resourceType": "Patient", "id": f"p{i}",
            "identifier": [{"system": CPR, "value": data.cprs[i]}],
            "name": [{"family": data.families[i], "given": [str(given[k])]}],
            "gender": str(genders[k]), "birthDate": str(births[k]),
        }))  # fmt: skip
    counts = PER_PATIENT
    enc_n = n * counts["Encounter"]
    enc_start = _instants(rng, enc_n)
    enc_class = CLASSES[rng.integers(0, len(CLASSES), enc_n)]
    for j in range(enc_n):
        i = span[j // counts["Encounter"]]
        start = enc_start[j]
        out.append(("Encounter", f"e{i}-{j % 10}", {
            "resourceType": "Encounter", "id": f"e{i}-{j % 10}", "status": "finished",
            "class": {"system": ACT, "code": str(enc_class[j])},
            "subject": {"reference": f"Patient/p{i}"},
            "period": {"start": f"{start}+00:00", "end": f"{start[:11]}23:59:59+00:00"},
        }))  # fmt: skip
    obs_n = n * counts["Observation"]
    obs_code = LOINC_CODES[rng.integers(0, len(LOINC_CODES), obs_n)]
    obs_when = _instants(rng, obs_n)
    obs_value = np.round(rng.normal(100, 30, obs_n), 1)
    for j in range(obs_n):
        i = span[j // counts["Observation"]]
        oid = f"o{i}-{j % counts['Observation']}"
        out.append(("Observation", oid, {
            "resourceType": "Observation", "id": oid, "status": "final",
            "code": {"coding": [{"system": LOINC, "code": str(obs_code[j])}]},
            "subject": {"reference": f"Patient/p{i}"},
            "encounter": {"reference": f"Encounter/e{i}-{j % counts['Encounter']}"},
            "effectiveDateTime": f"{obs_when[j]}+00:00",
            "valueQuantity": {"value": float(obs_value[j]), "unit": "1", "system": "http://unitsofmeasure.org",
                              "code": "1"},
        }))  # fmt: skip
    con_n = n * counts["Condition"]
    con_code = CONDITIONS[rng.integers(0, len(CONDITIONS), con_n)]
    con_when = _instants(rng, con_n)
    for j in range(con_n):
        i = span[j // counts["Condition"]]
        cid = f"c{i}-{j % counts['Condition']}"
        out.append(("Condition", cid, {
            "resourceType": "Condition", "id": cid,
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                           "code": "active"}]},
            "code": {"coding": [{"system": SNOMED, "code": str(con_code[j])}]},
            "subject": {"reference": f"Patient/p{i}"}, "onsetDateTime": f"{con_when[j]}+00:00",
        }))  # fmt: skip
    med_n = n * counts["MedicationRequest"]
    med_code = MEDICATIONS[rng.integers(0, len(MEDICATIONS), med_n)]
    med_when = _instants(rng, med_n)
    for j in range(med_n):
        i = span[j // counts["MedicationRequest"]]
        mid = f"m{i}-{j % counts['MedicationRequest']}"
        out.append(("MedicationRequest", mid, {
            "resourceType": "MedicationRequest", "id": mid, "status": "active", "intent": "order",
            "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                      "code": str(med_code[j])}]},
            "subject": {"reference": f"Patient/p{i}"}, "authoredOn": f"{med_when[j]}+00:00",
        }))  # fmt: skip
    app_n = n * counts["Appointment"]
    app_when = _instants(rng, app_n)
    for j in range(app_n):
        i = span[j // counts["Appointment"]]
        aid = f"a{i}-{j % counts['Appointment']}"
        out.append(("Appointment", aid, {
            "resourceType": "Appointment", "id": aid, "status": "booked",
            "start": f"{app_when[j]}+00:00", "end": f"{app_when[j][:11]}23:30:00+00:00",
            "participant": [{"actor": {"reference": f"Patient/p{i}"}, "status": "accepted"}],
        }))  # fmt: skip
    return out


# -- loading ----------------------------------------------------------------------------------------


async def load(store: Store, chunks: Iterator[list[tuple[str, str, dict[str, Any]]]], limit: int) -> tuple[int, float]:
    """Create up to ``limit`` resources, one transaction per chunk; (count, seconds)."""
    started = time.perf_counter()
    made = 0
    for chunk in chunks:
        batch = chunk[: limit - made]
        async with store.transaction() as tx:
            for rtype, rid, body in batch:
                await tx.create(rtype, body, id=rid)
        made += len(batch)
        print(f"  loaded {made:,} ({made / (time.perf_counter() - started):,.0f}/s)", file=sys.stderr, flush=True)
        if made >= limit:
            break
    return made, time.perf_counter() - started


# -- the query mix ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    name: str
    fhir: Callable[[Store, Any, int], Awaitable[int]]
    """Run the FHIR search for case ``i``; returns the number of resources answered."""
    baseline: Callable[[Store, int], Awaitable[int]]
    """Run the hand-written SQL for case ``i``; returns the number of resources answered."""


def _sql(store: Store, text: str) -> str:
    """``?`` placeholders in the dialect's form."""
    if store.dialect == "sqlite":
        return text
    out, n = [], 0
    for ch in text:
        if ch == "?":
            n += 1
            out.append(f"${n}")
        else:
            out.append(ch)
    return "".join(out)


def _live(store: Store) -> str:
    return "r.deleted = 0" if store.dialect == "sqlite" else "NOT r.deleted"


def mix(data: Data) -> list[Query]:
    rng = np.random.default_rng(11)
    cases = 4096
    pats = rng.integers(0, data.patients, cases)
    codes = LOINC_CODES[rng.integers(0, len(LOINC_CODES), cases)]
    conds = CONDITIONS[rng.integers(0, len(CONDITIONS), cases)]
    years = rng.integers(2006, 2022, cases)
    days = (np.datetime64("2006-01-01") + rng.integers(0, 16 * 365, cases).astype("timedelta64[D]")).astype(str)
    cols = "r.res_type, r.res_id, r.version, r.last_updated, r.deleted, r.method, r.body"

    def fhir(rtype: str, params: Callable[[int], list[tuple[str, str]]]) -> Callable[[Store, Any, int], Awaitable[int]]:
        async def run(store: Store, definitions: Any, i: int) -> int:
            request = parse_search(rtype, params(i % cases), definitions, strict=True)
            result = await search(store, request)
            return len(result.resources) + len(result.included)

        return run

    def sql(text: Callable[[Store], str], args: Callable[[int], list[Any]]) -> Callable[[Store, int], Awaitable[int]]:
        async def run(store: Store, i: int) -> int:
            return len(await store.fetch_all(_sql(store, text(store)), args(i % cases)))

        return run

    def pid(i: int) -> str:
        return f"p{pats[i]}"

    def obs_params(i: int) -> list[tuple[str, str]]:
        y = int(years[i])
        return [("subject", f"Patient/{pid(i)}"), ("code", f"{LOINC}|{codes[i]}"), ("date", f"ge{y}-01-01"),
                ("date", f"lt{y + 5}-01-01")]  # fmt: skip

    obs_sql = (
        "SELECT {cols} FROM search_reference s JOIN resources r ON r.res_type = s.res_type AND r.res_id = s.res_id "
        "WHERE s.res_type = 'Observation' AND s.param = 'subject' AND s.target_id = ? AND s.target_type = 'Patient' "
        "AND {live} AND EXISTS (SELECT 1 FROM search_token t WHERE t.res_type = r.res_type AND t.res_id = r.res_id "
        "AND t.param = 'code' AND t.code = ? AND t.system = ?) AND EXISTS (SELECT 1 FROM search_date d "
        "WHERE d.res_type = r.res_type AND d.res_id = r.res_id AND d.param = 'date' AND d.high > ?) "
        "AND EXISTS (SELECT 1 FROM search_date d WHERE d.res_type = r.res_type AND d.res_id = r.res_id "
        "AND d.param = 'date' AND d.low < ?) ORDER BY r.last_updated, r.res_id LIMIT 51"
    )

    def obs_args(i: int) -> list[Any]:
        y = int(years[i])
        return [pid(i), str(codes[i]), LOINC, date_range(f"{y}-01-01")[0], date_range(f"{y + 5}-01-01")[0]]

    async def everything_run(store: Store, definitions: Any, i: int) -> int:
        return len(await everything(store, definitions, "Patient", pid(i % cases)))

    async def everything_base(store: Store, i: int) -> int:
        p = pid(i % cases)
        sql = (
            f"SELECT {cols} FROM resources r WHERE r.res_type = 'Patient' AND r.res_id = ? AND {_live(store)} "
            f"UNION ALL SELECT {cols} FROM resources r JOIN (SELECT DISTINCT s.res_type, s.res_id FROM "
            "search_reference s WHERE s.target_type = 'Patient' AND s.target_id = ? "
            "AND s.param IN ('subject', 'patient', 'actor')) m ON r.res_type = m.res_type AND r.res_id = m.res_id "
            f"WHERE {_live(store)}"
        )
        return len(await store.fetch_all(_sql(store, sql), [p, p]))

    c = cols
    return [
        Query(
            "patient by identifier",
            fhir("Patient", lambda i: [("identifier", f"{CPR}|{data.cprs[pats[i]]}")]),
            sql(
                lambda s: (
                    f"SELECT {c} FROM resources r JOIN search_token t ON t.res_type = r.res_type AND "
                    f"t.res_id = r.res_id WHERE t.res_type = 'Patient' AND t.param = 'identifier' AND t.code = ? "
                    f"AND t.system = ? AND {_live(s)}"
                ),
                lambda i: [data.cprs[pats[i]], CPR],
            ),
        ),
        Query(
            "patient by name prefix",
            fhir("Patient", lambda i: [("name", data.families[pats[i]][:4])]),
            sql(
                lambda s: (
                    f"SELECT {c} FROM resources r WHERE r.res_type = 'Patient' AND {_live(s)} AND r.res_id IN "
                    "(SELECT t.res_id FROM search_string t WHERE t.res_type = 'Patient' AND t.param = 'name' "
                    "AND t.norm >= ? AND t.norm < ?) ORDER BY r.last_updated, r.res_id LIMIT 51"
                ),
                lambda i: [fold(data.families[pats[i]][:4]), fold(data.families[pats[i]][:4]) + "\U0010ffff"],
            ),
        ),
        Query(
            "observations by code+date",
            fhir("Observation", obs_params),
            sql(lambda s: obs_sql.format(cols=c, live=_live(s)), obs_args),
        ),
        Query(
            "_include subject",
            fhir("Observation", lambda i: [*obs_params(i), ("_include", "Observation:subject")]),
            sql(
                lambda s: (
                    f"WITH o AS ({obs_sql.format(cols=c, live=_live(s))}) SELECT * FROM o UNION ALL "
                    f"SELECT {c} FROM resources r WHERE r.res_type = 'Patient' AND r.res_id = ? AND {_live(s)} "
                    "AND EXISTS (SELECT 1 FROM o)"
                ),
                lambda i: [*obs_args(i), pid(i)],
            ),
        ),
        Query(
            "chained subject:Patient.identifier",
            fhir(
                "Observation",
                lambda i: [("subject:Patient.identifier", f"{CPR}|{data.cprs[pats[i]]}"), ("code", str(codes[i]))],
            ),
            sql(
                lambda s: (
                    f"SELECT {c} FROM search_token p JOIN search_reference x ON x.res_type = 'Observation' "
                    "AND x.param = 'subject' AND x.target_id = p.res_id AND x.target_type = 'Patient' "
                    "JOIN resources r ON r.res_type = x.res_type AND r.res_id = x.res_id "
                    "WHERE p.res_type = 'Patient' AND p.param = 'identifier' AND p.code = ? AND p.system = ? "
                    f"AND {_live(s)} AND EXISTS (SELECT 1 FROM search_token t WHERE t.res_type = r.res_type "
                    "AND t.res_id = r.res_id AND t.param = 'code' AND t.code = ?) "
                    "ORDER BY r.last_updated, r.res_id LIMIT 51"
                ),
                lambda i: [data.cprs[pats[i]], CPR, str(codes[i])],
            ),
        ),
        Query(
            "_revinclude Encounter:subject",
            fhir("Patient", lambda i: [("_id", pid(i)), ("_revinclude", "Encounter:subject")]),
            sql(
                lambda s: (
                    f"SELECT {c} FROM resources r WHERE r.res_type = 'Patient' AND r.res_id = ? AND {_live(s)} "
                    f"UNION ALL SELECT {c} FROM resources r JOIN search_reference x ON x.res_type = r.res_type AND "
                    "x.res_id = r.res_id WHERE x.res_type = 'Encounter' AND x.param = 'subject' AND "
                    f"x.target_type = 'Patient' AND x.target_id = ? AND {_live(s)}"
                ),
                lambda i: [pid(i), pid(i)],
            ),
        ),
        Query(
            "_has:Condition:subject:code",
            fhir(
                "Patient",
                lambda i: [("_has:Condition:subject:code", f"{SNOMED}|{conds[i]}"), ("family", data.families[pats[i]])],
            ),
            sql(
                lambda s: (
                    f"SELECT {c} FROM resources r WHERE r.res_type = 'Patient' AND {_live(s)} AND r.res_id IN "
                    "(SELECT n.res_id FROM search_string n WHERE n.res_type = 'Patient' AND n.param = 'family' "
                    "AND n.norm >= ? AND n.norm < ? INTERSECT SELECT x.target_id FROM search_reference x JOIN "
                    "search_token t ON t.res_type = 'Condition' AND t.res_id = x.res_id AND t.param = 'code' "
                    "WHERE x.res_type = 'Condition' AND x.param = 'subject' AND x.target_type = 'Patient' "
                    "AND t.code = ? AND t.system = ?) ORDER BY r.last_updated, r.res_id LIMIT 51"
                ),
                lambda i: [
                    fold(data.families[pats[i]]),
                    fold(data.families[pats[i]]) + "\U0010ffff",
                    str(conds[i]),
                    SNOMED,
                ],
            ),
        ),
        Query(
            "sorted+paged appointments",
            fhir(
                "Appointment",
                lambda i: [
                    ("date", f"ge{days[i]}"),
                    ("date", f"lt{_plus_days(days[i], 60)}"),
                    ("_sort", "date"),
                    ("_count", "10"),
                    ("_offset", "10"),
                ],
            ),
            sql(
                lambda s: (
                    f"SELECT {c} FROM resources r JOIN search_date d ON d.res_type = r.res_type AND "
                    f"d.res_id = r.res_id WHERE d.res_type = 'Appointment' AND d.param = 'date' AND d.high > ? "
                    f"AND d.low < ? AND {_live(s)} ORDER BY d.low, r.last_updated, r.res_id LIMIT 11 OFFSET 10"
                ),
                lambda i: [date_range(days[i])[0], date_range(_plus_days(days[i], 60))[0]],
            ),
        ),
        Query("$everything", everything_run, everything_base),
    ]


def _plus_days(day: str, n: int) -> str:
    return str(np.datetime64(day) + np.timedelta64(n, "D"))


# -- measuring --------------------------------------------------------------------------------------


async def _timed(
    clients: int, iterations: int, call: Callable[[int], Awaitable[int]]
) -> tuple[list[float], float, int]:
    """Run ``iterations`` calls over ``clients`` concurrent workers; (latencies, seconds, answered)."""
    latencies: list[float] = []
    answered = 0
    counter = iter(range(iterations))

    async def worker() -> None:
        nonlocal answered
        for i in counter:
            t0 = time.perf_counter()
            got = await call(i)
            latencies.append(time.perf_counter() - t0)
            answered += got

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return latencies, time.perf_counter() - started, answered


def _pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def run_queries(url: str, data: Data, iterations: int) -> dict[str, Any]:
    definitions = load_definitions()
    store = open_store(url, indexer=SearchIndexer(definitions))
    await store.open()
    rows: list[dict[str, Any]] = []
    try:
        for query in mix(data):
            await query.fhir(store, definitions, 0)  # warm caches and prepared statements
            await query.baseline(store, 0)
            for clients in (1, 16):
                lat, secs, n = await _timed(clients, iterations, partial(query.fhir, store, definitions))
                blat, bsecs, bn = await _timed(clients, iterations, partial(query.baseline, store))
                rows.append({
                    "query": query.name, "clients": clients,
                    "p50": _pct(lat, 0.5), "p99": _pct(lat, 0.99), "qps": iterations / secs,
                    "base_p50": _pct(blat, 0.5), "base_p99": _pct(blat, 0.99), "base_qps": iterations / bsecs,
                    "answered": n / iterations, "base_answered": bn / iterations,
                })  # fmt: skip
    finally:
        await store.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"rows": rows, "peak_rss_mb": peak}


def print_table(backend: str, resources: int, load_rate: float, result: dict[str, Any]) -> None:
    print(f"\n## {backend}: {resources:,} resources (load {load_rate:,.0f} resources/s)")
    print(f"server peak RSS during queries: {result['peak_rss_mb']:,.0f} MiB")
    print(
        "| query | clients | p50 ms | p99 ms | q/s | SQL p50 ms | SQL p99 ms | SQL q/s | ratio p50 | rows (FHIR/SQL) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in result["rows"]:
        ratio = r["p50"] / r["base_p50"] if r["base_p50"] else float("nan")
        print(
            f"| {r['query']} | {r['clients']} | {r['p50']:.2f} | {r['p99']:.2f} | {r['qps']:,.0f} | "
            f"{r['base_p50']:.2f} | {r['base_p99']:.2f} | {r['base_qps']:,.0f} | {ratio:.1f}x | "
            f"{r['answered']:.1f}/{r['base_answered']:.1f} |"
        )


# -- orchestration ----------------------------------------------------------------------------------


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _analyze(url: str) -> None:
    store = open_store(url)
    await store.open()
    try:
        async with store.transaction() as tx:
            await tx.fetch_all("ANALYZE")
    finally:
        await store.close()


def bench_backend(backend: str, resources: int, iterations: int, keep: bool, folder: Path) -> None:
    patients = max(1, resources // (1 + sum(PER_PATIENT.values())))
    data, chunks = generate(patients)
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'search-bench.db'}"
        name = None
    else:
        name = f"bindeled_bench_{secrets.token_hex(4)}"
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    try:
        definitions = load_definitions()

        async def do_load() -> tuple[int, float]:
            store = open_store(url, indexer=SearchIndexer(definitions))
            await store.open()
            try:
                return await load(store, chunks, resources)
            finally:
                await store.close()

        print(f"  database: {url}", file=sys.stderr, flush=True)
        made, seconds = asyncio.run(do_load())
        asyncio.run(_analyze(url))
        manifest = folder / f"{backend}-data.json"
        manifest.write_text(json.dumps({"patients": data.patients, "cprs": data.cprs, "families": data.families}))
        done = subprocess.run(
            [sys.executable, "-m", "bench.search", "--query-phase", str(manifest), "--url", url,
             "--iterations", str(iterations)],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        print_table(backend, made, made / seconds, json.loads(done.stdout))
        sys.stdout.flush()
    finally:
        if name is not None and not keep:
            asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--resources", type=int, default=100_000)
    parser.add_argument("--iterations", type=int, default=200, help="queries per query type and client count")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument("--workdir", help="where the SQLite file and data manifests go (default: a temporary folder)")
    parser.add_argument("--query-phase", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.query_phase:
        raw = json.loads(Path(args.query_phase).read_text())
        data = Data(raw["patients"], raw["cprs"], raw["families"])
        print(json.dumps(asyncio.run(run_queries(args.url, data, args.iterations))))
        return
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if args.workdir:
        Path(args.workdir).mkdir(parents=True, exist_ok=True)
        for backend in backends:
            bench_backend(backend, args.resources, args.iterations, args.keep, Path(args.workdir))
        return
    with tempfile.TemporaryDirectory(prefix="bindeled-search-bench-", dir=os.environ.get("TMPDIR")) as tmp:
        for backend in backends:
            bench_backend(backend, args.resources, args.iterations, args.keep, Path(tmp))


if __name__ == "__main__":
    main()
