"""Small helpers for editing message Bundles in tests."""

from __future__ import annotations

from typing import Any

from bindeled.messaging.messages import reference_key

Bundle = dict[str, Any]


def index_of(bundle: Bundle, kind: str, nth: int = 0) -> int:
    found = [i for i, e in enumerate(bundle["entry"]) if e["resource"]["resourceType"] == kind]
    return found[nth]


def resource(bundle: Bundle, kind: str, nth: int = 0) -> dict[str, Any]:
    return dict.__getitem__(bundle["entry"][index_of(bundle, kind, nth)], "resource")


def header(bundle: Bundle) -> dict[str, Any]:
    return resource(bundle, "MessageHeader")


def index_by_ref(bundle: Bundle, ref: str) -> int:
    key = reference_key(ref)
    for i, e in enumerate(bundle["entry"]):
        if f"{e['resource']['resourceType']}/{e['resource']['id']}" == key:
            return i
    raise KeyError(ref)


def sender_index(bundle: Bundle) -> int:
    return index_by_ref(bundle, header(bundle)["sender"]["reference"])


def receiver_index(bundle: Bundle) -> int:
    return index_by_ref(bundle, header(bundle)["destination"][0]["receiver"]["reference"])


def path(index: int, rest: str = "") -> str:
    return f"Bundle.entry[{index}].resource{rest}"


def set_identifier(org: dict[str, Any], system: str, value: str | None) -> None:
    """Replace (or with ``value=None`` remove) the identifier with ``system``."""
    idents = [i for i in org.get("identifier", []) if i.get("system") != system]
    if value is not None:
        idents.append({"system": system, "value": value})
    if idents:
        org["identifier"] = idents
    else:
        org.pop("identifier", None)
