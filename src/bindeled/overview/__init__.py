"""Et Samlet Patientoverblik: the shared card, appointments from every sector, shared plans, the overview.

Modules, one concept each:

* ``appointment_model``  the FHIR Appointment shape every part uses (extensions, the open-end convention)
* ``appointment_rules``  the Aftaleoversigt's rules on every Appointment write (phone, legal basis, owner)
* ``plan_rules``         shared plans: owner-only writes, checked interventions
* ``patient_rules``      the card's register fields are read-only on every Patient write
* ``rules``              the write rules registered with the repository
* ``stamkort_model``     the Fælles Stamkort as Patient + RelatedPerson + Provenance, and its card view
* ``stamkort_edit``      parsing and applying card edits
* ``card``               reading and editing the card under the request's guard
* ``treatment``          treatment-relation evidence for card edits
* ``pdc``                the card as a PDC-DK-shaped CDA document
* ``patient_overview``   ``Patient/{id}/$overview``
* ``synthetic``          seeded synthetic overview data for the demo and the benchmark
* ``sor_units`` / ``principals`` / ``searching``   small look-ups the rules and views share

``apd`` (APD-DK import and export) and ``reminders`` (appointment reminders) are sub-packages of their own.
"""

from __future__ import annotations

from .card import card_of, edit_card
from .patient_overview import build_overview, is_current_or_coming
from .pdc import pdc_document
from .rules import overview_write_rules
from .stamkort_edit import CardEdit, apply_edit, parse_edit
from .synthetic import OverviewUnits, overview_units, synthetic_overview

__all__ = [
    "CardEdit",
    "OverviewUnits",
    "apply_edit",
    "build_overview",
    "card_of",
    "edit_card",
    "is_current_or_coming",
    "overview_units",
    "overview_write_rules",
    "parse_edit",
    "pdc_document",
    "synthetic_overview",
]
