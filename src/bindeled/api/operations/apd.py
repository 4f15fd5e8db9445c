"""APD-DK over HTTP: ``POST /fhir/Appointment/$import-apd`` and ``GET /fhir/Appointment/{id}/$apd``.

``$import-apd`` takes an APD-DK 2.0.1 document (CDA XML: ``application/xml``, ``text/xml`` or
``application/hl7-cda+xml``) and answers with the stored Appointment (201 when new, 200 for a new
version of a known one) and its ``Location``. APD-DK has no element for a municipal appointment's
legal basis; the ``legal-basis`` parameter (a code such as ``SEL-83``) gives it when the document
does not. ``$apd`` answers with the APD-DK document of the Appointment's current version
(``application/xml``). Both pass the security gate like any REST interaction; a malformed document
is a 400 or 422 OperationOutcome whose location is an XPath, and nothing is written.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from ...errors import InvalidRequest, UnsupportedMediaType
from ...overview.apd import export_apd, import_apd
from ..negotiation import http_date
from ..rendering import fhir_response, read_body
from ..services import base_url, services

__all__ = ["apd_export", "apd_import"]

CDA_MEDIA_TYPES = frozenset({"application/xml", "text/xml", "application/hl7-cda+xml"})
_LEGAL_BASIS = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-]{0,63}\Z")


async def apd_import(request: Request) -> Response:
    svc = services(request)
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media not in CDA_MEDIA_TYPES:
        raise UnsupportedMediaType("$import-apd takes an APD-DK document as application/xml")
    legal_basis = request.query_params.get("legal-basis") or None
    if legal_basis is not None and not _LEGAL_BASIS.match(legal_basis):
        raise InvalidRequest("legal-basis must be a code such as SEL-83", location=("legal-basis",))
    body = await read_body(request, svc.settings.max_body_bytes)
    result = (await import_apd(svc.repo, body, legal_basis=legal_basis)).appointment
    stored = result.stored
    headers = {
        "ETag": stored.etag,
        "Last-Modified": http_date(stored.last_updated),
        "Location": f"{base_url(request)}/Appointment/{stored.id}/_history/{stored.version_id}",
    }
    return fhir_response(request, stored.body, svc.definitions, status=201 if result.created else 200, headers=headers)


async def apd_export(request: Request) -> Response:
    svc = services(request)
    document = await export_apd(svc.repo, request.path_params["id"])
    return Response(document, media_type="application/xml; charset=utf-8")
