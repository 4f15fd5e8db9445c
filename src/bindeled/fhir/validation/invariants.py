"""Constraint (invariant) expressions of element definitions, compiled once with fhirpathpy.

Every expression is parsed once per process (:func:`compile_invariant` is cached by expression
text) and run against the element it is declared on, with ``%resource`` / ``%rootResource`` bound.
fhirpathpy costs 0.1–5 ms a call, so the most frequent expressions are first tried through their
native forms (:mod:`.native`, chosen by exact expression text) and common invariant shapes through
the sound short-cuts of :mod:`.shortcuts`; only undecided cases reach the engine, whose verdict is
kept for the rest of the validation run (``checks.invariant_check``). Expressions that call a
function fhirpathpy lacks on their main chain fail on every input (:func:`always_raises`) and are
reported as unevaluable without running the engine.

Some invariants are not evaluated through FHIRPath:

* :data:`NATIVE` — checked by our own code because it is cheaper and exact (they hold on nearly
  every element, or need functions fhirpathpy lacks);
* :data:`SKIPPED` — known to be wrong or unevaluable in R4 tooling, each with its reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import fhirpathpy
from fhirpathpy.engine.invocations import invocation_registry
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models
from fhirpathpy.parser import parse

from .native import NativeCheck, native_check
from .shortcuts import Shortcut, compile_shortcut

__all__ = ["NATIVE", "SKIPPED", "CompiledInvariant", "Unevaluable", "always_raises", "compile_invariant"]

_log = logging.getLogger(__name__)

NATIVE: dict[str, str] = {
    "ele-1": "every element has a value or children: checked in the structure walk (cheap, on every element)",
    "ext-1": "an extension has either nested extensions or a value: checked in the structure walk",
    "dom-2": "no nested contained resources: checked when contained resources are validated",
    "dom-3": "contained resources are referenced: checked natively (the FHIRPath form scans every descendant)",
    "dom-4": "no meta.versionId / meta.lastUpdated on contained resources: checked natively",
    "dom-5": "no meta.security on contained resources: checked natively",
    "txt-1": "uses htmlChecks(), which fhirpathpy lacks: see narrative.check_div",
    "txt-2": "uses htmlChecks(), which fhirpathpy lacks: see narrative.check_div",
}
"""Invariants checked by our own code instead of FHIRPath, with where and why."""

SKIPPED: dict[str, str] = {
    "rng-2": "compares two Quantity values with <=, which fhirpathpy cannot do (it raises TypeError on the "
    "JSON objects); low/high comparison needs UCUM-aware Quantity comparison",
    "ctm-1": "needs resolve() on CareTeam.participant.member, which a single-resource validation cannot do",
}
"""Known-bad or unevaluable R4 invariants, never evaluated, each with the reason."""

_MODEL = models["r4"]


def _has_value(inputs: list[Any]) -> list[bool]:
    return [len(inputs) == 1 and inputs[0] is not None and not isinstance(inputs[0], dict | list)]


_OPTIONS: dict[str, Any] = {
    "userInvocationTable": {"hasValue": {"fn": _has_value, "arity": {0: []}}},
    "traceFn": lambda *args: None,
}


@dataclass(frozen=True, slots=True)
class CompiledInvariant:
    """One constraint ready to run: it holds on ``node`` unless the result is ``false``."""

    key: str
    severity: str
    human: str
    expression: str
    base: str
    """The type path the expression is written against (``Patient.contact``, ``Quantity``)."""
    run: Callable[[Any, dict[str, Any]], list[Any]]
    shortcut: Shortcut | None = None
    native: NativeCheck | None = None
    raises: bool = False
    """fhirpathpy fails on every input (:func:`always_raises`), so it is not run at all."""

    def holds(self, node: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool:
        """Evaluate on ``node``; raises whatever fhirpathpy raises on an unevaluable expression
        (:class:`Unevaluable` when it is known to fail without running it)."""
        if self.raises:
            raise Unevaluable(self.key)
        known = self.decided(node, resource, root)
        return self.evaluate(node, resource, root) if known is None else known

    def decided(self, node: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool | None:
        """The verdict of the native form or short-cut, when one is certain (cheap)."""
        if self.native is not None:
            decided = self.native(node, resource, root)
            if decided is not None:
                return decided
        if self.shortcut is not None:
            return self.shortcut(node)
        return None

    def evaluate(self, node: Any, resource: dict[str, Any], root: dict[str, Any]) -> bool:
        """The verdict of fhirpathpy (costly); raises whatever fhirpathpy raises."""
        variables = {"resource": resource, "rootResource": root}
        # A resource goes in as plain JSON: fhirpathpy recognises a leading type name
        # (``Bundle.entry…``) only on raw objects and yields nothing for a ResourceNode, which made
        # every invariant written from its resource type vacuous or wrongly false. A raw resource
        # gets its type from ``resourceType``; other elements need the node to carry their path.
        start: Any = node
        if not (isinstance(node, dict) and "resourceType" in node):
            start = ResourceNode.create_node(node, self.base)  # type: ignore[no-untyped-call]
        result = self.run(start, variables)
        return not (len(result) == 1 and result[0] is False)


class Unevaluable(Exception):
    """An invariant fhirpathpy cannot evaluate on any input."""


_KNOWN_FUNCTIONS = frozenset(invocation_registry) | frozenset(_OPTIONS["userInvocationTable"])
_EAGER = frozenset({"InvocationExpression", "IndexerExpression", "TermExpression", "InvocationTerm"})


@cache
def always_raises(expression: str) -> bool:
    """Whether fhirpathpy fails on every input: a function it lacks (``conformsTo``, ``resolve``,
    ``memberOf`` …) is called on the expression's main invocation chain.

    fhirpathpy evaluates every step of a chain (``a.b(…).c``) and every part of an indexer, even on
    an empty collection, and looks a function up before it looks at its input, so such a call is
    always reached and always raises. Calls inside function arguments (``all(…)``, ``iif(…)``)
    or operator operands may never run and are not counted.
    """
    try:
        tree: dict[str, Any] = parse(expression)  # type: ignore[no-untyped-call]
    except Exception:  # fhirpathpy's parser raises bare Exceptions
        return False
    pending = list(tree.get("children", ())[:1])
    while pending:
        node = pending.pop()
        kind = node.get("type")
        if kind == "FunctionInvocation":
            functn = node["children"][0]
            if functn["children"][0].get("text") not in _KNOWN_FUNCTIONS:
                return True
        elif kind in _EAGER:
            pending.extend(node.get("children", ()))
    return False


@cache
def _compile(expression: str) -> Callable[[Any, dict[str, Any]], list[Any]] | None:
    try:
        compiled: Callable[[Any, dict[str, Any]], list[Any]] = fhirpathpy.compile(expression, _MODEL, _OPTIONS)
    except Exception:  # fhirpathpy raises bare Exceptions on syntax it does not support
        _log.info("FHIRPath expression not supported by fhirpathpy; invariant not evaluated")
        return None
    return compiled


def compile_invariant(constraint: dict[str, Any], base: str, *, fast: bool = True) -> CompiledInvariant | None:
    """Compile one ElementDefinition.constraint, or ``None`` if it is native, skipped or unsupported.

    ``fast=False`` leaves out the native forms and short-cuts (fhirpathpy only: the baseline of
    ``bench/validation.py`` and the reference the equivalence tests compare against).
    """
    key = str(constraint.get("key", ""))
    expression = constraint.get("expression")
    if key in NATIVE or key in SKIPPED or not isinstance(expression, str):
        return None
    run = _compile(expression)
    if run is None:
        return None
    return CompiledInvariant(
        key=key,
        severity="warning" if constraint.get("severity") == "warning" else "error",
        human=str(constraint.get("human", key)),
        expression=expression,
        base=base,
        run=run,
        shortcut=compile_shortcut(expression) if fast else None,
        native=native_check(expression) if fast else None,
        raises=always_raises(expression) if fast else False,
    )
