"""Code lists kept as data: contaminants, specimen materials and defining organisms.

HAIBA's published rules name the lists only by their first entries (DOMAIN.md 7), so the lists are
files shipped in ``data/`` that an epidemiologist edits without touching code. Their checksum goes
into every definition version, so a changed list can never pass for the old one.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import polars as pl

from bindeled.errors import Unprocessable

__all__ = ["CodeLists", "load_codelists"]

_FILES = ("contaminants.csv", "materials.csv", "organisms.csv")
_MATCHES = frozenset({"genus", "species", "except"})


@dataclass(frozen=True, slots=True)
class CodeLists:
    """The three lists, as plain tuples so a definition stays hashable and comparable."""

    contaminants: tuple[tuple[str, str, str], ...]
    """``(match, taxon, group)`` rows; match is ``genus``, ``species`` or ``except``."""
    materials: tuple[tuple[str, str], ...]
    """``(infection, material)``: the materials whose cultures count for an infection type."""
    organisms: tuple[tuple[str, str], ...]
    """``(infection, organism)``: organisms that define an infection type (C. difficile)."""
    digest: str
    """First 12 hex digits of the SHA-256 over the three files, recorded in the definition version."""

    def materials_for(self, infection: str) -> frozenset[str]:
        return frozenset(m for i, m in self.materials if i == infection)

    def organisms_for(self, infection: str) -> frozenset[str]:
        return frozenset(o for i, o in self.organisms if i == infection)

    def classify(self, organisms: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        """Expressions ``(is_contaminant, commensal_group)`` for a column of organism names."""
        species = {t: g for m, t, g in self.contaminants if m == "species"}
        genera = {t: g for m, t, g in self.contaminants if m == "genus"}
        exceptions = [t for m, t, _ in self.contaminants if m == "except"]
        genus = organisms.str.split(" ").list.first()
        by_species = organisms.replace_strict(species, default=None, return_dtype=pl.String)
        by_genus = (
            pl.when(organisms.is_in(exceptions))
            .then(None)
            .otherwise(genus.replace_strict(genera, default=None, return_dtype=pl.String))
        )
        group = pl.coalesce(by_species, by_genus)
        return group.is_not_null(), group


def _rows(text: str) -> Iterator[dict[str, str]]:
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    yield from csv.DictReader(lines)


def _contaminants(text: str, name: str) -> tuple[tuple[str, str, str], ...]:
    rows = []
    for number, row in enumerate(_rows(text), start=1):
        if row["match"] not in _MATCHES:
            raise Unprocessable(f"{name} row {number}: match must be one of {sorted(_MATCHES)}", location=(name,))
        rows.append((row["match"], row["taxon"].strip(), (row["group"] or "").strip()))
    return tuple(rows)


def _pairs(text: str, second: str) -> tuple[tuple[str, str], ...]:
    return tuple((row["infection"].strip(), row[second].strip()) for row in _rows(text))


def load_codelists(directory: Path | None = None) -> CodeLists:
    """Read the lists from ``directory``, or from the files shipped with bindeled."""
    if directory is None:
        base = resources.files("bindeled.surveillance.haiba") / "data"
        texts = [(base / f).read_text(encoding="utf-8") for f in _FILES]
    else:
        texts = [(directory / f).read_text(encoding="utf-8") for f in _FILES]
    digest = hashlib.sha256("\0".join(texts).encode()).hexdigest()[:12]
    return CodeLists(
        contaminants=_contaminants(texts[0], _FILES[0]),
        materials=_pairs(texts[1], "material"),
        organisms=_pairs(texts[2], "organism"),
        digest=digest,
    )
