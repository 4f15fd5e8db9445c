"""Business rules every MedCom message obeys (DK MedCom Messaging, DOMAIN §5.1)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..errors import Issue
from ._json import as_list
from .messages import CPR_SYSTEM, Message, Organization
from .profiles import MESSAGE_TYPES

__all__ = ["COMMON_CHECKS", "gln_is_valid", "issue"]

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_SOR = re.compile(r"^[0-9]{11,}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$")
_ZONED = re.compile(r"(Z|[+-]\d{2}:\d{2})$")

_HEADER = "Bundle.entry[0].resource"


def issue(code: str, diagnostics: str, location: str, kind: str = "business-rule") -> Issue:
    return Issue("error", kind, diagnostics, (location,), code)


def gln_is_valid(gln: str) -> bool:
    """A 13-digit GS1 GLN whose check digit holds (weights 1,3,1,3,… on digits 1–12)."""
    if len(gln) != 13 or not gln.isascii() or not gln.isdigit():
        return False
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(gln[:12]))
    return (10 - total % 10) % 10 == int(gln[12])


def bundle_shape(message: Message) -> Iterator[Issue]:
    if message.bundle.get("type") != "message":
        yield issue("MEDCOM-BUNDLE", "Bundle.type must be 'message'", "Bundle.type")
    if message.header_entry is None:
        yield issue("MEDCOM-BUNDLE", "The first entry must be the MessageHeader", "Bundle.entry[0]")


def uuid_ids(message: Message) -> Iterator[Issue]:
    """Bundle.id (the envelope) and every entry's id are UUIDs."""
    if not _UUID.match(str(message.bundle.get("id", ""))):
        yield issue("MEDCOM-ID-UUID", "Bundle.id must be a UUID", "Bundle.id")
    for entry in message.entries:
        if not _UUID.match(str(entry.resource.get("id", ""))):
            yield issue("MEDCOM-ID-UUID", f"{entry.resource.get('resourceType')}.id must be a UUID", f"{entry.path}.id")


def _organization(org: Organization | None, role: str, location: str) -> Iterator[Issue]:
    if org is None:
        yield issue("MEDCOM-ORG-MISSING", f"The {role} must reference an Organization in the Bundle", location)
        return
    path = f"{org.entry.path}.identifier"
    if org.sor is None or not _SOR.match(org.sor):
        yield issue("MEDCOM-ORG-SOR", f"The {role} needs a SOR identifier of at least 11 digits", path)
    gln = org.gln
    if gln is None:
        yield issue("MEDCOM-ORG-GLN", f"The {role} needs a GLN identifier", path)
    elif not gln_is_valid(gln):
        yield issue("MEDCOM-GLN-CHECK-DIGIT", f"The {role}'s GLN has a bad length or check digit", path)


def organizations(message: Message) -> Iterator[Issue]:
    yield from _organization(message.sender, "sender", f"{_HEADER}.sender")
    yield from _organization(message.primary_receiver, "primary receiver", f"{_HEADER}.destination")


def destinations(message: Message) -> Iterator[Issue]:
    uses = message.destinations
    primaries = [i for i, use, _ in uses if use == "primary"]
    if len(primaries) != 1:
        yield issue(
            "MEDCOM-DESTINATION-PRIMARY",
            f"Exactly one primary destination needed, found {len(primaries)}",
            f"{_HEADER}.destination",
        )
    for index, use, _ in uses:
        if use == "cc":
            yield issue("MEDCOM-DESTINATION-CC", "cc destinations are not allowed", f"{_HEADER}.destination[{index}]")
        elif use != "primary":
            yield issue(
                "MEDCOM-DESTINATION-PRIMARY", "Destination without a use (primary)", f"{_HEADER}.destination[{index}]"
            )


