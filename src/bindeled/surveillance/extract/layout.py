"""The extract folder: one Parquet part per frame and increment, and a state file with the high-water mark.

``<folder>/<frame>/part-<since>.parquet`` holds the rows of every resource version stored after
``since`` and up to the increment's cut-off; ``<folder>/extract.json`` says how far the extract reaches.
Parts are never rewritten, so what an earlier cut-off saw stays exactly as it was.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from bindeled.surveillance.haiba.frames import SCHEMAS

__all__ = ["FRAMES", "high_water", "part_path", "scan", "write_high_water", "write_part"]

_UTC = pl.Datetime("us", "UTC")
FRAMES: Mapping[str, Mapping[str, pl.DataType]] = {
    "lab_results": {**SCHEMAS["lab_results"], "report": pl.String(), "retracted": pl.Boolean()},
    "contacts": {**SCHEMAS["contacts"], "retracted": pl.Boolean()},
    "stays": {**SCHEMAS["stays"], "contact_id": pl.String()},
    "persons": {
        "patient": pl.String(),
        "birth_date": pl.Date(),
        "municipality": pl.String(),
        "died_at": _UTC,
        "received_at": _UTC,
    },
}
"""The extract's frames: HAIBA's columns plus what resolving versions and municipalities needs."""

_STATE = "extract.json"


def high_water(folder: Path) -> datetime | None:
    """The cut-off the extract reaches (None for an empty folder)."""
    path = folder / _STATE
    if not path.exists():
        return None
    return datetime.fromisoformat(json.loads(path.read_text(encoding="utf-8"))["high_water"])


def write_high_water(folder: Path, cutoff: datetime) -> None:
    """Record the new reach atomically, after its parts are written."""
    tmp = folder / f".{_STATE}.tmp"
    tmp.write_text(json.dumps({"high_water": cutoff.isoformat()}) + "\n", encoding="utf-8")
    os.replace(tmp, folder / _STATE)


def part_path(folder: Path, frame: str, since: datetime | None) -> Path:
    """Named by the increment's start, so a retried increment overwrites its own unfinished part."""
    stamp = "start" if since is None else since.strftime("%Y%m%dT%H%M%S%f%z")
    return folder / frame / f"part-{stamp}.parquet"


def write_part(folder: Path, frame: str, since: datetime | None, rows: list[dict[str, object]]) -> int:
    schema = FRAMES[frame]
    utc = [{k: (v.astimezone(UTC) if isinstance(v, datetime) else v) for k, v in row.items()} for row in rows]
    table = pl.DataFrame(utc, schema=dict(schema)) if utc else pl.DataFrame(schema=dict(schema))
    path = part_path(folder, frame, since)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    table.write_parquet(tmp, statistics=True)
    os.replace(tmp, path)
    return table.height


def scan(folder: Path, frame: str) -> pl.LazyFrame:
    """Every part of ``frame`` (an empty frame with the schema when there is none)."""
    parts = sorted((folder / frame).glob("part-*.parquet"))
    if not parts:
        return pl.LazyFrame(schema=dict(FRAMES[frame]))
    return pl.scan_parquet(parts)
