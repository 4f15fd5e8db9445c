"""HospitalNotification business rules (DOMAIN §5.2): event, Encounter class/status, periods, death."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..errors import Issue
from ._json import as_list
from ._rules_common import issue
from .hospital_notification import RULES, leave_period, read_notification
from .messages import CPR_SYSTEM, Message

__all__ = ["HN_CHECKS"]


def event_and_encounter(message: Message) -> Iterator[Issue]:
    note = read_notification(message)
    current = message.current_provenance
    if current is None:
        return  # the common Provenance rule reports it
    if note is None:
        location = f"{current.entry.path}.activity"
        yield issue("MEDCOM-PROVENANCE-ACTIVITY", "The current activity is not a HospitalNotification event", location)
        return
    encounter = note.encounter
    if encounter is None:
        yield issue(
            "MEDCOM-HN-ENCOUNTER",
            "The MessageHeader's focus must be an Encounter in the Bundle",
            "Bundle.entry[0].resource.focus",
        )
        return
    res = encounter.resource
    klass = res.get("class", {}).get("code") if isinstance(res.get("class"), dict) else None
    status = res.get("status")
    rule = RULES[(note.event, note.action)]
    allowed = rule.classes if note.expected_class is None else rule.classes & {note.expected_class}
    if klass not in allowed:
        yield issue(
            "MEDCOM-HN-CLASS-STATUS",
            f"{note.code}: Encounter.class must be {'/'.join(sorted(allowed))}",
            f"{encounter.path}.class",
        )
    if status not in rule.statuses:
        yield issue(
            "MEDCOM-HN-CLASS-STATUS",
            f"{note.code}: Encounter.status must be {'/'.join(sorted(rule.statuses))}",
            f"{encounter.path}.status",
        )
    yield from _periods(res, status, f"{encounter.path}")


def _periods(encounter: dict[str, Any], status: object, path: str) -> Iterator[Issue]:
    raw = encounter.get("period")
    period: dict[str, Any] = raw if isinstance(raw, dict) else {}
    if not period.get("start"):
        yield issue("MEDCOM-HN-PERIOD", "Encounter.period.start is required", f"{path}.period.start", "required")
    if status == "finished" and not period.get("end"):
        yield issue("MEDCOM-HN-PERIOD", "A finished stay needs Encounter.period.end", f"{path}.period.end", "required")
    if status in ("in-progress", "onleave") and period.get("end"):
        yield issue("MEDCOM-HN-PERIOD", "Only a finished stay has Encounter.period.end", f"{path}.period.end")
    if status == "onleave" and not (leave_period(encounter) or {}).get("start"):
        yield issue("MEDCOM-HN-LEAVE", "A stay on leave needs leavePeriod.start", f"{path}.extension", "required")
    if not encounter.get("episodeOfCare"):
        yield issue(
            "MEDCOM-HN-ENCOUNTER", "Encounter.episodeOfCare.identifier is required", f"{path}.episodeOfCare", "required"
        )


def cpr_only(message: Message) -> Iterator[Issue]:
    """HospitalNotification forbids replacement ids: the Patient is identified by CPR only."""
    for entry in message.patients:
        for index, ident in enumerate(as_list(entry.resource.get("identifier"))):
            if isinstance(ident, dict) and ident.get("system") != CPR_SYSTEM:
                yield issue(
                    "MEDCOM-PATIENT-CPR",
                    "A HospitalNotification identifies the Patient by CPR only",
                    f"{entry.path}.identifier[{index}]",
                )


def deceased(message: Message) -> Iterator[Issue]:
    """Death is only signalled by ``Patient.deceasedBoolean``; a death date-time is not MedCom's signal."""
    for entry in message.patients:
        if "deceasedDateTime" in entry.resource:
            yield issue(
                "MEDCOM-HN-DECEASED",
                "Use Patient.deceasedBoolean, not deceasedDateTime",
                f"{entry.path}.deceasedDateTime",
            )


REPORT_OF_ADMISSION_URL = (
    "http://medcomfhir.dk/ig/hospitalnotification/StructureDefinition/medcom-messaging-reportOfAdmissionExtension"
)


def report_of_admission(message: Message) -> Iterator[Issue]:
    """``reportOfAdmissionFlag`` may only be true on an initial STIN or STAA."""
    for index, ext in enumerate(as_list(message.header.get("extension"))):
        if isinstance(ext, dict) and ext.get("url") == REPORT_OF_ADMISSION_URL and ext.get("valueBoolean") is True:
            note = read_notification(message)
            if note is not None and note.code not in ("STIN", "STAA"):
                yield issue(
                    "MEDCOM-HN-REPORT-OF-ADMISSION",
                    "reportOfAdmissionFlag is only true on an initial STIN or STAA",
                    f"Bundle.entry[0].resource.extension[{index}]",
                )


HN_CHECKS = (event_and_encounter, cpr_only, deceased, report_of_admission)
