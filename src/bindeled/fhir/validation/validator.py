"""The public validator: R4 base definitions plus any profiles, compiled once, run many times."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import msgspec

from ...errors import Issue
from ..definitions import Definitions
from .compile import Compiler
from .contained import check_contained_rules
from .plan import Ctx
from .snapshot import SnapshotError, generate_snapshot
from .valuesets import ValueSetExpander
from .walk import walk_object

__all__ = ["Validator"]

_log = logging.getLogger(__name__)

_DOMAIN_RESOURCE_EXEMPT = frozenset({"Bundle", "Parameters", "Binary"})


class Validator:
    """Validates FHIR R4 resources (JSON trees) against the base definitions and profiles."""

    def __init__(self, definitions: Definitions, *, fast_invariants: bool = True) -> None:
        """``fast_invariants=False`` evaluates every invariant with fhirpathpy (a benchmark baseline)."""
        self.definitions = definitions
        self._fast = fast_invariants
        self._sources: dict[str, dict[str, Any]] = dict(definitions.structure_definitions)
        self._expander = ValueSetExpander(dict(definitions.value_sets), dict(definitions.code_systems))
        self._compiler = Compiler(definitions, self._sources, self._expander, fast_invariants=fast_invariants)
        self._lock = threading.Lock()

    # -- loading --------------------------------------------------------------------------------

    def add_structure_definitions(self, sds: Iterable[dict[str, Any]]) -> None:
        """Register profiles and extension definitions; differential-only ones get a snapshot.

        Raises :class:`SnapshotError` when a differential cannot be applied (its base is unknown);
        the definitions registered before it stay registered.
        """
        self._register(sds, strict=True)

    def _register(self, sds: Iterable[dict[str, Any]], *, strict: bool) -> None:
        pending = [sd for sd in sds if sd.get("resourceType") == "StructureDefinition" and sd.get("url")]
        with self._lock:
            try:
                for sd in pending:
                    self._sources[sd["url"]] = sd
                for sd in pending:
                    if "snapshot" not in sd:
                        self._add_snapshot(sd, strict=strict)
            finally:
                self._compiler = Compiler(self.definitions, self._sources, self._expander, fast_invariants=self._fast)

    def _add_snapshot(self, sd: dict[str, Any], *, strict: bool) -> None:
        try:
            self._sources[sd["url"]] = generate_snapshot(sd, self._sources, self.definitions)
        except SnapshotError:
            del self._sources[sd["url"]]
            if strict:
                raise
            _log.warning("StructureDefinition %s skipped: its snapshot cannot be built", sd["url"])

    def add_package(self, folder: Path) -> None:
        """Load every StructureDefinition, ValueSet and CodeSystem JSON file of a FHIR package folder.

        Differential-only definitions whose base is missing (a dependency not loaded) are skipped
        with a logged warning; resources claiming them then get the "unknown profile" warning.
        """
        sds: list[dict[str, Any]] = []
        for path in sorted(folder.glob("*.json")):
            if path.name in ("package.json", ".index.json"):
                continue
            try:
                resource = msgspec.json.decode(path.read_bytes())
            except msgspec.DecodeError:
                continue
            kind = resource.get("resourceType") if isinstance(resource, dict) else None
            if kind == "StructureDefinition":
                sds.append(resource)
            elif kind in ("ValueSet", "CodeSystem"):
                self._expander.add(resource)
        self._register(sds, strict=False)

    # -- validating -----------------------------------------------------------------------------

    def validate(self, resource: dict[str, Any], profiles: Sequence[str] = ()) -> list[Issue]:
        """All issues found in ``resource``, checked against R4 and the given and claimed profiles.

        Any JSON value is accepted: wrongly typed JSON gives issues with their locations, never an
        exception.
        """
        if not isinstance(resource, dict):
            return [Issue("error", "structure", "A resource must be a JSON object", ("$this",))]
        kind = resource.get("resourceType")
        ctx = Ctx([], resource, resource, self, resource if kind == "Bundle" else None)
        if not isinstance(kind, str) or not self.definitions.is_resource_type(kind):
            ctx.error("structure", "Unknown or missing resourceType", "resourceType")
            return ctx.issues
        self._validate_resource(resource, kind, ctx, tuple(profiles), contained=False)
        return _unique(ctx.issues)

    def _validate_resource(
        self, resource: dict[str, Any], path: str, ctx: Ctx, profiles: tuple[str, ...], *, contained: bool
    ) -> None:
        kind = str(resource["resourceType"])
        self._run_plan(resource, kind, path, ctx)
        if kind not in _DOMAIN_RESOURCE_EXEMPT:
            check_contained_rules(resource, path, ctx)
        meta = resource.get("meta")
        claimed = meta.get("profile") if isinstance(meta, dict) else None
        claimed = claimed if isinstance(claimed, list) else []  # a wrong type is reported by the walk
        checked: set[str] = set()  # a profile both asked for and claimed is walked once: same issues
        for url in (*profiles, *(p for p in claimed if isinstance(p, str))):
            canonical = url.split("|", 1)[0]
            if canonical not in checked:
                self._run_profile(resource, kind, url, path, ctx, explicit=url in profiles)
                if canonical in self._sources:
                    checked.add(canonical)

    def _run_plan(self, value: dict[str, Any], type_or_url: str, path: str, ctx: Ctx) -> bool:
        """Walk one plan over ``value``; a plan already walked over the same object at the same
        place and in the same context in this run gives its recorded issues again instead."""
        key = ("plan", id(value), type_or_url, path, id(ctx.resource), id(ctx.root), id(ctx.bundle), ctx.probing)
        done: list[Issue] | None = ctx.memo.get(key)
        if done is not None:
            ctx.issues.extend(done)
            return True
        plan = self._compiler.root(type_or_url)
        if plan is None:
            return False
        node, root_checks = plan
        start = len(ctx.issues)
        walk_object(value, node, path, ctx)
        for check in root_checks:
            check(value, path, ctx)
        ctx.memo[key] = ctx.issues[start:]
        return True

    def _run_profile(
        self, resource: dict[str, Any], kind: str, url: str, path: str, ctx: Ctx, *, explicit: bool
    ) -> None:
        canonical = url.split("|", 1)[0]
        sd = self._sources.get(canonical)
        if sd is None or self._compiler.tree(canonical) is None:
            severity = "error" if explicit else "warning"
            ctx.error(
                "not-supported",
                f"Profile {canonical} is not known; the resource was not checked against it",
                path,
                severity,
            )
            return
        if sd.get("type") != kind:
            ctx.error("invalid", f"Profile {canonical} is for {sd.get('type')}, not {kind}", path)
            return
        self._run_plan(resource, canonical, path, ctx)

    # -- the ResourceHook protocol (called by the plan's closures) --------------------

    def nested_resource(self, resource: Any, path: str, ctx: Ctx, profiles: tuple[str, ...], contained: bool) -> None:
        kind = resource.get("resourceType")
        if not isinstance(kind, str) or not self.definitions.is_resource_type(kind):
            ctx.error("structure", "Unknown or missing resourceType", path)
            return
        bundle = ctx.bundle
        if not contained and ctx.resource.get("resourceType") == "Bundle":
            bundle = ctx.resource  # an entry: references may resolve to the other entries
        root = ctx.root if contained else resource
        inner = Ctx(ctx.issues, resource, root, self, bundle, ctx.probing, ctx.memo)
        self._validate_resource(resource, path, inner, profiles, contained=contained)

    def conforms(self, value: Any, profile: str, type_code: str, ctx: Ctx) -> bool:
        if not isinstance(value, dict):
            return False
        key = (id(value), profile)
        if key in ctx.probing:
            return True  # a cycle of resolved references: assume conformance rather than recurse
        tree = self._compiler.tree(profile)
        if tree is None or (type_code and tree.type != type_code):
            return False  # a resource conforms only to profiles of its own type
        resource, root = ctx.resource, ctx.root
        if type_code:  # a resource: its own %resource, and its own root unless it is contained
            resource, root = value, (ctx.root if _is_contained(ctx.root, value) else value)
        probe = Ctx([], resource, root, self, ctx.bundle, ctx.probing | {key}, ctx.memo)
        if not self._run_plan(value, profile.split("|", 1)[0], "$this", probe):
            return False
        return not any(issue.is_error for issue in probe.issues)


def _is_contained(container: dict[str, Any], value: dict[str, Any]) -> bool:
    contained = container.get("contained")
    return isinstance(contained, list) and any(item is value for item in contained)


def _unique(issues: list[Issue]) -> list[Issue]:
    return list(dict.fromkeys(issues))