def patient(message: Message) -> Iterator[Issue]:
    if message.event == "acknowledgement-message":
        return
    patients = message.patients
    if len(patients) != 1:
        yield issue("MEDCOM-PATIENT", f"Exactly one Patient needed, found {len(patients)}", "Bundle.entry")
        return
    idents = [i for i in as_list(patients[0].resource.get("identifier")) if isinstance(i, dict)]
    systems = {i.get("system") for i in idents}
    replacement_ok = message.event == "care-communication-message"
    if CPR_SYSTEM in systems:
        cpr = next(i.get("value") for i in idents if i.get("system") == CPR_SYSTEM)
        if not (isinstance(cpr, str) and len(cpr) == 10 and cpr.isascii() and cpr.isdigit()):
            yield issue("MEDCOM-PATIENT-CPR", "The CPR identifier must be 10 digits", f"{patients[0].path}.identifier")
    elif not (replacement_ok and idents):
        yield issue("MEDCOM-PATIENT-CPR", "The Patient needs a CPR identifier", f"{patients[0].path}.identifier")


def provenance(message: Message) -> Iterator[Issue]:
    provenances = message.provenances
    if not provenances:
        yield issue("MEDCOM-PROVENANCE", "At least one Provenance is required", "Bundle.entry")
        return
    current = message.current_provenance
    if current is None:
        yield issue("MEDCOM-PROVENANCE", "No Provenance targets this message's MessageHeader", "Bundle.entry")
    elif current.activity is None:
        yield issue(
            "MEDCOM-PROVENANCE-ACTIVITY", "The current Provenance has no activity", f"{current.entry.path}.activity"
        )
    elif message.event == "acknowledgement-message" and current.activity != "acknowledgement":
        yield issue(
            "MEDCOM-PROVENANCE-ACTIVITY",
            "An acknowledgement's Provenance activity must be 'acknowledgement'",
            f"{current.entry.path}.activity",
        )


def narrative(message: Message) -> Iterator[Issue]:
    for entry in message.entries:
        text = entry.resource.get("text")
        if not isinstance(text, dict) or text.get("status") not in ("generated", "extensions") or not text.get("div"):
            yield issue(
                "MEDCOM-NARRATIVE",
                "A narrative (status generated or extensions) is required",
                f"{entry.path}.text",
                "required",
            )


def _strings(node: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key != "text" or not isinstance(value, dict) or "div" not in value:
                yield from _strings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, f"{path}[{index}]")
    elif isinstance(node, str):
        yield path, node


def timezones(message: Message) -> Iterator[Issue]:
    """Every dateTime/instant with a time of day carries a zone (DOMAIN §5.1)."""
    for path, value in _strings(message.bundle, "Bundle"):
        if _DATETIME.match(value) and not _ZONED.search(value):
            yield issue("MEDCOM-TIMEZONE", "A time without a time zone", path, "invalid")


def _references(node: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        ref = node.get("reference")
        if isinstance(ref, str):
            yield f"{path}.reference", ref
        for key, value in node.items():
            yield from _references(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _references(value, f"{path}[{index}]")


def _history_reference(kind: str, path: str) -> bool:
    """Provenance.target and .entity.what name earlier messages, which a message does not carry."""
    return kind == "Provenance" and (".target[" in path or ".entity[" in path)


def references(message: Message) -> Iterator[Issue]:
    for entry in message.entries:
        kind = str(entry.resource.get("resourceType"))
        for path, ref in _references(entry.resource, entry.path):
            if ref.startswith("#") or _history_reference(kind, path):
                continue
            if message.resolve(ref) is None:
                yield issue("MEDCOM-REFERENCE-OUTSIDE", "The reference does not resolve inside the Bundle", path)


def definition(message: Message) -> Iterator[Issue]:
    """``MessageHeader.definition`` pins the supported major version where the standard names one."""
    kinds = [k for k in MESSAGE_TYPES if k.event == message.event]
    value = message.definition
    for kind in kinds:
        if kind.definition is None:
            return
        pattern = re.compile(re.escape(kind.definition) + r"\|" + kind.major + r"\.[0-9]{1,2}$")
        if value is None or not pattern.match(value):
            yield issue(
                "MEDCOM-DEFINITION",
                f"MessageHeader.definition must be {kind.definition}|{kind.major}.x",
                f"{_HEADER}.definition",
            )


COMMON_CHECKS = (
    bundle_shape,
    uuid_ids,
    organizations,
    destinations,
    patient,
    provenance,
    narrative,
    timezones,
    references,
    definition,
)
