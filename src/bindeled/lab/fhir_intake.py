"""FHIR lab results in: a Bundle with DiagnosticReports (as posted over REST) → the same sink as HL7 v2.

The REST route (in ``api/``) decodes and validates the Bundle against R4 and hands it here. A Bundle of
type ``collection``, ``transaction``, ``batch`` or ``message`` is read; each DiagnosticReport in it becomes a
:class:`~bindeled.lab.hl7v2.oru_r01.MappedResult`, exactly as an ORU^R01 OBR group does, so corrections,
duplicates and surveillance work the same for both channels:

* laboratory = the SOR identifier of ``DiagnosticReport.performer``; sample number = the Specimen's
  ``accessionIdentifier`` (else the report's first identifier); analysis = the report's first code;
* the version's control id is ``Bundle.identifier.value`` (else ``Bundle.id``) and its time ``issued``;
* the Patient is found by CPR (the Patient entry's identifier, or ``subject.identifier``);
* codes in the laboratory's local system get the mapped coding from the code map when they lack one.

Resource ids are replaced by deterministic ones (as for HL7 v2) and references rewritten to them.
Problems raise :class:`~bindeled.errors.Unprocessable` with a FHIRPath location and no values.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from bindeled.errors import Unprocessable
from bindeled.lab.codes import CodeMap, default_code_map
from bindeled.lab.corrections import Outcome
from bindeled.lab.hl7v2._fields import local_system, resource_id
from bindeled.lab.hl7v2.oru_r01 import CPR_SYSTEM, SOR_SYSTEM, MappedResult, ResultKey
from bindeled.lab.sink import ResultSink

__all__ = ["map_fhir_bundle", "receive_fhir_bundle"]

Resource = dict[str, Any]
_BUNDLE_TYPES = {"collection", "transaction", "batch", "message"}


async def receive_fhir_bundle(bundle: Resource, sink: ResultSink, *, codes: CodeMap | None = None) -> list[Outcome]:
    """Store every DiagnosticReport of ``bundle`` as a version; returns one outcome per report."""
    return await sink.store_all(map_fhir_bundle(bundle, codes))


def map_fhir_bundle(bundle: Resource, codes: CodeMap | None = None) -> list[MappedResult]:
    """The results carried by ``bundle`` (see the module docstring for the rules)."""
    if bundle.get("resourceType") != "Bundle" or bundle.get("type") not in _BUNDLE_TYPES:
        raise Unprocessable("expected a collection, transaction, batch or message Bundle", location=("Bundle.type",))
    control_id = _control_id(bundle)
    index = _Index(bundle)
    reports = [(i, r) for i, r in enumerate(index.resources) if r.get("resourceType") == "DiagnosticReport"]
    if not reports:
        raise Unprocessable("the Bundle holds no DiagnosticReport", location=("Bundle.entry",))
    return [_map_report(index, i, report, control_id, codes or default_code_map()) for i, report in reports]


def _control_id(bundle: Resource) -> str:
    value = (bundle.get("identifier") or {}).get("value") or bundle.get("id")
    if not isinstance(value, str) or not value:
        raise Unprocessable(
            "Bundle.identifier or Bundle.id is needed to identify the version", location=("Bundle.identifier",)
        )
    return value


class _Index:
    """The Bundle's resources and how references to them are written (fullUrl or Type/id)."""

    def __init__(self, bundle: Resource) -> None:
        entries = bundle.get("entry") or []
        self.resources: list[Resource] = [e.get("resource") or {} for e in entries if isinstance(e, dict)]
        self._by_ref: dict[str, int] = {}
        for position, entry in enumerate(e for e in entries if isinstance(e, dict)):
            resource = entry.get("resource") or {}
            if full_url := entry.get("fullUrl"):
                self._by_ref[str(full_url)] = position
            if resource.get("id"):
                self._by_ref[f"{resource.get('resourceType')}/{resource['id']}"] = position

    def resolve(self, reference: Any) -> Resource | None:
        if not isinstance(reference, dict) or "reference" not in reference:
            return None
        position = self._by_ref.get(str(reference["reference"]))
        return None if position is None else self.resources[position]


def _map_report(index: _Index, position: int, report: Resource, control_id: str, codes: CodeMap) -> MappedResult:
    path = f"Bundle.entry[{position}].resource"
    laboratory = _laboratory(report, path)
    specimen = index.resolve((report.get("specimen") or [None])[0])
    key = ResultKey(laboratory, _sample_number(report, specimen, path), _analysis(report, path))
    issued = _issued(report, path)
    report_id = resource_id("DiagnosticReport", *_key_parts(key), control_id)
    patient = _patient(index, report, path, laboratory, control_id)
    mapper = _Rewriter(index, report_id, laboratory, codes, f"Patient/{patient['id']}")
    copies = mapper.rewrite(report, _members(index, report, specimen))
    status = str(report.get("status", ""))
    return MappedResult(key, status, issued, control_id, patient, tuple(copies), tuple(dict.fromkeys(mapper.unmapped)))


