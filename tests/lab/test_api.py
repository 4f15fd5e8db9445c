"""The public names of the lab packages are pinned."""

from __future__ import annotations

from bindeled import lab
from bindeled.lab import hl7v2


def test_lab_public_names() -> None:
    assert sorted(lab.__all__) == sorted(
        [
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
    )
    assert all(hasattr(lab, name) for name in lab.__all__)


def test_hl7v2_public_names() -> None:
    assert sorted(hl7v2.__all__) == sorted(
        [
            "Ack",
            "AckCode",
            "AckError",
            "Encoding",
            "ErrorCode",
            "ErrorLocation",
            "Field",
            "FrameDecoder",
            "Hl7Error",
            "MappedMessage",
            "MappedResult",
            "Message",
            "MllpClient",
            "MllpServer",
            "ResultKey",
            "Segment",
            "frame",
            "map_oru_r01",
            "parse",
            "serialise",
        ]
    )
    assert all(hasattr(hl7v2, name) for name in hl7v2.__all__)


def test_code_map_ships_with_the_package() -> None:
    table = lab.default_code_map()
    assert len(table) > 30
    organism = table.lookup("any-lab", "ECOL")
    assert organism is not None
    assert (organism.system, organism.code, organism.kind) == ("http://snomed.info/sct", "112283007", "organism")
