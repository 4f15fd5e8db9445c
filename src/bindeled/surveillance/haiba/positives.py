"""Lab results → qualifying positive samples per infection type.

One row per qualifying sample: patient, infection, sample_id, sampled_at and the organisms that made
it count. Contaminant handling, UTI organism counts and CDI toxigenicity are decided here; episodes,
windows and attribution come later.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from bindeled.surveillance.haiba.codelists import CodeLists
from bindeled.surveillance.haiba.definition import CommensalPair, InfectionRule
from bindeled.surveillance.haiba.sorted_groups import shift_in_group

__all__ = ["POSITIVE_COLUMNS", "lab_filter", "positives"]

POSITIVE_COLUMNS = ("patient", "infection", "sample_id", "sampled_at", "organisms")


def lab_filter(rules: tuple[InfectionRule, ...], lists: CodeLists) -> pl.Expr:
    """Rows any rule could use, judged on the material, which every version of a sample shares."""
    materials = set().union(*(lists.materials_for(r.infection) for r in rules))
    return pl.col("material").is_in(sorted(materials))


def _summarise(samples: pl.DataFrame, infection: str) -> pl.DataFrame:
    """One row per sample; its organisms distinct, sorted and joined by ``;``. The list is built by
    the group-by and deduplicated, sorted and joined afterwards by list kernels over the whole
    column, which is about twice as fast as doing the same inside the aggregation."""
    organisms = pl.col("organism").list.unique().list.sort().list.join(";")
    return (
        samples.group_by("patient", "sample_id")
        .agg(pl.col("sampled_at").min(), pl.col("organism"))
        .select(
            pl.col("patient"),
            pl.lit(infection).alias("infection"),
            "sample_id",
            "sampled_at",
            organisms.alias("organisms"),
        )
    )


def _paired(contaminants: pl.DataFrame, pair: CommensalPair, timezone: str) -> pl.DataFrame:
    """Contaminant-only samples with a second sample of the same commensal close after them."""
    per_sample = contaminants.unique(["patient", "group", "sample_id"]).sort(
        "patient", "group", "sampled_at", "sample_id"
    )
    following = shift_in_group(pl.col("sampled_at"), ["patient", "group"], -1)
    if pair.within is not None:
        close = following - pl.col("sampled_at") <= pl.lit(pair.within)
    else:
        day = pl.col("sampled_at").dt.convert_time_zone(timezone).dt.date()
        days = pair.calendar_days or 0
        close = shift_in_group(day, ["patient", "group"], -1) - day <= pl.lit(timedelta(days=days))
    firsts = per_sample.filter(close.fill_null(value=False)).select("patient", "sample_id", "group")
    return contaminants.join(firsts, on=["patient", "sample_id", "group"], how="semi")


def _bacteraemia(lab: pl.DataFrame, rule: InfectionRule, lists: CodeLists, timezone: str) -> pl.DataFrame:
    blood = lab.filter(
        pl.col("material").is_in(sorted(lists.materials_for("bacteraemia"))) & pl.col("organism").is_not_null()
    )
    is_contaminant, group = lists.classify(pl.col("organism"))
    blood = blood.with_columns(contaminant=is_contaminant, group=group)
    pathogen_samples = blood.filter(~pl.col("contaminant")).select("sample_id").unique()
    found = [
        _summarise(
            blood.join(pathogen_samples, on="sample_id", how="semi").filter(~pl.col("contaminant")), "bacteraemia"
        )
    ]
    if rule.commensal_pair is not None:
        only = blood.join(pathogen_samples, on="sample_id", how="anti")
        found.append(_summarise(_paired(only, rule.commensal_pair, timezone), "bacteraemia"))
    return pl.concat(found)


def _uti(lab: pl.DataFrame, rule: InfectionRule, lists: CodeLists) -> pl.DataFrame:
    urine = lab.filter(pl.col("material").is_in(sorted(lists.materials_for("uti"))) & pl.col("organism").is_not_null())
    threshold = rule.min_cfu_per_ml if rule.min_cfu_per_ml is not None else 0.0
    limit = rule.max_organisms if rule.max_organisms is not None else 1 << 30
    verdict = urine.group_by("sample_id").agg(
        n=pl.col("organism").n_unique(), significant=(pl.col("cfu_per_ml").fill_null(0.0) >= threshold).any()
    )
    ok = verdict.filter((pl.col("n") <= limit) & pl.col("significant")).select("sample_id")
    return _summarise(urine.join(ok, on="sample_id", how="semi"), "uti")


def _cdi(lab: pl.DataFrame, rule: InfectionRule, lists: CodeLists) -> pl.DataFrame:
    cdi = lab.filter(
        pl.col("material").is_in(sorted(lists.materials_for("cdi")))
        & pl.col("organism").is_in(sorted(lists.organisms_for("cdi")))
    )
    if rule.analyses:
        cdi = cdi.filter(pl.col("analysis").is_in(sorted(rule.analyses)))
    if rule.require_toxigenic:
        cdi = cdi.filter((pl.col("analysis") == "toxin") | pl.col("toxigenic").fill_null(value=False))
    elif rule.exclude_non_toxigenic:
        cdi = cdi.filter(pl.col("toxigenic").fill_null(value=True))
    return _summarise(cdi, "cdi")


def _old_enough(found: pl.DataFrame, persons: pl.DataFrame, years: int, timezone: str) -> pl.DataFrame:
    if years == 0:
        return found
    joined = found.join(persons, on="patient", how="left")
    day = pl.col("sampled_at").dt.convert_time_zone(timezone).dt.date()
    eligible = pl.col("birth_date").is_null() | (day >= pl.col("birth_date").dt.offset_by(f"{years}y"))
    return joined.filter(eligible).select(POSITIVE_COLUMNS)


def positives(
    lab: pl.DataFrame, persons: pl.DataFrame, rule: InfectionRule, lists: CodeLists, timezone: str
) -> pl.DataFrame:
    """Qualifying positive samples for ``rule``'s infection type (age limit applied)."""
    if rule.infection == "bacteraemia":
        found = _bacteraemia(lab, rule, lists, timezone)
    elif rule.infection == "uti":
        found = _uti(lab, rule, lists)
    else:
        found = _cdi(lab, rule, lists)
    return _old_enough(found, persons, rule.min_age_years, timezone)
