"""The synthetic Region Syddanmark that ``bindeled demo`` builds: every service's data, in the order they need.

1. The SOR tree of the region (hospitals on their sites, the psychiatric hospital, the 22 municipalities with
   home care and rehabilitation, about 300 GP practices) — :mod:`bindeled.registry.synthetic`; bulk-loaded into
   a new store, imported as the register is into one that has organisations.
2. The security registers (authorisations, trust agreements) that the demo users rely on.
3. Citizens with their master-data cards, relatives, appointments from every sector, plans and current stays
   (:mod:`bindeled.overview.synthetic`), plus a few measurements each.
4. Microbiology results, with hospital-onset cases and a seeded outbreak (:mod:`bindeled.lab.demo_results`),
   mapped as the laboratory intake maps them and loaded in bulk into a new store (through the intake into one
   that has results), and the hospital contacts HAIBA needs around them.
5. Receiving endpoints for the hospitals and municipalities, and a stream of MedCom HospitalNotifications
   through the hub (admissions, leaves, discharges), so the message pages have traffic.
6. The surveillance reports of it all, as of now.

Everything is generated in code from the seed, tagged SYNTHETIC, and says so where it shows.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from resource import RUSAGE_CHILDREN, RUSAGE_SELF, getrusage
from typing import TYPE_CHECKING, Any

from ..fhir.jsonio import Resource
from ..registry import SorTree, import_into, synthetic_region, tree_resources
from ..store.guard import as_system
from .patients import CPR_SYSTEM, synthetic_citizens

if TYPE_CHECKING:
    from ..api.services import Services

__all__ = ["DemoSummary", "build_region"]

log = logging.getLogger("bindeled.demo")

_BATCH = 50
"""Citizens written per transaction (when the database already holds citizens)."""
_BULK_WORKERS_FROM = 2000
"""From this many citizens the bulk load indexes in worker processes and builds the search indexes afterwards."""


@dataclass
class DemoSummary:
    """What the demo wrote, part by part (counts of resources or messages)."""

    parts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    """How long each step took (wall time, by step name)."""
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    """The CPU time each step used (this process and its finished workers): on a busy machine the fairer measure."""

    @property
    def total(self) -> int:
        return sum(self.parts.values())

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started, cpu = time.monotonic(), _cpu_time()
        try:
            yield
        finally:
            self.seconds[name] = round(time.monotonic() - started, 1)
            self.cpu_seconds[name] = round(_cpu_time() - cpu, 1)
            extra = {"step": name, "seconds": self.seconds[name], "cpu_seconds": self.cpu_seconds[name]}
            log.info("demo step done", extra=extra)

    def timings(self) -> str:
        """One line: every step with its wall and CPU seconds (no data in it, only step names)."""
        return ", ".join(
            f"{name} {wall:.1f} s (CPU {self.cpu_seconds.get(name, 0.0):.1f} s)" for name, wall in self.seconds.items()
        )


def _cpu_time() -> float:
    """User and system CPU seconds of this process and of its children that have ended (bulk-load workers)."""
    own, children = getrusage(RUSAGE_SELF), getrusage(RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


async def build_region(svc: Services, *, citizens: int, seed: int, now: datetime | None = None) -> DemoSummary:
    """Load the whole synthetic region into an opened store; the same seed gives the same data."""
    moment = now or datetime.now(UTC)
    summary = DemoSummary()
    with as_system():
        tree = SorTree.from_export(synthetic_region())
        with summary.step("SOR register"):
            summary.parts["SOR resources"] = await _sor(svc, tree)
        with summary.step("security registers"):
            summary.parts["register entries"] = await _registers(svc, moment)
        with summary.step("citizens"):
            patients = await _citizens(svc, tree, citizens, seed, moment, summary)
        with summary.step("laboratory"):
            cases = await _lab_results(svc, patients, seed, summary)
        with summary.step("hospital contacts"):
            summary.parts["hospital contacts"] = await _contacts(svc, cases, seed)
        with summary.step("MedCom messages"):
            letters = min(60, 10 + citizens // 4)
            summary.parts["MedCom messages"] = await _messages(svc, tree, patients, seed, moment, letters)
        with summary.step("rollout"):
            summary.parts["rollout plans"] = await _rollout(svc, tree, patients, seed, moment)
        with summary.step("surveillance reports"):
            summary.parts["surveillance reports"] = await _reports(svc, moment)
    return summary


async def _sor(svc: Services, tree: SorTree) -> int:
    """The SOR tree's resources: in bulk into a store without organisations, else as the SOR import writes them."""
    if await svc.store.fetch_all("SELECT 1 FROM resources WHERE res_type = 'Organization' LIMIT 1"):
        imported = await import_into(svc.store, tree)
        return imported.created + imported.updated
    from ..store.bulk import bulk_load

    # The import's own resources for its default day, each new: the rows its updates would write.
    loaded = await bulk_load(svc.store, tree_resources(tree, tree.snapshot_date or date.today()), method="PUT")
    return loaded.resources


