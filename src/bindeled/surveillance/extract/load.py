"""Cut an extract at a data cut-off: the versions known then, latest per record, retractions applied."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl

from bindeled.errors import InvalidRequest
from bindeled.surveillance.extract import layout
from bindeled.surveillance.haiba.frames import HaibaData, latest_rows

__all__ = ["Extract", "load_extract"]


@dataclass(frozen=True, slots=True)
class Extract:
    """HAIBA's inputs as known at ``cutoff``, and each patient's home municipality."""

    cutoff: datetime
    haiba: HaibaData
    municipalities: pl.DataFrame
    """patient, municipality."""


def _known(frame: pl.LazyFrame, cutoff: datetime) -> pl.LazyFrame:
    return frame.filter(pl.col("received_at") <= pl.lit(cutoff).dt.convert_time_zone("UTC"))


def _latest(frame: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    return frame.filter(pl.map_batches([*keys, "received_at"], latest_rows, return_dtype=pl.Boolean))


def _lab(folder: Path, cutoff: datetime) -> pl.LazyFrame:
    """Latest version of each report, then per (sample, analysis) the report received last."""
    per_report = _latest(_known(layout.scan(folder, "lab_results"), cutoff), ["report"])
    live = per_report.filter(~pl.col("retracted"))
    return _latest(live, ["sample_id", "analysis"]).drop("report", "retracted")


def load_extract(folder: Path, cutoff: datetime) -> Extract:
    """The extract in ``folder`` as of ``cutoff``, which it must reach."""
    if cutoff.tzinfo is None:
        raise InvalidRequest("the cut-off must be time-zone aware", location=("cutoff",))
    reach = layout.high_water(folder)
    if reach is None or reach < cutoff:
        raise InvalidRequest(
            f"the extract reaches {reach.isoformat() if reach else 'nothing'}, not the cut-off {cutoff.isoformat()}",
            location=("cutoff",),
        )
    contacts = _latest(_known(layout.scan(folder, "contacts"), cutoff), ["contact_id"])
    stays = _latest(_known(layout.scan(folder, "stays"), cutoff), ["contact_id"])
    persons = _latest(_known(layout.scan(folder, "persons"), cutoff), ["patient"]).unique("patient", keep="last")
    live = contacts.filter(~pl.col("retracted")).drop("retracted")
    deaths = persons.filter(pl.col("died_at").is_not_null()).select("patient", "died_at", "received_at")
    haiba = HaibaData.from_frames(
        contacts=live,
        lab_results=_lab(folder, cutoff),
        stays=stays.join(live.select("contact_id"), on="contact_id", how="semi").drop("contact_id"),
        persons=persons.select("patient", "birth_date"),
        deaths=deaths,
    )
    municipalities = persons.select("patient", "municipality").collect().sort("patient")
    return Extract(cutoff, haiba, municipalities)
