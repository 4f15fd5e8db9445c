"""The endpoint register (modelled on the national EER): who receives which letters where, and how.

One receiver is one FHIR ``Endpoint`` resource with the fixed id ``eer-<GLN>``, so the hub finds it
with one read and an administrator manages the register with plain REST::

    PUT    /fhir/Endpoint/eer-5790000123456      register or change a receiver
    GET    /fhir/Endpoint?identifier=https://www.gs1.org/gln|5790000123456
    DELETE /fhir/Endpoint/eer-5790000123456      withdraw a receiver

(The SOR import writes its own ``gln-<GLN>`` Endpoints, which only say that a GLN exists; a re-import
replaces them, so the register keeps its own resources beside them.)

The resource says (see :func:`endpoint_resource`, which builds it):

* ``identifier``: the GLN (``https://www.gs1.org/gln``) and the SOR code (``urn:oid:1.2.208.176.1.1``)
  of the receiving unit; ``managingOrganization`` names the SOR Organization by identifier;
* ``connectionType``: ``hl7-fhir-msg`` (push: the hub POSTs each letter to ``address``) or
  ``mailbox`` in :data:`MODE_SYSTEM` (the receiver fetches its letters by FHIR search; ``address``
  is then ``urn:bindeled:mailbox:<GLN>``, and :attr:`ReceiverEndpoint.url` is empty);
* ``payloadType``: one concept per accepted message type and version — ``code`` is the
  MessageHeader ``eventCoding.code`` (``hospital-notification-message``, ``care-communication-message``,
  ``acknowledgement-message``, ``homecareobservation-message``) and ``version`` the standard's
  major.minor as in :data:`~bindeled.messaging.profiles.MESSAGE_TYPES` (``3.0``, ``5.0``, ``2.0``, ``1.2``);
* ``status``: only ``active`` endpoints receive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ...store.base import Store, StoredResource
from ..messages import GLN_SYSTEM, SOR_SYSTEM

__all__ = [
    "MAILBOX_PREFIX",
    "MESSAGE_TYPE_SYSTEM",
    "MODE_SYSTEM",
    "ReceiverEndpoint",
    "endpoint_id",
    "endpoint_of",
    "endpoint_resource",
    "find_endpoint",
    "read_endpoint",
]

MESSAGE_TYPE_SYSTEM = "https://bindeled.dk/fhir/CodeSystem/medcom-message-type"
"""``Endpoint.payloadType`` codes: MessageHeader event codes, with the standard's version in ``Coding.version``."""
MODE_SYSTEM = "https://bindeled.dk/fhir/CodeSystem/endpoint-delivery"
"""``Endpoint.connectionType`` system for ``mailbox``; push uses HL7's ``hl7-fhir-msg``."""
_HL7_CONNECTION = "http://terminology.hl7.org/CodeSystem/endpoint-connection-type"
MAILBOX_PREFIX = "urn:bindeled:mailbox:"


@dataclass(frozen=True, slots=True)
class ReceiverEndpoint:
    """One registered receiver."""

    gln: str
    sor: str
    mode: Literal["push", "mailbox"]
    url: str
    """The HTTP URL letters are POSTed to; empty for a mailbox."""
    accepts: frozenset[tuple[str, str]]
    """(MessageHeader event code, standard version), e.g. ``("hospital-notification-message", "3.0")``."""


def endpoint_id(gln: str) -> str:
    """The resource id of a receiver's Endpoint."""
    return f"eer-{gln}"


def endpoint_resource(endpoint: ReceiverEndpoint, *, name: str = "") -> dict[str, Any]:
    """The FHIR Endpoint that registers ``endpoint`` (PUT it at ``Endpoint/eer-<GLN>``)."""
    if endpoint.mode == "push":
        connection = {"system": _HL7_CONNECTION, "code": "hl7-fhir-msg"}
        address = endpoint.url
    else:
        connection = {"system": MODE_SYSTEM, "code": "mailbox"}
        address = MAILBOX_PREFIX + endpoint.gln
    resource: dict[str, Any] = {
        "resourceType": "Endpoint",
        "id": endpoint_id(endpoint.gln),
        "identifier": [{"system": GLN_SYSTEM, "value": endpoint.gln}, {"system": SOR_SYSTEM, "value": endpoint.sor}],
        "status": "active",
        "connectionType": connection,
        "managingOrganization": {"identifier": {"system": SOR_SYSTEM, "value": endpoint.sor}},
        "payloadType": [
            {"coding": [{"system": MESSAGE_TYPE_SYSTEM, "version": version, "code": event}]}
            for event, version in sorted(endpoint.accepts)
        ],
        "address": address,
    }
    if name:
        resource["name"] = name
    return resource


def _identifier(resource: dict[str, Any], system: str) -> str:
    for identifier in resource.get("identifier") or ():
        if isinstance(identifier, dict) and identifier.get("system") == system and identifier.get("value"):
            return str(identifier["value"])
    return ""


def read_endpoint(resource: dict[str, Any]) -> ReceiverEndpoint | None:
    """The receiver an Endpoint resource registers; None when it is not an active MedCom receiver."""
    if resource.get("status") != "active":
        return None
    gln = _identifier(resource, GLN_SYSTEM)
    sor = _identifier(resource, SOR_SYSTEM)
    connection = resource.get("connectionType") or {}
    code = connection.get("code") if isinstance(connection, dict) else None
    if not gln or code not in ("hl7-fhir-msg", "mailbox"):
        return None
    accepts = frozenset(
        (str(coding["code"]), str(coding.get("version") or ""))
        for concept in resource.get("payloadType") or ()
        for coding in (concept.get("coding") or () if isinstance(concept, dict) else ())
        if isinstance(coding, dict) and coding.get("system") == MESSAGE_TYPE_SYSTEM and coding.get("code")
    )
    if code == "mailbox":
        return ReceiverEndpoint(gln, sor, "mailbox", "", accepts)
    return ReceiverEndpoint(gln, sor, "push", str(resource.get("address") or ""), accepts)


async def find_endpoint(store: Store, gln: str) -> ReceiverEndpoint | None:
    """The active receiver registered for ``gln``, or None."""
    return endpoint_of(await store.read("Endpoint", endpoint_id(gln)), gln)


def endpoint_of(stored: StoredResource | None, gln: str) -> ReceiverEndpoint | None:
    """The active receiver a stored ``Endpoint/gln-<GLN>`` registers for ``gln``, or None."""
    if stored is None or stored.deleted:
        return None
    found = read_endpoint(stored.resource())
    return found if found is not None and found.gln == gln else None
