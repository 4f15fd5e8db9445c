"""Read-only views over MedCom message Bundles.

A MedCom message stays what it arrived as: a JSON tree (the bytes are stored as received). These
views only *read* it, so the hub, the conformance rules and the acknowledgement builder agree on
where the header, the organisations, the patient and the Provenances live without each walking
the Bundle again. Nothing here raises on a malformed message: missing parts read as ``None`` or
empty, and :mod:`bindeled.messaging.conformance` turns those into Issues.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ._json import as_list

__all__ = [
    "CPR_SYSTEM",
    "GLN_SYSTEMS",
    "SOR_SYSTEM",
    "Entry",
    "Message",
    "Organization",
    "Provenance",
    "event_code",
    "reference_key",
]

Resource = dict[str, Any]

SOR_SYSTEM = "urn:oid:1.2.208.176.1.1"
CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"
GLN_SYSTEM = "https://www.gs1.org/gln"
GLN_SYSTEMS = frozenset({GLN_SYSTEM, "urn:oid:1.3.88"})
"""The GS1 URL is emitted; the messaging alias ``urn:oid:1.3.88`` is accepted on input (DOMAIN §5 note 7)."""

EVENT_SYSTEM = "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-eventCodes"
DESTINATION_USE_URL = "http://medcomfhir.dk/ig/messaging/StructureDefinition/medcom-messaging-destinationUseExtension"


def reference_key(reference: str) -> str:
    """``Type/id`` of a literal reference, whether relative or absolute (``https://…/Type/id``)."""
    parts = reference.rstrip("/").split("/")
    if reference.startswith("urn:"):
        return reference
    return "/".join(parts[-2:]) if len(parts) >= 2 else reference


@dataclass(frozen=True, slots=True)
class Entry:
    """One Bundle entry with its FHIRPath location."""

    index: int
    full_url: str | None
    resource: Resource

    @property
    def path(self) -> str:
        return f"Bundle.entry[{self.index}].resource"

    @property
    def key(self) -> str:
        return f"{self.resource.get('resourceType')}/{self.resource.get('id')}"


@dataclass(frozen=True, slots=True)
class Organization:
    """A sender or receiver organisation with its SOR and GLN identifiers."""

    entry: Entry

    def _identifiers(self, systems: frozenset[str]) -> list[str]:
        found = []
        for ident in as_list(self.entry.resource.get("identifier")):
            if isinstance(ident, dict) and ident.get("system") in systems and isinstance(ident.get("value"), str):
                found.append(ident["value"])
        return found

    @property
    def sor(self) -> str | None:
        values = self._identifiers(frozenset({SOR_SYSTEM}))
        return values[0] if values else None

    @property
    def gln(self) -> str | None:
        values = self._identifiers(GLN_SYSTEMS)
        return values[0] if values else None

    @property
    def name(self) -> str | None:
        name = self.entry.resource.get("name")
        return name if isinstance(name, str) else None


@dataclass(frozen=True, slots=True)
class Provenance:
    """One Provenance entry: what activity it records, for which header, and what it revises."""

    entry: Entry

    @property
    def resource(self) -> Resource:
        return self.entry.resource

    @property
    def activity(self) -> str | None:
        activity = self.resource.get("activity")
        codings = activity.get("coding") if isinstance(activity, dict) else None
        for coding in as_list(codings):
            if isinstance(coding, dict) and isinstance(coding.get("code"), str):
                return str(coding["code"])
        return None

    @property
    def targets(self) -> list[str]:
        return [reference_key(t["reference"]) for t in _refs(self.resource.get("target"))]

    @property
    def entities(self) -> list[tuple[str | None, str | None]]:
        """``(role, "MessageHeader/<id>" or an identifier value)`` per entity."""
        out: list[tuple[str | None, str | None]] = []
        for entity in as_list(self.resource.get("entity")):
            if not isinstance(entity, dict):
                continue
            what = _dict(entity.get("what"))
            ref = what.get("reference")
            ident = _dict(what.get("identifier"))
            target = reference_key(ref) if isinstance(ref, str) else ident.get("value")
            out.append((entity.get("role"), target))
        return out

    @property
    def recorded(self) -> str | None:
        value = self.resource.get("recorded")
        return value if isinstance(value, str) else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _refs(value: Any) -> list[dict[str, Any]]:
    items = value if isinstance(value, list) else [value]
    return [i for i in items if isinstance(i, dict) and isinstance(i.get("reference"), str)]


def event_code(header: Resource) -> str | None:
    """The MessageHeader's ``eventCoding.code`` (e.g. ``hospital-notification-message``)."""
    coding = header.get("eventCoding")
    code = coding.get("code") if isinstance(coding, dict) else None
    return code if isinstance(code, str) else None


class Message:
    """A read-only view of one MedCom message Bundle (JSON tree)."""

    def __init__(self, bundle: Resource) -> None:
        self.bundle = bundle

    # -- the envelope and the letter --------------------------------------------------------

    @property
    def envelope_id(self) -> str | None:
        """``Bundle.id``: new on every transmission."""
        value = self.bundle.get("id")
        return value if isinstance(value, str) else None

    @property
    def message_id(self) -> str | None:
        """``MessageHeader.id``: the letter, kept on resend; the duplicate key."""
        value = self.header.get("id") if self.header else None
        return value if isinstance(value, str) else None

    @cached_property
    def entries(self) -> tuple[Entry, ...]:
        out = []
        for index, entry in enumerate(as_list(self.bundle.get("entry"))):
            if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
                out.append(Entry(index, entry.get("fullUrl"), entry["resource"]))
        return tuple(out)

    def of_type(self, kind: str) -> list[Entry]:
        return [e for e in self.entries if e.resource.get("resourceType") == kind]

    @cached_property
    def _by_key(self) -> dict[str, Entry]:
        index: dict[str, Entry] = {}
        for entry in self.entries:
            index.setdefault(entry.key, entry)
            if entry.full_url:
                index.setdefault(entry.full_url, entry)
        return index

    def resolve(self, reference: str) -> Entry | None:
        """The entry a reference points to, inside this Bundle only."""
        return self._by_key.get(reference) or self._by_key.get(reference_key(reference))

    @property
    def header_entry(self) -> Entry | None:
        entries = self.entries
        if entries and entries[0].resource.get("resourceType") == "MessageHeader":
            return entries[0]
        return None

    @property
    def header(self) -> Resource:
        entry = self.header_entry
        return entry.resource if entry else {}

    # -- what kind of message ---------------------------------------------------------------

    @property
    def event(self) -> str | None:
        return event_code(self.header)

    @property
    def claimed_profiles(self) -> list[str]:
        meta = self.bundle.get("meta")
        profiles = meta.get("profile") if isinstance(meta, dict) else None
        return [p for p in as_list(profiles) if isinstance(p, str)]

    @property
    def definition(self) -> str | None:
        value = self.header.get("definition")
        return value if isinstance(value, str) else None

    @property
    def definition_version(self) -> str | None:
        """The version after ``|`` in ``MessageHeader.definition`` (e.g. ``5.0``), if any."""
        if self.definition and "|" in self.definition:
            return self.definition.split("|", 1)[1]
        return None

    # -- parties ----------------------------------------------------------------------------

    def _organization(self, ref: Any) -> Organization | None:
        if not isinstance(ref, dict) or not isinstance(ref.get("reference"), str):
            return None
        entry = self.resolve(ref["reference"])
        if entry is None or entry.resource.get("resourceType") != "Organization":
            return None
        return Organization(entry)

    @property
    def sender(self) -> Organization | None:
        return self._organization(self.header.get("sender"))

    @property
    def source_endpoint(self) -> str | None:
        """``MessageHeader.source.endpoint``: where the acknowledgement goes."""
        source = self.header.get("source")
        endpoint = source.get("endpoint") if isinstance(source, dict) else None
        return endpoint if isinstance(endpoint, str) else None

    @property
    def destinations(self) -> list[tuple[int, str | None, dict[str, Any]]]:
        """``(index, use, destination)`` per destination; ``use`` is ``primary``, ``cc`` or None."""
        out = []
        for index, dest in enumerate(as_list(self.header.get("destination"))):
            if isinstance(dest, dict):
                out.append((index, _destination_use(dest), dest))
        return out

    @property
    def primary_receiver(self) -> Organization | None:
        for _, use, dest in self.destinations:
            if use == "primary":
                return self._organization(dest.get("receiver"))
        return None

    @property
    def patients(self) -> list[Entry]:
        return self.of_type("Patient")

    @property
    def cpr(self) -> str | None:
        """The single Patient's CPR number, if it has one (never log it)."""
        patients = self.patients
        if len(patients) != 1:
            return None
        for ident in as_list(patients[0].resource.get("identifier")):
            if isinstance(ident, dict) and ident.get("system") == CPR_SYSTEM and isinstance(ident.get("value"), str):
                return str(ident["value"])
        return None

    # -- history ----------------------------------------------------------------------------

    @property
    def provenances(self) -> list[Provenance]:
        return [Provenance(e) for e in self.of_type("Provenance")]

    @property
    def current_provenance(self) -> Provenance | None:
        """The Provenance whose target is this message's header (the latest activity)."""
        key = f"MessageHeader/{self.message_id}"
        for provenance in self.provenances:
            if key in provenance.targets:
                return provenance
        return None

    @property
    def activity(self) -> str | None:
        current = self.current_provenance
        return current.activity if current else None

    # -- focus ------------------------------------------------------------------------------

    @property
    def focus(self) -> list[Entry]:
        found = []
        for ref in _refs(self.header.get("focus")):
            entry = self.resolve(ref["reference"])
            if entry is not None:
                found.append(entry)
        return found


def _destination_use(dest: dict[str, Any]) -> str | None:
    for ext in as_list(dest.get("extension")):
        if isinstance(ext, dict) and ext.get("url") == DESTINATION_USE_URL:
            coding = ext.get("valueCoding")
            code = coding.get("code") if isinstance(coding, dict) else None
            return code if isinstance(code, str) else None
    return None
