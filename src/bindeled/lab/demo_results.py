"""A realistic stream of microbiology results for given synthetic citizens, and a loader for the demo.

:func:`demo_cases` draws samples for the citizens over a period: urine cultures most often, then blood
cultures and C. difficile toxin tests; about 40 % are taken during a hospital stay, and a third of those
more than 48 hours after admission (hospital onset, what HAIBA looks for). A seeded :class:`Outbreak` adds
a cluster: one organism with one resistance pattern on one ward within a few weeks, all hospital onset.

:func:`demo_messages` renders the cases as ORU^R01 versions in the order a laboratory sends them
(preliminary, final, now and then a correction), and :func:`load_demo_results` stores them through the
:class:`~bindeled.lab.store_sink.StoreSink`, every resource tagged ``SYNTHETIC``;
:func:`bulk_load_demo_results` reaches the same current view in bulk (:mod:`bindeled.lab.bulk_results`) for a
store without lab results yet, which a region-sized demo needs.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from bindeled.demo.patients import SYNTHETIC_TAG
from bindeled.fhir.jsonio import Resource
from bindeled.lab.bulk_results import bulk_store_er7
from bindeled.lab.corrections import Outcome
from bindeled.lab.hl7v2 import er7
from bindeled.lab.hl7v2.oru_r01 import CPR_SYSTEM, MappedResult, map_oru_r01
from bindeled.lab.store_sink import StoreSink
from bindeled.lab.synthetic import ORGANISMS, Susceptibility, SyntheticCase, panel, synthetic_case
from bindeled.store.repository import Repository

__all__ = [
    "DEFAULT_OUTBREAK",
    "WARDS",
    "Citizen",
    "DemoCase",
    "LoadSummary",
    "Outbreak",
    "bulk_load_demo_results",
    "citizen_of",
    "demo_cases",
    "demo_messages",
    "load_demo_results",
]

WARDS = ("MED-A", "MED-B", "KIR-1", "ORTO", "ITA", "NEO")
"""Synthetic ward codes (``PV1-3``)."""

_KINDS = ("urine", "urine", "urine", "blood", "blood", "cdiff")
_SEX = {"female": "F", "male": "M"}
_SENT_AFTER = {"P": timedelta(hours=18), "F": timedelta(hours=60), "C": timedelta(hours=90)}


@dataclass(frozen=True, slots=True)
class Citizen:
    """Who a synthetic sample belongs to."""

    cpr: str
    family: str
    given: str
    sex: str
    """HL7 administrative sex: F, M or U."""


@dataclass(frozen=True, slots=True)
class Outbreak:
    """A cluster to seed: ``cases`` blood cultures with ``organism`` on ``ward`` from ``start`` on."""

    organism: tuple[str, str] = ("KPNE", "Klebsiella pneumoniae")
    ward: str = "MED-B"
    start: datetime = datetime(2026, 9, 7, tzinfo=UTC)
    days: int = 21
    cases: int = 8
    resistant_to: tuple[str, ...] = ("CXM", "CRO", "CIP")
    """The shared resistance pattern (an ESBL-like phenotype): R to these, the rest of the panel S."""


DEFAULT_OUTBREAK = Outbreak()


@dataclass(frozen=True, slots=True)
class DemoCase:
    """One generated analysis and why it is there."""

    case: SyntheticCase
    outbreak: bool = False

    @property
    def hospital_onset(self) -> bool:
        """Sampled more than 48 hours after the admission started."""
        admitted = self.case.admitted
        return admitted is not None and self.case.collected - admitted > timedelta(hours=48)


@dataclass(frozen=True, slots=True)
class LoadSummary:
    """What :func:`load_demo_results` stored."""

    messages: int
    current: int
    history: int
    duplicates: int


def citizen_of(patient: Resource) -> Citizen | None:
    """The :class:`Citizen` of a Patient resource with a CPR identifier (None without one)."""
    cpr = next((i.get("value") for i in patient.get("identifier") or [] if i.get("system") == CPR_SYSTEM), None)
    if not cpr:
        return None
    name = (patient.get("name") or [{}])[0]
    given = " ".join(name.get("given") or [])
    return Citizen(str(cpr), str(name.get("family", "")), given, _SEX.get(str(patient.get("gender")), "U"))


def demo_cases(
    citizens: Sequence[Citizen],
    *,
    seed: int = 1,
    start: datetime = datetime(2026, 1, 5, tzinfo=UTC),
    days: int = 300,
    samples_per_citizen: float = 0.6,
    outbreak: Outbreak | None = DEFAULT_OUTBREAK,
) -> list[DemoCase]:
    """Samples for ``citizens`` over ``days`` from ``start`` (about ``samples_per_citizen`` each), in time order."""
    if outbreak is not None and outbreak.organism not in ORGANISMS["blood"]:
        raise ValueError("the outbreak organism must be one of the blood-culture organisms")
    if not citizens:
        return []
    rng = random.Random(seed)
    cases = [
        DemoCase(_sporadic(rng, citizen, start, days))
        for citizen in citizens
        for _ in range(_poisson(rng, samples_per_citizen))
    ]
    if outbreak is not None:
        cases += [DemoCase(_outbreak_case(rng, rng.choice(citizens), outbreak), True) for _ in range(outbreak.cases)]
    return sorted(cases, key=lambda c: (c.case.collected, c.case.sample_number))


def _poisson(rng: random.Random, mean: float) -> int:
    count, threshold, product = 0, pow(2.718281828459045, -mean), rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def _person(case: SyntheticCase, citizen: Citizen) -> SyntheticCase:
    sex = citizen.sex if citizen.sex in ("F", "M") else "U"
    return replace(case, cpr=citizen.cpr, family=citizen.family, given=citizen.given, sex=sex)


def _sporadic(rng: random.Random, citizen: Citizen, start: datetime, days: int) -> SyntheticCase:
    collected = (start + timedelta(minutes=rng.randrange(0, days * 24 * 60))).replace(second=0, microsecond=0)
    case = replace(_person(synthetic_case(rng, rng.choice(_KINDS)), citizen), collected=collected)
    if rng.random() >= 0.4:
        return case
    hours_before = rng.randrange(4, 48) if rng.random() < 2 / 3 else rng.randrange(49, 24 * 14)
    return replace(case, ward=rng.choice(WARDS), admitted=collected - timedelta(hours=hours_before))


def _outbreak_case(rng: random.Random, citizen: Citizen, outbreak: Outbreak) -> SyntheticCase:
    collected = outbreak.start + timedelta(minutes=rng.randrange(0, outbreak.days * 24 * 60))
    collected = collected.replace(second=0, microsecond=0)
    organism = outbreak.organism
    base = synthetic_case(rng, "blood")
    shared = tuple(_pattern(s.antibiotic, outbreak) for s in panel(rng, organism[0]))
    return replace(
        _person(base, citizen),
        collected=collected,
        organism=organism,
        panel=shared,
        ward=outbreak.ward,
        admitted=collected - timedelta(hours=rng.randrange(72, 24 * 10)),
    )


def _pattern(antibiotic: str, outbreak: Outbreak) -> Susceptibility:
    if antibiotic in outbreak.resistant_to:
        return Susceptibility(antibiotic, ">", "32", "R")
    return Susceptibility(antibiotic, "<=", "0.25", "S")


def demo_messages(cases: Sequence[DemoCase], *, seed: int = 1, correction_rate: float = 0.05) -> Iterator[str]:
    """The versions of every case (P when something grew, F, sometimes C), ordered by when they are sent."""
    rng = random.Random(seed)
    versions: list[tuple[datetime, str, str]] = []
    for item in cases:
        case = item.case
        statuses = ["P"] if case.organism is not None else []
        statuses.append("F")
        if rng.random() < correction_rate:
            statuses.append("C")
        for status in statuses:
            sent = case.collected + _SENT_AFTER[status]
            versions.append((sent, case.sample_number, case.message(status, sent=sent)))
    for _, _, text in sorted(versions, key=lambda v: (v[0], v[1])):
        yield text


async def load_demo_results(repo: Repository, cases: Sequence[DemoCase], *, seed: int = 1) -> LoadSummary:
    """Store the messages of ``cases`` through the store-backed sink, each resource tagged ``SYNTHETIC``."""
    sink = StoreSink(repo)
    counts = dict.fromkeys(Outcome, 0)
    messages = 0
    for text in demo_messages(cases, seed=seed):
        results = [_tagged(result) for result in map_oru_r01(er7.parse(text)).results]
        for outcome in await sink.store_all(results):
            counts[outcome] += 1
        messages += 1
    return LoadSummary(messages, counts[Outcome.CURRENT], counts[Outcome.HISTORY], counts[Outcome.DUPLICATE])


async def bulk_load_demo_results(
    repo: Repository,
    cases: Sequence[DemoCase],
    *,
    seed: int = 1,
    patients: Mapping[str, str] | None = None,
    workers: int = 0,
) -> LoadSummary:
    """The same messages in bulk into a store without lab results (``patients``: CPR number → Patient id)."""
    texts = demo_messages(cases, seed=seed)
    loaded = await bulk_store_er7(repo, texts, patients=patients, adjust=_tagged, workers=workers)
    return LoadSummary(loaded.messages, loaded.current, loaded.history, loaded.duplicates)


def _tagged(result: MappedResult) -> MappedResult:
    def tag(resource: Resource) -> Resource:
        meta = resource.get("meta") or {}
        return {**resource, "meta": {**meta, "tag": [*meta.get("tag", []), dict(SYNTHETIC_TAG)]}}

    return replace(result, patient=tag(result.patient), resources=tuple(tag(r) for r in result.resources))
