"""FHIR R4 resource validation against the base definitions and profiles (DK-core, MedCom).

:class:`Validator` compiles a plan per resource type and profile once (``compile.py``) and runs
it over JSON trees (``walk.py``), returning :class:`~bindeled.errors.Issue` records with FHIRPath
locations. Invariants run through fhirpathpy (``invariants.py``); a few are checked natively or
skipped for documented reasons (:data:`NATIVE`, :data:`SKIPPED`).
"""

from __future__ import annotations

from .invariants import NATIVE, SKIPPED
from .snapshot import SnapshotError, generate_snapshot
from .validator import Validator

__all__ = ["NATIVE", "SKIPPED", "SnapshotError", "Validator", "generate_snapshot"]
