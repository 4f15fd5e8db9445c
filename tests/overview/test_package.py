"""The overview package's public names are pinned."""

from __future__ import annotations

from bindeled import overview


def test_public_names() -> None:
    assert sorted(overview.__all__) == [
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
    assert all(hasattr(overview, name) for name in overview.__all__)
