"""Recorded validation results (a golden file) that speed work on the validator must reproduce.

The cases are every official MedCom message example, validated against its message profile with
the validator the hub uses, plus deterministic damaged copies of each (a value replaced, removed,
retyped, a string altered, an array item repeated), so that error paths (structure, cardinality,
bindings, fixed values, slicing, invariants) are recorded too, not only clean passes; and every
official R4 example against R4 alone.

``golden_issues.json`` was written by this module from the validator *before* the caching and
short-cut work of issue #6; to re-record after an intended change of results, run::

    .venv/bin/python tests/fhir/validation/golden_issues.py
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bindeled.errors import Issue
from bindeled.fhir.definitions import Definitions, load_definitions
from bindeled.fhir.jsonio import decode
from bindeled.fhir.validation import Validator
from bindeled.fhir.xmlio import xml_to_resource
from bindeled.messaging.profiles import ValidatorPool, message_type

__all__ = ["GOLDEN", "Case", "cases", "issue_rows", "medcom_documents", "read", "record", "write"]

GOLDEN = Path(__file__).with_name("golden_issues.json")
MEDCOM = "standards/medcom/examples"
PACKAGES = "standards/fhir-packages"
R4 = "testdata/fhir-r4-examples"
DAMAGES_PER_EXAMPLE = 40
_DELETE = object()
_TWEAK = object()
_REPLACEMENTS: tuple[Any, ...] = (None, _TWEAK, [], _DELETE, {}, "x y", _TWEAK, 0, True, {"x": 1}, ["y"], _DELETE)

JsonPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    document: dict[str, Any]
    validator: Validator
    profiles: tuple[str, ...]


def issue_rows(issues: list[Issue]) -> list[list[Any]]:
    """Issues as sorted JSON rows (order within a result is not part of the validator's contract)."""
    rows = [[i.severity, i.code, i.diagnostics, list(i.expression), i.details_code] for i in issues]
    return sorted(rows, key=json.dumps)


def _paths(value: Any, path: JsonPath = ()) -> Iterator[JsonPath]:
    items: Any = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        yield (*path, key)
        yield from _paths(item, (*path, key))


def _tweaked(value: Any) -> Any:
    """A value of the same JSON type that is different (and usually wrong in a new way)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1000
    if isinstance(value, str):
        return value + "-0x"
    if isinstance(value, dict):
        return dict(list(value.items())[1:])
    if isinstance(value, list):
        return [*value, copy.deepcopy(value[0])] if value else ["y"]
    return "x"


def _damaged(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    paths = [p for p in _paths(document) if p[-1] != "resourceType"]
    step = max(1, len(paths) // DAMAGES_PER_EXAMPLE)
    for n, path in enumerate(paths[::step][:DAMAGES_PER_EXAMPLE]):
        copied = copy.deepcopy(document)
        parent: Any = copied
        for key in path[:-1]:
            parent = parent[key]
        how = _REPLACEMENTS[n % len(_REPLACEMENTS)]
        label = "deleted" if how is _DELETE else "tweaked" if how is _TWEAK else json.dumps(how)
        if how is _DELETE:
            del parent[path[-1]]
        else:
            parent[path[-1]] = _tweaked(parent[path[-1]]) if how is _TWEAK else copy.deepcopy(how)
        yield f"{'.'.join(map(str, path))} {label}", copied


def medcom_documents(shared: Path, definitions: Definitions) -> Iterator[tuple[str, dict[str, Any]]]:
    root = shared / MEDCOM
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".json", ".xml", ".txt") or path.parent.name in ("legacy-oioxml", "ehmi-sbdh"):
            continue
        data = path.read_bytes()
        yield (
            str(path.relative_to(root)),
            decode(data) if path.suffix == ".json" else xml_to_resource(data, definitions),
        )


def cases(shared: Path, definitions: Definitions, *, pool: ValidatorPool | None = None) -> list[Case]:
    """Every recorded case, in a stable order."""
    pool = pool or ValidatorPool(definitions, shared / PACKAGES)
    found: list[Case] = []
    for name, document in medcom_documents(shared, definitions):
        kind = message_type(document["entry"][0]["resource"]["eventCoding"]["code"])
        validator, profiles = pool.for_type(kind), (kind.bundle_profile,)
        found.append(Case(name, document, validator, profiles))
        found += [Case(f"{name} {label}", doc, validator, profiles) for label, doc in _damaged(document)]
    r4 = Validator(definitions)
    found += [Case(f"r4/{p.name}", decode(p.read_bytes()), r4, ()) for p in sorted((shared / R4).glob("*.json"))]
    return found


def record(shared: Path) -> dict[str, list[list[Any]]]:
    return {c.name: issue_rows(c.validator.validate(c.document, c.profiles)) for c in cases(shared, load_definitions())}


def write(results: dict[str, list[list[Any]]]) -> None:
    """One case per line; each distinct diagnostic text is stored once (``texts``) and named by index."""
    texts = sorted({row[2] for rows in results.values() for row in rows})
    index = {text: i for i, text in enumerate(texts)}
    lines = [
        f"{json.dumps(name, ensure_ascii=False)}: "
        + json.dumps([[r[0], r[1], index[r[2]], *r[3:]] for r in rows], ensure_ascii=False, separators=(",", ":"))
        for name, rows in sorted(results.items())
    ]
    body = ",\n".join(lines)
    texts_json = json.dumps(texts, ensure_ascii=False, indent=0)
    GOLDEN.write_text(f'{{"texts": {texts_json},\n"cases": {{\n{body}\n}}}}\n', encoding="utf-8")


def read() -> dict[str, list[list[Any]]]:
    """The recorded results, with texts expanded back into rows like :func:`issue_rows` makes."""
    data = json.loads(GOLDEN.read_text(encoding="utf-8"))
    texts = data["texts"]
    return {name: [[r[0], r[1], texts[r[2]], *r[3:]] for r in rows] for name, rows in data["cases"].items()}


if __name__ == "__main__":
    results = record(Path(__file__).resolve().parents[3].parent / "shared")
    write(results)
    print(f"{len(results)} cases, {sum(map(len, results.values()))} issues written to {GOLDEN}")
