"""FHIR JSON in and out, keeping decimals exactly as written.

FHIR decimals carry their precision (``1.50`` is not ``1.5``), so numbers with a fraction are
decoded to :class:`decimal.Decimal` and encoded back as JSON numbers with the same digits. The
decoder also enforces the FHIR JSON rules that plain JSON allows: the top level must be an object,
``null`` is never a value, arrays and objects are never empty and strings never empty.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from ..errors import InvalidRequest

__all__ = ["Resource", "check_json_rules", "decode", "decode_any", "decode_stored", "encode", "encode_str"]

Resource = dict[str, Any]
"""A FHIR resource as a JSON tree; all FHIR resources are handled generically."""

_decoder = msgspec.json.Decoder(float_hook=Decimal)
_encoder = msgspec.json.Encoder(decimal_format="number")


def decode_any(data: bytes | str) -> Any:
    """Parse JSON text with exact decimals; raise :class:`InvalidRequest` on bad syntax."""
    try:
        return _decoder.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise InvalidRequest(f"The body is not valid JSON: {exc}") from None


def decode(data: bytes | str) -> Resource:
    """Parse a FHIR resource: a JSON object with ``resourceType`` that follows the FHIR JSON rules."""
    value = decode_any(data)
    if not isinstance(value, dict):
        raise InvalidRequest("The body must be a JSON object (a FHIR resource)")
    if not isinstance(value.get("resourceType"), str):
        raise InvalidRequest("The resource has no resourceType", location=("resourceType",))
    check_json_rules(value, value["resourceType"])
    return value


def decode_stored(data: bytes | str) -> Resource:
    """Parse JSON this server wrote itself (already checked on the way in): no rule checks, just speed."""
    value: Resource = _decoder.decode(data)
    return value


def check_json_rules(node: Any, path: str) -> None:
    """Reject what JSON allows but FHIR JSON forbids: nulls, empty objects, arrays and strings."""
    if node is None:
        raise InvalidRequest("null is not allowed in FHIR JSON", location=(path,))
    if isinstance(node, dict):
        if not node:
            raise InvalidRequest("Empty objects are not allowed in FHIR JSON", location=(path,))
        for key, value in node.items():
            if not key or key.isspace():
                raise InvalidRequest("Empty property names are not allowed in FHIR JSON", location=(path,))
            if key == "resourceType" and path.count(".") > 0 and not isinstance(value, str):
                raise InvalidRequest("resourceType must be a string", location=(f"{path}.{key}",))
            if isinstance(value, list) and (key.startswith("_") or "_" + key in node):
                _check_paired_array(value, f"{path}.{key}")
                continue
            check_json_rules(value, f"{path}.{key}")
    elif isinstance(node, list):
        if not node:
            raise InvalidRequest("Empty arrays are not allowed in FHIR JSON", location=(path,))
        for i, item in enumerate(node):
            check_json_rules(item, f"{path}[{i}]")
    elif isinstance(node, str):
        if node == "" and not path.endswith(".div"):
            raise InvalidRequest("Empty strings are not allowed in FHIR JSON", location=(path,))
        if "\x00" in node:
            raise InvalidRequest("NUL characters are not allowed in FHIR strings", location=(path,))


def _check_paired_array(items: list[Any], path: str) -> None:
    # ``given: ["a", null]`` pairs with ``_given: [null, {...}]``: a null marks "nothing here"
    # for one repetition, but not for all of them.
    if not items or all(item is None for item in items):
        raise InvalidRequest("An array must not be empty or only null", location=(path,))
    for i, item in enumerate(items):
        if item is not None:
            check_json_rules(item, f"{path}[{i}]")


def encode(resource: Any) -> bytes:
    """Serialise a JSON tree compactly, decimals exactly as they were read."""
    return _encoder.encode(resource)


def encode_str(resource: Any) -> str:
    return encode(resource).decode()
