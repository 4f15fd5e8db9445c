"""A synthetic SOR tree for Region Syddanmark, for the demo and for tests.

Names of hospitals and municipalities are real (public facts); every code is synthetic and made so it
cannot be mistaken for a real one:

* SOR codes use the namespace ``9999999`` (real SOR codes use SOR's ``1000016``);
* GLNs start with GS1 prefix ``029`` (restricted circulation: never issued as a real location number),
  with valid GS1 check digits;
* SHAK codes start with ``99``; ydernumre lie in ``900001``–``999999``;
* phone numbers start with ``99``; e-mail addresses end in ``.invalid`` (RFC 2606);
* every entity's ``LocalCode`` is ``SYNTHETIC`` and the export is flagged ``synthetic`` (its FHIR
  resources get the SYNTHETIC tag).

The tree: the region owns five hospitals (sites → departments → wards); each of the 22 municipalities
owns a health-and-care institution with home-care districts, home nursing and rehabilitation; and about
300 GP practices (private owners) each hold a unit with a ydernummer. Some practices have a second unit
sharing the ydernummer, and a few closed and handed their ydernummer to a successor. The same seed gives
the same tree.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from typing import Any

from ._synthetic_data import DEPARTMENTS, HOSPITALS, MUNICIPALITIES, PSYCHIATRY_DEPARTMENTS, STREETS
from .gln import with_check_digit
from .model import Address, Contact, EanLocation, Level, SorEntity, SorExport, Validity

__all__ = ["REGION_CODE", "SYNTHETIC_LOCAL_CODE", "SYNTHETIC_SOR_NAMESPACE", "synthetic_region"]

SYNTHETIC_SOR_NAMESPACE = "9999999"
SYNTHETIC_LOCAL_CODE = "SYNTHETIC"
REGION_CODE = "1083"
"""Region Syddanmark in SOR's region codes."""

_HOSPITAL_TYPE = "22232009"
_PRACTICE_TYPE = "394761003"
_PRIVATE_OWNER_TYPE = "550891000005100"
_DEPARTMENT_TYPE = "550811000005108"
_SECTION_TYPE = "550851000005109"
_REGION_START = date(2007, 1, 1)
_PRACTICES = 300


@dataclass
class _Builder:
    """Hands out synthetic codes and collects entities parents first."""

    rng: random.Random
    snapshot: date
    entities: list[SorEntity] = field(default_factory=list)
    next_sor: int = 1000
    next_gln: int = 1
    next_phone: int = 100000

    def sor(self) -> str:
        self.next_sor += 1
        return f"{self.next_sor}{SYNTHETIC_SOR_NAMESPACE}100"

    def ean(self, start: date) -> EanLocation:
        self.next_gln += 1
        gln = with_check_digit(f"029{self.next_gln:09d}")
        return EanLocation(
            gln, only_internal=False, non_active=False, region_code=REGION_CODE, validity=Validity(start)
        )

    def phone(self) -> str:
        self.next_phone += 1
        return f"99{self.next_phone:06d}"

    def address(self, postcode: str, town: str, street: str | None = None) -> Address:
        street = street or self.rng.choice(STREETS)
        return Address(street_name=street, building=str(self.rng.randint(1, 120)), postcode=postcode,
                       district_name=town, country="DK")  # fmt: skip

    def add(
        self,
        level: Level,
        name: str,
        parent: SorEntity | None,
        start: date = _REGION_START,
        end: date | None = None,
        **fields: Any,
    ) -> SorEntity:
        validity = Validity(from_date=start, first_from_date=start, to_date=end)
        parent_code = parent.sor_code if parent else None
        entity = SorEntity(self.sor(), level, name, parent_code, local_code=SYNTHETIC_LOCAL_CODE, validity=validity,
                           **fields)  # fmt: skip
        self.entities.append(entity)
        return entity

    def mark_replaced(self, old: SorEntity, new: SorEntity) -> None:
        """Record on ``old`` that ``new`` replaced it."""
        index = self.entities.index(old)
        self.entities[index] = replace(old, replaced_by=(new.sor_code,))


