"""ORU^R01 (unsolicited observation result, v2.5) → FHIR Patient, Specimen, DiagnosticReport, Observations.

The structure read is ``MSH PID [PV1] {[ORC] OBR {NTE} {OBX {NTE}} [SPM]}``; each OBR group is one
analysis of one sample and becomes one :class:`MappedResult`, identified by its :class:`ResultKey`
(laboratory = ``MSH-4``, sample number = ``OBR-3`` filler order number, analysis = ``OBR-4``).

* Patient: the CPR from ``PID-3`` (a repetition whose assigning authority is ``CPR`` or the CPR OID, or
  whose identifier type is ``NNDNK``), as an ``official`` identifier with the DK-core system
  ``urn:oid:1.2.208.176.1.2``. The Patient is a *match key*: the sink links to the existing Patient with
  that CPR and creates one only when there is none.
* Specimen: material (``SPM-4``, else ``OBR-15``), site (``SPM-8``), collection (``SPM-17``, else ``OBR-7``)
  and receipt time (``SPM-18``, else ``OBR-14``).
* DiagnosticReport: status from ``OBR-25`` (table 0123), code from ``OBR-4``, ``conclusion`` from the NTEs
  after the OBR; organism Observations list the quantities and susceptibilities of the same isolate (same
  ``OBX-4`` sub-id) in ``hasMember``; NTEs after an OBX become its ``note``.
* Every code is a CodeableConcept with the laboratory's local coding and, when the code map has a row,
  the mapped coding; unmapped codes are listed on the result, never guessed.

Resource ids are UUIDv5 of the laboratory, message control id and position, so a replay maps to the same
ids. Errors are :class:`Hl7Error` naming segment, sequence and field; no value ever appears in a message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from bindeled.lab.codes import CodeMap, default_code_map
from bindeled.lab.hl7v2._dtm import parse_dtm
from bindeled.lab.hl7v2._fields import Context, resource_id
from bindeled.lab.hl7v2._observations import is_susceptibility, map_obx
from bindeled.lab.hl7v2.er7 import Message, Segment
from bindeled.lab.hl7v2.errors import ErrorCode, ErrorLocation, Hl7Error

__all__ = [
    "CPR_SYSTEM",
    "REPORT_STATUS",
    "SOR_SYSTEM",
    "Header",
    "MappedMessage",
    "MappedResult",
    "ResultKey",
    "display_refused",
    "map_oru_r01",
    "read_header",
]

Resource = dict[str, Any]

CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"
SOR_SYSTEM = "urn:oid:1.2.208.176.1.1"
REPORT_STATUS = {
    "O": "registered",
    "I": "registered",
    "S": "registered",
    "A": "partial",
    "P": "preliminary",
    "R": "preliminary",
    "F": "final",
    "C": "corrected",
    "X": "cancelled",
}
"""HL7 table 0123 (result status, ``OBR-25``) → DiagnosticReport.status."""

_CPR = re.compile(r"\d{10}\Z")
_CPR_AUTHORITIES = {"CPR", "1.2.208.176.1.2", CPR_SYSTEM}
_GENDER = {"M": "male", "F": "female", "O": "other", "U": "unknown", "A": "other", "N": "unknown"}


@dataclass(frozen=True, slots=True, order=True)
class ResultKey:
    """What a correction supersedes: one analysis of one sample at one laboratory."""

    laboratory: str
    sample_number: str
    analysis: str


@dataclass(frozen=True, slots=True)
class Header:
    """The parts of ``MSH`` that the pipeline needs before (and even without) mapping."""

    laboratory: str
    control_id: str
    message_time: datetime


@dataclass(frozen=True, slots=True)
class MappedResult:
    """One analysis of one sample from one message version, as FHIR resources."""

    key: ResultKey
    status: str
    """DiagnosticReport.status (from ``OBR-25``), which orders versions."""
    message_time: datetime
    control_id: str
    patient: Resource
    resources: tuple[Resource, ...]
    """Specimen, DiagnosticReport, then the Observations; all reference ``patient``."""
    unmapped: tuple[str, ...] = ()
    """Local codes that have no row in the code map (for the unmapped-codes report)."""
    display_refused: bool = False
    """The citizen has refused display of this result (an ``ARV`` segment; see :func:`display_refused`)."""

    @property
    def report(self) -> Resource:
        return next(r for r in self.resources if r["resourceType"] == "DiagnosticReport")

    @property
    def cpr(self) -> str:
        return str(self.patient["identifier"][0]["value"])


@dataclass(frozen=True, slots=True)
class MappedMessage:
    header: Header
    results: tuple[MappedResult, ...]


def read_header(message: Message) -> Header:
    """Check ``MSH`` (type, version, processing id, control id, sender, time); errors here reject (AR)."""
    msh = message.msh
    _check_type(msh)
    if not msh[10]:
        raise Hl7Error(
            "MSH-10 (message control id) is missing", _msh(10), ErrorCode.REQUIRED_FIELD_MISSING, reject=True
        )
    if msh[11] not in ("P", "T", "D"):
        raise Hl7Error(
            "MSH-11 processing id is not P, T or D", _msh(11), ErrorCode.UNSUPPORTED_PROCESSING_ID, reject=True
        )
    if not msh[12].startswith("2."):
        raise Hl7Error("MSH-12 is not an HL7 v2 version", _msh(12), ErrorCode.UNSUPPORTED_VERSION, reject=True)
    if not msh[4]:
        raise Hl7Error("MSH-4 (sending facility) is missing", _msh(4), ErrorCode.REQUIRED_FIELD_MISSING, reject=True)
    parsed = parse_dtm(msh[7])
    if parsed is None:
        raise Hl7Error("MSH-7 is not a valid date/time", _msh(7), ErrorCode.DATA_TYPE, reject=True)
    return Header(msh[4], msh[10], parsed[0])


def _msh(field: int, component: int = 0) -> ErrorLocation:
    return ErrorLocation("MSH", 1, field, 0, component)


def _check_type(msh: Segment) -> None:
    kind = msh.field(9)
    if kind.component(1) != "ORU":
        raise Hl7Error("only ORU messages are accepted", _msh(9, 1), ErrorCode.UNSUPPORTED_MESSAGE_TYPE, reject=True)
    if kind.component(2) != "R01":
        raise Hl7Error("only the R01 event is accepted", _msh(9, 2), ErrorCode.UNSUPPORTED_EVENT, reject=True)


def map_oru_r01(message: Message, codes: CodeMap | None = None) -> MappedMessage:
    """Map a parsed ORU^R01; raises :class:`Hl7Error` for anything that cannot be mapped faithfully."""
    header = read_header(message)
    ctx = Context(header.laboratory, codes or default_code_map())
    pid, groups = _split_groups(ctx, message)
    patient = _patient(ctx, pid, header)
    everything_refused = display_refused(_patient_group(message))
    results = tuple(
        _refused(_map_group(ctx, header, patient, group), everything_refused or display_refused(group))
        for group in groups
    )
    return MappedMessage(header, results)


def display_refused(segments: list[Segment]) -> bool:
    """Whether ``segments`` hold an access restriction (``ARV``, HL7 v2.6+) that is in force.

    An ``ARV`` whose ``ARV-3`` (access restriction value) is given and whose ``ARV-2`` (action) is not
    ``D`` (delete) means the citizen refused display: in the patient group it covers every result of
    the message, after an ``OBR`` only that result.
    """
    return any(s.id == "ARV" and s.field(3).value and s[2] != "D" for s in segments)


def _patient_group(message: Message) -> list[Segment]:
    segments: list[Segment] = []
    for seg in message.segments:
        if seg.id == "OBR":
            break
        segments.append(seg)
    return segments


def _refused(result: MappedResult, refused: bool) -> MappedResult:
    return replace(result, display_refused=True) if refused else result


def _split_groups(ctx: Context, message: Message) -> tuple[Segment, list[list[Segment]]]:
    counts: dict[str, int] = {}
    pid: Segment | None = None
    groups: list[list[Segment]] = []
    for seg in message.segments:
        counts[seg.id] = counts.get(seg.id, 0) + 1
        ctx.number(seg, counts[seg.id])
        if seg.id == "PID" and pid is None:
            pid = seg
        elif seg.id == "OBR":
            groups.append([seg])
        elif seg.id in ("OBX", "SPM", "NTE", "ARV") and groups:
            groups[-1].append(seg)
        elif seg.id == "OBX":
            raise Hl7Error("an OBX comes before any OBR", ctx.where(seg), ErrorCode.SEGMENT_SEQUENCE)
    if pid is None:
        raise Hl7Error("the PID segment is missing", ErrorLocation("PID", 1), ErrorCode.SEGMENT_SEQUENCE)
    if not groups:
        raise Hl7Error("the OBR segment is missing", ErrorLocation("OBR", 1), ErrorCode.SEGMENT_SEQUENCE)
    return pid, groups


def _patient(ctx: Context, pid: Segment, header: Header) -> Resource:
    ids = ctx.required(pid, 3, "PID-3 (patient identifier list)")
    cpr = _find_cpr(ctx, pid, ids.repetitions)
    patient: Resource = {
        "resourceType": "Patient",
        "id": resource_id("Patient", header.laboratory, header.control_id),
        "identifier": [{"use": "official", "system": CPR_SYSTEM, "value": cpr}],
    }
    name = pid.field(5)
    if not name.is_empty:
        given = [part for part in [*name.component(2).split(" "), name.component(3)] if part]
        patient["name"] = [{"use": "official", "family": name.component(1), "given": given}]
        patient["name"] = [{k: v for k, v in patient["name"][0].items() if v}]
    if gender := _GENDER.get(pid[8]):
        patient["gender"] = gender
    return patient


def _find_cpr(ctx: Context, pid: Segment, repetitions: tuple[Any, ...]) -> str:
    for index, rep in enumerate(repetitions, start=1):
        parts = [comp[0] for comp in rep] + [""] * 5
        if parts[3] in _CPR_AUTHORITIES or parts[4] == "NNDNK":
            if not _valid_cpr(parts[0]):
                where = ErrorLocation("PID", ctx.where(pid).sequence, 3, index, 1)
                raise Hl7Error("PID-3 holds a CPR number that is not valid", where, ErrorCode.DATA_TYPE)
            return str(parts[0])
    raise Hl7Error("PID-3 has no CPR number", ctx.where(pid, 3), ErrorCode.REQUIRED_FIELD_MISSING)


def _valid_cpr(text: str) -> bool:
    """Ten digits whose first six are a date (29 February accepted in any year; no modulus-11 check).

    A day of month plus 60 is accepted too: substitute numbers (erstatnings-CPR) and bindeled's
    synthetic citizens are written that way.
    """
    if not _CPR.match(text):
        return False
    day = int(text[0:2])
    try:
        date(2000, int(text[2:4]), day - 60 if day > 60 else day)
    except ValueError:
        return False
    return True


def _map_group(ctx: Context, header: Header, patient: Resource, group: list[Segment]) -> MappedResult:
    obr = group[0]
    sample = ctx.required(obr, 3, "OBR-3 (filler order number)").value
    analysis_field = ctx.required(obr, 4, "OBR-4 (universal service identifier)")
    key = ResultKey(header.laboratory, sample, analysis_field.value)
    status = _report_status(ctx, obr)
    ctx.unmapped.clear()
    report_id = resource_id("DiagnosticReport", key.laboratory, key.sample_number, key.analysis, header.control_id)
    subject = {"reference": f"Patient/{patient['id']}"}
    specimen = _specimen(ctx, obr, next((s for s in group if s.id == "SPM"), None), subject, report_id)
    refs: Resource = {"subject": subject, "specimen": {"reference": f"Specimen/{specimen['id']}"}}
    if collected := specimen.get("collection", {}).get("collectedDateTime"):
        refs["effectiveDateTime"] = collected
    observations = _observations(ctx, [s for s in group if s.id == "OBX"], refs, report_id)
    _attach_notes(group, observations)
    report = _report(ctx, obr, header, key, status, report_id, refs, observations)
    if conclusion := _notes(group[1:]):
        report["conclusion"] = conclusion
    unmapped = tuple(dict.fromkeys(ctx.unmapped))
    resources = (specimen, report, *observations)
    return MappedResult(key, status, header.message_time, header.control_id, patient, resources, unmapped)


def _report_status(ctx: Context, obr: Segment) -> str:
    code = ctx.required(obr, 25, "OBR-25 (result status)").value
    if code not in REPORT_STATUS:
        raise Hl7Error("OBR-25 is not in HL7 table 0123", ctx.where(obr, 25), ErrorCode.TABLE_VALUE_NOT_FOUND)
    return REPORT_STATUS[code]


def _specimen(ctx: Context, obr: Segment, spm: Segment | None, subject: Resource, report_id: str) -> Resource:
    specimen: Resource = {
        "resourceType": "Specimen",
        "id": resource_id(report_id, "Specimen"),
        "accessionIdentifier": {"system": f"urn:bindeled:lab:{ctx.laboratory}:sample", "value": obr[3]},
        "subject": subject,
    }
    material = spm.field(4) if spm is not None and not spm.field(4).is_empty else obr.field(15)
    if not material.is_empty:
        specimen["type"] = ctx.concept(material)
    collected = ctx.datetime(spm, 17) if spm is not None else None
    collected = collected or ctx.datetime(obr, 7)
    received = (ctx.datetime(spm, 18) if spm is not None else None) or ctx.datetime(obr, 14)
    if received:
        specimen["receivedTime"] = received
    collection: Resource = {"collectedDateTime": collected} if collected else {}
    if spm is not None and not spm.field(8).is_empty:
        collection["bodySite"] = ctx.concept(spm.field(8))
    if collection:
        specimen["collection"] = collection
    return specimen


def _observations(ctx: Context, obxs: list[Segment], refs: Resource, report_id: str) -> list[Resource]:
    observations = [map_obx(ctx, obx, refs, report_id) for obx in obxs]
    by_isolate: dict[str, list[int]] = {}
    for index, obx in enumerate(obxs):
        if obx[4]:
            by_isolate.setdefault(obx[4], []).append(index)
    for members in by_isolate.values():
        organisms = [i for i in members if obxs[i][2] in ("CE", "CWE") and not is_susceptibility(obxs[i])]
        others = [i for i in members if i not in organisms]
        for i in organisms:
            if others:
                observations[i]["hasMember"] = [{"reference": f"Observation/{observations[j]['id']}"} for j in others]
    return observations


def _notes(segments: list[Segment]) -> str:
    """The text of the NTE segments at the start of ``segments`` (NTE-3 repetitions joined by newlines)."""
    lines: list[str] = []
    for seg in segments:
        if seg.id != "NTE":
            break
        lines += [rep[0][0] for rep in seg.field(3).repetitions if rep[0][0]]
    return "\n".join(lines)


def _attach_notes(group: list[Segment], observations: list[Resource]) -> None:
    """NTE segments after an OBX become that Observation's ``note``."""
    obx_number = -1
    for position, seg in enumerate(group):
        if seg.id == "OBX":
            obx_number += 1
            if text := _notes(group[position + 1 :]):
                observations[obx_number]["note"] = [{"text": text}]


