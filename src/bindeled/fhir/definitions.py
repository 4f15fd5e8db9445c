"""The official FHIR R4 (4.0.1) definitions, loaded from a FHIR package.

Resource types, element definitions, search parameters, compartments, value sets and code systems
all come from HL7's own package ``hl7.fhir.r4.examples#4.0.1`` (npm package format), never from a
hand-kept list. Two folder layouts are read:

* the package layout (``Bundle-resources.json``, ``Bundle-types.json``, ``Bundle-searchParams.json``,
  ``Bundle-valuesets.json``, …) as found in ``~/.fhir/packages/<name>#<version>/package``;
* the spec-download layout (``profiles-resources.json``, ``profiles-types.json``,
  ``search-parameters.json``, ``valuesets.json``, ``extension-definitions.json``), each optionally
  gzipped.

Loading takes about a second, so :func:`load_definitions` caches one instance per folder.
Element information is computed lazily per type and cached too.
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import msgspec

__all__ = [
    "PACKAGE_NAME",
    "PACKAGE_VERSION",
    "Definitions",
    "DefinitionsNotFound",
    "ElementInfo",
    "TypeRef",
    "find_definitions_dir",
    "load_definitions",
]

PACKAGE_NAME = "hl7.fhir.r4.examples"
PACKAGE_VERSION = "4.0.1"

_FHIR_TYPE_EXT = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
_REGEX_EXT = "http://hl7.org/fhir/StructureDefinition/regex"

# (package layout name, spec layout name) for each bundle we read.
_SOURCES: dict[str, tuple[str, ...]] = {
    "resources": ("Bundle-resources.json", "profiles-resources.json"),
    "types": ("Bundle-types.json", "profiles-types.json"),
    "search": ("Bundle-searchParams.json", "search-parameters.json"),
    "valuesets": ("Bundle-valuesets.json", "valuesets.json"),
    "v2": ("Bundle-v2-valuesets.json", "v2-tables.json"),
    "v3": ("Bundle-v3-valuesets.json", "v3-codesystems.json"),
    "extensions": ("Bundle-extensions.json", "extension-definitions.json"),
    "others": ("Bundle-profiles-others.json", "profiles-others.json"),
}
_REQUIRED = ("resources", "types", "search", "valuesets")


class DefinitionsNotFound(RuntimeError):
    """The R4 definitions package is not where the settings say."""


@dataclass(frozen=True, slots=True)
class TypeRef:
    """One allowed type of an element, with its allowed target / type profiles."""

    code: str
    target_profiles: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()

    @property
    def target_types(self) -> tuple[str, ...]:
        """Resource type names a Reference / canonical may point to ('Resource' means any)."""
        return tuple(p.rsplit("/", 1)[-1] for p in self.target_profiles)


@dataclass(frozen=True, slots=True)
class ElementInfo:
    """What the definitions say about one element path (e.g. ``Patient.name.given``)."""

    path: str
    name: str
    """The JSON property name; for choice elements the stem without ``[x]`` (e.g. ``value``)."""
    min: int
    max: str
    types: tuple[TypeRef, ...]
    is_choice: bool
    content_reference: str | None
    """For elements defined by reference (``#Questionnaire.item``): the path whose children apply."""
    binding_strength: str | None
    binding_value_set: str | None
    constraints: tuple[dict[str, Any], ...]
    is_modifier: bool
    is_summary: bool
    regex: str | None = None
    max_length: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_array(self) -> bool:
        return self.max not in {"1", "0"}

    def json_names(self) -> Iterator[tuple[str, TypeRef]]:
        """The JSON property names this element can appear under, with the type each implies."""
        if self.is_choice:
            for t in self.types:
                yield self.name + t.code[0].upper() + t.code[1:], t
        else:
            for t in self.types or (TypeRef("BackboneElement"),):
                yield self.name, t
                break


def _type_code(t: dict[str, Any]) -> str:
    code: str = t["code"]
    if code.startswith("http://hl7.org/fhirpath/System."):
        for ext in t.get("extension", ()):
            if ext.get("url") == _FHIR_TYPE_EXT:
                return str(ext.get("valueUrl") or ext.get("valueUri"))
        return code.rsplit(".", 1)[-1].lower()
    return code


def _element_info(el: dict[str, Any]) -> ElementInfo:
    path: str = el["path"]
    last = path.rsplit(".", 1)[-1]
    is_choice = last.endswith("[x]")
    types = tuple(
        TypeRef(
            _type_code(t),
            tuple(t.get("targetProfile", ())),
            tuple(t.get("profile", ())),
        )
        for t in el.get("type", ())
    )
    regex = None
    for t in el.get("type", ()):
        for ext in t.get("extension", ()):
            if ext.get("url") == _REGEX_EXT:
                regex = ext.get("valueString")
    binding = el.get("binding") or {}
    cref = el.get("contentReference")
    return ElementInfo(
        path=path,
        name=last[:-3] if is_choice else last,
        min=int(el.get("min", 0)),
        max=str(el.get("max", "*")),
        types=types,
        is_choice=is_choice,
        content_reference=cref[1:] if isinstance(cref, str) and cref.startswith("#") else cref,
        binding_strength=binding.get("strength"),
        binding_value_set=(binding.get("valueSet") or "").split("|")[0] or None,
        constraints=tuple(el.get("constraint", ())),
        is_modifier=bool(el.get("isModifier", False)),
        is_summary=bool(el.get("isSummary", False)),
        regex=regex,
        max_length=el.get("maxLength"),
        raw=el,
    )


def _open(path: Path) -> bytes:
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as fh:
            return fh.read()
    return path.read_bytes()


def _locate(folder: Path, names: tuple[str, ...]) -> Path | None:
    for name in names:
        for candidate in (folder / name, folder / (name + ".gz")):
            if candidate.is_file():
                return candidate
    return None


def _bundle_resources(data: bytes) -> list[dict[str, Any]]:
    bundle = msgspec.json.decode(data)
    return [e["resource"] for e in bundle.get("entry", ()) if "resource" in e]


class Definitions:
    """Everything the R4 definitions say, indexed for fast lookup. Read-only after loading."""

    def __init__(self, folder: Path, resources: dict[str, list[dict[str, Any]]]) -> None:
        self.folder = folder
        self.version = PACKAGE_VERSION
        self.structure_definitions: dict[str, dict[str, Any]] = {}
        self.search_parameters: list[dict[str, Any]] = []
        self.compartments: dict[str, dict[str, Any]] = {}
        self.value_sets: dict[str, dict[str, Any]] = {}
        self.code_systems: dict[str, dict[str, Any]] = {}
        self.operations: dict[str, dict[str, Any]] = {}
        for group in resources.values():
            for res in group:
                self._add(res)
        self._elements: dict[str, dict[str, ElementInfo]] = {}
        self._lock = threading.Lock()

    def _add(self, res: dict[str, Any]) -> None:
        kind = res.get("resourceType")
        url = res.get("url", "")
        if kind == "StructureDefinition":
            self.structure_definitions.setdefault(url, res)
        elif kind == "SearchParameter":
            self.search_parameters.append(res)
        elif kind == "CompartmentDefinition":
            self.compartments[res["code"]] = res
        elif kind == "ValueSet":
            self.value_sets.setdefault(url, res)
        elif kind == "CodeSystem":
            self.code_systems.setdefault(url, res)
        elif kind == "OperationDefinition":
            self.operations.setdefault(url, res)

    # -- types ---------------------------------------------------------------------------------

    @cached_property
    def base_types(self) -> dict[str, dict[str, Any]]:
        """Base (non-constrained) StructureDefinitions by type name: resources and data types."""
        out: dict[str, dict[str, Any]] = {}
        for sd in self.structure_definitions.values():
            if sd.get("derivation") == "constraint":
                continue
            if sd.get("kind") in ("resource", "complex-type", "primitive-type"):
                out[sd["type"]] = sd
        return out

    @cached_property
    def resource_types(self) -> frozenset[str]:
        """Every concrete R4 resource type (146 of them)."""
        return frozenset(
            name
            for name, sd in self.base_types.items()
            if sd.get("kind") == "resource" and not sd.get("abstract", False)
        )

    @cached_property
    def primitive_types(self) -> frozenset[str]:
        return frozenset(n for n, sd in self.base_types.items() if sd.get("kind") == "primitive-type")

    @cached_property
    def complex_types(self) -> frozenset[str]:
        return frozenset(n for n, sd in self.base_types.items() if sd.get("kind") == "complex-type")

    def is_resource_type(self, name: str) -> bool:
        return name in self.resource_types

    def structure(self, type_or_url: str) -> dict[str, Any] | None:
        """A StructureDefinition by canonical URL, or the base one of a type name."""
        if "/" in type_or_url:
            return self.structure_definitions.get(type_or_url.split("|", maxsplit=1)[0])
        return self.base_types.get(type_or_url)

    # -- elements ------------------------------------------------------------------------------

    def elements(self, type_name: str) -> dict[str, ElementInfo]:
        """All elements of a base type by path (``Patient``, ``Patient.name``, …), from its snapshot."""
        cached = self._elements.get(type_name)
        if cached is not None:
            return cached
        sd = self.base_types.get(type_name)
        if sd is None:
            raise KeyError(type_name)
        infos = {el["path"]: _element_info(el) for el in sd.get("snapshot", {}).get("element", ())}
        with self._lock:
            self._elements[type_name] = infos
        return infos

    def element(self, path: str) -> ElementInfo | None:
        """The element at a full path such as ``Observation.value[x]`` or ``Patient.contact.name``."""
        return self.elements(path.split(".", 1)[0]).get(path)

    @cached_property
    def _children_index(self) -> dict[str, dict[str, list[ElementInfo]]]:
        return {}

    def children(self, path: str) -> list[ElementInfo]:
        """The direct child elements of a path, in definition order (the XML order).

        ``path`` is either a type name (``HumanName``) or an element path inside a type
        (``Patient.contact``); content references are followed.
        """
        type_name = path.split(".", 1)[0]
        per_type = self._children_index.get(type_name)
        if per_type is None:
            per_type = {}
            for el_path, info in self.elements(type_name).items():
                if "." in el_path:
                    parent = el_path.rsplit(".", 1)[0]
                    per_type.setdefault(parent, []).append(info)
            with self._lock:
                self._children_index[type_name] = per_type
        kids = per_type.get(path)
        if kids is None:
            ref = self.element(path)
            if ref is not None and ref.content_reference:
                return self.children(ref.content_reference)
            return []
        return kids

    # -- search and compartments --------------------------------------------------------------

    @cached_property
    def _search_by_base(self) -> dict[str, dict[str, dict[str, Any]]]:
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for sp in self.search_parameters:
            for base in sp.get("base", ()):
                out.setdefault(base, {})[sp["code"]] = sp
        return out

    def search_params(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Search parameters of a resource type by code, including the ``Resource``/``DomainResource`` ones."""
        merged: dict[str, dict[str, Any]] = {}
        for base in ("Resource", "DomainResource", resource_type):
            if base == "DomainResource" and resource_type in ("Bundle", "Parameters", "Binary"):
                continue
            merged.update(self._search_by_base.get(base, {}))
        return merged

    def compartment_params(self, compartment: str, resource_type: str) -> tuple[str, ...]:
        """Search parameters that put a resource of ``resource_type`` in a compartment (e.g. Patient)."""
        cd = self.compartments.get(compartment)
        if cd is None:
            return ()
        for res in cd.get("resource", ()):
            if res.get("code") == resource_type:
                return tuple(res.get("param", ()))
        return ()


def find_definitions_dir(package_cache: str = "~/.fhir/packages", override: str = "") -> Path:
    """The folder to load: the override if given, else the package in the package cache."""
    if override:
        folder = Path(override).expanduser()
    else:
        root = Path(package_cache).expanduser() / f"{PACKAGE_NAME}#{PACKAGE_VERSION}"
        folder = root / "package" if (root / "package").is_dir() else root
    if not folder.is_dir() or any(_locate(folder, _SOURCES[k]) is None for k in _REQUIRED):
        raise DefinitionsNotFound(
            f"FHIR R4 definitions not found in {folder}; install the package "
            f"{PACKAGE_NAME}#{PACKAGE_VERSION} with `bindeled definitions install`"
        )
    return folder


_cache: dict[Path, Definitions] = {}
_cache_lock = threading.Lock()


def load_definitions(package_cache: str = "~/.fhir/packages", override: str = "") -> Definitions:
    """Load (once per folder) the R4 definitions."""
    folder = find_definitions_dir(package_cache, override).resolve()
    with _cache_lock:
        found = _cache.get(folder)
        if found is None:
            groups: dict[str, list[dict[str, Any]]] = {}
            for key, names in _SOURCES.items():
                path = _locate(folder, names)
                if path is not None:
                    groups[key] = _bundle_resources(_open(path))
            for extra in sorted(folder.glob("CompartmentDefinition-*.json")):
                groups.setdefault("compartments", []).append(msgspec.json.decode(extra.read_bytes()))
            found = _cache[folder] = Definitions(folder, groups)
    return found
