"""Value-level checks built once per element definition: required bindings, fixed and pattern
values, reference targets, invariants, extensions and narrative. Each builder returns a closure
``(value, path, ctx) -> None`` or ``None`` when the element needs no such check."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .invariants import CompiledInvariant
from .narrative import check_div
from .patterns import fixed_matches, pattern_matches, value_at_fixed
from .plan import Ctx
from .valuesets import Expansion, ValueSetExpander

__all__ = [
    "ValueCheck",
    "binding_check",
    "extension_value_check",
    "fixed_check",
    "invariant_check",
    "max_length_check",
    "narrative_check",
    "reference_check",
]

ValueCheck = Callable[[Any, str, Ctx], None]

_RELATIVE_REFERENCE = re.compile(r"([A-Z][A-Za-z]+)/[A-Za-z0-9\-.]{1,64}(?:/_history/[A-Za-z0-9\-.]{1,64})?")
_BOUND_TYPES = frozenset({"code", "Coding", "CodeableConcept", "Quantity", "string", "uri"})
_UNSET = object()


def _codings(type_code: str, value: Any) -> list[tuple[str, str]] | None:
    """The (system, code) pairs to test, or ``None`` when only the bare code matters."""
    if type_code == "CodeableConcept":
        coding = value.get("coding")
        items = coding if isinstance(coding, list) else ()
        return [pair for c in items if isinstance(c, dict) for pair in _pair(c)]
    if type_code in ("Coding", "Quantity"):
        return _pair(value)
    return None


def _pair(coding: dict[str, Any]) -> list[tuple[str, str]]:
    """The (system, code) of a Coding; wrongly typed members are the structure walk's to report."""
    system, code = coding.get("system", ""), coding.get("code")
    return [(system, code)] if isinstance(system, str) and isinstance(code, str) else []


def binding_check(element: dict[str, Any], type_code: str, expander: ValueSetExpander) -> ValueCheck | None:
    """Required bindings: the code must be in the (expandable) ValueSet."""
    binding = element.get("binding") or {}
    url = binding.get("valueSet")
    if binding.get("strength") != "required" or not isinstance(url, str) or type_code not in _BOUND_TYPES:
        return None
    url = url.split("|", 1)[0]
    cache: list[Any] = [_UNSET]

    def expansion() -> tuple[Expansion | None, frozenset[str]]:
        if cache[0] is _UNSET:
            codes = expander.expand(url)
            cache[0] = (codes, frozenset(c for _, c in codes) if codes is not None else frozenset())
        result: tuple[Expansion | None, frozenset[str]] = cache[0]
        return result

    def check(value: Any, path: str, ctx: Ctx) -> None:
        codes, bare = expansion()
        if codes is None:
            return
        pairs = _codings(type_code, value) if isinstance(value, dict) else None
        if pairs is None:
            if isinstance(value, str) and value not in bare:
                ctx.error("code-invalid", f"The code is not in the required value set {url}", path)
            return
        if pairs and not any(pair in codes for pair in pairs):
            ctx.error("code-invalid", f"No code is in the required value set {url}", path)

    return check


def fixed_check(element: dict[str, Any]) -> ValueCheck | None:
    """fixed[x] (exactly equal) and pattern[x] (contains the pattern)."""
    found = value_at_fixed(element)
    if found is None:
        return None
    how, expected = found
    matches = fixed_matches if how == "fixed" else pattern_matches
    text = f"The value does not match the {how} value required by the profile"

    def check(value: Any, path: str, ctx: Ctx) -> None:
        if not matches(expected, value):
            ctx.error("value", text, path)

    return check


def max_length_check(element: dict[str, Any]) -> ValueCheck | None:
    limit = element.get("maxLength")
    if not isinstance(limit, int):
        return None

    def check(value: Any, path: str, ctx: Ctx) -> None:
        if isinstance(value, str) and len(value) > limit:
            ctx.error("value", f"The value is longer than the maximum length {limit}", path)

    return check


def reference_check(targets: frozenset[str], resource_types: frozenset[str]) -> ValueCheck | None:
    """References must name an allowed resource type: relative literal references (``Patient/123``),
    references to contained resources (``#id``, by the contained resource's type) and
    ``Reference.type``.

    Absolute URLs may point at other servers or IGs whose path segments are not R4 type names, and
    conditional references (``Patient?identifier=…``) are resolved by the transaction, so neither is
    checked here.
    """
    if not targets or "Resource" in targets:
        return None
    allowed = ", ".join(sorted(targets))

    def target_kind(ref: Any, ctx: Ctx) -> str | None:
        if not isinstance(ref, str):
            return None
        if ref.startswith("#") and len(ref) > 1:
            contained = ctx.root.get("contained")
            for item in contained if isinstance(contained, list) else ():
                if isinstance(item, dict) and item.get("id") == ref[1:]:
                    return str(item.get("resourceType", ""))
            return None
        match = _RELATIVE_REFERENCE.fullmatch(ref)
        return match.group(1) if match else None

    def check(value: Any, path: str, ctx: Ctx) -> None:
        if not isinstance(value, dict):
            return
        for key in ("reference", "type"):
            kind = target_kind(value.get(key), ctx) if key == "reference" else value.get("type")
            if not isinstance(kind, str):
                continue
            if kind not in resource_types and "/" not in kind:
                ctx.error("invalid", "The reference does not name an R4 resource type", f"{path}.{key}")
            elif kind in resource_types and kind not in targets:
                ctx.error("invalid", f"A reference to {kind} is not allowed here (allowed: {allowed})", f"{path}.{key}")

    return check


_RAISED = "raised"


def invariant_check(invariants: list[CompiledInvariant]) -> ValueCheck | None:
    """Evaluate each constraint on the element; failures become ``invariant`` issues.

    fhirpathpy's verdicts are kept for the run (``ctx.memo``): the same invariant on the same node
    comes up again when a resource is walked by its base plan and by a profile. The verdict depends
    only on the expression, the type path it starts from, the node and %resource / %rootResource.
    """
    if not invariants:
        return None

    def check(value: Any, path: str, ctx: Ctx) -> None:
        for inv in invariants:
            verdict: bool | str | None = _RAISED if inv.raises else inv.decided(value, ctx.resource, ctx.root)
            if verdict is None:
                key = ("inv", inv.expression, inv.base, id(value), id(ctx.resource), id(ctx.root))
                verdict = ctx.memo.get(key)
                if verdict is None:
                    try:
                        verdict = inv.evaluate(value, ctx.resource, ctx.root)
                    except Exception:  # fhirpathpy raises bare Exceptions for functions it lacks
                        verdict = _RAISED
                    ctx.memo[key] = verdict
            if verdict is _RAISED:
                ctx.error("informational", f"Invariant {inv.key} could not be evaluated", path, "information")
            elif not verdict:
                ctx.error("invariant", f"Constraint failed: {inv.key}: {inv.human}", path, inv.severity, inv.key)

    return check


def extension_value_check(value: Any, path: str, ctx: Ctx) -> None:
    """ext-1: an extension has nested extensions or a value, not both and not neither."""
    has_value = any(k.startswith("value") for k in value)
    if has_value == ("extension" in value):
        ctx.error(
            "invariant",
            "Constraint failed: ext-1: Must have either extensions or value[x], not both",
            path,
            key="ext-1",
        )


def narrative_check(value: Any, path: str, ctx: Ctx) -> None:
    problem = check_div(value) if isinstance(value, str) else None
    if problem:
        ctx.error("value", problem, path)
