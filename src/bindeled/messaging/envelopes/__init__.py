"""Transport envelopes around MedCom messages: VANS (today's network) and EHMI SBDH (its successor).

Envelope receipts (VANS envelope acknowledgements, SBDH ReceiptAcknowledgement signals) belong to
the envelope and are kept apart from the FHIR Acknowledgement message, which they never replace.
"""

from __future__ import annotations

from .sbdh import SbdhEnvelope, Scope, envelope_for, read_sbdh, receipt_for, write_sbdh

__all__ = ["SbdhEnvelope", "Scope", "envelope_for", "read_sbdh", "receipt_for", "write_sbdh"]
