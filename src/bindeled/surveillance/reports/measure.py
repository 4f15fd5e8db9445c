"""Reports as FHIR: a Measure per indicator (infection under a definition) and MeasureReports per period.

Each MeasureReport covers one infection in one period (ISO week or month) and stratifies by area
(region, municipality or hospital). Numerators are the counted episodes, shown only where not
suppressed (a masked count carries ``data-absent-reason`` ``masked`` instead); denominators are risk
days (an extension, since ``count`` is an integer); the score is the rate per 10,000 risk days. Ids are
derived from the content's key, so regenerating a report for the same cut-off updates the same
resources.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from bindeled.store.guard import as_system
from bindeled.store.repository import Repository
from bindeled.surveillance.reports.model import RateTable, Report

__all__ = ["MEASURE_BASE", "measure", "measure_reports", "store_fhir"]

Resource = dict[str, Any]
MEASURE_BASE = "https://bindeled.dk/fhir/Measure"
_SD = "https://bindeled.dk/fhir/StructureDefinition"
_POPULATION = "http://terminology.hl7.org/CodeSystem/measure-population"
_ABSENT = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
REPORT_SYSTEM = "https://bindeled.dk/fhir/NamingSystem/haiba-report"
_TITLES = {"bacteraemia": "Bacteraemia", "uti": "UrinaryTractInfection", "cdi": "ClostridioidesDifficileInfection"}


def _definition_name(version: str) -> str:
    return version.split("/", 1)[0]


def measure(infection: str, definition_version: str) -> Resource:
    """The Measure of one indicator: hospital-acquired ``infection`` per 10,000 risk days."""
    name = _definition_name(definition_version)
    mid = f"haiba-{infection}-{name}"
    return {
        "resourceType": "Measure",
        "id": mid,
        "url": f"{MEASURE_BASE}/{mid}",
        "version": definition_version,
        "name": f"Haiba{_TITLES.get(infection, infection.title())}{name.replace('-', '').title()}",
        "title": f"Hospital-acquired {infection} per 10,000 risk days ({name})",
        "status": "active",
        "publisher": "bindeled",
        "description": (
            f"Counted hospital-acquired {infection} episodes per 10,000 risk days under the {name} definition "
            "(bindeled.surveillance.haiba). Must not be used to rank hospitals."
        ),
        "scoring": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-scoring", "code": "ratio"}]},
        "group": [
            {
                "population": [
                    _criteria("numerator", "counted hospital-acquired episodes"),
                    _criteria("denominator", "risk days"),
                ]
            }
        ],
    }


def _criteria(code: str, text: str) -> Resource:
    return {
        "code": {"coding": [{"system": _POPULATION, "code": code}]},
        "description": text,
        "criteria": {"language": "text/plain", "expression": text},
    }


def period_bounds(label: str) -> tuple[date, date]:
    """``2026-W10`` → its Monday and Sunday; ``2026-03`` → first and last day of the month."""
    if "-W" in label:
        year, week = label.split("-W")
        monday = date.fromisocalendar(int(year), int(week), 1)
        return monday, monday + timedelta(days=6)
    y, m = (int(p) for p in label.split("-"))
    nxt = date(y + m // 12, m % 12 + 1, 1)
    return date(y, m, 1), nxt - timedelta(days=1)


def _populations(table: RateTable, element: tuple[str, int, int], days: float) -> list[Resource]:
    numerator: Resource = {"code": {"coding": [{"system": _POPULATION, "code": "numerator"}]}}
    if table.episodes.is_masked(element):
        numerator["extension"] = [{"url": _ABSENT, "valueCode": "masked"}]
    else:
        numerator["count"] = table.episodes.value(element)
    denominator = {
        "code": {"coding": [{"system": _POPULATION, "code": "denominator"}]},
        "extension": [{"url": f"{_SD}/risk-days", "valueDecimal": Decimal(f"{days:.4f}")}],
    }
    return [numerator, denominator]


def _scored(target: Resource, table: RateTable, element: tuple[str, int, int], days: float) -> Resource:
    target["population"] = _populations(table, element, days)
    rate = table.rate(element)
    if rate is not None:
        target["measureScore"] = {"value": Decimal(f"{rate:.4f}"), "unit": "per 10,000 risk days"}
    return target


def _one(report: Report, table: RateTable, j: int, label: str) -> Resource:
    start, end = period_bounds(label)
    key = f"{report.definition}|{report.level}|{label}|{table.infection}|{report.cutoff_text}"
    strata = [
        _scored({"value": {"text": area}}, table, ("cell", i, j), table.risk(i, j))
        for i, area in enumerate(table.areas)
    ]
    group = _scored({"code": {"text": table.infection}}, table, ("col", j, 0), table.risk(None, j))
    group["stratifier"] = [{"code": [{"text": report.level}], "stratum": strata}]
    mid = f"haiba-{table.infection}-{_definition_name(report.definition)}"
    return {
        "resourceType": "MeasureReport",
        "id": "haiba-" + hashlib.sha256(key.encode()).hexdigest()[:40],
        "extension": [
            {"url": f"{_SD}/data-cutoff", "valueDateTime": report.cutoff_text},
            {"url": f"{_SD}/suppression-rule", "valueString": report.suppression},
        ],
        "identifier": [{"system": REPORT_SYSTEM, "value": key}],
        "status": "complete",
        "type": "summary",
        "measure": f"{MEASURE_BASE}/{mid}|{report.definition}",
        "date": report.cutoff_text,
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "group": [group],
    }


def measure_reports(report: Report) -> list[Resource]:
    """The Measures and MeasureReports of ``report`` (Measures first)."""
    measures = [measure(t.infection, report.definition) for t in report.tables]
    reports = [_one(report, t, j, label) for t in report.tables for j, label in enumerate(t.periods)]
    return measures + reports


async def store_fhir(repo: Repository, report: Report) -> list[Resource]:
    """Store the Measures and MeasureReports (system work: the platform publishes them) and return them."""
    resources = measure_reports(report)
    with as_system():
        for resource in resources:
            await repo.update(resource["resourceType"], resource["id"], resource)
    return resources
