"""MiBa lab results over HTTP (FHIR result Bundles in, the operators' quarantine) and the intake workers.

The workers (:func:`mllp_worker`, :func:`file_intake_worker`) run for the server's lifetime when
``mllp_enabled`` / ``lab_intake_dir`` are set; every channel stores through the same
:class:`~bindeled.lab.store_sink.StoreSink`.

* ``POST /fhir/$lab-results`` — a Bundle of DiagnosticReports (with their Patient, Specimen and
  Observations) from a laboratory system; mapped and stored exactly like an HL7 v2 ORU^R01
  (:func:`~bindeled.lab.fhir_intake.map_fhir_bundle`, :class:`~bindeled.lab.store_sink.StoreSink`), all
  reports in one transaction. Laboratory systems (user type ``system``) and administrators only.
* ``GET /fhir/$lab-quarantine[?status=held|replayed|discarded|all]`` — the quarantined messages, oldest
  first: id, arrival, channel, control id, status, attempts and the error (segment, sequence, field, HL7
  code, text). Never the message itself, so a listing carries no CPR number.
* ``GET /fhir/$lab-quarantine/{id}`` — one record with the message: as received (text and base64) for
  administrators, with the person's identifying fields masked for platform operators
  (:mod:`bindeled.lab.masking`), who see no citizen's data.
* ``POST /fhir/$lab-quarantine/{id}/$replay`` — run it through intake again; a body (the operator's
  corrected message as ``text/plain`` or ``x-application/hl7-v2+er7``) replaces it first.
* ``POST /fhir/$lab-quarantine/{id}/$discard`` — mark it as not to be processed (kept for audit).

The quarantine is for platform operators and administrators only (``operator_only`` otherwise).
Answers are FHIR ``Parameters``.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from ...errors import InvalidRequest, NotFound
from ...fhir.jsonio import Resource
from ...lab import QuarantineRecord, QuarantineStatus, discard, inspect, map_fhir_bundle, receive_folder, replay
from ...lab.current_view import current_ids
from ...lab.listener import mllp_listener
from ...lab.masking import masked_message
from ...lab.store_sink import StoreSink
from ...security.errors import AccessRefused
from ...security.guard import current_principal, require_operator
from ..rendering import fhir_response, read_body, read_resource
from ..services import services
from ..workers import background_task

if TYPE_CHECKING:
    from ..services import Services

__all__ = [
    "file_intake_worker",
    "lab_results",
    "mllp_worker",
    "quarantine_discard",
    "quarantine_list",
    "quarantine_read",
    "quarantine_replay",
]

_STATUSES = {status.value: status for status in QuarantineStatus}

log = logging.getLogger(__name__)


@asynccontextmanager
async def file_intake_worker(svc: Services) -> AsyncIterator[None]:
    """Read the ``*.hl7`` files dropped in ``lab_intake_dir`` every ``lab_intake_poll_seconds`` (when set)."""
    folder = svc.settings.lab_intake_dir
    if not folder:
        yield
        return
    watch = _watch(Path(folder), StoreSink(svc.repo), svc.settings.lab_intake_poll_seconds)
    async with background_task(watch, "lab-file-intake"):
        yield


async def _watch(folder: Path, sink: StoreSink, every: float) -> None:
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    while True:
        try:
            await receive_folder(folder, sink)
        except OSError as error:  # the folder may be briefly unavailable (a network share)
            log.warning("lab file intake could not read its folder", extra={"error_type": type(error).__name__})
        await asyncio.sleep(every)


@asynccontextmanager
async def mllp_worker(svc: Services) -> AsyncIterator[None]:
    """The MLLP listener for the server's lifetime, when ``mllp_enabled`` is set."""
    settings = svc.settings
    if not settings.mllp_enabled:
        yield
        return
    async with mllp_listener(svc.repo, settings.mllp_host, settings.mllp_port, settings.mllp_max_frame_bytes):
        yield


def _require_laboratory() -> None:
    """Only laboratory systems (user type ``system``) and administrators post results."""
    principal = current_principal()
    if principal is not None and not (principal.admin or principal.user_type == "system"):
        raise AccessRefused("Only laboratory systems may post lab results", "lab_results_system_only")


