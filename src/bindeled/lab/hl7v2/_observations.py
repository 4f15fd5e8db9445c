"""One OBX segment → one FHIR Observation.

Three shapes matter for microbiology:

* **findings** (``CE``/``CWE``): an organism or a coded result such as "toxin detected", coded with the
  local and the mapped coding;
* **quantities** (``NM``/``SN`` with units): colony counts such as CFU/mL, with the UCUM code when the unit
  is known (never guessed otherwise);
* **susceptibilities**: any OBX whose abnormal flag (``OBX-8``) is S, I or R (HL7 table 0078). The raw value
  (an exact decimal), the unit as sent, the qualifier (``<``, ``>``, ``<=``, ``>=``) and the reported S/I/R
  are separate elements, and the verbatim ``OBX-5`` is kept in an extension, so that new breakpoints can
  never overwrite what the laboratory reported (DOMAIN §6.4).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from bindeled.lab.hl7v2._fields import Context, resource_id
from bindeled.lab.hl7v2.er7 import Segment
from bindeled.lab.hl7v2.errors import ErrorCode, Hl7Error

__all__ = ["EXT_RAW_VALUE", "OBX_STATUS", "SUSCEPTIBILITY_FLAGS", "map_obx"]

Resource = dict[str, Any]

EXT_RAW_VALUE = "https://bindeled.dk/fhir/StructureDefinition/hl7v2-obx5-raw"
INTERPRETATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
UCUM = "http://unitsofmeasure.org"

OBX_STATUS = {
    "F": "final",
    "C": "corrected",
    "P": "preliminary",
    "R": "preliminary",
    "I": "registered",
    "O": "registered",
    "S": "registered",
    "U": "final",
    "X": "cancelled",
    "D": "entered-in-error",
    "W": "entered-in-error",
    "N": "unknown",
}
"""HL7 table 0085 (observation result status) → Observation.status."""

SUSCEPTIBILITY_FLAGS = {"S": "Susceptible", "I": "Intermediate", "R": "Resistant"}
_OTHER_FLAGS = {"N": "Normal", "A": "Abnormal", "H": "High", "L": "Low", "POS": "Positive", "NEG": "Negative"}
_UNITS = {"CFU/mL": "{CFU}/mL", "CFU/ml": "{CFU}/mL", "mg/L": "mg/L", "mg/l": "mg/L", "mm": "mm"}
_UNITS |= {"copies/mL": "{copies}/mL", "ug/mL": "ug/mL", "%": "%"}
_COMPARATORS = {"<", ">", "<=", ">="}
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)\Z")
_TEXT_TYPES = {"ST", "TX", "FT"}
VALUE_TYPES = {"CE", "CWE", "NM", "SN"} | _TEXT_TYPES


def map_obx(ctx: Context, obx: Segment, refs: Resource, report_id: str) -> Resource:
    """The Observation for ``obx``; ``refs`` holds ``subject``, ``specimen`` and ``effectiveDateTime``."""
    value_type = ctx.required(obx, 2, "OBX-2 (value type)").value
    if value_type not in VALUE_TYPES:
        raise Hl7Error("OBX-2 names an unsupported value type", ctx.where(obx, 2), ErrorCode.DATA_TYPE)
    obs: Resource = {
        "resourceType": "Observation",
        "id": resource_id(report_id, "OBX", ctx.where(obx).fhirpath_like()),
        "status": _status(ctx, obx),
        "category": [_laboratory_category()],
        "code": ctx.concept(ctx.required(obx, 3, "OBX-3 (observation identifier)")),
        **refs,
    }
    if effective := ctx.datetime(obx, 14):
        obs["effectiveDateTime"] = effective
    obs |= _value(ctx, obx, value_type)
    obs |= _interpretation(obx)
    if method := obx.field(17).value:
        obs["method"] = {"text": method}
    return obs


def _laboratory_category() -> Resource:
    system = "http://terminology.hl7.org/CodeSystem/observation-category"
    return {"coding": [{"system": system, "code": "laboratory", "display": "Laboratory"}]}


def _status(ctx: Context, obx: Segment) -> str:
    code = ctx.required(obx, 11, "OBX-11 (result status)").value
    if code not in OBX_STATUS:
        raise Hl7Error("OBX-11 is not in HL7 table 0085", ctx.where(obx, 11), ErrorCode.TABLE_VALUE_NOT_FOUND)
    return OBX_STATUS[code]


def _value(ctx: Context, obx: Segment, value_type: str) -> Resource:
    field = obx.field(5)
    if field.is_empty:
        return {}
    raw = obx_raw(obx)
    if value_type in ("CE", "CWE"):
        return {"valueCodeableConcept": ctx.concept(field)}
    if value_type in _TEXT_TYPES:
        return {"valueString": raw}
    comparator, number = (field.component(1), field.component(2)) if value_type == "SN" else ("", field.value)
    if value_type == "SN" and field.component(3):
        return {"valueString": raw, "extension": [{"url": EXT_RAW_VALUE, "valueString": raw}]}
    quantity = _quantity(ctx, obx, comparator, number)
    return {"valueQuantity": quantity, "extension": [{"url": EXT_RAW_VALUE, "valueString": raw}]}


def obx_raw(obx: Segment) -> str:
    """``OBX-5`` as sent (first repetition, components joined by ``^``), for the raw-value extension."""
    return "^".join(comp[0] for comp in obx.field(5).repetitions[0]).rstrip("^")


def _quantity(ctx: Context, obx: Segment, comparator: str, number: str) -> Resource:
    if comparator not in _COMPARATORS and comparator not in ("", "="):
        raise Hl7Error("OBX-5 has an unknown SN comparator", ctx.where(obx, 5, 1), ErrorCode.DATA_TYPE)
    component = 2 if obx.field(2).value == "SN" else 1
    decimal = _decimal(number.strip())
    if decimal is None:
        raise Hl7Error("OBX-5 is not a valid number", ctx.where(obx, 5, component), ErrorCode.DATA_TYPE)
    quantity: Resource = {"value": decimal}
    if comparator in _COMPARATORS:
        quantity["comparator"] = comparator
    unit = obx.field(6).value
    if unit:
        quantity["unit"] = unit
        if unit in _UNITS:
            quantity |= {"system": UCUM, "code": _UNITS[unit]}
    return quantity


def _decimal(text: str) -> Decimal | None:
    if not _NUMBER.match(text):
        return None
    text = text.lstrip("+")
    text = text.replace("-.", "-0.") if text.startswith("-.") else ("0" + text if text.startswith(".") else text)
    try:
        return Decimal(text.rstrip(".") if text.endswith(".") else text)
    except InvalidOperation:  # pragma: no cover - the regex admits only valid decimals
        return None


def _interpretation(obx: Segment) -> Resource:
    flag = obx.field(8).value
    display = SUSCEPTIBILITY_FLAGS.get(flag) or _OTHER_FLAGS.get(flag)
    if display is None:
        return {"interpretation": [{"text": flag}]} if flag else {}
    coding = {"system": INTERPRETATION_SYSTEM, "code": flag, "display": display}
    return {"interpretation": [{"coding": [coding]}]}


def is_susceptibility(obx: Segment) -> bool:
    """True when the OBX reports a susceptibility category (S/I/R in OBX-8)."""
    return obx.field(8).value in SUSCEPTIBILITY_FLAGS
