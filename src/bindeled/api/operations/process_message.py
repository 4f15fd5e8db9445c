"""``POST [base]/$process-message``: the MedCom message hub's door (issue #6).

Who may call: a sender *system* acting for an organisation — a SMART backend-services token
(``user_type`` system) or a staff token naming its system — with purpose of use ``MESSAGING``
and a scope that allows creating Bundles; administrators too. The caller may send only as its own
organisation or a unit below it in the SOR tree (MessageHeader.sender's SOR code), else 403.

The answer (body in the format ``Accept`` asks for, JSON by default):

======================================================  =====  ============================================
transmission                                            HTTP   body
======================================================  =====  ============================================
a message (valid or not) that can be acknowledged       200    the Acknowledgement Bundle (``ok`` or
                                                               ``fatal-error``), also queued to the sender
a copy of a letter received before                      200    the original Acknowledgement (same envelope)
                                                               or one with the same content (new envelope)
a valid Acknowledgement                                 200    OperationOutcome (information)
not a message Bundle with its MessageHeader first       400    OperationOutcome
a message that cannot be answered (no ids, no SOR/GLN   422    OperationOutcome (nothing stored)
parties, no source endpoint) or an invalid
Acknowledgement (acknowledgements are never answered)
a sender the caller may not send as                     403    OperationOutcome (nothing stored)
======================================================  =====  ============================================
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from ...errors import Forbidden, Issue
from ...fhir.outcome import operation_outcome
from ...messaging.hub.receive import Hub, SenderRefused
from ...messaging.profiles import ValidatorPool
from ...security.guard import RequestGuard
from ...store.guard import current_guard
from ..negotiation import FHIR_XML, body_format
from ..rendering import fhir_response, parse_resource, read_body
from ..services import Services, services

__all__ = ["hub_of", "process_message"]

MESSAGING = "MESSAGING"


def hub_of(request: Request) -> Hub:
    """This process's hub, made on first use (its validators compile lazily, one per message type)."""
    state = request.app.state
    hub: Hub | None = getattr(state, "medcom_hub", None)
    if hub is None:
        svc: Services = services(request)
        folder = svc.settings.medcom_packages_dir or svc.settings.fhir_package_cache
        pool = ValidatorPool(svc.definitions, Path(folder).expanduser())
        hub = Hub(svc.store, svc.repo, svc.definitions, pool)
        state.medcom_hub = hub
    return hub


async def _authorize() -> tuple[bool, str | None]:
    """(administrator?, the organisation the caller sends for); 403 for callers that are not senders."""
    guard = current_guard()
    await guard.allow("create", "Bundle")
    if not isinstance(guard, RequestGuard) or guard.session.principal.admin:
        return True, None
    principal = guard.session.principal
    if principal.purpose != MESSAGING:
        raise Forbidden("Sending messages needs the purpose of use MESSAGING", details_code="purpose_not_messaging")
    if principal.organisation_sor is None or principal.system_name is None:
        raise Forbidden("Only a system acting for an organisation may send messages", details_code="not_a_sender")
    return False, principal.organisation_sor


async def process_message(request: Request) -> Response:
    svc = services(request)
    admin, sor = await _authorize()
    raw = await read_body(request, svc.settings.max_body_bytes)
    fmt = body_format(request)
    bundle = parse_resource(raw, fmt, svc.definitions)
    try:
        receipt = await hub_of(request).receive(
            raw, FHIR_XML if fmt == "xml" else "application/fhir+json", bundle, acting_sor=sor, admin=admin
        )
    except SenderRefused as refused:
        raise Forbidden(str(refused), details_code="sender_not_permitted") from refused
    if receipt.acknowledgement is not None:
        return fhir_response(request, receipt.acknowledgement, svc.definitions)
    text = f"Acknowledgement received ({receipt.response_code}); {receipt.verdict}"
    return fhir_response(request, operation_outcome([Issue("information", "informational", text)]), svc.definitions)
