"""Realistic synthetic ORU^R01 microbiology messages, for tests and the demo.

Everything here is invented: CPR numbers use the day of month plus 60 (substitute numbers, never a
real person's), laboratory SOR codes and local codes are made up (see ``codes.csv``), and MIC values
and S/I/R categories are illustrative, not EUCAST breakpoints. A :class:`SyntheticCase` is one
analysis of one sample; it renders its preliminary, final and corrected versions with the same
(laboratory, sample number, analysis), which is what correction handling needs. A case taken during
a hospital stay carries a ``PV1`` with the ward and the admission time. Streams for given citizens,
with hospital-onset cases and a seeded outbreak, are in :mod:`bindeled.lab.demo_results`.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from bindeled.lab.hl7v2.er7 import DEFAULT_ENCODING, Field, Message, Segment, serialise

__all__ = [
    "LABORATORIES",
    "ORGANISMS",
    "Susceptibility",
    "SyntheticCase",
    "panel",
    "synthetic_case",
    "synthetic_stream",
]

LABORATORIES = ("999000000000011", "999000000000028", "999000000000035")
"""Synthetic SOR codes of three clinical microbiology departments."""

_ANALYSES = {
    "blood": ("BLOD-D", "Bloddyrkning", "BLOD", "Blod"),
    "urine": ("URIN-D", "Urindyrkning", "URIN", "Midtstraalsurin"),
    "cdiff": ("CDIF-TOX", "C. difficile toksin", "FAE", "Faeces"),
}
ORGANISMS = {
    "blood": (("ECOL", "Escherichia coli"), ("SAUR", "Staphylococcus aureus"), ("KPNE", "Klebsiella pneumoniae")),
    "urine": (("ECOL", "Escherichia coli"), ("KPNE", "Klebsiella pneumoniae"), ("EFAE", "Enterococcus faecalis")),
}
_PANELS = {
    "ECOL": ("AMP", "MEC", "PTZ", "CXM", "CRO", "MEM", "GEN", "CIP", "TMP", "NIT"),
    "KPNE": ("MEC", "PTZ", "CXM", "CRO", "MEM", "GEN", "CIP", "TMP"),
    "SAUR": ("CLO", "ERY", "CLI", "GEN", "VAN", "LNZ"),
    "EFAE": ("AMP", "VAN", "LNZ", "NIT"),
}
_MICS = ("0.016", "0.032", "0.064", "0.125", "0.25", "0.5", "1", "2", "4", "8", "16", "32", "64", "128", "256")
_FAMILY = ("Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen", "Rasmussen")
_GIVEN = ("Anne", "Mette", "Kirsten", "Hanne", "Peter", "Jens", "Lars", "Søren", "Niels", "Birthe", "Åse")
_STATUS_TIME = {"P": timedelta(hours=18), "F": timedelta(hours=60), "C": timedelta(hours=90)}


@dataclass(frozen=True, slots=True)
class Susceptibility:
    antibiotic: str
    comparator: str
    """``<=``, ``>`` or '' (HL7 SN comparator)."""
    mic: str
    """mg/L as reported, e.g. ``0.25``."""
    category: str
    """S, I or R."""


@dataclass(frozen=True, slots=True)
class SyntheticCase:
    """One analysis of one sample, able to render each of its versions."""

    laboratory: str
    sample_number: str
    kind: str
    cpr: str
    family: str
    given: str
    sex: str
    collected: datetime
    organism: tuple[str, str] | None
    cfu_per_ml: int | None = None
    panel: tuple[Susceptibility, ...] = ()
    toxin_positive: bool = False
    ward: str = ""
    """The ward the patient was admitted to when sampled ('' for a sample taken outside hospital)."""
    admitted: datetime | None = None
    """When that admission started (``PV1-44``)."""

    @property
    def analysis(self) -> str:
        return _ANALYSES[self.kind][0]

    def message(self, status: str = "F", control_id: str | None = None, sent: datetime | None = None) -> str:
        """The ER7 message for version ``status`` (P, F or C; a correction flips the first S/R category)."""
        sent = sent or self.collected + _STATUS_TIME.get(status, timedelta(hours=48))
        control_id = control_id or f"{self.sample_number}-{status}"
        case = self._corrected() if status == "C" else self
        segments = (_msh(self.laboratory, sent, control_id), *case._body(status, sent))
        return serialise(Message(DEFAULT_ENCODING, segments))

    def _corrected(self) -> SyntheticCase:
        if not self.panel:
            return replace(self, toxin_positive=not self.toxin_positive)
        first = self.panel[0]
        flipped = replace(first, category="R" if first.category != "R" else "S")
        return replace(self, panel=(flipped, *self.panel[1:]))

    def _body(self, status: str, sent: datetime) -> list[Segment]:
        code, name, material, material_name = _ANALYSES[self.kind]
        pid = Segment(
            "PID",
            (
                Field.of("1"),
                Field(),
                Field.of(self.cpr, "", "", "CPR", "NNDNK"),
                Field(),
                Field.of(self.family, self.given),
                Field(),
                Field.of(_birth(self.cpr)),
                Field.of(self.sex),
            ),
        )
        visit = [_pv1(self.ward, self.admitted)] if self.admitted is not None else []
        received = self.collected + timedelta(hours=3)
        obr = _obr(self.sample_number, (code, name), self.collected, received, sent, status)
        spm = _spm(self.sample_number, (material, material_name), self.collected, received)
        orc = Segment("ORC", (Field.of("RE"), Field.of(f"R{self.sample_number}")))
        return [pid, *visit, orc, obr, *self._obx(status), spm]

    def _obx(self, status: str) -> list[Segment]:
        result_status = "C" if status == "C" else ("F" if status == "F" else "P")
        rows: list[tuple[str, Field, Field, str, str, str]] = []
        if self.kind == "cdiff":
            value = ("POS", "Paavist") if self.toxin_positive else ("NEG", "Ikke paavist")
            rows.append(("CWE", Field.of("TOXB", "Toksin B"), Field.of(*value, "L"), "", "", ""))
        elif self.organism is None:
            rows.append(("CWE", Field.of("ISO", "Isolat"), Field.of("NOGROWTH", "Ingen vaekst", "L"), "", "", ""))
        else:
            rows.append(("CWE", Field.of("ISO", "Isolat"), Field.of(*self.organism, "L"), "", "", ""))
            if self.cfu_per_ml is not None:
                rows.append(("SN", Field.of("KIM", "Kimtal"), Field.of(">=", str(self.cfu_per_ml)), "CFU/mL", "", ""))
            if status != "P":
                rows += [_susceptibility_row(s) for s in self.panel]
        return [_obx_segment(i, row, result_status, self.organism is not None) for i, row in enumerate(rows, 1)]


def _susceptibility_row(s: Susceptibility) -> tuple[str, Field, Field, str, str, str]:
    value = Field.of(s.comparator, s.mic) if s.comparator else Field.of("", s.mic)
    return ("SN", Field.of(s.antibiotic, s.antibiotic, "L"), value, "mg/L", s.category, "MIC")


def _obx_segment(index: int, row: tuple[str, Field, Field, str, str, str], status: str, isolate: bool) -> Segment:
    value_type, code, value, unit, flag, method = row
    fields = [Field.of(str(index)), Field.of(value_type), code, Field.of("1" if isolate else ""), value]
    fields += [Field.of(unit), Field(), Field.of(flag), Field(), Field(), Field.of(status)]
    fields += [Field(), Field(), Field(), Field(), Field(), Field.of(method)]
    return Segment("OBX", tuple(fields))


def _pv1(ward: str, admitted: datetime) -> Segment:
    """An inpatient visit: ``PV1-2`` I, ``PV1-3`` the ward, ``PV1-44`` the admission time."""
    fields = [Field()] * 44
    fields[0], fields[1], fields[2] = Field.of("1"), Field.of("I"), Field.of(ward)
    fields[43] = Field.of(_dtm(admitted))
    return Segment("PV1", tuple(fields))


def _msh(laboratory: str, sent: datetime, control_id: str) -> Segment:
    fields = ["|", DEFAULT_ENCODING.msh2, "KMA-LIS", laboratory, "BINDELED", "BINDELED", _dtm(sent), ""]
    rest = [control_id, "P", "2.5", "", "", "", "", "DNK", "UNICODE UTF-8"]
    return Segment("MSH", (*(Field.of(f) for f in fields), Field.of("ORU", "R01", "ORU_R01"), *map(Field.of, rest)))


def _obr(
    sample: str, analysis: tuple[str, str], collected: datetime, received: datetime, sent: datetime, status: str
) -> Segment:
    fields = [Field()] * 25
    fields[0], fields[1], fields[2] = Field.of("1"), Field.of(f"R{sample}"), Field.of(sample)
    fields[3] = Field.of(*analysis, "L")
    fields[6], fields[13], fields[21] = Field.of(_dtm(collected)), Field.of(_dtm(received)), Field.of(_dtm(sent))
    fields[24] = Field.of(status)
    return Segment("OBR", tuple(fields))


def _spm(sample: str, material: tuple[str, str], collected: datetime, received: datetime) -> Segment:
    fields = [Field()] * 18
    fields[0] = Field.of("1")
    fields[1] = Field(((("",), (f"R{sample}", "", sample)),))
    fields[3] = Field.of(*material, "L")
    fields[16], fields[17] = Field.of(_dtm(collected)), Field.of(_dtm(received))
    return Segment("SPM", tuple(fields))


def _dtm(value: datetime) -> str:
    return value.strftime("%Y%m%d%H%M%S%z")


def _birth(cpr: str) -> str:
    """``PID-7`` from a CPR number (a day of month over 60 is a substitute number's)."""
    year, day = int(cpr[4:6]), int(cpr[0:2])
    century = 2000 if year <= 25 else 1900
    return f"{century + year:04d}{cpr[2:4]}{day - 60 if day > 60 else day:02d}"


def _cpr(rng: random.Random) -> tuple[str, str]:
    born = date(1930, 1, 1) + timedelta(days=rng.randrange(0, 365 * 90))
    seventh = rng.choice("0123") if born.year < 2000 else "4"
    serial = seventh + f"{rng.randrange(0, 1000):03d}"
    sex = "F" if int(serial[-1]) % 2 == 0 else "M"
    return f"{born.day + 60:02d}{born:%m%y}" + serial, sex


def panel(rng: random.Random, organism: str) -> tuple[Susceptibility, ...]:
    """A random MIC panel for ``organism`` (illustrative values and categories, not EUCAST breakpoints)."""
    out = []
    for antibiotic in _PANELS[organism]:
        index = rng.randrange(len(_MICS))
        comparator = "<=" if index == 0 else (">" if index == len(_MICS) - 1 else "")
        category = "S" if index <= 7 else ("I" if index <= 8 else "R")
        out.append(Susceptibility(antibiotic, comparator, _MICS[index], category))
    return tuple(out)


def synthetic_case(rng: random.Random, kind: str | None = None, when: datetime | None = None) -> SyntheticCase:
    """A random case of ``kind`` (blood, urine, cdiff; random when None)."""
    kind = kind or rng.choice(("blood", "blood", "urine", "urine", "urine", "cdiff"))
    cpr, sex = _cpr(rng)
    collected = (when or datetime(2026, 1, 1, tzinfo=UTC)) + timedelta(minutes=rng.randrange(0, 60 * 24 * 300))
    organism = None if kind == "cdiff" or rng.random() < 0.15 else rng.choice(ORGANISMS[kind])
    return SyntheticCase(
        laboratory=rng.choice(LABORATORIES),
        sample_number=f"{rng.randrange(10**9, 10**10)}",
        kind=kind,
        cpr=cpr,
        family=rng.choice(_FAMILY),
        given=rng.choice(_GIVEN),
        sex=sex,
        collected=collected.replace(second=0, microsecond=0),
        organism=organism,
        cfu_per_ml=rng.choice((10_000, 100_000, 1_000_000)) if kind == "urine" and organism else None,
        panel=panel(rng, organism[0]) if organism else (),
        toxin_positive=kind == "cdiff" and rng.random() < 0.3,
    )


def synthetic_stream(count: int, seed: int = 1) -> Iterator[str]:
    """``count`` cases as messages in a realistic order: growth → preliminary, then final, some corrected."""
    rng = random.Random(seed)
    for _ in range(count):
        case = synthetic_case(rng)
        if case.organism is not None:
            yield case.message("P")
        yield case.message("F")
        if rng.random() < 0.1:
            yield case.message("C")
