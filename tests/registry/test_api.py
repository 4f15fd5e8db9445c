"""The registry package's public names are pinned."""

from __future__ import annotations

from bindeled import registry


def test_public_names() -> None:
    assert sorted(registry.__all__) == sorted(
        [
            "Address",
            "AmbiguousLookup",
            "ChangeKind",
            "Contact",
            "EanLocation",
            "EntityChange",
            "FieldChange",
            "ImportResult",
            "Inherited",
            "Level",
            "LoadIssue",
            "Resolved",
            "SorDiff",
            "SorEntity",
            "SorExport",
            "SorFormatError",
            "SorLookup",
            "SorTree",
            "Validity",
            "diff_trees",
            "dump_export",
            "import_into",
            "is_valid_gln",
            "iter_entities",
            "load_export",
            "synthetic_region",
            "tree_resources",
            "write_export",
        ]
    )
    assert all(hasattr(registry, name) for name in registry.__all__)
