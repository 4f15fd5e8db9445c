"""Who may send as whom, and where a letter goes.

*Sending.* A sender system acts for one organisation (the ``sor`` of its token). It may send as that
organisation or as any unit below it in the SOR tree (a hospital's system sends for its departments),
never as anyone else; administrators may send as anyone. The tree is the SOR register as stored:
``Organization/sor-<code>`` with ``partOf`` (see :mod:`bindeled.registry.fhir`).

*Receiving.* The primary receiver is named by SOR code and GLN. The SOR unit must be in the register
and active, the GLN must be the unit's own or the one it inherits (its ``endpoint``: the nearest SOR
level with a GLN, where MedCom addresses a unit without one), and the GLN must be in the endpoint
register (:mod:`.endpoints`); otherwise the letter is refused with ``MSG_Receiver_Identifier_UNKNOWN``.
A receiver that has not declared the message type and version is refused with
``MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE``. Acknowledgements are taken by every registered
receiver: whoever sends letters receives their answers.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import Issue
from ...registry.fhir import organization_id
from ...store.base import Store
from ..messages import GLN_SYSTEMS, SOR_SYSTEM, Message
from ..profiles import MessageType
from .endpoints import ReceiverEndpoint, endpoint_id, endpoint_of

__all__ = ["RECEIVER_UNKNOWN", "TYPE_NOT_ACCEPTED", "Parties", "may_send_as", "parties_of", "resolve_receiver"]

RECEIVER_UNKNOWN = "MSG_Receiver_Identifier_UNKNOWN"
TYPE_NOT_ACCEPTED = "MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE"
_MAX_DEPTH = 32
"""SOR trees are a handful of levels deep; a longer partOf chain is a loop in bad data."""
_RECEIVER = "Bundle.entry[0].resource.destination[0].receiver"


@dataclass(frozen=True, slots=True)
class Parties:
    """The sender and primary receiver of a letter, as the message names them."""

    sender_sor: str
    sender_gln: str
    receiver_sor: str
    receiver_gln: str


def parties_of(message: Message) -> Parties | None:
    """Sender and primary receiver with both SOR and GLN; None when the message lacks one of the four."""
    sender, receiver = message.sender, message.primary_receiver
    if sender is None or receiver is None:
        return None
    if not (sender.sor and sender.gln and receiver.sor and receiver.gln):
        return None
    return Parties(sender.sor, sender.gln, receiver.sor, receiver.gln)


async def _organization(store: Store, sor: str) -> dict[str, object] | None:
    stored = await store.read("Organization", organization_id(sor))
    if stored is None or stored.deleted:
        return None
    return stored.resource()


def _parent_sor(organization: dict[str, object]) -> str | None:
    part_of = organization.get("partOf")
    reference = part_of.get("reference") if isinstance(part_of, dict) else None
    if isinstance(reference, str) and reference.startswith("Organization/sor-"):
        return reference.removeprefix("Organization/sor-")
    return None


async def may_send_as(store: Store, acting_sor: str, sender_sor: str) -> bool:
    """Whether an organisation may send as ``sender_sor``: itself, or a unit below it in the SOR tree."""
    current: str | None = sender_sor
    for _ in range(_MAX_DEPTH):
        if current is None:
            return False
        if current == acting_sor:
            return True
        organization = await _organization(store, current)
        current = _parent_sor(organization) if organization is not None else None
    return False


def _glns_of(organization: dict[str, object]) -> set[str]:
    """The unit's own GLN identifiers and the GLNs of the Endpoints it points to (``gln-<GLN>``)."""
    found: set[str] = set()
    for identifier in organization.get("identifier") or ():  # type: ignore[attr-defined]
        if isinstance(identifier, dict) and identifier.get("system") in GLN_SYSTEMS and identifier.get("value"):
            found.add(str(identifier["value"]))
    for endpoint in organization.get("endpoint") or ():  # type: ignore[attr-defined]
        reference = endpoint.get("reference") if isinstance(endpoint, dict) else None
        if isinstance(reference, str) and reference.startswith("Endpoint/gln-"):
            found.add(reference.removeprefix("Endpoint/gln-"))
    return found


def _has_sor(organization: dict[str, object], sor: str) -> bool:
    return any(
        isinstance(i, dict) and i.get("system") == SOR_SYSTEM and i.get("value") == sor
        for i in organization.get("identifier") or ()  # type: ignore[attr-defined]
    )


def _refusal(code: str, text: str) -> list[Issue]:
    return [Issue("error", "not-found" if code == RECEIVER_UNKNOWN else "not-supported", text, (_RECEIVER,), code)]


async def resolve_receiver(
    store: Store, parties: Parties, kind: MessageType
) -> tuple[ReceiverEndpoint | None, list[Issue]]:
    """The registered endpoint of the primary receiver, or the refusal (MedCom error code) why there is none.

    The receiving unit and its endpoint register entry are read together (one round trip).
    """
    keys = [("Organization", organization_id(parties.receiver_sor)), ("Endpoint", endpoint_id(parties.receiver_gln))]
    found = {stored.resource_type: stored for stored in await store.read_many(keys)}
    unit = found.get("Organization")
    organization = unit.resource() if unit is not None and not unit.deleted else None
    if organization is None or organization.get("active") is False or not _has_sor(organization, parties.receiver_sor):
        return None, _refusal(RECEIVER_UNKNOWN, "The receiving SOR unit is not in the SOR register or not active")
    if parties.receiver_gln not in _glns_of(organization):
        return None, _refusal(RECEIVER_UNKNOWN, "The receiver's GLN is not the GLN the SOR register gives the unit")
    endpoint = endpoint_of(found.get("Endpoint"), parties.receiver_gln)
    if endpoint is None:
        return None, _refusal(RECEIVER_UNKNOWN, "No endpoint is registered for the receiver's GLN")
    if kind.event != "acknowledgement-message" and (kind.event, kind.version) not in endpoint.accepts:
        return None, _refusal(TYPE_NOT_ACCEPTED, f"The receiver does not accept {kind.event} version {kind.version}")
    return endpoint, []