def _parameters(*parameters: Resource) -> Resource:
    return {"resourceType": "Parameters", "parameter": list(parameters)}


def _part(name: str, kind: str, value: Any) -> Resource:
    return {"name": name, f"value{kind}": value}


def _record_parts(record: QuarantineRecord, *, source: str) -> list[Resource]:
    where = record.error.where
    parts = [
        _part("id", "String", record.id),
        _part("received", "Instant", record.received.isoformat(timespec="milliseconds")),
        _part("source", "String", source),
        _part("status", "Code", record.status.value),
        _part("attempts", "Integer", record.attempts),
        _part("segment", "String", where.segment_id),
        _part("sequence", "Integer", where.sequence),
        _part("errorCode", "Code", record.error.code.number),
        _part("error", "String", record.error.text),
    ]
    if record.control_id:
        parts.insert(3, _part("controlId", "String", record.control_id))
    if where.field:
        parts.insert(-2, _part("field", "Integer", where.field))
    return parts


def _record(record: QuarantineRecord, *, source: str, extra: list[Resource] | None = None) -> Resource:
    return {"name": "record", "part": [*_record_parts(record, source=source), *(extra or [])]}


def _channel(record: QuarantineRecord) -> str:
    """The channel only: a file name may carry personal data."""
    return record.source.split(":", maxsplit=1)[0]


async def quarantine_list(request: Request) -> Response:
    require_operator()
    svc = services(request)
    wanted = request.query_params.get("status", "held")
    if wanted != "all" and wanted not in _STATUSES:
        raise InvalidRequest("status is held, replayed, discarded or all", location=("status",))
    records = await inspect(StoreSink(svc.repo), None if wanted == "all" else _STATUSES[wanted])
    body = _parameters(*(_record(r, source=_channel(r)) for r in records))
    return fhir_response(request, body, svc.definitions)


async def quarantine_read(request: Request) -> Response:
    require_operator()
    svc = services(request)
    record = await StoreSink(svc.repo).quarantine_record(request.path_params["id"])
    if record is None:
        raise NotFound("No such quarantine record", location=("id",))
    principal = current_principal()
    if principal is None or principal.admin:
        parts = [
            _part("message", "String", record.raw.decode("utf-8", "replace")),
            _part("raw", "Base64Binary", base64.b64encode(record.raw).decode("ascii")),
        ]
    else:  # a platform operator sees the structure, not the person
        parts = [_part("message", "String", masked_message(record.raw))]
    return fhir_response(request, _parameters(_record(record, source=record.source, extra=parts)), svc.definitions)


async def quarantine_replay(request: Request) -> Response:
    require_operator()
    svc = services(request)
    sink = StoreSink(svc.repo)
    corrected = await read_body(request, svc.settings.mllp_max_frame_bytes) or None
    ack = await replay(sink, request.path_params["id"], corrected=corrected)
    record = await sink.quarantine_record(request.path_params["id"])
    assert record is not None
    body = _parameters(_part("acknowledgement", "Code", ack.code.value), _record(record, source=record.source))
    return fhir_response(request, body, svc.definitions)


async def quarantine_discard(request: Request) -> Response:
    require_operator()
    svc = services(request)
    record = await discard(StoreSink(svc.repo), request.path_params["id"])
    return fhir_response(request, _parameters(_record(record, source=record.source)), svc.definitions)


async def lab_results(request: Request) -> Response:
    """``POST /fhir/$lab-results``: a laboratory system's result Bundle, stored in one transaction."""
    _require_laboratory()
    svc = services(request)
    bundle = await read_resource(request, svc.settings.max_body_bytes, svc.definitions)
    if bundle.get("resourceType") != "Bundle":
        raise InvalidRequest("$lab-results takes a Bundle", location=("resourceType",))
    svc.repo.validate(bundle)
    results = map_fhir_bundle(bundle)
    outcomes = await StoreSink(svc.repo).store_all(results)
    answers = []
    for result, outcome in zip(results, outcomes, strict=True):
        report = next(v for k, v in current_ids(result).items() if k.startswith("DiagnosticReport/"))
        answers.append(
            {
                "name": "result",
                "part": [_part("outcome", "Code", outcome.value), _part("report", "Reference", {"reference": report})],
            }
        )
    return fhir_response(request, _parameters(*answers), svc.definitions)
