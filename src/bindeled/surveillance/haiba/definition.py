"""Case definitions as data: the Danish HAIBA rules and the ECDC and NHSN variants.

A :class:`Definition` holds one :class:`InfectionRule` per infection type. Every number that
differs between HAIBA, ECDC and NHSN (DOMAIN.md 7, the comparison table) is a field here rather
than a branch in the engine, so a variant is a record and the engine reads it. The definition's
``version`` (name, revision and the code lists' checksum) is written into every output row.

Defaults where the public sources are silent (DOMAIN.md 7, "Left open"): CDI new episode after 56
days; the 2nd birthday qualifies; COHA goes to the department responsible at the end of the previous
contact; ECDC and NHSN keep HAIBA's 30-day anchored bacteraemia episodes where they say nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Literal

from bindeled.errors import InvalidRequest
from bindeled.surveillance.haiba.codelists import CodeLists, load_codelists

__all__ = [
    "DEFINITIONS",
    "Bound",
    "CommensalPair",
    "Definition",
    "EpisodeRule",
    "Infection",
    "InfectionRule",
    "definition",
]

Infection = Literal["bacteraemia", "uti", "cdi"]
INFECTIONS: tuple[Infection, ...] = ("bacteraemia", "uti", "cdi")


@dataclass(frozen=True, slots=True)
class Bound:
    """A window edge relative to a contact instant: elapsed time, or whole local calendar days.

    ``Bound(timedelta(hours=48))`` is HAIBA's "start + 48 h"; ``Bound(calendar_days=3)`` is NHSN's
    "specimen day ≥ 4" (local midnight at the start of the admission's 4th calendar day).
    """

    elapsed: timedelta = timedelta(0)
    calendar_days: int | None = None
    """When set, the edge is local midnight of the instant's date plus this many days."""
    inclusive: bool = True
    """Whether a sample exactly on the edge is inside the window."""


@dataclass(frozen=True, slots=True)
class EpisodeRule:
    """When a later positive starts a new episode of the same infection type."""

    days: int
    """A positive starts a new episode only when *more than* this many days after the reference."""
    anchor: Literal["first", "previous"] = "first"
    """``first``: measured from the episode's first positive (HAIBA); ``previous``: from the latest
    positive, so the window restarts (NHSN duplicates)."""
    recurrent_within_days: int | None = None
    """Episodes starting within this many days of the previous episode are *recurrent* and not counted
    as incident (NHSN/ECDC CDI)."""
    per_admission: bool = False
    """Old HAIBA UTI: the first hospital-acquired positive per admission, a later admission's only when
    more than ``days`` after the previous episode."""


@dataclass(frozen=True, slots=True)
class CommensalPair:
    """ECDC/NHSN: two cultures with the same commensal make one case dated at the first."""

    within: timedelta | None = None
    """Maximum elapsed time between the two samples (ECDC: 48 h)."""
    calendar_days: int | None = None
    """Maximum local calendar-day difference (NHSN: same or consecutive days = 1)."""


@dataclass(frozen=True, slots=True)
class InfectionRule:
    """Everything the engine needs to find, classify and attribute one infection type."""

    infection: Infection
    window_start: Bound
    """Onset edge after the admission start."""
    window_end: Bound
    """Edge after the admission end (discharge)."""
    episode: EpisodeRule
    min_age_years: int = 0
    """Samples taken before this birthday are excluded and the time before it is no risk time."""
    attribution_lag: timedelta = timedelta(hours=48)
    """Units are attributed where the patient was this long before sampling; risk time likewise."""
    commensal_pair: CommensalPair | None = None
    """``None``: cultures growing only contaminants never count (HAIBA)."""
    max_organisms: int | None = None
    """UTI: more distinct organisms than this in one sample exclude it."""
    min_cfu_per_ml: float | None = None
    """UTI: at least one organism must reach this count."""
    analyses: frozenset[str] = frozenset()
    """Analyses accepted (mapped codes); empty accepts any."""
    require_toxigenic: bool = False
    """CDI: only toxin tests or isolates reported toxigenic count."""
    exclude_non_toxigenic: bool = False
    """CDI: isolates reported non-toxigenic are dropped (unknown toxigenicity is kept)."""
    community_onset_followup: timedelta | None = None
    """CDI: onset outside the window up to this long after discharge is community-onset
    hospital-associated (COHA / CO-HCFA)."""
    readmission_lookback: timedelta | None = None
    """CDI: onset early in an admission counts as COHA if a contact ended this recently before it."""
    indeterminate_until: timedelta | None = None
    """ECDC CDI: onset after ``community_onset_followup`` and up to this long after discharge is
    *indeterminate*."""
    risk_ends_at_episode: bool = True
    """HAIBA: risk time stops at the admission's first hospital-acquired episode."""


@dataclass(frozen=True, slots=True)
class Definition:
    """One named, versioned set of rules. ``version`` is recorded on every output."""

    name: str
    revision: str
    rules: tuple[InfectionRule, ...]
    codelists: CodeLists
    merge_gap: timedelta = timedelta(0)
    """Contacts whose gap is at most this merge into one admission (touching ones always do)."""
    timezone: str = "Europe/Copenhagen"
    """Zone of calendar days, ISO weeks and months."""
    description: str = field(default="", compare=False)

    @property
    def version(self) -> str:
        return f"{self.name}/{self.revision}+lists.{self.codelists.digest}"

    def rule(self, infection: str) -> InfectionRule:
        for rule in self.rules:
            if rule.infection == infection:
                return rule
        raise InvalidRequest(f"definition {self.name} has no rule for {infection!r}", location=("infection",))

    def with_codelists(self, codelists: CodeLists) -> Definition:
        return replace(self, codelists=codelists)


_H48 = Bound(timedelta(hours=48))
_CDI_DK = frozenset({"culture", "pcr"})
_CDI_TOXIN = frozenset({"toxin", "pcr", "culture"})


def _haiba(lists: CodeLists) -> Definition:
    return Definition(
        name="haiba",
        revision="2019",
        description="SSI HAIBA, revised 2019 for LPR3 (DOMAIN.md 7)",
        codelists=lists,
        rules=(
            InfectionRule("bacteraemia", _H48, _H48, EpisodeRule(30)),
            InfectionRule("uti", _H48, _H48, EpisodeRule(30), min_age_years=1, max_organisms=2, min_cfu_per_ml=1e4),
            InfectionRule(
                "cdi",
                _H48,
                _H48,
                EpisodeRule(56),
                min_age_years=2,
                analyses=_CDI_DK,
                exclude_non_toxigenic=True,
                community_onset_followup=timedelta(days=30),
                readmission_lookback=timedelta(days=30),
            ),
        ),
    )


def _haiba_2015(lists: CodeLists) -> Definition:
    base = _haiba(lists)
    old_uti = InfectionRule(
        "uti",
        Bound(timedelta(hours=48), inclusive=False),
        _H48,
        EpisodeRule(14, per_admission=True),
        min_age_years=1,
        attribution_lag=timedelta(0),
        max_organisms=2,
        min_cfu_per_ml=1e4,
    )
    rules = tuple(old_uti if r.infection == "uti" else r for r in base.rules)
    return replace(base, revision="2015", rules=rules, description="HAIBA before 2019: old UTI rules (DOMAIN.md 7.3)")


def _ecdc(lists: CodeLists) -> Definition:
    day3 = Bound(calendar_days=2)
    cdi_episode = EpisodeRule(14, anchor="previous", recurrent_within_days=56)
    return Definition(
        name="ecdc",
        revision="hai-net-2017",
        description="ECDC HAI-Net: onset day 3, commensal pairs within 48 h, CDI recurrence 8 weeks",
        codelists=lists,
        rules=(
            InfectionRule(
                "bacteraemia",
                day3,
                _H48,
                EpisodeRule(30),
                commensal_pair=CommensalPair(within=timedelta(hours=48)),
                risk_ends_at_episode=False,
            ),
            InfectionRule(
                "uti", day3, _H48, EpisodeRule(30), max_organisms=2, min_cfu_per_ml=1e5, risk_ends_at_episode=False
            ),
            InfectionRule(
                "cdi",
                day3,
                _H48,
                cdi_episode,
                analyses=_CDI_TOXIN,
                require_toxigenic=True,
                community_onset_followup=timedelta(days=28),
                readmission_lookback=timedelta(days=28),
                indeterminate_until=timedelta(weeks=12),
                risk_ends_at_episode=False,
            ),
        ),
    )


def _nhsn(lists: CodeLists) -> Definition:
    day4 = Bound(calendar_days=3)
    transfer = Bound(calendar_days=2, inclusive=False)  # transfer rule: discharge day and the next
    return Definition(
        name="nhsn",
        revision="labid-2024",
        description="CDC NHSN LabID: specimen day 4, 14-day restarting duplicates, CO-HCFA 4 weeks",
        codelists=lists,
        rules=(
            InfectionRule(
                "bacteraemia",
                day4,
                transfer,
                EpisodeRule(14, anchor="previous"),
                commensal_pair=CommensalPair(calendar_days=1),
                risk_ends_at_episode=False,
            ),
            InfectionRule(
                "uti",
                day4,
                transfer,
                EpisodeRule(14, anchor="previous"),
                max_organisms=2,
                min_cfu_per_ml=1e5,
                risk_ends_at_episode=False,
            ),
            InfectionRule(
                "cdi",
                day4,
                transfer,
                EpisodeRule(14, anchor="previous", recurrent_within_days=56),
                analyses=_CDI_TOXIN,
                require_toxigenic=True,
                community_onset_followup=timedelta(days=28),
                readmission_lookback=timedelta(days=28),
                risk_ends_at_episode=False,
            ),
        ),
    )


_BUILDERS = {"haiba": _haiba, "haiba-2015": _haiba_2015, "ecdc": _ecdc, "nhsn": _nhsn}
DEFINITIONS: tuple[str, ...] = tuple(_BUILDERS)
"""Names accepted by :func:`definition`; ``haiba`` is the default."""


def definition(name: str = "haiba", codelists: CodeLists | None = None) -> Definition:
    """The named variant, with the shipped code lists unless others are given."""
    try:
        builder = _BUILDERS[name]
    except KeyError:
        raise InvalidRequest(
            f"unknown definition {name!r}; known: {', '.join(DEFINITIONS)}", location=("definition",)
        ) from None
    return builder(codelists or load_codelists())
