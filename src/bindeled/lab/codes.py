"""The laboratory-local → mapped code table (kept as data in ``codes.csv``).

MiBa keeps a *local* version of every result (the laboratory's codes, for display) and a *mapped* one
(common codes, for surveillance). Mapping is a table lookup, never a guess: a code without a row stays
unmapped and is reported as such (DOMAIN §6.2).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

__all__ = ["CodeMap", "MappedCode", "default_code_map"]


@dataclass(frozen=True, slots=True)
class MappedCode:
    """One national (common) coding for a local code."""

    system: str
    code: str
    display: str
    kind: str


class CodeMap:
    """Local codes per laboratory (or ``*`` for all) → :class:`MappedCode`."""

    def __init__(self, rows: dict[tuple[str, str], MappedCode]) -> None:
        self._rows = dict(rows)

    @classmethod
    def from_csv(cls, text: str) -> CodeMap:
        """Read the CSV layout of ``codes.csv``; lines starting with ``#`` are comments."""
        lines = [line for line in io.StringIO(text) if not line.lstrip().startswith("#")]
        rows: dict[tuple[str, str], MappedCode] = {}
        for row in csv.DictReader(lines):
            mapped = MappedCode(row["national_system"], row["national_code"], row["national_display"], row["kind"])
            rows[(row["laboratory"], row["local_code"])] = mapped
        return cls(rows)

    @classmethod
    def from_path(cls, path: Path) -> CodeMap:
        return cls.from_csv(path.read_text(encoding="utf-8"))

    def lookup(self, laboratory: str, local_code: str) -> MappedCode | None:
        """The mapping for ``local_code`` at ``laboratory``; a laboratory-specific row wins over ``*``."""
        return self._rows.get((laboratory, local_code)) or self._rows.get(("*", local_code))

    def __len__(self) -> int:
        return len(self._rows)


@cache
def default_code_map() -> CodeMap:
    """The table shipped with bindeled (illustrative codes; see the header of ``codes.csv``)."""
    return CodeMap.from_csv(files("bindeled.lab").joinpath("codes.csv").read_text(encoding="utf-8"))
