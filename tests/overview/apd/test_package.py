"""The APD-DK package's public names are pinned."""

from __future__ import annotations

from bindeled.overview import apd


def test_public_names() -> None:
    assert sorted(apd.__all__) == [
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
    assert all(hasattr(apd, name) for name in apd.__all__)