def _hospitals(b: _Builder, region: SorEntity) -> None:
    shak = 0
    for name, sites in HOSPITALS:
        institution = b.add(Level.INSTITUTION, name, region, type_code=_HOSPITAL_TYPE, ean=b.ean(_REGION_START))
        departments = PSYCHIATRY_DEPARTMENTS if name.startswith("Psykiatrien") else DEPARTMENTS
        for site, postcode, town in sites:
            shak += 1
            site_shak = f"99{shak:02d}"
            unit = b.add(Level.UNIT, f"{name}, {site}", institution, shak=site_shak,
                         postal_address=b.address(postcode, town, "Sygehusvej"), geographical_relation="1",
                         contact=Contact(phone=b.phone(), email=f"{site_shak}@hospital.synthetic.invalid"))  # fmt: skip
            count = len(departments) if len(sites) == 1 or site == sites[0][0] else max(2, len(departments) // 2)
            for d_index, department in enumerate(departments[:count], start=1):
                _department(b, unit, department, f"{site_shak}{d_index:02d}")


def _department(b: _Builder, site: SorEntity, name: str, shak: str) -> None:
    department = b.add(Level.UNIT, f"{name}, {site.name.rpartition(', ')[2]}", site, shak=shak,
                       type_code=_DEPARTMENT_TYPE, ean=b.ean(_REGION_START), contact=Contact(phone=b.phone()),
                       geographical_relation="2")  # fmt: skip
    for w_index, ward in enumerate(("sengeafsnit", "ambulatorium"), start=1):
        b.add(Level.UNIT, f"{name}, {ward}", department, shak=f"{shak}{w_index}", type_code=_SECTION_TYPE,
              geographical_relation="2")  # fmt: skip


def _municipalities(b: _Builder) -> None:
    for name, code, postcode, town, population in MUNICIPALITIES:
        owner = b.add(Level.OWNER, f"{name} Kommune", None, municipality_code=code, region_code=REGION_CODE,
                      postal_address=b.address(postcode, town, "Rådhustorvet"),
                      contact=Contact(phone=b.phone(), website=f"www.{code}.synthetic.invalid"))  # fmt: skip
        care = b.add(Level.INSTITUTION, f"{name} Kommune, Sundhed og Omsorg", owner, ean=b.ean(_REGION_START))
        districts = ("Nord", "Syd", "Øst", "Vest")[: 4 if population > 90 else 2]
        for district in districts:
            b.add(Level.UNIT, f"Hjemmeplejen {district}", care, ean=b.ean(_REGION_START),
                  contact=Contact(phone=b.phone()))  # fmt: skip
        b.add(Level.UNIT, "Hjemmesygeplejen", care, ean=b.ean(_REGION_START))
        b.add(Level.UNIT, "Genoptræning og rehabilitering", care, ean=b.ean(_REGION_START),
              visiting_address=b.address(postcode, town, "Træningsvej"))  # fmt: skip


def _practice_counts() -> list[int]:
    total = sum(m[4] for m in MUNICIPALITIES)
    counts = [max(1, round(_PRACTICES * m[4] / total)) for m in MUNICIPALITIES]
    counts[[m[0] for m in MUNICIPALITIES].index("Odense")] += _PRACTICES - sum(counts)
    return counts


def _practices(b: _Builder) -> None:
    number = 0
    for (_name, code, postcode, town, _), count in zip(MUNICIPALITIES, _practice_counts(), strict=True):
        for _ in range(count):
            number += 1
            ydernummer = f"9{number:05d}"
            closed = _closed_practice(b, ydernummer, postcode, town, code) if number % 60 == 0 else None
            unit = _practice(b, number, ydernummer, postcode, town, code, closed)
            if closed is not None:
                b.mark_replaced(closed, unit)


def _practice(
    b: _Builder, number: int, ydernummer: str, postcode: str, town: str, code: str, closed: SorEntity | None
) -> SorEntity:
    address = b.address(postcode, town)
    title = f"Lægerne {address.street_name} {address.building}, {town}"
    start = date(2008 + number % 15, 1 + number % 12, 1)
    if closed is not None:
        start = date(b.snapshot.year - 1, 1, 1)
    owner = b.add(Level.OWNER, title, None, type_code=_PRIVATE_OWNER_TYPE, postal_address=address,
                  municipality_code=code, contact=Contact(phone=b.phone()), ean=b.ean(start), start=start)  # fmt: skip
    institution = b.add(Level.INSTITUTION, title, owner, type_code=_PRACTICE_TYPE, ean_inherited=True, start=start)
    replaces = (closed.sor_code,) if closed is not None else ()
    unit = b.add(Level.UNIT, title, institution, start, ydernummer=ydernummer, ean_inherited=True, replaces=replaces)
    if number % 20 == 0:
        b.add(Level.UNIT, f"{title}, udekonsultation", institution, start, ydernummer=ydernummer, ean_inherited=True,
              visiting_address=b.address(postcode, town))  # fmt: skip
    return unit


def _closed_practice(b: _Builder, ydernummer: str, postcode: str, town: str, code: str) -> SorEntity:
    """A practice that closed two years before the snapshot's year ended; a successor takes its ydernummer."""
    end = date(b.snapshot.year - 2, 12, 31)
    start = date(1998, 4, 1)
    address = b.address(postcode, town)
    title = f"Lægehuset {address.street_name}, {town}"
    owner = b.add(Level.OWNER, title, None, type_code=_PRIVATE_OWNER_TYPE, postal_address=address,
                  municipality_code=code, ean=b.ean(start), start=start, end=end)  # fmt: skip
    institution = b.add(Level.INSTITUTION, title, owner, type_code=_PRACTICE_TYPE, start=start, end=end)
    return b.add(Level.UNIT, title, institution, start, end, ydernummer=ydernummer)


def synthetic_region(seed: int = 1083, snapshot: date = date(2026, 1, 1)) -> SorExport:
    """The synthetic Region Syddanmark SOR export as of ``snapshot``."""
    b = _Builder(random.Random(seed), snapshot)
    region = b.add(Level.OWNER, "Region Syddanmark", None, region_code=REGION_CODE,
                   postal_address=Address(street_name="Damhaven", building="12", postcode="7100",
                                          district_name="Vejle", country="DK"),
                   contact=Contact(phone=b.phone(), email="kontakt@region.synthetic.invalid"))  # fmt: skip
    _hospitals(b, region)
    _municipalities(b)
    _practices(b)
    created = datetime.combine(snapshot, time(2, 0), tzinfo=UTC)
    return SorExport(created, snapshot, tuple(b.entities), synthetic=True)
