"""The card's fields on every Patient write: register data is read-only, editable data goes through the card.

Outside trusted jobs (register imports) and administrators, an update or patch of a Patient that
changes a register field is refused with 422 ``field_read_only``, and one that changes an editable card
field with 422 ``use_stamkort_edit`` — the card's own edit (``PATCH Patient/{id}/$stamkort``) records
who changed what. Other elements of the Patient are not the card's business.
"""

from __future__ import annotations

from ..errors import Unprocessable
from ..fhir.jsonio import Resource
from ..store.repository import PendingWrite
from .principals import is_trusted
from .stamkort_model import editable_view, register_view

__all__ = ["patient_card_rule"]


async def patient_card_rule(write: PendingWrite) -> Resource | None:
    if write.resource_type != "Patient" or write.before is None or write.after is None or is_trusted(write.guard):
        return None
    before, after = register_view(write.before), register_view(write.after)
    for name in before:
        if before[name] != after[name]:
            raise Unprocessable(
                f"The card field {name!r} comes from a register and cannot be changed",
                details_code="field_read_only",
                location=(f"Patient.{name}",),
            )
    if editable_view(write.before) != editable_view(write.after):
        raise Unprocessable(
            "Card fields are changed through PATCH Patient/{id}/$stamkort, which records who changed what",
            details_code="use_stamkort_edit",
            location=("Patient",),
        )
    return None
