"""The endpoint register is kept by administrators, and only well-formed receivers go into it.

A repository write rule (``Repository.write_rules``) on ``Endpoint/eer-*``: whoever could write
there could redirect a receiver's letters, so only administrators (and the system itself) may; and
what they write must be a receiver the hub can use — its id is ``eer-`` + its GLN, it says push or
mailbox, a push endpoint has an HTTP(S) address, and each accepted message type names a version.
Other Endpoint resources (the SOR import's ``gln-*``) are not the register and pass untouched.
"""

from __future__ import annotations

from ...errors import Forbidden, Unprocessable
from ...fhir.jsonio import Resource
from ...security.guard import RequestGuard
from ...store.repository import PendingWrite
from .endpoints import MESSAGE_TYPE_SYSTEM, endpoint_id, read_endpoint

__all__ = ["endpoint_register_rule"]


def _is_register(resource: Resource | None) -> bool:
    return resource is not None and str(resource.get("id", "")).startswith("eer-")


def _check(resource: Resource) -> None:
    found = read_endpoint({**resource, "status": "active"})
    if found is None:
        raise Unprocessable(
            "A register Endpoint needs a GLN identifier and the connection type hl7-fhir-msg (push) or mailbox",
            location=("Endpoint.connectionType",),
        )
    if resource.get("id") != endpoint_id(found.gln):
        raise Unprocessable("A register Endpoint's id must be eer-<its GLN>", location=("Endpoint.id",))
    if found.mode == "push" and not found.url.startswith(("https://", "http://")):
        raise Unprocessable("A push endpoint needs an HTTP(S) address", location=("Endpoint.address",))
    for concept in resource.get("payloadType") or ():
        for coding in concept.get("coding") or ():
            if coding.get("system") == MESSAGE_TYPE_SYSTEM and not (coding.get("code") and coding.get("version")):
                raise Unprocessable(
                    "Each accepted message type needs its code and version", location=("Endpoint.payloadType",)
                )


async def endpoint_register_rule(pending: PendingWrite) -> Resource | None:
    """Refuse register writes by non-administrators (403) and malformed register entries (422)."""
    if pending.resource_type != "Endpoint" or not (_is_register(pending.after) or _is_register(pending.before)):
        return None
    guard = pending.guard
    if isinstance(guard, RequestGuard) and not guard.session.principal.admin:
        raise Forbidden("The endpoint register is kept by administrators", details_code="endpoint_register")
    if pending.after is not None:
        _check(pending.after)
    return None
