"""One stored DiagnosticReport version (with its Specimen and Observations) → HAIBA lab-result rows.

The shapes are those of the lab intake (``lab/hl7v2/oru_r01.py``, ``lab/fhir_intake.py``): the sample
number in the report's ``urn:bindeled:lab:<lab>:sample`` identifier, the material on the Specimen,
organism Observations with their colony counts in ``hasMember``, and a C. difficile toxin finding
for toxin tests. One row per organism; a sample without growth gives one row without an organism.
Security labels are not looked at: a result whose display the citizen refused still counts for
statutory surveillance (DOMAIN.md 6.3).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bindeled.surveillance.extract.vocabulary import Vocabulary, national_codings

__all__ = ["CDIFF", "LabRow", "lab_rows", "reference_id", "sample_key"]

LabRow = dict[str, Any]
Resource = Mapping[str, Any]

CDIFF = "Clostridioides difficile"
"""The organism a positive C. difficile toxin finding stands for."""
_RETRACTING = frozenset({"cancelled", "entered-in-error"})
_CFU_CODES = frozenset({"{CFU}/mL"})


def reference_id(reference: Mapping[str, Any] | None, resource_type: str) -> str | None:
    """The id in a ``Type/id`` reference (absolute URLs too), or None."""
    text = str((reference or {}).get("reference", ""))
    head, _, tail = text.rpartition("/")
    return tail if tail and head.endswith(resource_type) else None


def sample_key(report: Resource, specimen: Resource | None) -> str:
    """``<laboratory>:<sample number>``: what every version and correction of a sample shares."""
    for ident in [*(report.get("identifier") or []), (specimen or {}).get("accessionIdentifier") or {}]:
        system = str(ident.get("system", ""))
        if system.startswith("urn:bindeled:lab:") and system.endswith(":sample") and ident.get("value"):
            return f"{system.split(':')[3]}:{ident['value']}"
    return f"report:{report.get('id', '')}"


def _instant(text: str | None) -> datetime | None:
    if not text or len(text) < 19:
        return None  # a date without a time cannot place a sample against 48-hour windows
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _sampled_at(report: Resource, specimen: Resource | None) -> datetime | None:
    collected = ((specimen or {}).get("collection") or {}).get("collectedDateTime")
    return _instant(collected or report.get("effectiveDateTime"))


def _organism(obs: Resource, vocab: Vocabulary) -> str | None:
    if vocab.term("finding", obs.get("code")) != "isolate":
        return None
    value = obs.get("valueCodeableConcept")
    if vocab.term("finding", value) is not None:
        return None  # "no growth" and other coded findings are not organisms
    names = [c.get("display") for c in national_codings(value) if c.get("display")]
    return str(names[0]) if names else None


def _cfu(members: list[Resource], vocab: Vocabulary) -> float | None:
    counts = [
        float(m["valueQuantity"]["value"])
        for m in members
        if vocab.term("finding", m.get("code")) == "colony-count"
        and (m.get("valueQuantity") or {}).get("code") in _CFU_CODES
        and "value" in m["valueQuantity"]
    ]
    return max(counts) if counts else None


def _members(obs: Resource, observations: Mapping[str, Resource]) -> list[Resource]:
    ids = [reference_id(m, "Observation") for m in obs.get("hasMember") or []]
    return [observations[i] for i in ids if i is not None and i in observations]


def _findings(report: Resource, observations: Mapping[str, Resource], vocab: Vocabulary) -> list[tuple[Any, ...]]:
    """(organism, cfu_per_ml, toxigenic) per organism found; empty for a negative sample."""
    found: list[tuple[Any, ...]] = []
    for ref in report.get("result") or []:
        obs = observations.get(reference_id(ref, "Observation") or "")
        if obs is None or obs.get("status") in _RETRACTING:
            continue
        if vocab.term("finding", obs.get("code")) == "cdiff-toxin":
            verdict = vocab.term("finding", obs.get("valueCodeableConcept"))
            if verdict == "detected":
                found.append((CDIFF, None, True))
        elif (organism := _organism(obs, vocab)) is not None:
            found.append((organism, _cfu(_members(obs, observations), vocab), None))
    return found


def lab_rows(
    report: Resource,
    specimen: Resource | None,
    observations: Mapping[str, Resource],
    vocab: Vocabulary,
    *,
    received_at: datetime,
    retracted: bool = False,
) -> list[LabRow]:
    """The rows of one report version; ``retracted`` (a deleted or cancelled report) gives one empty row."""
    base: LabRow = {
        "patient": reference_id(report.get("subject"), "Patient"),
        "sample_id": sample_key(report, specimen),
        "analysis": vocab.term("analysis", report.get("code")),
        "material": vocab.term("material", (specimen or {}).get("type")),
        "sampled_at": _sampled_at(report, specimen),
        "received_at": received_at,
        "report": str(report.get("id", "")),
        "retracted": retracted or report.get("status") in _RETRACTING,
    }
    if base["patient"] is None or base["sampled_at"] is None:
        return []
    empty = {"organism": None, "cfu_per_ml": None, "toxigenic": None}
    if base["retracted"]:
        return [base | empty]
    found = _findings(report, observations, vocab)
    if not found:
        return [base | empty]
    return [base | {"organism": o, "cfu_per_ml": c, "toxigenic": t} for o, c, t in found]
