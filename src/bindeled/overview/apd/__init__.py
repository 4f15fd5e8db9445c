"""APD-DK, the national appointment document (CDA XML), in and out of bindeled's Appointments.

``reader`` reads a document into an :class:`~.model.ApdAppointment` (refusing malformed ones with
the XPath of the problem), ``writer`` writes one, ``mapping`` turns it into the shared Appointment
shape and back, and ``service`` does the look-ups and writes through the repository.
"""

from ._xml import ApdFormatError, ApdInvalid
from .mapping import References, to_apd, to_appointment
from .model import ApdAppointment, Citizen, Party, PostalAddress
from .reader import read_apd
from .service import ApdImport, export_apd, import_apd
from .writer import write_apd

__all__ = [
    "ApdAppointment",
    "ApdFormatError",
    "ApdImport",
    "ApdInvalid",
    "Citizen",
    "Party",
    "PostalAddress",
    "References",
    "export_apd",
    "import_apd",
    "read_apd",
    "to_apd",
    "to_appointment",
    "write_apd",
]
