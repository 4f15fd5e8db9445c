"""Transport envelopes around MedCom messages: VANS (today's network) and EHMI SBDH (its successor).

Envelope receipts (VANS envelope acknowledgements, SBDH ReceiptAcknowledgement signals) belong to
the envelope and are kept apart from the FHIR Acknowledgement message, which they never replace.
"""

from __future__ import annotations

from . import sbdh, vans
from .sbdh import SbdhEnvelope, Scope, read_sbdh, write_sbdh
from .vans import VansEnvelope, VansReceipt, read_vans, write_vans

__all__ = [
    "SbdhEnvelope",
    "Scope",
    "VansEnvelope",
    "VansReceipt",
    "read_sbdh",
    "read_vans",
    "sbdh",
    "vans",
    "write_sbdh",
    "write_vans",
]
