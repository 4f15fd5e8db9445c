"""Native invariant forms give exactly fhirpathpy's verdict wherever they give one.

Every native form is run beside fhirpathpy on every element of every official R4 example and
every MedCom example it could apply to, and on Hypothesis-generated JSON; a native verdict must
equal fhirpathpy's, and where fhirpathpy raises the native form must defer (``None``) so the
validator reports the same "could not be evaluated" issue as before.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bindeled.fhir.definitions import Definitions
from bindeled.fhir.validation.invariants import CompiledInvariant, compile_invariant
from bindeled.fhir.validation.native import NATIVE_EXPRESSIONS, native_check

from .conftest import load

MEDCOM_EXAMPLES = "standards/medcom/examples"

MATCHES = (
    "matches('^[0-9]{13}$')",
    "value.matches('^[0-9]{13}$')",
    "matches('^([0-9]){11,}$')",
    "matches('[+]?[-0-9]')",
    "value.matches('urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')",
    "matches('^((((0[1-9]|1[0-9]|2[0-9]|3[0-1])(01|03|05|07|08|10|12))|((0[1-9]|1[0-9]|2[0-9]|30)"
    "(04|06|09|11))|((0[1-9]|1[0-9]|2[0-9])(02)))[0-9]{6})$')",
)
"""``matches`` invariants of DK-core and MedCom (handled by pattern, not by a table entry)."""

ALL_OF_TYPE = (
    "entry.ofType(MessageHeader).all(resource.conformsTo('http://medcomfhir.dk/fhir/messaging/StructureDefinition/"
    "medcom-messaging-messageHeader'))",
    "entry.ofType(Provenance).all(resource.activity.memberOf('http://medcomfhir.dk/ig/terminology/ValueSet/"
    "medcom-hospitalNotification-messageActivities'))",
)
"""``entry.ofType(<resource type>).all(…)`` invariants of MedCom (handled by pattern)."""


def _base(expression: str) -> str:
    """The type the expression is declared on in R4, DK-core and MedCom."""
    if expression.startswith("fullUrl"):
        return "Bundle.entry"
    if "entry" in expression or expression.startswith("type = "):
        return "Bundle"
    if "onleave" in expression:
        return "Encounter"
    if expression.startswith("maritalStatus"):
        return "Patient"
    if expression.startswith("reference."):
        return "Reference"
    if "identifier" in expression:
        return "Organization"
    return "Identifier" if expression.startswith(("value.", "((\n(10-((value.")) else "string"


EXPRESSIONS = [*NATIVE_EXPRESSIONS, *MATCHES, *ALL_OF_TYPE]


@cache
def _pair(expression: str, base: str) -> tuple[CompiledInvariant, CompiledInvariant]:
    constraint = {"key": "test", "severity": "error", "expression": expression}
    fast = compile_invariant(constraint, base)
    slow = compile_invariant(constraint, base, fast=False)
    assert fast is not None and fast.native is not None and slow is not None and slow.native is None
    return fast, slow


def _engine(slow: CompiledInvariant, node: Any, resource: Any, root: Any) -> bool | str:
    try:
        return slow.holds(node, resource, root)
    except Exception:  # fhirpathpy's failures are bare Exceptions; the validator reports them
        return "raises"


def _agree(fast: CompiledInvariant, slow: CompiledInvariant, node: Any, resource: Any, root: Any) -> bool | None:
    """Compare the native verdict with fhirpathpy's; returns the native verdict."""
    assert fast.native is not None
    native = fast.native(node, resource, root)
    if native is not None:
        assert _engine(slow, node, resource, root) == native, (fast.expression[:60], node)
    return native


def _nodes(value: Any, resource: dict[str, Any], root: dict[str, Any]) -> Iterator[tuple[Any, Any, Any]]:
    """Every JSON value of a resource with its %resource and %rootResource."""
    if isinstance(value, dict):
        if isinstance(value.get("resourceType"), str) and value is not resource:
            contained = any(item is value for item in resource.get("contained", ()) or ())
            resource, root = value, (root if contained else value)
        yield value, resource, root
        for item in value.values():
            yield from _nodes(item, resource, root)
    elif isinstance(value, list):
        for item in value:
            yield from _nodes(item, resource, root)
    else:
        yield value, resource, root