async def _registers(svc: Services, moment: datetime) -> int:
    from ..security.demo import demo_registers, save_demo_registers

    await save_demo_registers(svc.store, moment)
    registers = demo_registers(moment)
    return len(registers.authorisations) + len(registers.trust_agreements)


def _demo_people() -> list[tuple[str, str, str]]:
    """(CPR, given, family) of the citizens behind the demo logins (citizens and proxies), once each."""
    from ..security.devissuer import DEMO_USERS

    people: dict[str, tuple[str, str, str]] = {}
    for user in DEMO_USERS:
        cpr = user.claims.get("cpr")
        if user.claims.get("user_type") in ("citizen", "proxy") and isinstance(cpr, str):
            given, _, family = str(user.claims.get("name", "")).partition(" ")
            people.setdefault(cpr, (cpr, given, family))
    return list(people.values())


def _as_person(patient: Resource, cpr: str, given: str, family: str) -> Resource:
    """The generated Patient turned into the demo login's person: their CPR, name, sex and birth date."""
    day, month, year, seventh = int(cpr[0:2]) - 60, int(cpr[2:4]), int(cpr[4:6]), int(cpr[6])
    return {
        **patient,
        "identifier": [{"system": CPR_SYSTEM, "value": cpr}],
        "name": [{"use": "official", "family": family, "given": [given]}],
        "gender": "male" if int(cpr[-1]) % 2 else "female",
        "birthDate": date(_century(seventh, year) + year, month, day).isoformat(),
    }


def _century(seventh: int, year: int) -> int:
    """The century of a CPR number's birth year, from its seventh digit (the CPR office's table)."""
    if seventh <= 3:
        return 1900
    if seventh in (4, 9):
        return 2000 if year <= 36 else 1900
    return 2000 if year <= 57 else 1800


def _with_demo_people(groups: Iterable[list[Resource]]) -> Iterator[list[Resource]]:
    """The first citizens become the people the demo logins are, so every login finds its own data."""
    people = _demo_people()
    for index, group in enumerate(groups):
        yield [_as_person(group[0], *people[index]), *group[1:]] if index < len(people) else group


def _without_bare_encounters(groups: Iterable[list[Resource]]) -> Iterator[list[Resource]]:
    """The basic citizens' generic Encounters carry no hospital; contacts and stays come from the services."""
    for group in groups:
        yield [r for r in group if r["resourceType"] != "Encounter"]


