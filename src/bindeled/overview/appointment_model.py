"""The shape of an appointment in the Aftaleoversigt, shared by the REST rules, APD-DK and reminders.

An appointment is a FHIR R4 ``Appointment``:

* the citizen is ``participant[].actor = Patient/{id}``; a meeting place registered in SOR is
  ``participant[].actor = Location/{id}``; a meeting at the citizen's home sets ``AT_HOME`` true;
* ``start``/``end`` carry the period. An open end (all-day or not yet known) sets ``OPEN_END`` true and
  ``end`` then holds a placeholder equal to ``start`` (invariant app-3 wants both for booked/active
  appointments); readers must ignore ``end`` when ``OPEN_END`` is true;
* ``OWNER_TYPE`` (``municipal`` | ``regional`` | ``practice``), ``PERFORMER`` (the SOR unit doing it,
  ``Organization/{id}``) and ``CUSTODIAN`` (``Organization/{id}``) say who owns it; only users of the
  performer's or custodian's SOR subtree may change it;
* ``CONTACT_PHONE`` is the phone number for the appointment (inherited from SOR when the unit has one);
* ``LEGAL_BASIS`` (a Coding in ``LEGAL_BASIS_SYSTEM``, e.g. ``SEL-83``) is required for municipal ones;
* ``TIME_IS_GUIDE`` marks a time that is only a guide (an interval), ``REPETITION_ID`` a series id;
* the reason is ``reasonCode[]`` (text and/or coding);
* a change is a new version of the same Appointment (FHIR update); a cancellation is
  ``status = cancelled``: the version is kept for audit and left out of the overview.
"""

from __future__ import annotations

__all__ = [
    "AT_HOME",
    "CONTACT_PHONE",
    "CUSTODIAN",
    "EXT",
    "LEGAL_BASIS",
    "LEGAL_BASIS_SYSTEM",
    "OPEN_END",
    "OWNER_TYPE",
    "OWNER_TYPES",
    "PERFORMER",
    "REPETITION_ID",
    "TIME_IS_GUIDE",
]

EXT = "https://bindeled.dk/fhir/StructureDefinition/"
OWNER_TYPE = EXT + "appointment-owner-type"  # valueCode: municipal | regional | practice
PERFORMER = EXT + "appointment-performer"  # valueReference: Organization/{id} (the SOR unit that performs it)
CUSTODIAN = EXT + "appointment-custodian"  # valueReference: Organization/{id}
TIME_IS_GUIDE = EXT + "appointment-time-is-guide"  # valueBoolean
REPETITION_ID = EXT + "appointment-repetition-id"  # valueString
LEGAL_BASIS = EXT + "appointment-legal-basis"  # valueCoding, system LEGAL_BASIS_SYSTEM
AT_HOME = EXT + "appointment-at-citizens-home"  # valueBoolean (location is the citizen's home)
CONTACT_PHONE = EXT + "appointment-contact-phone"  # valueContactPoint (system phone)
OPEN_END = EXT + "appointment-open-end"  # valueBoolean (end not yet known)
LEGAL_BASIS_SYSTEM = "https://bindeled.dk/fhir/CodeSystem/legal-basis"  # codes like "SEL-79a", "SEL-83", ...

OWNER_TYPES = ("municipal", "regional", "practice")
