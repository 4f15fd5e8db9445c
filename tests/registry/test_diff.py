"""Re-importing a newer export: what was added, changed, ended and removed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bindeled.registry import ChangeKind, FieldChange, SorTree, diff_trees, load_export

SECTION_END = "</OrganizationalUnitInformation>\n\t\t\t\t\t</OrganizationalUnit>\n\t\t\t\t</OrganizationalUnitEntity>"


@pytest.fixture
def original(sor_dir: Path) -> str:
    return (sor_dir / "ONE_SYGEHUS.xml").read_text(encoding="utf-8-sig")


def tree_of(text: str) -> SorTree:
    return SorTree.from_export(load_export(text.encode()))


def test_same_export_has_no_changes(original: str) -> None:
    result = diff_trees(tree_of(original), tree_of(original))
    assert not result
    assert result.counts() == {"added": 0, "changed": 0, "ended": 0, "removed": 0, "unchanged": 4}


def test_newer_export(original: str) -> None:
    newer = original.replace("46361266", "46360000")  # owner's phone
    newer = newer.replace(">8</dkcc:StreetBuildingIdentifier>", ">10</dkcc:StreetBuildingIdentifier>")
    newer = newer.replace(  # the section closes
        "<FromDate>2009-10-08</FromDate>\n\t\t\t\t\t\t\t<UpdatedAt>2009-10-01</UpdatedAt>",
        "<FromDate>2009-10-08</FromDate>\n\t\t\t\t\t\t\t<ToDate>2025-12-31</ToDate><UpdatedAt>2025-11-01</UpdatedAt>",
    )
    assert newer.count("<ToDate>") == 1
    added = (
        "<OrganizationalUnitEntity><OrganizationalUnit><SorIdentifier>347841000016002</SorIdentifier>"
        "<EntityName>Ny klinik</EntityName><ShakIdentifier>2529011</ShakIdentifier></OrganizationalUnit>"
        "</OrganizationalUnitEntity>"
    )
    anchor = "</OrganizationalUnitEntity>\n\t\t</HealthInstitutionEntity>"
    assert anchor in newer
    newer = newer.replace(anchor, added + anchor)
    result = diff_trees(tree_of(original), tree_of(newer))
    assert result.counts() == {"added": 1, "changed": 1, "ended": 1, "removed": 0, "unchanged": 2}
    (added_change,) = result.of_kind(ChangeKind.ADDED)
    assert added_change.sor_code == "347841000016002"
    (changed,) = result.of_kind(ChangeKind.CHANGED)
    assert changed.sor_code == "347801000016001"
    assert set(changed.changes) == {
        FieldChange("contact.phone", "46361266", "46360000"),
        FieldChange("postal_address.building", "8", "10"),
    }
    (ended,) = result.of_kind(ChangeKind.ENDED)
    assert ended.sor_code == "347831000016005"
    assert FieldChange("validity.to_date", None, date(2025, 12, 31)) in ended.changes
    assert FieldChange("validity.updated_at", date(2009, 10, 1), date(2025, 11, 1)) in ended.changes


def test_removed_unit_and_whole_record_changes(original: str) -> None:
    start = original.index("<OrganizationalUnitEntity>\n\t\t\t\t\t<OrganizationalUnit>")
    end = original.index(SECTION_END) + len(SECTION_END)
    without_section = original[:start] + original[end:]
    newer = without_section.replace(
        "<ShakIdentifier>2529</ShakIdentifier>",
        "<ShakIdentifier>2529</ShakIdentifier><EanLocationCodeEntity><EanLocationCode>5790000141227"
        "</EanLocationCode></EanLocationCodeEntity>",
    )
    result = diff_trees(tree_of(original), tree_of(newer))
    assert [(c.sor_code, c.kind) for c in result.changes] == [
        ("347811000016004", ChangeKind.CHANGED),
        ("347831000016005", ChangeKind.REMOVED),
    ]
    (change,) = result.changes[0].changes
    assert change.field == "ean" and change.old is None and change.new is not None


def test_end_date_moved_earlier_counts_as_ended(original: str) -> None:
    def ending(day: str) -> str:
        return original.replace(
            "<FromDate>2009-10-07</FromDate>", f"<FromDate>2009-10-07</FromDate><ToDate>{day}</ToDate>"
        )

    earlier = diff_trees(tree_of(ending("2030-01-01")), tree_of(ending("2026-01-01")))
    assert [c.kind for c in earlier.changes] == [ChangeKind.ENDED]
    later = diff_trees(tree_of(ending("2026-01-01")), tree_of(ending("2030-01-01")))
    assert [c.kind for c in later.changes] == [ChangeKind.CHANGED]
