"""PATCH: JSON Patch (RFC 6902) and FHIRPath Patch (a ``Parameters`` resource) applied to a resource.

JSON Patch is applied with the ``jsonpatch`` library. FHIRPath Patch needs to *locate* elements to
change, which a FHIRPath engine does not offer (it returns values, not places), so this module
navigates the subset of FHIRPath that names places: ``Type.element.child``, indexers ``[n]``,
``first()``, ``last()``, ``where(path = 'literal')`` (several joined by ``and``) and choice elements
by their stem (``Observation.value``). Anything else is refused with a clear message rather than
guessed at. The patched resource is validated by the caller like any other write.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import jsonpatch

from ..errors import InvalidRequest, Unprocessable
from .definitions import Definitions
from .jsonio import Resource

__all__ = ["ArrayCheck", "apply_fhirpath_patch", "apply_json_patch", "element_is_array"]

ArrayCheck = Callable[[str, tuple[str, ...]], bool]
"""(resource type, JSON keys from the root) → whether that element repeats."""

_BACKBONE = frozenset({"BackboneElement", "Element"})


def apply_json_patch(resource: Resource, operations: Any) -> Resource:
    """Apply an RFC 6902 patch document; the result keeps ``resourceType`` and ``id``."""
    if not isinstance(operations, list):
        raise InvalidRequest("A JSON Patch document must be a JSON array of operations")
    try:
        patched = jsonpatch.JsonPatch(operations).apply(copy.deepcopy(resource))
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
        raise Unprocessable(f"The JSON Patch cannot be applied: {exc}") from None
    except (TypeError, KeyError, ValueError, IndexError) as exc:
        raise InvalidRequest(f"The JSON Patch document is malformed: {exc}") from None
    return _keep_identity(resource, patched)


def _keep_identity(before: Resource, after: Any) -> Resource:
    if not isinstance(after, dict) or after.get("resourceType") != before.get("resourceType"):
        raise Unprocessable("A patch must not change the resource type", location=("resourceType",))
    if after.get("id") != before.get("id"):
        raise Unprocessable("A patch must not change the resource id", location=("id",))
    return after


# -- FHIRPath Patch -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Slot:
    """A place in the tree: ``container[key]`` (a single value) or ``container[key][index]``."""

    container: dict[str, Any]
    key: str
    index: int | None
    keys: tuple[str, ...] = ()
    """The JSON keys from the resource root to this place (for looking up the element definition)."""

    def get(self) -> Any:
        value = self.container[self.key]
        return value if self.index is None else value[self.index]


_WHERE = re.compile(r"^where\((?P<cond>.*)\)$", re.S)
_INDEXED = re.compile(r"^(?P<name>[A-Za-z][A-Za-z0-9_]*)(?:\[(?P<index>\d+)\])?$")
_COND = re.compile(r"^\s*(?P<path>[A-Za-z][A-Za-z0-9_.]*)\s*=\s*(?P<value>'(?:[^'\\]|\\.)*'|[0-9.+-]+|true|false)\s*$")


def _split_path(path: str) -> list[str]:
    """Split on dots outside parentheses and quotes."""
    parts: list[str] = []
    depth, quoted, current = 0, False, list[str]()
    for ch in path:
        if ch == "'" and (not current or current[-1] != "\\"):
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        if ch == "." and depth == 0 and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    if depth != 0 or quoted or any(not p.strip() for p in parts):
        raise InvalidRequest(f"The FHIRPath {path!r} is malformed", location=("Parameters.parameter.part",))
    return [p.strip() for p in parts]


def _children(node: dict[str, Any], name: str, prefix: tuple[str, ...] = ()) -> Iterator[_Slot]:
    keys = [name] if name in node else [k for k in node if re.fullmatch(rf"{name}[A-Z][A-Za-z]*", k)]
    for key in keys:
        value = node[key]
        if isinstance(value, list):
            for i in range(len(value)):
                yield _Slot(node, key, i, (*prefix, key))
        else:
            yield _Slot(node, key, None, (*prefix, key))


def _literal(text: str) -> Any:
    if text.startswith("'"):
        return text[1:-1].replace("\\'", "'")
    if text in ("true", "false"):
        return text == "true"
    return Decimal(text)


def _values_at(value: Any, path: str) -> list[Any]:
    current: list[Any] = [value]
    for name in path.split("."):
        nxt: list[Any] = []
        for item in current:
            if isinstance(item, dict):
                nxt.extend(slot.get() for slot in _children(item, name))
        current = nxt
    return current


def _matches(value: Any, condition: str) -> bool:
    for clause in re.split(r"\s+and\s+", condition):
        match = _COND.match(clause)
        if match is None:
            raise Unprocessable(f"Unsupported where() condition {clause!r} in a FHIRPath Patch path")
        wanted = _literal(match["value"])
        found = _values_at(value, match["path"])
        if not any(v == wanted or (isinstance(v, int | Decimal) and str(v) == str(wanted)) for v in found):
            return False
    return True


def _locate(resource: Resource, path: str) -> list[_Slot | None]:
    """The places a path names. ``None`` stands for the resource root itself."""
    parts = _split_path(path)
    if parts[0] != resource["resourceType"]:
        raise Unprocessable(f"The path {path!r} must start with {resource['resourceType']}")
    slots: list[_Slot | None] = [None]
    for part in parts[1:]:
        slots = _step(resource, slots, part)
    return slots


def _step(resource: Resource, slots: list[_Slot | None], part: str) -> list[_Slot | None]:
    def value_of(slot: _Slot | None) -> Any:
        return resource if slot is None else slot.get()

    if part in ("first()", "last()"):
        return slots[:1] if part == "first()" else slots[-1:]
    where = _WHERE.match(part)
    if where:
        return [s for s in slots if _matches(value_of(s), where["cond"])]
    indexed = _INDEXED.match(part)
    if indexed is None:
        raise Unprocessable(f"Unsupported FHIRPath step {part!r} in a FHIRPath Patch path")
    out: list[_Slot | None] = []
    for slot in slots:
        node = value_of(slot)
        if isinstance(node, dict):
            out.extend(_children(node, indexed["name"], () if slot is None else slot.keys))
    if indexed["index"] is not None:
        i = int(indexed["index"])
        out = out[i : i + 1]
    return out


def _parts(operation: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for part in operation.get("part", ()):
        name = part.get("name")
        value_keys = [k for k in part if k.startswith("value")]
        if value_keys:
            found[name] = part[value_keys[0]]
        elif "part" in part:
            found[name] = _anonymous_value(part["part"])
    return found


def _anonymous_value(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """A complex value given as nested parts (FHIRPath Patch allows this for anonymous types)."""
    out: dict[str, Any] = {}
    for part in parts:
        value_keys = [k for k in part if k.startswith("value")]
        value = part[value_keys[0]] if value_keys else _anonymous_value(part.get("part", []))
        out.setdefault(part["name"], []).append(value)
    return {k: v[0] if len(v) == 1 else v for k, v in out.items()}


def _single(slots: list[_Slot | None], path: str) -> _Slot:
    if len(slots) != 1 or slots[0] is None:
        raise Unprocessable(f"The path {path!r} must name exactly one element (it names {len(slots)})")
    return slots[0]


def _list_slot(resource: Resource, path: str) -> tuple[dict[str, Any], str, list[Any]]:
    slots = _locate(resource, path)
    parents = _locate(resource, path.rsplit(".", 1)[0]) if "." in path else [None]
    if slots and slots[0] is not None:
        slot = slots[0]
        value = slot.container[slot.key]
        if isinstance(value, list):
            return slot.container, slot.key, value
    parent = parents[0] if len(parents) == 1 else None
    container = resource if parent is None else parent.get()
    name = path.rsplit(".", 1)[-1]
    if not isinstance(container, dict):
        raise Unprocessable(f"The path {path!r} does not name a list")
    return container, name, container.setdefault(name, [])


def _op_delete(resource: Resource, op: dict[str, Any], where: str, is_array: ArrayCheck) -> None:
    slots = _locate(resource, op["path"])
    if not slots:
        return  # deleting nothing is not an error (FHIRPath Patch rules)
    slot = _single(slots, op["path"])
    if slot.index is None:
        del slot.container[slot.key]
        return
    del slot.container[slot.key][slot.index]
    if not slot.container[slot.key]:
        del slot.container[slot.key]


def _op_replace(resource: Resource, op: dict[str, Any], where: str, is_array: ArrayCheck) -> None:
    if "value" not in op:
        raise InvalidRequest("replace needs a value", location=(where,))
    slot = _single(_locate(resource, op["path"]), op["path"])
    if slot.index is None:
        slot.container[slot.key] = op["value"]
    else:
        slot.container[slot.key][slot.index] = op["value"]


def _op_add(resource: Resource, op: dict[str, Any], where: str, is_array: ArrayCheck) -> None:
    name, path = op.get("name"), op["path"]
    if not isinstance(name, str) or "value" not in op:
        raise InvalidRequest("add needs a name and a value", location=(where,))
    targets = _locate(resource, path)
    parent = None if targets == [None] else _single(targets, path)
    target = resource if parent is None else parent.get()
    if not isinstance(target, dict):
        raise Unprocessable(f"The path {path!r} does not name an element that can have children")
    existing = target.get(name)
    if isinstance(existing, list):
        existing.append(op["value"])
    elif existing is not None:
        raise Unprocessable(f"{name} already has a value; use replace", location=(where,))
    else:
        keys = (*(parent.keys if parent else ()), name)
        target[name] = [op["value"]] if is_array(resource["resourceType"], keys) else op["value"]


def _op_insert(resource: Resource, op: dict[str, Any], where: str, is_array: ArrayCheck) -> None:
    container, key, items = _list_slot(resource, op["path"])
    items.insert(_index(op, "index", len(items), where), op["value"])
    container[key] = items


def _op_move(resource: Resource, op: dict[str, Any], where: str, is_array: ArrayCheck) -> None:
    _container, _key, items = _list_slot(resource, op["path"])
    source = _index(op, "source", len(items) - 1, where)
    destination = _index(op, "destination", len(items) - 1, where)
    items.insert(destination, items.pop(source))


_OPERATIONS: dict[str, Callable[[Resource, dict[str, Any], str, ArrayCheck], None]] = {
    "add": _op_add,
    "insert": _op_insert,
    "delete": _op_delete,
    "replace": _op_replace,
    "move": _op_move,
}


def _apply_one(resource: Resource, op: dict[str, Any], where: str, is_array: ArrayCheck) -> None:
    handler = _OPERATIONS.get(str(op.get("type")))
    if not isinstance(op.get("path"), str) or handler is None:
        raise InvalidRequest(
            "Each operation needs a type (add|insert|delete|replace|move) and a path", location=(where,)
        )
    handler(resource, op, where, is_array)


def _index(op: dict[str, Any], name: str, upper: int, where: str) -> int:
    value = op.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= upper:
        raise Unprocessable(f"{name} must be an integer from 0 to {upper}", location=(where,))
    return value


def element_is_array(definitions: Definitions) -> ArrayCheck:
    """An :data:`ArrayCheck` answered from the R4 definitions."""

    def check(resource_type: str, keys: tuple[str, ...]) -> bool:
        path, info = resource_type, None
        for key in keys:
            info = next(
                (c for c in definitions.children(path) for n, _t in c.json_names() if n == key),
                None,
            )
            if info is None:
                return False
            type_code = next((t.code for n, t in info.json_names() if n == key), "")
            path = type_code if type_code in definitions.complex_types and type_code not in _BACKBONE else info.path
        return info is not None and info.is_array

    return check


def apply_fhirpath_patch(resource: Resource, parameters: Any, is_array: ArrayCheck) -> Resource:
    """Apply a FHIRPath Patch ``Parameters`` resource to a copy of ``resource``.

    ``is_array`` tells whether an added element repeats (see :func:`element_is_array`).
    """
    if not isinstance(parameters, dict) or parameters.get("resourceType") != "Parameters":
        raise InvalidRequest("A FHIRPath Patch must be a Parameters resource")
    patched = copy.deepcopy(resource)
    for i, param in enumerate(parameters.get("parameter", ())):
        where = f"Parameters.parameter[{i}]"
        if param.get("name") != "operation":
            raise InvalidRequest("FHIRPath Patch parameters must be named 'operation'", location=(where,))
        _apply_one(patched, _parts(param), where, is_array)
    return _keep_identity(resource, patched)
