"""The current view of a result: the FHIR resources that FHIR read and search return for one result key.

Each incoming version is mapped with ids of its own (they include the message control id), which is
right for keeping versions apart but wrong for the current view: a correction must *replace* the final
answer, not sit beside it. :func:`current_resources` gives the resources of one version the stable ids
of their result key (laboratory, sample number, analysis), so storing the current version is an update
of the same resources, and their FHIR history is the succession of current versions.

Ids are UUIDv5 of the key, the resource type and the resource's ordinal among its type, references are
rewritten to them and the subject to the stored Patient. A result whose display the citizen refused
(:attr:`MappedResult.display_refused`, or a FHIR report already labelled) gets the :data:`REFUSED`
security label on every resource, which the security gate uses to hide it from clinicians and citizens
while statutory surveillance still sees it (DOMAIN §6.3).
"""

from __future__ import annotations

import copy
from typing import Any

from bindeled.lab.hl7v2._fields import resource_id
from bindeled.lab.hl7v2.oru_r01 import MappedResult, ResultKey

__all__ = ["REFUSED", "current_ids", "current_resources", "is_refused"]

Resource = dict[str, Any]

REFUSED = {"system": "https://bindeled.dk/fhir/CodeSystem/display", "code": "refused"}
"""The ``meta.security`` label of a result whose display the citizen refused."""


def current_ids(result: MappedResult) -> dict[str, str]:
    """``Type/version-id`` → ``Type/stable-id`` for every resource of ``result``."""
    ordinals: dict[str, int] = {}
    out: dict[str, str] = {}
    for resource in result.resources:
        kind = str(resource["resourceType"])
        ordinal = ordinals.get(kind, 0)
        ordinals[kind] = ordinal + 1
        out[f"{kind}/{resource['id']}"] = f"{kind}/{_stable_id(result.key, kind, ordinal)}"
    return out


def _stable_id(key: ResultKey, kind: str, ordinal: int) -> str:
    return resource_id("lab-current", key.laboratory, key.sample_number, key.analysis, kind, str(ordinal))


def is_refused(result: MappedResult) -> bool:
    """Refused by the message (``ARV``) or already labelled by the sender (FHIR channel)."""
    labels = (result.report.get("meta") or {}).get("security") or []
    return result.display_refused or any(_is_refused_label(label) for label in labels)


def _is_refused_label(label: Any) -> bool:
    return isinstance(label, dict) and label.get("system") == REFUSED["system"] and label.get("code") == "refused"


def current_resources(result: MappedResult, patient_id: str) -> list[Resource]:
    """The resources of ``result`` with stable ids, their subject the stored Patient ``patient_id``."""
    ids = current_ids(result)
    ids[f"Patient/{result.patient['id']}"] = f"Patient/{patient_id}"
    refused = is_refused(result)
    out = []
    for resource in result.resources:
        body: Resource = _rewrite(copy.deepcopy(resource), ids)
        body["id"] = ids[f"{resource['resourceType']}/{resource['id']}"].split("/", 1)[1]
        meta = {k: v for k, v in (body.get("meta") or {}).items() if k not in ("versionId", "lastUpdated")}
        if refused:
            labels = [label for label in meta.get("security") or [] if not _is_refused_label(label)]
            meta["security"] = [*labels, dict(REFUSED)]
        if meta:
            body["meta"] = meta
        else:
            body.pop("meta", None)
        out.append(body)
    return out


def _rewrite(node: Any, ids: dict[str, str]) -> Any:
    if isinstance(node, list):
        return [_rewrite(item, ids) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _rewrite(value, ids) for key, value in node.items()}
    reference = out.get("reference")
    if isinstance(reference, str) and reference in ids:
        out["reference"] = ids[reference]
    return out
