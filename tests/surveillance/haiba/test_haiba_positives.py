"""Which samples qualify: contaminants, UTI organism counts, CDI toxigenicity, age limits."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from bindeled.surveillance.haiba import definition
from tests.surveillance.haiba.cases import T0, Case, D, H

CONS = "Staphylococcus epidermidis"
CONS2 = "Staphylococcus hominis"


def _bacteraemia(case: Case, name: str = "haiba") -> pl.DataFrame:
    return case.run(definition=definition(name), infections=["bacteraemia"]).episodes


def test_single_coagulase_negative_staphylococcus_is_a_contaminant(case: Case) -> None:
    case.contact(T0, T0 + 10 * D).sample(T0 + 3 * D, CONS)
    assert _bacteraemia(case).height == 0
    assert _bacteraemia(case, "ecdc").height == 0


def test_two_cons_within_48_hours_never_count_in_haiba_but_do_in_ecdc(case: Case) -> None:
    case.contact(T0, T0 + 10 * D).sample(T0 + 3 * D, CONS).sample(T0 + 4 * D, CONS2)
    assert _bacteraemia(case).height == 0
    ecdc = _bacteraemia(case, "ecdc")
    assert ecdc.select("sampled_at", "class", "organisms").rows() == [(T0 + 3 * D, "HA", CONS)]


def test_ecdc_pair_must_be_within_48_hours(case: Case) -> None:
    case.contact(T0, T0 + 10 * D).sample(T0 + 3 * D, CONS).sample(T0 + 5 * D + H, CONS)
    assert _bacteraemia(case, "ecdc").height == 0


def test_ecdc_pair_needs_the_same_commensal(case: Case) -> None:
    case.contact(T0, T0 + 10 * D).sample(T0 + 3 * D, CONS).sample(T0 + 4 * D, "Micrococcus luteus")
    assert _bacteraemia(case, "ecdc").height == 0


def test_two_bottles_of_one_sample_are_not_a_pair(case: Case) -> None:
    case.contact(T0, T0 + 10 * D).sample(T0 + 3 * D, [CONS, CONS2])
    assert _bacteraemia(case, "ecdc").height == 0


def test_nhsn_pairs_on_consecutive_calendar_days(case: Case) -> None:
    # 23:00 local on day 3 and 00:30 local two days later: 25.5 h apart but not consecutive days.
    case.contact(T0, T0 + 10 * D)
    case.sample(T0.replace(hour=22) + 3 * D, CONS).sample(T0.replace(hour=23, minute=30) + 4 * D, CONS)
    assert _bacteraemia(case, "nhsn").height == 0
    pair = Case().contact(T0, T0 + 10 * D).sample(T0 + 4 * D, CONS).sample(T0 + 5 * D + 5 * H, CONS)
    assert _bacteraemia(pair, "nhsn").height == 1


def test_pathogen_with_a_contaminant_counts(case: Case) -> None:
    case.contact(T0, T0 + 10 * D).sample(T0 + 3 * D, [CONS, "Staphylococcus aureus"])
    assert _bacteraemia(case)["organisms"].to_list() == ["Staphylococcus aureus"]


@pytest.mark.parametrize(
    ("organism", "counts"),
    [
        ("Aerococcus urinae", True),
        ("Aerococcus viridans", False),
        ("Bacillus cereus", True),
        ("Bacillus subtilis", False),
        ("Corynebacterium diphtheriae", True),
        ("Corynebacterium striatum", False),
        ("Cutibacterium acnes", False),
    ],
)
def test_contaminant_genera_and_their_exceptions(case: Case, organism: str, counts: bool) -> None:
    case.contact(T0, T0 + 10 * D).sample(T0 + 3 * D, organism)
    assert (_bacteraemia(case).height == 1) is counts


def test_urine_needs_a_significant_count(case: Case) -> None:
    case.contact(T0, T0 + 10 * D).sample(T0 + 3 * D, "Escherichia coli", material="30010", cfu=9999.0)
    case.sample(T0 + 4 * D, "Escherichia coli", material="30010", cfu=None)
    assert case.run(infections=["uti"]).episodes.height == 0
    case.sample(T0 + 5 * D, "Escherichia coli", material="30010", cfu=1e4)
    assert case.run(infections=["uti"]).episodes.height == 1


def test_urine_with_three_organisms_is_excluded(case: Case) -> None:
    case.contact(T0, T0 + 10 * D)
    case.sample(
        T0 + 3 * D, ["Escherichia coli", "Enterococcus faecalis", "Proteus mirabilis"], material="30001", cfu=1e5
    )
    assert case.run(infections=["uti"]).episodes.height == 0
    case.sample(T0 + 4 * D, ["Escherichia coli", "Enterococcus faecalis"], material="30001", cfu=1e5)
    assert case.run(infections=["uti"]).episodes["organisms"].to_list() == ["Enterococcus faecalis;Escherichia coli"]


def test_urine_of_unlisted_material_is_ignored(case: Case) -> None:
    case.contact(T0, T0 + 10 * D).sample(T0 + 3 * D, "Escherichia coli", material="99999", cfu=1e6)
    assert case.run(infections=["uti"]).episodes.height == 0


def test_uti_age_limit_one_year(case: Case) -> None:
    born = date(2023, 3, 8)  # first birthday 2024-03-08, local
    case.person(born).contact(T0, T0 + 10 * D)
    case.sample(T0 + 3 * D, "Escherichia coli", material="30001", cfu=1e5)  # 2024-03-07: under one
    assert case.run(infections=["uti"]).episodes.height == 0
    case.sample(T0 + 4 * D, "Escherichia coli", material="30001", cfu=1e5)  # 2024-03-08: the birthday
    assert case.run(infections=["uti"]).episodes.height == 1


def test_cdi_second_birthday_qualifies(case: Case) -> None:
    case.person(date(2022, 3, 7)).contact(T0, T0 + 10 * D)
    case.sample(T0 + 2 * D, "Clostridioides difficile", material="feces", analysis="pcr")  # 2024-03-06: under two
    assert case.run(infections=["cdi"]).episodes.height == 0
    case.sample(T0 + 3 * D, "Clostridioides difficile", material="feces", analysis="pcr")  # 2024-03-07: birthday
    assert case.run(infections=["cdi"]).episodes.height == 1


def test_cdi_non_toxigenic_is_excluded_and_unknown_kept(case: Case) -> None:
    case.contact(T0, T0 + 10 * D)
    case.sample(T0 + 3 * D, "Clostridioides difficile", material="feces", analysis="culture", toxigenic=False)
    assert case.run(infections=["cdi"]).episodes.height == 0
    case.sample(T0 + 4 * D, "Clostridioides difficile", material="feces", analysis="culture", toxigenic=None)
    assert case.run(infections=["cdi"]).episodes.height == 1


def test_cdi_antigen_test_does_not_count_in_haiba(case: Case) -> None:
    case.contact(T0, T0 + 10 * D).sample(T0 + 3 * D, "Clostridioides difficile", material="feces", analysis="antigen")
    assert case.run(infections=["cdi"]).episodes.height == 0
