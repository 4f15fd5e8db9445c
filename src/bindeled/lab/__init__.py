"""MiBa lab results in: HL7 v2 ORU^R01 over MLLP and files, and FHIR Bundles → FHIR, corrections, quarantine.

Flow 3 of the architecture: a message arrives (:class:`~bindeled.lab.hl7v2.mllp.MllpServer` with
:class:`Er7Handler`, or :func:`receive_folder`) and :func:`receive_er7` parses and maps it
(:mod:`bindeled.lab.hl7v2.oru_r01`); a FHIR Bundle goes through :func:`receive_fhir_bundle` instead.
The :class:`ResultSink` stores each version and decides with :mod:`bindeled.lab.corrections` whether it
becomes current; rejected messages go to the quarantine (:mod:`bindeled.lab.quarantine`).
:class:`StoreSink` is the sink on the FHIR store (every version kept, the current view as FHIR
resources, refused display labelled by :mod:`bindeled.lab.current_view`); ``bindeled serve`` runs the
MLLP listener (:mod:`bindeled.lab.listener`); :mod:`bindeled.lab.demo_results` loads a realistic
synthetic stream for the demo.
"""

from bindeled.lab.codes import CodeMap, MappedCode, default_code_map
from bindeled.lab.corrections import Outcome, Version, decide
from bindeled.lab.fhir_intake import map_fhir_bundle, receive_fhir_bundle
from bindeled.lab.file_intake import FileOutcome, receive_folder
from bindeled.lab.intake import Er7Handler, process_er7, receive_er7
from bindeled.lab.quarantine import QuarantineRecord, QuarantineStatus, discard, inspect, replay
from bindeled.lab.sink import MemorySink, ResultSink
from bindeled.lab.store_sink import StoreSink
from bindeled.lab.synthetic import SyntheticCase, synthetic_case, synthetic_stream

__all__ = [
    "CodeMap",
    "Er7Handler",
    "FileOutcome",
    "MappedCode",
    "MemorySink",
    "Outcome",
    "QuarantineRecord",
    "QuarantineStatus",
    "ResultSink",
    "StoreSink",
    "SyntheticCase",
    "Version",
    "decide",
    "default_code_map",
    "discard",
    "inspect",
    "map_fhir_bundle",
    "process_er7",
    "receive_er7",
    "receive_fhir_bundle",
    "receive_folder",
    "replay",
    "synthetic_case",
    "synthetic_stream",
]
