"""The compiled form a validation plan takes, and the context one validation run carries.

A plan is a tree of :class:`Node` objects (one per complex element definition) whose properties
hold ready-made closures; running it is a walk over the JSON with dictionary look-ups and calls,
with no definition interpreted at run time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ...errors import Issue

if TYPE_CHECKING:
    from .slicing import Slicing

__all__ = ["Ctx", "ItemCheck", "Node", "Prop", "ResourceHook", "Rule"]


class ResourceHook(Protocol):
    """What the walk needs from the validator: nested resources and profile conformance."""

    def nested_resource(self, resource: Any, path: str, ctx: Ctx, profiles: tuple[str, ...], contained: bool) -> None:
        """Validate a resource inside another (contained, Bundle entry, Parameters resource)."""

    def conforms(self, value: Any, profile: str, type_code: str, ctx: Ctx) -> bool:
        """Whether ``value`` has no errors against ``profile`` (for profile discriminators)."""


@dataclass(slots=True)
class Ctx:
    """One validation run: the issues found so far and the resource being walked."""

    issues: list[Issue]
    resource: dict[str, Any]
    """The resource being walked (``%resource``)."""
    root: dict[str, Any]
    """The outermost resource (``%rootResource``): the container of contained resources."""
    hook: ResourceHook
    bundle: dict[str, Any] | None = None
    """The Bundle whose entries references may resolve to (``resolve()`` discriminators)."""
    probing: frozenset[tuple[int, str]] = frozenset()
    """(resource identity, profile) pairs whose conformance is being probed further out, so a
    cycle of references between resolved resources is assumed to conform instead of recursing."""
    memo: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    """Results already computed in this validation run, shared by every context of the run: a
    Bundle entry is reached by the Bundle's base plan and again by its profile, and a profile may
    be both asked for and claimed, so plans and invariants would otherwise run twice on the same
    JSON (keys hold object identities; the document outlives the run)."""

    def error(self, code: str, text: str, path: str, severity: str = "error", key: str | None = None) -> None:
        """Record an issue; ``key`` (an invariant key such as ``pat-1``) goes to ``details_code``."""
        self.issues.append(Issue(severity, code, text, (path,), key))


ItemCheck = Callable[[Any, Any, str, Ctx], None]
"""Checks one repetition: (JSON value or None, primitive extension object or None, path, ctx)."""


@dataclass(slots=True, eq=False)
class Rule:  # eq=False: rules are hashed by identity in the walk
    """One child element definition: its names and cardinality."""

    name: str
    min: int
    max: int | None
    is_array: bool
    primitive: bool
    is_choice: bool = False
    slicing: Slicing | None = None


@dataclass(slots=True, eq=False)
class Prop:
    """One JSON property name of an object, the rule it belongs to and how to check its items."""

    rule: Rule
    type_code: str
    check: ItemCheck


@dataclass(slots=True, eq=False)
class Node:
    """The plan for a complex element: its JSON properties and object-level checks."""

    props: dict[str, Prop] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)
    required: list[Rule] = field(default_factory=list)
    """The rules with a minimum cardinality above zero (checked when absent)."""
    checks: list[Callable[[dict[str, Any], str, Ctx], None]] = field(default_factory=list)
