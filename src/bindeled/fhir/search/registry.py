"""Search parameters by resource type, each with its compiled extractor; custom ones registered at run time.

The registry is built once from the official R4 definitions (every SearchParameter of the
package) and extended with :meth:`SearchRegistry.register`. It is what both the indexer (write
side) and the query parser (read side) consult, so both agree on what a parameter means.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...errors import BindeledError, Unprocessable
from ..definitions import Definitions
from ._paths import Extractor, Node, compile_expression, compile_relative
from .convert import to_values
from .values import CompositeValue, IndexValue, TokenValue

__all__ = ["MAX_COMBINATIONS", "PARAM_TYPES", "Component", "SearchParam", "SearchRegistry", "registry_for"]

MAX_COMBINATIONS = 64
"""At most this many component combinations are indexed per element of a composite parameter."""

_CODE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*\Z")

PARAM_TYPES = frozenset({"number", "date", "string", "token", "reference", "composite", "quantity", "uri", "special"})


@dataclass(frozen=True, slots=True)
class Component:
    """One part of a composite parameter: the parameter it takes its type from, and where to look."""

    definition: str
    expression: str
    type: str
    param: SearchParam = field(compare=False, repr=False)
    """The component's own parameter (how its part of a query value is parsed)."""
    extract: Callable[[Node], list[Node]] = field(compare=False, repr=False)
    compiled: bool = True


@dataclass(frozen=True, slots=True)
class SearchParam:
    """A search parameter, compiled for use."""

    code: str
    type: str
    url: str
    base: tuple[str, ...]
    expression: str
    targets: tuple[str, ...] = ()
    """For reference parameters: the resource types it may point to."""
    components: tuple[Component, ...] = ()
    compiled: bool = True
    """False when the expression runs on the general FHIRPath engine (slower)."""
    extractor: Extractor | None = field(default=None, compare=False, repr=False)

    def nodes(self, resource: dict[str, Any]) -> list[Node]:
        return self.extractor(resource) if self.extractor else []

    def values(self, resource: dict[str, Any]) -> list[IndexValue]:
        """The index values of this parameter in a resource (none for composite/special)."""
        return to_values(self.type, self.nodes(resource))


def _with_system(values: list[IndexValue], system: str) -> list[IndexValue]:
    return [
        TokenValue(system, v.code, v.text, v.type_system, v.type_code)
        if isinstance(v, TokenValue) and v.system is None
        else v
        for v in values
    ]


