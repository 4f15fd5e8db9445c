"""The public surface of ``bindeled.surveillance.haiba`` is pinned."""

from __future__ import annotations

from bindeled.surveillance import haiba


def test_public_names() -> None:
    assert sorted(haiba.__all__) == sorted(
        [
            "DEFINITIONS",
            "LEVELS",
            "SCHEMAS",
            "Bound",
            "CodeLists",
            "CommensalPair",
            "Definition",
            "EpisodeRule",
            "HaibaData",
            "HaibaResult",
            "Infection",
            "InfectionRule",
            "definition",
            "load_codelists",
            "run",
        ]
    )
    assert all(hasattr(haiba, name) for name in haiba.__all__)
    assert haiba.DEFINITIONS == ("haiba", "haiba-2015", "ecdc", "nhsn")
