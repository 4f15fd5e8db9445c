"""Validation benchmark: profile validations per second, beside two baselines measured in the same run.

Document sets: every official MedCom message example (validated against the profile its message
type names, with the validator ``ValidatorPool`` builds for the hub) and a sample of the official R4
examples (validated against R4). For each set three timings over the same documents:

* ``validator`` — the validator as the hub and the REST API run it (native invariant forms on);
* ``fhirpathpy`` — the same validator with every invariant evaluated by fhirpathpy (the path
  before native forms), to show what they bring; both must report the same issues;
* ``decode+walk`` — ``msgspec`` JSON decoding plus a walk over every value of the decoded document:
  a floor no validator can beat.

    .venv/bin/python -m bench.validation
    .venv/bin/python -m bench.validation --r4-step 5 --seconds 3
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from bindeled.errors import Issue
from bindeled.fhir.definitions import Definitions, load_definitions
from bindeled.fhir.jsonio import decode, encode
from bindeled.fhir.validation import Validator
from bindeled.fhir.xmlio import xml_to_resource
from bindeled.messaging.profiles import message_type, package_closure

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PACKAGES = SHARED / "standards/fhir-packages"
MEDCOM = SHARED / "standards/medcom/examples"
R4 = SHARED / "testdata/fhir-r4-examples"
HN = "Bundle-a5e5b880-c087-4055-b9ec-99108695f81d.json"


@dataclass
class Case:
    name: str
    kind: str
    """The message type (event code), or ``R4`` for the R4 examples."""
    document: dict[str, Any]
    raw: bytes
    profiles: tuple[str, ...]
    fast: Validator
    slow: Validator


def _validators(definitions: Definitions, package: str | None) -> tuple[Validator, Validator]:
    pair = Validator(definitions), Validator(definitions, fast_invariants=False)
    for validator in pair:
        for folder in package_closure(PACKAGES, package) if package else ():
            validator.add_package(folder)
    return pair


def medcom_cases(definitions: Definitions) -> list[Case]:
    cases: list[Case] = []
    validators: dict[str, tuple[Validator, Validator]] = {}
    for path in sorted(MEDCOM.rglob("*")):
        if path.suffix not in (".json", ".xml", ".txt") or path.parent.name in ("legacy-oioxml", "ehmi-sbdh"):
            continue
        data = path.read_bytes()
        document = decode(data) if path.suffix == ".json" else xml_to_resource(data, definitions)
        kind = message_type(document["entry"][0]["resource"]["eventCoding"]["code"])
        if kind.package not in validators:
            validators[kind.package] = _validators(definitions, kind.package)
        fast, slow = validators[kind.package]
        cases.append(Case(path.name, kind.event, document, encode(document), (kind.bundle_profile,), fast, slow))
    return cases


def r4_cases(definitions: Definitions, step: int) -> list[Case]:
    fast, slow = _validators(definitions, None)
    files = sorted(R4.glob("*.json"))[::step]
    return [Case(p.name, "R4", decode(p.read_bytes()), p.read_bytes(), (), fast, slow) for p in files]


def _walk(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + sum(_walk(v) for v in value.values())
    if isinstance(value, list):
        return 1 + sum(_walk(v) for v in value)
    return 1


def rate(cases: list[Case], run: Callable[[Case], object], seconds: float) -> tuple[float, float]:
    """Documents per second (wall clock) over repeated passes through ``cases`` for at least
    ``seconds``, and CPU milliseconds per document (less distorted on a shared, loaded machine)."""
    for case in cases:
        run(case)  # warm: plans compile on first use
    done, start, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        for case in cases:
            run(case)
        done += len(cases)
    return done / (time.perf_counter() - start), (time.process_time() - cpu) * 1000 / done


def _key(issues: list[Issue]) -> list[tuple[str, str, tuple[str, ...]]]:
    return sorted((i.severity, i.code, i.expression) for i in issues)


def report(title: str, cases: list[Case], seconds: float) -> None:
    differ = [
        c.name
        for c in cases
        if _key(c.fast.validate(c.document, c.profiles)) != _key(c.slow.validate(c.document, c.profiles))
    ]
    fast = rate(cases, lambda c: c.fast.validate(c.document, c.profiles), seconds)
    slow = rate(cases, lambda c: c.slow.validate(c.document, c.profiles), seconds)
    floor = rate(cases, lambda c: _walk(msgspec.json.decode(c.raw)), seconds)
    print(f"\n{title}: {len(cases)} documents; same issues with and without native forms: {not differ} {differ or ''}")
    print(f"  {'path':<12} {'docs/s':>10} {'ms/doc':>8} {'CPU ms/doc':>11} {'validator / this':>17}")
    for name, (value, cpu) in (("validator", fast), ("fhirpathpy", slow), ("decode+walk", floor)):
        print(f"  {name:<12} {value:>10,.1f} {1000 / value:>8.2f} {cpu:>11.2f} {fast[0] / value:>17.3f}")


def report_by_type(cases: list[Case], seconds: float) -> None:
    """The validator's CPU per message for each message type (the hub's cost per letter)."""
    print("\nValidator CPU per message type:")
    for kind in sorted({c.kind for c in cases}):
        group = [c for c in cases if c.kind == kind]
        _, cpu = rate(group, lambda c: c.fast.validate(c.document, c.profiles), seconds / 2)
        print(f"  {kind:<32} {len(group):>3} documents {cpu:>8.2f} CPU ms/doc")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="minimum time per measurement")
    parser.add_argument("--r4-step", type=int, default=10, help="take every Nth official R4 example")
    args = parser.parse_args()
    definitions = load_definitions()
    medcom = medcom_cases(definitions)
    report("MedCom message examples (against their message profile)", medcom, args.seconds)
    report("HospitalNotification a5e5b880", [c for c in medcom if c.name == HN], args.seconds)
    report_by_type(medcom, args.seconds)
    report(f"R4 examples (every {args.r4_step}th, against R4)", r4_cases(definitions, args.r4_step), args.seconds)


if __name__ == "__main__":
    main()
