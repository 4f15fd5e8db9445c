"""Native Python forms of the most frequent invariant expressions, chosen by their exact text.

fhirpathpy needs 0.1–5 ms per evaluation; the invariants below run on every Bundle, entry,
Reference, Organization and identifier value, so on a MedCom message they took ~85 % of
validation time. Each native form is registered under the expression *text* it implements: a
profile that redefines an invariant with other text still goes through fhirpathpy.

A native form returns ``True`` / ``False`` only when it is certain to agree with fhirpathpy, and
``None`` otherwise (unusual JSON shapes, primitive ``_name`` extensions, rarely taken branches);
``None`` hands the node to the engine. ``tests/fhir/validation/test_native.py`` checks agreement
on every element of every official R4 and MedCom example and on generated JSON.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = ["NATIVE_EXPRESSIONS", "NativeCheck", "native_check"]

NativeCheck = Callable[[Any, dict[str, Any], dict[str, Any]], bool | None]
"""(node, %resource, %rootResource) → the invariant's verdict, or ``None`` to ask fhirpathpy."""

_ABSENT = object()
_UNSURE = object()


def _string(obj: dict[str, Any], name: str) -> Any:
    """A plain string member: the string, :data:`_ABSENT`, or :data:`_UNSURE` for anything else."""
    if "_" + name in obj:
        return _UNSURE
    value = obj.get(name, _ABSENT)
    return value if value is _ABSENT or isinstance(value, str) else _UNSURE


def _objects(obj: dict[str, Any], name: str) -> list[dict[str, Any]] | None:
    """A repeating complex member as a list of non-empty objects ([] when absent), else None."""
    value = obj.get(name, _ABSENT)
    if value is _ABSENT:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) and item for item in value):
        return None
    return value


def _entries(node: Any) -> list[dict[str, Any]] | None:
    """Bundle entries that fhirpathpy sees exactly as we do (no ``resourceType`` on an entry)."""
    if not isinstance(node, dict):
        return None
    entries = _objects(node, "entry")
    if entries is None or any("resourceType" in entry for entry in entries):
        return None
    return entries


def _exists(obj: dict[str, Any], name: str) -> bool | None:
    """``name.exists()`` for a single complex member."""
    if "_" + name in obj:
        return None
    value = obj.get(name, _ABSENT)
    if value is _ABSENT:
        return False
    return True if isinstance(value, dict) and value else None


