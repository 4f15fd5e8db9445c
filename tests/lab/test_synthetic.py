"""The synthetic message generator: realistic content that the intake accepts."""

from __future__ import annotations

import random

import pytest

from bindeled.lab import MemorySink, receive_er7, synthetic_case, synthetic_stream
from bindeled.lab.hl7v2 import er7
from bindeled.lab.hl7v2.oru_r01 import map_oru_r01

pytestmark = pytest.mark.anyio


async def test_stream_is_accepted_and_current_versions_are_the_latest(sink: MemorySink) -> None:
    messages = list(synthetic_stream(60, seed=11))
    for text in messages:
        assert (await receive_er7(text.encode(), sink)).code.value == "AA"
    assert await sink.quarantined(None) == []
    for key in sink.result_keys():
        versions = await sink.versions(key)
        current = await sink.current(key)
        assert current is versions[-1]


def test_cases_cover_the_organisms_and_kinds() -> None:
    rng = random.Random(2)
    cases = [synthetic_case(rng) for _ in range(200)]
    assert {c.kind for c in cases} == {"blood", "urine", "cdiff"}
    organisms = {c.organism[0] for c in cases if c.organism}
    assert organisms == {"ECOL", "SAUR", "KPNE", "EFAE"}
    assert any(c.toxin_positive for c in cases)
    assert all(c.cfu_per_ml for c in cases if c.kind == "urine" and c.organism)


def test_versions_share_the_key_and_a_correction_changes_a_category() -> None:
    case = synthetic_case(random.Random(4), "blood")
    assert case.organism is not None
    final, corrected = (map_oru_r01(er7.parse(case.message(s))).results[0] for s in ("F", "C"))
    assert final.key == corrected.key
    assert (final.status, corrected.status) == ("final", "corrected")

    def categories(result: object) -> list[str]:
        observations = [r for r in result.resources if r["resourceType"] == "Observation"]  # type: ignore[attr-defined]
        return [o["interpretation"][0]["coding"][0]["code"] for o in observations if "interpretation" in o]

    assert categories(final) != categories(corrected)
    assert len(categories(final)) == len(case.panel)


def test_preliminary_has_no_panel() -> None:
    case = synthetic_case(random.Random(4), "urine")
    text = case.message("P")
    assert "|MIC" not in text
    assert "CFU/mL" in text