async def _citizens(
    svc: Services, tree: SorTree, count: int, seed: int, moment: datetime, summary: DemoSummary
) -> list[Resource]:
    from ..overview.synthetic import with_overview

    basic = _with_demo_people(_without_bare_encounters(synthetic_citizens(count, seed)))
    groups = with_overview(basic, tree, now=moment, seed=seed)
    patients: list[Resource] = []
    if await _is_fresh(svc):
        summary.parts["citizen resources"] = await _bulk_citizens(svc, groups, patients, count)
        return patients
    written = 0
    batch: list[list[Resource]] = []
    for group in groups:
        patients.append(group[0])
        batch.append(group)
        if len(batch) == _BATCH:
            written += await _write_groups(svc, batch)
            batch = []
    if batch:
        written += await _write_groups(svc, batch)
    summary.parts["citizen resources"] = written
    return patients


async def _is_fresh(svc: Services) -> bool:
    """No citizen is stored yet: the citizens can be bulk-loaded (which only creates)."""
    return not await svc.store.fetch_all("SELECT 1 FROM resources WHERE res_type = 'Patient' LIMIT 1")


async def _bulk_citizens(svc: Services, groups: Iterable[list[Resource]], patients: list[Resource], count: int) -> int:
    """The citizens through the store's bulk load (synthetic data shaped as the write rules leave it; no audit).

    Region-sized demos index in worker processes and build the search indexes once at the end.
    """
    from ..store.bulk import bulk_load

    def resources() -> Iterator[Resource]:
        for group in groups:
            patients.append(group[0])
            yield from group

    large = count >= _BULK_WORKERS_FROM
    loaded = await bulk_load(svc.store, resources(), method="PUT", defer_indexes=large, workers=2 if large else 0)
    return loaded.resources


async def _write_groups(svc: Services, groups: list[list[Resource]]) -> int:
    count = 0
    async with svc.store.transaction() as tx:
        for group in groups:
            for resource in group:
                await svc.repo.update_in(tx, resource["resourceType"], resource["id"], resource)
                count += 1
    return count


async def _lab_results(svc: Services, patients: list[Resource], seed: int, summary: DemoSummary) -> list[Any]:
    from ..lab.demo_results import bulk_load_demo_results, citizen_of, demo_cases, load_demo_results

    ids: dict[str, str] = {}
    people = []
    for patient in patients:
        if (person := citizen_of(patient)) is not None:
            people.append(person)
            ids[person.cpr] = str(patient["id"])
    cases = demo_cases(people, seed=seed)
    if await svc.store.fetch_all("SELECT 1 FROM lab_message LIMIT 1"):
        loaded = await load_demo_results(svc.repo, cases, seed=seed)
    else:  # a store without lab results: the same current view in bulk
        workers = 2 if len(patients) >= _BULK_WORKERS_FROM else 0
        loaded = await bulk_load_demo_results(svc.repo, cases, seed=seed, patients=ids, workers=workers)
    summary.parts["laboratory messages"] = loaded.messages
    return cases


async def _contacts(svc: Services, cases: list[Any], seed: int) -> int:
    from ..surveillance.reports.demo import load_demo_contacts

    admissions = [
        (c.case.cpr, c.case.ward, c.case.admitted, c.case.collected) for c in cases if c.case.admitted is not None
    ]
    return await load_demo_contacts(svc.repo, admissions, seed=seed)


async def _messages(
    svc: Services, tree: SorTree, patients: list[Resource], seed: int, moment: datetime, count: int
) -> int:
    from .messages import load_demo_messages

    start = moment - timedelta(days=3)
    return await load_demo_messages(svc, tree, patients, count=count, seed=seed, start=start)


async def _rollout(svc: Services, tree: SorTree, patients: list[Resource], seed: int, moment: datetime) -> int:
    """Trust agreements, system clients and test messages for a mix of organisations, and their plans."""
    from ..indicators.rollout.demo import seed_rollout

    done = await seed_rollout(svc, tree, patients, now=moment, seed=seed)
    return done.plans


async def _reports(svc: Services, moment: datetime) -> int:
    from ..surveillance.reports.demo import demo_reports

    folder = Path(svc.settings.data_dir) / "surveillance"
    written = await demo_reports(svc.repo, folder / "extract", folder / "reports", cutoff=moment)
    return len(written)
