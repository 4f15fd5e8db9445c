"""Constraint expressions: evaluated with fhirpathpy, compiled once, short-cut soundly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fhirpathpy
import pytest
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models
from hypothesis import given, settings
from hypothesis import strategies as st

from bindeled.fhir.definitions import Definitions
from bindeled.fhir.validation import Validator
from bindeled.fhir.validation.invariants import _OPTIONS, _compile, always_raises, compile_invariant
from bindeled.fhir.validation.shortcuts import compile_shortcut, split_or
from bindeled.messaging.profiles import MESSAGE_TYPES, ValidatorPool

from .conftest import errors
from .golden_issues import medcom_documents


def test_resource_invariant(validator: Validator, patient: dict[str, Any]) -> None:
    patient["contact"][0] = {"gender": "female"}
    issues = validator.validate(patient)
    assert errors(issues) == [("invariant", "Patient.contact[0]")]
    assert issues[0].details_code == "pat-1"


def test_datatype_invariant_on_choice(validator: Validator, observation: dict[str, Any]) -> None:
    del observation["valueQuantity"]["system"]
    assert errors(validator.validate(observation)) == [("invariant", "Observation.valueQuantity")]


def test_period_order_is_evaluated_by_fhirpath(validator: Validator, patient: dict[str, Any]) -> None:
    patient["name"][0]["period"] = {"start": "2010-01-01", "end": "2000-01-01"}
    assert errors(validator.validate(patient)) == [("invariant", "Patient.name[0].period")]
    patient["name"][0]["period"] = {"start": "2000-01-01", "end": "2010-01-01"}
    assert errors(validator.validate(patient)) == []


def test_resource_level_invariant_with_resource_variable(validator: Validator, observation: dict[str, Any]) -> None:
    observation["dataAbsentReason"] = {"text": "lost"}
    assert errors(validator.validate(observation)) == [("invariant", "Observation")]


def test_warning_invariant_is_not_an_error(validator: Validator, patient: dict[str, Any]) -> None:
    del patient["text"]
    issues = validator.validate(patient)
    assert errors(issues) == []
    assert any(i.severity == "warning" and "dom-6" in i.diagnostics for i in issues)


ROLE_HAS_PRACTITIONER = {
    "key": "test-role-1",
    "severity": "error",
    "human": "every PractitionerRole names its Practitioner",
    "expression": "Bundle.entry.resource.ofType(PractitionerRole).practitioner.reference.exists()",
}


def _bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"urn:uuid:{i}", "resource": r} for i, r in enumerate(resources)],
    }


def test_expression_starting_with_the_resource_type() -> None:
    """``Bundle.entry…`` on a Bundle (MedCom's medcom-careCommunication-13): fhirpathpy drops a
    leading type name unless the resource goes in as plain JSON, which once made this fail."""
    inv = compile_invariant(ROLE_HAS_PRACTITIONER, "Bundle")
    assert inv is not None
    role = {"resourceType": "PractitionerRole", "practitioner": {"reference": "Practitioner/1"}}
    bundle = _bundle({"resourceType": "Practitioner", "id": "1"}, role)
    assert inv.holds(bundle, bundle, bundle)
    del role["practitioner"]
    assert not inv.holds(bundle, bundle, bundle)


def test_expression_starting_with_another_type_is_empty() -> None:
    inv = compile_invariant({**ROLE_HAS_PRACTITIONER, "expression": "Patient.id.exists()"}, "Bundle")
    assert inv is not None
    bundle = _bundle()
    assert not inv.holds(bundle, bundle, bundle)


def test_type_prefixed_invariant_through_a_profile(definitions: Definitions) -> None:
    url = "http://example.org/StructureDefinition/test-roles-bundle"
    profile = {
        "resourceType": "StructureDefinition",
        "url": url,
        "name": "TestRolesBundle",
        "status": "draft",
        "kind": "resource",
        "abstract": False,
        "type": "Bundle",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Bundle",
        "derivation": "constraint",
        "differential": {"element": [{"id": "Bundle", "path": "Bundle", "constraint": [ROLE_HAS_PRACTITIONER]}]},
    }
    v = Validator(definitions)
    v.add_structure_definitions([profile])
    role = {"resourceType": "PractitionerRole", "practitioner": {"reference": "urn:uuid:0"}}
    bundle = _bundle({"resourceType": "Practitioner", "name": [{"family": "Hansen"}]}, role)
    assert errors(v.validate(bundle, [url])) == []
    del role["practitioner"]
    issues = v.validate(bundle, [url])
    assert errors(issues) == [("invariant", "Bundle")]
    assert [i.details_code for i in issues if i.is_error] == ["test-role-1"]


def test_expressions_are_compiled_once() -> None:
    constraint = {"key": "x-1", "severity": "error", "human": "h", "expression": "a.exists() or b.exists()"}
    first = compile_invariant(constraint, "Patient")
    second = compile_invariant(dict(constraint, key="x-2"), "Patient")
    assert first is not None and second is not None
    assert first.run is second.run
    assert _compile.cache_info().hits >= 1


def test_native_and_skipped_invariants_are_not_compiled() -> None:
    for key in ("ele-1", "dom-3", "txt-1", "rng-2"):
        assert compile_invariant({"key": key, "expression": "true"}, "Element") is None


def test_split_or_respects_parentheses_and_strings() -> None:
    expr = "a.empty() or (b or c) or d.where(x = ' or ').exists()"
    assert split_or(expr) == ["a.empty()", "(b or c)", "d.where(x = ' or ').exists()"]
    assert compile_shortcut("a.exists() implies b.exists()") is None


_EXPRESSIONS = [
    "code.empty() or system.exists()",
    "start.hasValue().not() or end.hasValue().not() or (start <= end)",
    "reference.startsWith('#').not() or (reference.substring(1) in %rootResource.contained.id)",
    "value.empty() or code.exists()",
    "a.b.exists() or c.empty()",
    "name.exists() or telecom.exists() or address.exists()",
    "text.`div`.exists()",
    "start.hasValue().not() or end.hasValue().not()",
    "dataAbsentReason.empty() or value.empty()",
]
_names = st.sampled_from(
    ["code", "system", "start", "end", "_end", "reference", "valueString", "value", "a", "c", "name", "text",
     "dataAbsentReason", "telecom"]
)  # fmt: skip
_leaf = st.one_of(st.text(alphabet="#ab1", min_size=1, max_size=3), st.booleans())
_nodes = st.dictionaries(
    _names,
    st.one_of(_leaf, st.lists(_leaf, min_size=1, max_size=2), st.dictionaries(st.sampled_from(["b", "div"]), _leaf)),
    max_size=4,
)


@settings(deadline=None)  # fhirpathpy is slow to warm up; timing is not what this test checks
@given(_nodes, st.sampled_from(_EXPRESSIONS))
def test_shortcut_never_contradicts_fhirpath(node: dict[str, Any], expression: str) -> None:
    shortcut = compile_shortcut(expression)
    assert shortcut is not None
    known = shortcut(node)
    if known is None:
        return
    try:
        result = fhirpathpy.evaluate(node, expression, {"rootResource": {}}, models["r4"], _OPTIONS)
    except Exception:  # an engine error (e.g. a list where one value is expected) is not a contradiction
        return
    if known:
        assert result != [False]
    else:
        assert result == [False]


@pytest.mark.parametrize(
    ("expression", "raises"),
    [
        ("entry[0].resource.conformsTo('http://x')", True),
        ("entry.resource.ofType(MessageHeader).conformsTo('http://x')", True),
        ("Bundle.entry.resource.recipient.reference.resolve().managingOrganization.exists()", True),
        ("entry.ofType(Provenance).all(resource.conformsTo('http://x'))", False),  # all() over nothing
        ("iif(a.exists(), b.memberOf('http://x'), true)", False),  # a branch may never run
        ("a.conformsTo('http://x') or true", False),
        ("name.exists() and hasValue()", False),
    ],
)
def test_always_raises_only_on_a_lacking_function_in_the_main_chain(expression: str, raises: bool) -> None:
    assert always_raises(expression) is raises


def _medcom_constraints(shared_dir: Path, definitions: Definitions) -> Iterator[tuple[str, str]]:
    pool = ValidatorPool(definitions, shared_dir / "standards/fhir-packages")
    for kind in MESSAGE_TYPES:
        for sd in pool.for_type(kind)._sources.values():
            for element in (sd.get("snapshot") or {}).get("element", ()):
                for constraint in element.get("constraint", ()):
                    if isinstance(constraint.get("expression"), str):
                        yield constraint["expression"], str(element.get("path", ""))


def test_always_raising_invariants_do_raise(shared_dir: Path, definitions: Definitions) -> None:
    """Every MedCom / DK-core invariant judged unevaluable really makes fhirpathpy fail, on an empty
    element and on every official MedCom message."""
    bundles = [bundle for _, bundle in medcom_documents(shared_dir, definitions)]
    flagged = {(e, p) for e, p in _medcom_constraints(shared_dir, definitions) if always_raises(e)}
    assert len(flagged) >= 5
    for expression, path in flagged:
        run = _compile(expression)
        assert run is not None
        for node in ({}, *bundles):
            start = node if "resourceType" in node else ResourceNode.create_node(node, path)
            with pytest.raises(Exception, match="Not implemented"):
                run(start, {"resource": node, "rootResource": node})