class SearchRegistry:
    """Every search parameter the server knows, by resource type and code."""

    def __init__(self, definitions: Definitions) -> None:
        self.definitions = definitions
        self._by_base: dict[str, dict[str, SearchParam]] = {}
        self._by_url: dict[str, SearchParam] = {}
        self._lock = threading.RLock()
        self._official: list[SearchParam] = []
        self._custom: dict[str, SearchParam] = {}
        """Run-time registrations by key (the stored resource's ``SearchParameter/id``, or the url)."""
        self._cache: dict[str, dict[str, SearchParam]] = {}
        self._systems: dict[str, str | None] = {}
        self._indexed_cache: dict[str, list[tuple[str, SearchParam, Extractor]]] = {}
        resources = [sp for sp in definitions.search_parameters if sp.get("type") != "composite"]
        composites = [sp for sp in definitions.search_parameters if sp.get("type") == "composite"]
        for sp in resources + composites:
            param = self._compile(sp)
            self._official.append(param)
            self._add(param)

    def _compile(self, sp: dict[str, Any]) -> SearchParam:
        kind = sp.get("type")
        if kind not in PARAM_TYPES:
            raise Unprocessable("SearchParameter.type is missing or unknown", location=("SearchParameter.type",))
        expression = sp.get("expression") or ""
        extractor, compiled = compile_expression(expression, self.definitions) if expression else (None, True)
        components = tuple(self._component(c) for c in sp.get("component", ()))
        return SearchParam(
            code=sp["code"],
            type=kind,
            url=sp.get("url", ""),
            base=tuple(sp.get("base", ())),
            expression=expression,
            targets=tuple(sp.get("target", ())),
            components=components,
            compiled=compiled and all(c.compiled for c in components),
            extractor=extractor,
        )

    def _component(self, c: dict[str, Any]) -> Component:
        target = self._by_url.get(c.get("definition", ""))
        if target is None:
            raise Unprocessable("A composite component refers to an unknown SearchParameter")
        extract, compiled = compile_relative(c["expression"], self.definitions)
        return Component(c["definition"], c["expression"], target.type, target, extract, compiled)

    def _add(self, param: SearchParam) -> None:
        with self._lock:
            for base in param.base:
                self._by_base.setdefault(base, {})[param.code] = param
            if param.url:
                self._by_url[param.url] = param
            self._cache.clear()
            self._indexed_cache.clear()

    def register(self, search_parameter: dict[str, Any], *, key: str | None = None) -> SearchParam:
        """Add (or replace) a custom SearchParameter resource; resources written afterwards are indexed.

        ``key`` names the registration (default: the url) so that :meth:`unregister` can take it back
        when the stored resource is deleted or retired; registering a key again replaces the old one.
        """
        param = self.compile_custom(search_parameter)
        with self._lock:
            name = key or param.url or f"{param.base}:{param.code}"
            self._custom.pop(name, None)
            self._custom[name] = param
            self._rebuild()
        return param

    def unregister(self, key: str) -> bool:
        """Take back the registration ``key``; an official parameter it shadowed is restored."""
        with self._lock:
            if self._custom.pop(key, None) is None:
                return False
            self._rebuild()
            return True

    def restore(self, key: str, param: SearchParam | None) -> None:
        """Put the registration ``key`` back as it was (None: not registered), e.g. after a rollback."""
        with self._lock:
            if param is None:
                if self._custom.pop(key, None) is None:
                    return
            else:
                self._custom[key] = param
            self._rebuild()

    def custom(self) -> dict[str, SearchParam]:
        """The run-time registrations, by key."""
        with self._lock:
            return dict(self._custom)

    def _rebuild(self) -> None:
        """Official parameters first, then the custom ones in registration order (later ones win)."""
        by_base: dict[str, dict[str, SearchParam]] = {}
        by_url: dict[str, SearchParam] = {}
        for param in [*self._official, *self._custom.values()]:
            for base in param.base:
                by_base.setdefault(base, {})[param.code] = param
            if param.url:
                by_url[param.url] = param
        # Swapped in whole, so a reader on another thread never sees a half-built map.
        self._by_base, self._by_url, self._cache, self._indexed_cache = by_base, by_url, {}, {}

    def compile_custom(self, search_parameter: dict[str, Any]) -> SearchParam:
        """Check and compile a SearchParameter resource without registering it (400/422 on errors)."""
        if search_parameter.get("resourceType") != "SearchParameter":
            raise Unprocessable("Not a SearchParameter", location=("resourceType",))
        code = search_parameter.get("code")
        if not isinstance(code, str) or not _CODE.match(code):
            raise Unprocessable(
                "SearchParameter.code is required and may hold only letters, digits, '-' and '_'",
                location=("SearchParameter.code",),
            )
        bases = search_parameter.get("base") or ()
        unknown = [b for b in bases if b != "Resource" and not self.definitions.is_resource_type(b)]
        if not bases or unknown:
            raise Unprocessable("SearchParameter.base must name resource types", location=("SearchParameter.base",))
        if search_parameter.get("type") != "special" and not search_parameter.get("expression"):
            raise Unprocessable("SearchParameter.expression is required", location=("SearchParameter.expression",))
        try:
            param = self._compile(search_parameter)
            # A trial run on an empty resource of each base: an expression that fails there would
            # fail every later write of that type, so it is refused now instead.
            for base in bases:
                self.values(param, {"resourceType": "Patient" if base == "Resource" else base})
        except BindeledError:
            raise
        except Exception as exc:  # the FHIRPath engine's own errors: the expression is what is wrong
            raise Unprocessable(
                "SearchParameter.expression cannot be evaluated", location=("SearchParameter.expression",)
            ) from exc
        return param

    def params(self, resource_type: str) -> dict[str, SearchParam]:
        """The parameters that apply to a resource type (its own and Resource/DomainResource ones)."""
        cache, by_base = self._cache, self._by_base
        found = cache.get(resource_type)
        if found is not None:
            return found
        merged: dict[str, SearchParam] = {}
        for base in ("Resource", "DomainResource", resource_type):
            if base == "DomainResource" and resource_type in ("Bundle", "Parameters", "Binary"):
                continue
            merged.update(by_base.get(base, {}))
        cache[resource_type] = merged
        return merged

    def get(self, resource_type: str, code: str) -> SearchParam | None:
        return self.params(resource_type).get(code)

    def by_url(self, url: str) -> SearchParam | None:
        return self._by_url.get(url)

    def values(self, param: SearchParam, resource: dict[str, Any]) -> list[IndexValue]:
        """A parameter's values in a resource; ``code`` elements get their code system, where implied."""
        nodes = param.nodes(resource)
        if param.type == "composite":
            return self._composites(param, nodes)
        return self._node_values(param.type, nodes)

    def _node_values(self, kind: str, nodes: list[Node]) -> list[IndexValue]:
        if kind != "token":
            return to_values(kind, nodes)
        out: list[IndexValue] = []
        for node in nodes:
            found = to_values("token", [node])
            system = self.implied_system(node.path) if node.type == "code" and node.path else None
            out += _with_system(found, system) if system else found
        return list(dict.fromkeys(out))

    def _composites(self, param: SearchParam, nodes: list[Node]) -> list[IndexValue]:
        """Per node the expression selects, every combination of its components' values."""
        out: list[IndexValue] = []
        for node in nodes:
            per_component = [self._node_values(c.type, c.extract(node)) for c in param.components]
            combos = list(itertools.islice(itertools.product(*per_component), MAX_COMBINATIONS))
            out += [CompositeValue(tuple(v for v in combo if not isinstance(v, CompositeValue))) for combo in combos]
        return list(dict.fromkeys(out))

    def implied_system(self, path: str) -> str | None:
        """The one code system a ``code`` element's required binding draws from (e.g. gender)."""
        if path in self._systems:
            return self._systems[path]
        system = None
        try:
            info = self.definitions.element(path)
        except KeyError:
            info = None
        if info is not None and info.binding_strength == "required" and info.binding_value_set:
            vs = self.definitions.value_sets.get(info.binding_value_set) or {}
            systems = {inc.get("system") for inc in (vs.get("compose") or {}).get("include", ())}
            if len(systems) == 1 and None not in systems:
                system = systems.pop()
        self._systems[path] = system
        return system

    def indexed(self, resource_type: str) -> list[tuple[str, SearchParam, Extractor]]:
        """The parameters of a type that have index values (not ``special``, no component-less composites)."""
        cache = self._indexed_cache
        found = cache.get(resource_type)
        if found is None:
            found = [
                (code, param, param.extractor)
                for code, param in self.params(resource_type).items()
                if param.type != "special" and param.extractor is not None
                and (param.type != "composite" or param.components)
            ]  # fmt: skip
            cache[resource_type] = found
        return found

    def index(self, resource_type: str, resource: dict[str, Any]) -> dict[str, tuple[SearchParam, list[IndexValue]]]:
        """Every parameter's values in a resource, by code; empty ones left out.

        The same values as :meth:`values` per parameter, but a parameter whose expression selects nothing
        (most of them, for any one resource) costs only the extraction: this is the bulk-load hot path.
        """
        out: dict[str, tuple[SearchParam, list[IndexValue]]] = {}
        for code, param, extract in self.indexed(resource_type):
            nodes = extract(resource)
            if not nodes:
                continue
            kind = param.type
            values = self._composites(param, nodes) if kind == "composite" else self._node_values(kind, nodes)
            if values:
                out[code] = (param, values)
        return out


_registries: dict[int, SearchRegistry] = {}
_registries_lock = threading.Lock()


def registry_for(definitions: Definitions | SearchRegistry) -> SearchRegistry:
    """The shared registry for a set of definitions (built once), or the registry itself."""
    if isinstance(definitions, SearchRegistry):
        return definitions
    with _registries_lock:
        found = _registries.get(id(definitions))
        if found is None:
            found = _registries[id(definitions)] = SearchRegistry(definitions)
        return found
