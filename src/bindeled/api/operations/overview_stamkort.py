"""The Fælles Stamkort: ``Patient/{id}/$stamkort`` (read, edit) and ``Patient/{id}/$stamkort-pdc`` (export).

* ``GET`` — the card as a ``Parameters`` resource: ``register`` (read-only), ``editable`` and one
  ``change`` per edit (who, role, organisation, when, which fields).
* ``PATCH`` (or ``POST``) with a ``Parameters`` body — edit the editable fields (see
  :mod:`bindeled.overview.stamkort_edit`); the answer is the card after the edit. Register fields →
  422 ``field_read_only``; an editor without the right → 403.
* ``GET …/$stamkort-pdc`` — the card as a PDC-DK-shaped CDA document (``application/xml``).

The representation (Patient + RelatedPerson + Provenance with bindeled extensions) is described in
:mod:`bindeled.overview.stamkort_model`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from ...fhir.jsonio import Resource
from ...overview.card import card_of, edit_card, hides_address, relatives_of
from ...overview.pdc import pdc_document
from ...overview.sor_units import read_reference
from ...overview.stamkort_edit import parse_edit
from ...overview.stamkort_model import DENTIST, ext_values
from ...store.guard import current_guard
from ..rendering import fhir_response, read_resource
from ..services import services

__all__ = ["stamkort_operation", "stamkort_pdc_operation"]


async def _card(request: Request, patient_id: str) -> Response:
    svc = services(request)
    _patient, card, _left_out = await card_of(svc.repo, patient_id)
    parameters: Resource = {"resourceType": "Parameters", "parameter": card}
    return fhir_response(request, parameters, svc.definitions)


async def stamkort_operation(request: Request) -> Response:
    svc = services(request)
    patient_id = request.path_params["id"]
    if request.method in ("PATCH", "POST"):
        edit = parse_edit(await read_resource(request, svc.settings.max_body_bytes, svc.definitions))
        await edit_card(svc.repo, patient_id, edit, datetime.now(UTC))
    return await _card(request, patient_id)


async def stamkort_pdc_operation(request: Request) -> Response:
    svc = services(request)
    patient_id = request.path_params["id"]
    patient = (await svc.repo.read("Patient", patient_id)).resource()
    relatives = await relatives_of(svc.repo, patient_id) or []
    gps = patient.get("generalPractitioner") or [None]
    gp = await read_reference(svc.store, gps[0], "Organization")
    dentists = ext_values(patient, DENTIST) or [None]
    dentist = await read_reference(svc.store, dentists[0], "Organization")
    hide = await hides_address(svc.repo, current_guard(), patient)
    document = pdc_document(
        patient, relatives, gp, dentist, hide_address=hide, now=datetime.now(UTC), document_id=str(uuid.uuid4())
    )
    return Response(document, media_type="application/xml")
