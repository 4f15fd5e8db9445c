"""The typed columnar inputs HAIBA reads, and their "as of" views.

Surveillance reads extracts (Parquet, or frames built from the store) rather than resources one by
one, so the inputs are Polars frames with fixed schemas. Every row carries ``received_at``: the
instant the platform learned that version of the fact. Cutting at ``as_of`` keeps only what had been
received by then and, per record key, its latest version (DOMAIN.md 6.1), which makes a run for a
past cut-off reproduce exactly whatever arrives later.

Patient keys are pseudonymous (never CPR numbers) and may be strings or integers, the same type in
every frame. Instants must carry a time zone; they are converted to UTC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl

from bindeled.errors import InvalidRequest
from bindeled.surveillance.haiba._kernels import latest_versions

__all__ = ["SCHEMAS", "HaibaData", "latest_rows"]

UTC = pl.Datetime("us", "UTC")

SCHEMAS: Mapping[str, Mapping[str, pl.DataType]] = {
    "contacts": {
        "patient": pl.String(),
        "contact_id": pl.String(),
        "start": UTC,
        "end": UTC,
        "hospital": pl.String(),
        "department": pl.String(),
        "region": pl.String(),
        "received_at": UTC,
    },
    "stays": {
        "patient": pl.String(),
        "stay_id": pl.String(),
        "ward": pl.String(),
        "start": UTC,
        "end": UTC,
        "received_at": UTC,
    },
    "lab_results": {
        "patient": pl.String(),
        "sample_id": pl.String(),
        "analysis": pl.String(),
        "material": pl.String(),
        "organism": pl.String(),
        "cfu_per_ml": pl.Float64(),
        "toxigenic": pl.Boolean(),
        "sampled_at": UTC,
        "received_at": UTC,
    },
    "persons": {"patient": pl.String(), "birth_date": pl.Date()},
    "deaths": {"patient": pl.String(), "died_at": UTC, "received_at": UTC},
}
"""Column → type per input. ``end`` may be null (an open contact or stay); ``organism`` null is a
negative culture; ``cfu_per_ml`` and ``toxigenic`` may be null (not reported)."""

_VERSION_KEYS = {"contacts": ("contact_id",), "stays": ("stay_id",), "lab_results": ("sample_id", "analysis")}


def _coerce(name: str, frame: pl.LazyFrame, patient_type: pl.DataType) -> pl.LazyFrame:
    schema = frame.collect_schema()
    wanted = SCHEMAS[name]
    casts: list[pl.Expr] = []
    for column, dtype in wanted.items():
        if column not in schema:
            raise InvalidRequest(f"{name} lacks column {column!r}", location=(f"{name}.{column}",))
        have = schema[column]
        target = patient_type if column == "patient" else dtype
        if isinstance(target, pl.Datetime):
            if not isinstance(have, pl.Datetime) or have.time_zone is None:
                raise InvalidRequest(
                    f"{name}.{column} must be a time-zone-aware datetime", location=(f"{name}.{column}",)
                )
            casts.append(pl.col(column).dt.convert_time_zone("UTC").dt.cast_time_unit("us"))
        elif have in (target, pl.Null):
            casts.append(pl.col(column).cast(target))
        elif column == "patient" or (target == pl.Float64() and have.is_numeric()):
            casts.append(pl.col(column).cast(target, strict=True))
        else:
            raise InvalidRequest(f"{name}.{column} has type {have}, expected {target}", location=(f"{name}.{column}",))
    return frame.select(casts)


def _patient_type(frames: Mapping[str, pl.LazyFrame]) -> pl.DataType:
    types = {f.collect_schema().get("patient") for f in frames.values()}
    if types and all(t is not None and t.is_integer() for t in types):
        return pl.Int64()
    if types == {pl.String()}:
        return pl.String()
    raise InvalidRequest("patient keys must be all strings or all integers", location=("patient",))


def latest_rows(columns: Sequence[pl.Series]) -> pl.Series:
    """For key columns followed by ``received_at``: whether each row belongs to its key's latest version.

    Grouping a few million rows by string keys dominates version resolution, so the keys are hashed
    twice with independent seeds and grouped in one compiled pass (``latest_versions``); should two
    keys share the first hash, the rows are grouped by the keys themselves instead.
    """
    *keys, received = columns
    frame = pl.DataFrame(keys)
    first, second = (
        frame.select(pl.struct(pl.all()).hash(seed)).to_series().to_numpy().view(np.int64) for seed in _SEEDS
    )
    known = received.is_not_null()
    instants = received.dt.epoch("us").fill_null(np.iinfo(np.int64).min).to_numpy()
    keep, clash = latest_versions(first, second, instants)
    if clash:
        frame = frame.with_columns(received.alias("_received"))
        return frame.select(pl.col("_received") == pl.col("_received").max().over(frame.columns[:-1])).to_series()
    return pl.Series(keep) & known


_SEEDS = (0x243F6A88, 0x85A308D3)


def _latest(frame: pl.LazyFrame, keys: tuple[str, ...]) -> pl.LazyFrame:
    """Per key, the rows of the latest received version (a version may hold several rows)."""
    return frame.filter(pl.map_batches([*keys, "received_at"], latest_rows, return_dtype=pl.Boolean))


@dataclass(frozen=True, slots=True)
class HaibaData:
    """The five inputs, validated and typed. Build with :meth:`from_frames` or :meth:`scan_parquet`."""

    contacts: pl.LazyFrame
    stays: pl.LazyFrame
    lab_results: pl.LazyFrame
    persons: pl.LazyFrame
    deaths: pl.LazyFrame

    @classmethod
    def from_frames(
        cls,
        *,
        contacts: pl.DataFrame | pl.LazyFrame,
        lab_results: pl.DataFrame | pl.LazyFrame,
        stays: pl.DataFrame | pl.LazyFrame | None = None,
        persons: pl.DataFrame | pl.LazyFrame | None = None,
        deaths: pl.DataFrame | pl.LazyFrame | None = None,
    ) -> HaibaData:
        given = {"contacts": contacts, "lab_results": lab_results, "stays": stays, "persons": persons, "deaths": deaths}
        lazy = {k: v.lazy() for k, v in given.items() if v is not None}
        patient_type = _patient_type(lazy)
        for name, schema in SCHEMAS.items():
            if name not in lazy:
                empty = {c: (patient_type if c == "patient" else t) for c, t in schema.items()}
                lazy[name] = pl.LazyFrame(schema=empty)
        return cls(**{name: _coerce(name, frame, patient_type) for name, frame in lazy.items()})

    @classmethod
    def scan_parquet(cls, directory: Path) -> HaibaData:
        """Lazily scan ``<name>.parquet`` files (contacts and lab_results required, others optional)."""
        frames: dict[str, pl.LazyFrame] = {}
        for name in SCHEMAS:
            path = directory / f"{name}.parquet"
            if path.exists():
                frames[name] = pl.scan_parquet(path)
            elif name in ("contacts", "lab_results"):
                raise InvalidRequest(f"{path.name} missing from the extract", location=(name,))
        return cls.from_frames(**frames)

    def as_of(self, cutoff: datetime, lab_filter: pl.Expr | None = None) -> HaibaData:
        """What was known at ``cutoff``: rows received by then, latest version per record key.

        ``lab_filter`` narrows lab results *before* versions are resolved, which is what makes a
        national year fast; it must only test columns that every version of a sample shares
        (material, analysis), or a correction could be lost.
        """
        if cutoff.tzinfo is None:
            raise InvalidRequest("as_of must be time-zone aware", location=("as_of",))
        known = pl.col("received_at") <= pl.lit(cutoff).dt.convert_time_zone("UTC")
        lab = self.lab_results if lab_filter is None else self.lab_results.filter(lab_filter)
        sources = {"contacts": self.contacts, "stays": self.stays, "lab_results": lab}
        cut = {name: _latest(sources[name].filter(known), keys) for name, keys in _VERSION_KEYS.items()}
        deaths = _latest(self.deaths.filter(known), ("patient",))
        return HaibaData(
            contacts=cut["contacts"],
            stays=cut["stays"],
            lab_results=cut["lab_results"],
            persons=self.persons,
            deaths=deaths,
        )