def _report(
    ctx: Context,
    obr: Segment,
    header: Header,
    key: ResultKey,
    status: str,
    report_id: str,
    refs: Resource,
    observations: list[Resource],
) -> Resource:
    lab = key.laboratory
    report: Resource = {
        "resourceType": "DiagnosticReport",
        "id": report_id,
        "identifier": [
            {"system": f"urn:bindeled:lab:{lab}:sample", "value": key.sample_number},
            {"system": f"urn:bindeled:lab:{lab}:hl7v2-message", "value": header.control_id},
        ],
        "status": status,
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "MB"}]}],
        "code": ctx.concept(obr.field(4)),
        "subject": refs["subject"],
        "performer": [{"type": "Organization", "identifier": {"system": SOR_SYSTEM, "value": lab}}],
        "specimen": [refs["specimen"]],
    }
    if "effectiveDateTime" in refs:
        report["effectiveDateTime"] = refs["effectiveDateTime"]
    issued = parse_dtm(obr[22]) if obr[22] else None
    if obr[22] and issued is None:
        raise Hl7Error("OBR-22 is not a valid date/time", ctx.where(obr, 22), ErrorCode.DATA_TYPE)
    report["issued"] = (issued[0] if issued and issued[1] >= 4 else header.message_time).isoformat(timespec="seconds")
    if observations:
        report["result"] = [{"reference": f"Observation/{o['id']}"} for o in observations]
    return report
