"""Mapped national lab codes → the terms HAIBA's code lists use, kept as data (``data/vocabulary.csv``).

The lab intake stores each code twice: the laboratory's local coding and, when the code map has a row,
the mapped national coding. Surveillance reads the mapped one only (DOMAIN.md 6.2); this table turns it
into HAIBA's vocabulary (``blood``, ``culture`` …). Organisms need no table: their mapped coding's
display is the taxon name HAIBA's organism and contaminant lists match on.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

__all__ = ["LOCAL_PREFIX", "Vocabulary", "default_vocabulary", "national_codings"]

LOCAL_PREFIX = "urn:bindeled:lab:"
"""Local codings carry ``urn:bindeled:lab:<laboratory>:codes``; every other system is a mapped one."""

_KINDS = frozenset({"analysis", "material", "finding"})


def national_codings(concept: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    """The mapped (non-local) codings of a CodeableConcept, in order."""
    codings = (concept or {}).get("coding") or []
    return [c for c in codings if not str(c.get("system", "")).startswith(LOCAL_PREFIX)]


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """(kind, system, code) → term."""

    terms: Mapping[tuple[str, str, str], str]

    def term(self, kind: str, concept: Mapping[str, Any] | None) -> str | None:
        """The term of the first mapped coding of ``concept`` that has a row for ``kind``."""
        for coding in national_codings(concept):
            found = self.terms.get((kind, str(coding.get("system", "")), str(coding.get("code", ""))))
            if found is not None:
                return found
        return None

    @classmethod
    def from_csv(cls, text: str) -> Vocabulary:
        lines = [line for line in io.StringIO(text) if line.strip() and not line.lstrip().startswith("#")]
        return cls(dict(_rows(csv.DictReader(lines))))


def _rows(reader: Iterable[dict[str, str]]) -> Iterable[tuple[tuple[str, str, str], str]]:
    for row in reader:
        if row["kind"] not in _KINDS:
            raise ValueError(f"vocabulary.csv: unknown kind {row['kind']!r}")
        yield (row["kind"], row["system"], row["code"]), row["term"]


@cache
def default_vocabulary() -> Vocabulary:
    """The table shipped with bindeled."""
    text = files("bindeled.surveillance.extract").joinpath("data/vocabulary.csv").read_text(encoding="utf-8")
    return Vocabulary.from_csv(text)