def _entry_kind(member: str, kinds: frozenset[str]) -> NativeCheck:
    """bdl-3 / bdl-4: ``request`` (``response``) is present exactly in the listed Bundle types."""

    def check(node: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool | None:
        entries = _entries(node)
        kind = _string(resource, "type") if isinstance(resource, dict) else _UNSURE
        if entries is None or not isinstance(kind, str):
            return None
        expected = kind in kinds
        for entry in entries:
            present = _exists(entry, member)
            if present is None:
                return None
            if present != expected:
                return False
        return True

    return check


def _distinct_full_urls(node: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool | None:
    """bdl-7: fullUrl + versionId is unique unless the Bundle is a history."""
    entries = _entries(node)
    kind = _string(node, "type") if isinstance(node, dict) else _UNSURE
    if entries is None or not isinstance(kind, str):
        return None
    if kind == "history":
        return True
    keys: list[str] = []
    for entry in entries:
        url = _string(entry, "fullUrl")
        if url is _ABSENT:
            continue
        if url is _UNSURE:
            return None
        version: Any = ""
        inner = entry.get("resource", _ABSENT)
        if inner is not _ABSENT:
            meta = inner.get("meta", _ABSENT) if isinstance(inner, dict) else _UNSURE
            if meta is not _ABSENT:
                version = _string(meta, "versionId") if isinstance(meta, dict) else _UNSURE
        if version is _UNSURE:
            return None
        keys.append(url + ("" if version is _ABSENT else version))
    return len(set(keys)) == len(keys)


def _no_history_full_url(node: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool | None:
    """bdl-8: fullUrl is not a version-specific URL."""
    url = _string(node, "fullUrl") if isinstance(node, dict) else _UNSURE
    if url is _ABSENT:
        return True
    return "/_history/" not in url if isinstance(url, str) else None


def _unless(member: str, kind: str) -> NativeCheck:
    """``type = 'document' implies …`` and the like: certain only when the member has another value."""

    def check(node: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool | None:
        found = _string(node, member) if isinstance(node, dict) else _UNSURE
        return True if isinstance(found, str) and found != kind else None

    return check


def _message_header_first(node: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool | None:
    """bdl-12: a message Bundle starts with its MessageHeader."""
    found = _string(node, "type") if isinstance(node, dict) else _UNSURE
    if not isinstance(found, str):
        return None
    if found != "message":
        return True
    entries = _entries(node)
    first = entries[0].get("resource") if entries else None
    if not isinstance(first, dict) or not isinstance(first.get("resourceType"), str):
        return None
    return bool(first["resourceType"] == "MessageHeader")


def _local_reference(node: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool | None:
    """ref-1: a ``#id`` reference names a contained resource of the root resource."""
    ref = _string(node, "reference") if isinstance(node, dict) else _UNSURE
    if ref is _ABSENT:
        return True
    if not isinstance(ref, str) or len(ref) < 2:
        return None
    if not ref.startswith("#"):
        return True
    contained = _objects(root, "contained") if isinstance(root, dict) else None
    if contained is None:
        return None
    ids = [_string(item, "id") for item in contained]
    if any(found is _UNSURE for found in ids):
        return None
    return ref[1:] in ids


def _identifier_or_name(node: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool | None:
    """org-1: an Organization has an identifier or a name."""
    identifiers = _objects(node, "identifier") if isinstance(node, dict) else None
    name = _string(node, "name") if isinstance(node, dict) else _UNSURE
    if identifiers is None or name is _UNSURE:
        return None
    return bool(identifiers) or name is not _ABSENT


def _identifier_system(systems: frozenset[str]) -> NativeCheck:
    """``identifier.where(system='a' or system='b' …).exists()``."""

    def check(node: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool | None:
        identifiers = _objects(node, "identifier") if isinstance(node, dict) else None
        if identifiers is None:
            return None
        found = [_string(identifier, "system") for identifier in identifiers]
        if any(system is _UNSURE for system in found):
            return None
        return any(system in systems for system in found)

    return check


def _not_both_codes(system: str, first: str, second: str) -> NativeCheck:
    """``x.coding.where(code = 'P' and system = S).empty() or x.coding.where(code = 'A' …).empty()``
    on ``maritalStatus``: not both codes at once."""

    def check(node: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool | None:
        concept = node.get("maritalStatus", _ABSENT) if isinstance(node, dict) else _UNSURE
        if concept is _ABSENT and isinstance(node, dict) and "_maritalStatus" not in node:
            return True
        codings = _objects(concept, "coding") if isinstance(concept, dict) and concept else None
        if codings is None:
            return None
        pairs = [(_string(c, "system"), _string(c, "code")) for c in codings]
        if any(_UNSURE in pair for pair in pairs):
            return None
        return not ((system, first) in pairs and (system, second) in pairs)

    return check


def _on_value(test: Callable[[str], bool | None]) -> NativeCheck:
    """``value.<test>`` on an Identifier-like object: decided only for a plain string value.

    DK-core 2.0.0 declares such constraints on ``Identifier.value`` itself: a string has no
    ``value`` child in fhirpathpy, so there the expression is vacuously true.
    """

    def check(node: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool | None:
        if isinstance(node, str):
            return True
        value = _string(node, "value") if isinstance(node, dict) else _UNSURE
        return test(value) if isinstance(value, str) else None

    return check


def _on_self(test: Callable[[str], bool | None]) -> NativeCheck:
    def check(node: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool | None:
        return test(node) if isinstance(node, str) else None

    return check


def _matches(pattern: str) -> Callable[[str], bool | None]:
    """fhirpathpy's ``matches``: ``re.search`` with DOTALL."""
    compiled = re.compile(pattern, re.DOTALL)
    return lambda text: compiled.search(text) is not None


_GLN_WEIGHTS = (1, 3) * 6


def _gln_check_digit(text: str) -> bool | None:
    """gln-modulus-10 on the first 13 characters, when they are all ASCII digits."""
    head = text[:13]
    if len(head) < 13 or not all("0" <= ch <= "9" for ch in head):
        return None
    total = sum(int(ch) * weight for ch, weight in zip(head, _GLN_WEIGHTS, strict=False))
    return (10 - total % 10) % 10 == int(head[12])


_MATCHES = re.compile(r"(value\.)?matches\('([^'\\]*)'\)")


def _gln_text(prefix: str) -> str:
    """The gln-modulus-10 expression as DK-core and MedCom write it (with or without ``value.``)."""
    steps = [f"({prefix}substring({i},1).toInteger()*{w})" for i, w in enumerate(_GLN_WEIGHTS)]
    body = "+\n".join(steps[:5]) + "\n" + "".join(f"+{s}\n" for s in steps[5:11]) + f"+{steps[11]}"
    return f"((\n(10-({body})mod(10))mod(10))={prefix}substring(12,1).toInteger())"


def _entry_resources(node: Any) -> list[dict[str, Any]] | None:
    """The resources of a Bundle's entries (entries without one left out), when each has a plain
    ``resourceType`` by which fhirpathpy types it as we do."""
    entries = _entries(node)
    if entries is None or "_entry" in node:
        return None
    found: list[dict[str, Any]] = []
    for entry in entries:
        if "_resource" in entry:
            return None
        inner = entry.get("resource", _ABSENT)
        if inner is _ABSENT:
            continue
        if not isinstance(inner, dict) or not isinstance(inner.get("resourceType"), str):
            return None
        found.append(inner)
    return found


def _has_entry_of(kind: str) -> NativeCheck:
    """``entry.resource.ofType(Provenance).exists()`` (MedCom messaging: a message has a Provenance)."""

    def check(node: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool | None:
        found = _entry_resources(node)
        return None if found is None else any(inner["resourceType"] == kind for inner in found)

    return check


def _one_patient_entry(node: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool | None:
    """``entry.where(resource.is(Patient)).count() = 1`` (HospitalNotification, CareCommunication)."""
    found = _entry_resources(node)
    return None if found is None else sum(inner["resourceType"] == "Patient" for inner in found) == 1


def _practitioner_named(node: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool | None:
    """``entry.resource.ofType(Practitioner).name.exists()`` (CareCommunication)."""
    found = _entry_resources(node)
    if found is None:
        return None
    named = False
    for inner in found:
        if inner["resourceType"] != "Practitioner":
            continue
        names = _objects(inner, "name")
        if names is None or "_name" in inner:
            return None
        named = named or bool(names)
    return named


def _patient_identifier_system(system: str) -> NativeCheck:
    """``entry.resource.ofType(Patient).identifier.system = '…'`` (HospitalNotification: a CPR
    number). ``=`` is empty (the invariant holds) when no system is given; fhirpathpy's ``=`` is
    false for collections of other sizes, so otherwise exactly one system, this one, is needed."""

    def check(node: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool | None:
        found = _entry_resources(node)
        if found is None:
            return None
        systems: list[str] = []
        for inner in found:
            if inner["resourceType"] != "Patient":
                continue
            identifiers = _objects(inner, "identifier")
            if identifiers is None or "_identifier" in inner:
                return None
            for identifier in identifiers:
                value = _string(identifier, "system")
                if value is _UNSURE:
                    return None
                if value is not _ABSENT:
                    systems.append(value)
        return not systems or (len(systems) == 1 and systems[0] == system)

    return check


def _entries_of_resource_type(node: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool | None:
    """``entry.ofType(MessageHeader).all(…)``: an entry is a BackboneElement, never of a resource
    type, so the collection is empty and ``all`` is true without evaluating its criteria."""
    return None if _entries(node) is None else True


def _acknowledged(node: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool | None:
    """medcom-acknowledgement-1: ``iif(<header's response.code> = 'ok', true, <code> != 'ok' and
    <an OperationOutcome entry exists>)``. Without a code the ``and`` has an empty operand: empty
    (holds) beside ``true``, false beside ``false`` — so every code but ``ok`` needs the outcome."""
    found = _entry_resources(node)
    if found is None:
        return None
    headers = [inner for inner in found if inner["resourceType"] == "MessageHeader"]
    if len(headers) > 1:
        return None
    code: Any = _ABSENT
    if headers:
        header = headers[0]
        response = header.get("response", _ABSENT)
        if "_response" in header or (response is not _ABSENT and not (isinstance(response, dict) and response)):
            return None
        code = _string(response, "code") if isinstance(response, dict) else _ABSENT
    if code is _UNSURE:
        return None
    return code == "ok" or any(inner["resourceType"] == "OperationOutcome" for inner in found)


_ORG_SYSTEMS = ("urn:oid:1.2.208.176.1.1", "https://kombit.dk/sts/organisation")

NATIVE_EXPRESSIONS: dict[str, NativeCheck] = {
    "entry.all(request.exists() = (%resource.type = 'batch' or %resource.type = 'transaction' or "
    "%resource.type = 'history'))": _entry_kind("request", frozenset({"batch", "transaction", "history"})),
    "entry.all(response.exists() = (%resource.type = 'batch-response' or %resource.type = "
    "'transaction-response' or %resource.type = 'history'))": _entry_kind(
        "response", frozenset({"batch-response", "transaction-response", "history"})
    ),
    "(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&resource.meta.versionId).isDistinct()": (
        _distinct_full_urls
    ),
    "fullUrl.contains('/_history/').not()": _no_history_full_url,
    "type = 'document' implies (identifier.system.exists() and identifier.value.exists())": _unless("type", "document"),
    "type = 'document' implies (timestamp.hasValue())": _unless("type", "document"),
    "type = 'document' implies entry.first().resource.is(Composition)": _unless("type", "document"),
    "type = 'message' implies entry.first().resource.is(MessageHeader)": _message_header_first,
    "reference.startsWith('#').not() or (reference.substring(1).trace('url') in "
    "%rootResource.contained.id.trace('ids'))": _local_reference,
    "(identifier.count() + name.count()) > 0": _identifier_or_name,
    "identifier.where(system='urn:oid:1.2.208.176.1.1' or system='https://kombit.dk/sts/organisation' or "
    "system='urn:oid:2.16.840.1.113883.2.24.1.1').exists()": _identifier_system(
        frozenset({*_ORG_SYSTEMS, "urn:oid:2.16.840.1.113883.2.24.1.1"})
    ),
    "identifier.where(system='urn:oid:1.2.208.176.1.1' or system='https://kombit.dk/sts/organisation' or "
    "system='urn:oid:1.3.198' or system='http://cvr.dk').exists()": _identifier_system(
        frozenset({*_ORG_SYSTEMS, "urn:oid:1.3.198", "http://cvr.dk"})
    ),
    "where(status = 'onleave').extension.value.start.exists() or status != 'onleave'": _unless("status", "onleave"),
    "maritalStatus.coding.where(code = 'P' and system = 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus')"
    ".empty() or maritalStatus.coding.where(code = 'A' and system = "
    "'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus').empty()": _not_both_codes(
        "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "P", "A"
    ),
    "entry.resource.ofType(Provenance).exists()": _has_entry_of("Provenance"),
    "entry.where(resource.is(Patient)).count() = 1": _one_patient_entry,
    "entry.resource.ofType(Practitioner).name.exists()": _practitioner_named,
    "entry.resource.ofType(Patient).identifier.system = 'urn:oid:1.2.208.176.1.2'": _patient_identifier_system(
        "urn:oid:1.2.208.176.1.2"
    ),
    "iif(entry.resource.ofType(MessageHeader).response.code = 'ok', true, entry.resource.ofType(MessageHeader)"
    ".response.code != 'ok' and entry.resource.ofType(OperationOutcome).exists())": _acknowledged,
    _gln_text(""): _on_self(_gln_check_digit),
    _gln_text("value."): _on_value(_gln_check_digit),
}
"""Expression text → native form. ``matches('…')``, ``value.matches('…')`` and
``entry.ofType(<resource type>).all(…)`` are recognised by pattern in :func:`native_check`."""


_ALL_OF_TYPE = re.compile(r"entry\.ofType\(([A-Z][A-Za-z]*)\)\.all\(")
_NOT_RESOURCE_TYPES = frozenset({"Base", "Element", "BackboneElement"})


def _closes_at_end(expression: str, start: int) -> bool:
    """Whether the parenthesis opened just before ``start`` closes at the end of the expression
    (outside string literals), so nothing follows the call."""
    depth, quoted = 1, False
    for i in range(start, len(expression)):
        ch = expression[i]
        if ch == "'" and expression[i - 1] != "\\":
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
            if depth == 0:
                return i == len(expression) - 1
    return False


def native_check(expression: str) -> NativeCheck | None:
    """The native form of an invariant expression, if it has one."""
    found = NATIVE_EXPRESSIONS.get(expression)
    if found is not None:
        return found
    all_of = _ALL_OF_TYPE.match(expression)
    if all_of is not None and all_of.group(1) not in _NOT_RESOURCE_TYPES:
        return _entries_of_resource_type if _closes_at_end(expression, all_of.end()) else None
    match = _MATCHES.fullmatch(expression)
    if match is None:
        return None
    try:
        test = _matches(match.group(2))
    except re.error:
        return None
    return _on_value(test) if match.group(1) else _on_self(test)