def _members(index: _Index, report: Resource, specimen: Resource | None) -> list[Resource]:
    """The specimen, then the results and (recursively) their ``hasMember`` Observations, each once."""
    members: list[Resource] = [specimen] if specimen else []
    pending = list(report.get("result") or [])
    while pending:
        target = index.resolve(pending.pop(0))
        if target is not None and all(target is not m for m in members):
            members.append(target)
            pending += target.get("hasMember") or []
    return members


def _key_parts(key: ResultKey) -> tuple[str, str, str]:
    return key.laboratory, key.sample_number, key.analysis


def _laboratory(report: Resource, path: str) -> str:
    for performer in report.get("performer") or []:
        identifier = performer.get("identifier") or {} if isinstance(performer, dict) else {}
        if identifier.get("system") == SOR_SYSTEM and identifier.get("value"):
            return str(identifier["value"])
    raise Unprocessable("the laboratory's SOR identifier is missing", location=(f"{path}.performer",))


def _sample_number(report: Resource, specimen: Resource | None, path: str) -> str:
    accession = (specimen or {}).get("accessionIdentifier") or {}
    value = accession.get("value") or ((report.get("identifier") or [{}])[0]).get("value")
    if not value:
        raise Unprocessable(
            "no sample number (Specimen.accessionIdentifier or identifier)", location=(f"{path}.identifier",)
        )
    return str(value)


def _analysis(report: Resource, path: str) -> str:
    codings = (report.get("code") or {}).get("coding") or []
    if not codings or not codings[0].get("code"):
        raise Unprocessable("the analysis code is missing", location=(f"{path}.code",))
    return str(codings[0]["code"])


def _issued(report: Resource, path: str) -> datetime:
    try:
        issued = datetime.fromisoformat(str(report["issued"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        raise Unprocessable("DiagnosticReport.issued is missing or invalid", location=(f"{path}.issued",)) from None
    if issued.tzinfo is None:
        raise Unprocessable("DiagnosticReport.issued needs a time zone", location=(f"{path}.issued",))
    return issued


def _patient(index: _Index, report: Resource, path: str, laboratory: str, control_id: str) -> Resource:
    subject = report.get("subject") or {}
    entry = index.resolve(subject) or {}
    identifiers = [*(entry.get("identifier") or []), subject.get("identifier") or {}]
    cpr = next((i.get("value") for i in identifiers if isinstance(i, dict) and i.get("system") == CPR_SYSTEM), None)
    if not cpr:
        raise Unprocessable("the patient's CPR identifier is missing", location=(f"{path}.subject",))
    patient: Resource = copy.deepcopy(entry) if entry else {"resourceType": "Patient"}
    others = [i for i in entry.get("identifier") or [] if isinstance(i, dict) and i.get("system") != CPR_SYSTEM]
    patient["id"] = resource_id("Patient", laboratory, control_id)
    patient["identifier"] = [{"use": "official", "system": CPR_SYSTEM, "value": cpr}, *others]
    return patient


class _Rewriter:
    """Copies the report and its members with deterministic ids, rewritten references and mapped codes."""

    def __init__(self, index: _Index, report_id: str, laboratory: str, codes: CodeMap, patient_ref: str) -> None:
        self.index, self.report_id, self.laboratory, self.codes = index, report_id, laboratory, codes
        self.patient_ref = patient_ref
        self.ids: dict[int, str] = {}
        self.unmapped: list[str] = []

    def rewrite(self, report: Resource, members: list[Resource]) -> list[Resource]:
        """Specimen first (when there is one), then the report, then the Observations, as for HL7 v2."""
        self.ids[id(report)] = f"DiagnosticReport/{self.report_id}"
        for number, member in enumerate(members):
            self.ids[id(member)] = f"{member.get('resourceType')}/{resource_id(self.report_id, str(number))}"
        has_specimen = bool(members) and members[0].get("resourceType") == "Specimen"
        order = [*members[:1], report, *members[1:]] if has_specimen else [report, *members]
        return [self._copy(resource) for resource in order]

    def _copy(self, resource: Resource) -> Resource:
        out: Resource = self._walk(resource)
        out["id"] = self.ids[id(resource)].split("/", 1)[1]
        if "subject" in out:
            out["subject"] = {"reference": self.patient_ref}
        return out

    def _walk(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self._walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        if "reference" in node and isinstance(node["reference"], str):
            target = self.index.resolve(node)
            if target is not None and id(target) in self.ids:
                return {**node, "reference": self.ids[id(target)]}
        out = {key: self._walk(value) for key, value in node.items()}
        if isinstance(out.get("coding"), list):
            self._add_mapped(out["coding"])
        return out

    def _add_mapped(self, codings: list[Any]) -> None:
        local = [c for c in codings if isinstance(c, dict) and c.get("system") == local_system(self.laboratory)]
        if not local or len(codings) > len(local):
            return
        mapped = self.codes.lookup(self.laboratory, str(local[0].get("code", "")))
        if mapped is None:
            self.unmapped.append(str(local[0].get("code", "")))
            return
        codings.append({"system": mapped.system, "code": mapped.code, "display": mapped.display})