def _applies(expression: str, node: Any) -> bool:
    """Whether the node is of the kind the invariant is declared on (keeps the engine runs few)."""
    base = _base(expression)
    if base == "Bundle":
        return isinstance(node, dict) and node.get("resourceType") == "Bundle"
    if base == "Bundle.entry":
        return isinstance(node, dict) and ("fullUrl" in node or "resource" in node)
    if base == "Reference":
        return isinstance(node, dict) and "reference" in node
    if base in ("Organization", "Encounter", "Patient"):
        return isinstance(node, dict) and node.get("resourceType") == base
    if base == "Identifier":  # DK-core 2.0.0 also declares these on Identifier.value
        return (isinstance(node, dict) and "system" in node and "value" in node) or (
            isinstance(node, str) and len(node) <= 16
        )
    return isinstance(node, str) and len(node) <= 40


@pytest.fixture(scope="module")
def example_nodes(examples_dir: Path, shared_dir: Path, definitions: Definitions) -> list[tuple[Any, Any, Any]]:
    """Every element of every official R4 and MedCom example (JSON and XML), de-duplicated."""
    from bindeled.fhir.xmlio import xml_to_resource

    resources = [load(path) for path in sorted(examples_dir.glob("*.json"))]
    for path in sorted((shared_dir / MEDCOM_EXAMPLES).rglob("*")):
        if path.suffix == ".json":
            resources.append(load(path))
        elif path.suffix in (".xml", ".txt") and path.parent.name not in ("legacy-oioxml", "ehmi-sbdh"):
            resources.append(xml_to_resource(path.read_bytes(), definitions))
    seen: set[str] = set()
    nodes = []
    for resource in resources:
        for node, res, root in _nodes(resource, resource, resource):
            key = json.dumps(
                [node, res.get("type"), [c.get("id") for c in root.get("contained", ())]], sort_keys=True, default=str
            )
            if key not in seen:
                seen.add(key)
                nodes.append((node, res, root))
    return nodes


@pytest.mark.parametrize("expression", EXPRESSIONS, ids=lambda e: e[:40])
def test_native_agrees_with_fhirpathpy_on_examples(expression: str, example_nodes: list[tuple[Any, Any, Any]]) -> None:
    decided = 0
    for node, resource, root in example_nodes:
        if not _applies(expression, node):
            continue
        fast, slow = _pair(expression, "Identifier.value" if isinstance(node, str) else _base(expression))
        if _agree(fast, slow, node, resource, root) is not None:
            decided += 1
    assert decided > 0  # the native form really ran on the examples


_NAMES = [
    "entry",
    "request",
    "response",
    "type",
    "fullUrl",
    "resource",
    "meta",
    "versionId",
    "reference",
    "contained",
    "id",
    "identifier",
    "name",
    "system",
    "value",
    "resourceType",
    "_fullUrl",
    "_reference",
    "_system",
    "_value",
    "_type",
    "maritalStatus",
    "coding",
    "code",
]
_TEXTS = st.sampled_from(
    [
        "batch",
        "history",
        "message",
        "document",
        "transaction",
        "#a",
        "#",
        "a",
        "Patient/1",
        "x/_history/1",
        "MessageHeader",
        "Organization",
        "Bundle",
        "5790000123452",
        "5790000123453",
        "12345678901",
        "0101011234",
        "urn:oid:1.2.208.176.1.1",
        "http://cvr.dk",
        "",
        "+45-1",
        "P",
        "A",
        "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus",
        "Provenance",
        "Patient",
        "Practitioner",
        "urn:oid:1.2.208.176.1.2",
        "OperationOutcome",
        "ok",
        "fatal-error",
    ]
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False, allow_infinity=False) | _TEXTS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(_NAMES), inner, max_size=4),
    max_leaves=12,
)


@pytest.mark.parametrize("expression", EXPRESSIONS, ids=lambda e: e[:40])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(node=_JSON, resource=st.dictionaries(st.sampled_from(_NAMES), _JSON, max_size=4))
def test_native_agrees_with_fhirpathpy_on_generated_json(expression: str, node: Any, resource: Any) -> None:
    fast, slow = _pair(expression, _base(expression))
    _agree(fast, slow, node, resource, resource)


def test_only_the_exact_text_is_native() -> None:
    assert native_check("(identifier.count() + name.count()) > 0") is not None
    assert native_check("(identifier.count() + name.count()) >= 1") is None
    assert native_check("fullUrl.contains('/_history/').not() ") is None
    assert native_check("matches('[unclosed')") is None
    assert native_check("entry.ofType(Provenance).all(resource.exists())") is not None
    assert native_check("entry.ofType(Provenance).all(resource.exists()) and true") is None
    assert native_check("entry.ofType(Provenance).all(resource.exists()) or entry.all(true)") is None
    assert native_check("entry.ofType(BackboneElement).all(resource.exists())") is None
