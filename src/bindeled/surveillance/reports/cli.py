"""``bindeled surveillance extract`` and ``bindeled surveillance report``: the extract and reports from the shell.

    bindeled surveillance extract --database sqlite:///bindeled.db --cutoff 2026-10-01T00:00:00Z
    bindeled surveillance report --cutoff 2026-10-01T00:00:00Z --level region --period month --format pdf -o r.pdf

``extract`` brings the Parquet extract (default ``<data_dir>/surveillance/extract``) up to the cut-off
as system work; ``report`` reads only the extract. Bad input gives a one-line error, never a traceback.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import click

from bindeled.config import load_settings
from bindeled.errors import BindeledError
from bindeled.fhir.definitions import load_definitions
from bindeled.fhir.validation import Validator
from bindeled.store.factory import open_store
from bindeled.store.repository import Repository
from bindeled.store.search import SearchIndexer
from bindeled.surveillance.extract import ExtractSummary, extract_store, load_extract
from bindeled.surveillance.reports.build import LEVELS, PERIODS, build_report
from bindeled.surveillance.reports.publish import FORMATS, render

__all__ = ["extract_command", "report_command"]


def _instant(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter("an instant such as 2026-10-01T00:00:00Z", param_hint="--cutoff") from None
    if moment.tzinfo is None:
        raise click.BadParameter("the cut-off needs a time zone", param_hint="--cutoff")
    return moment


def _folder(ctx: click.Context, folder: Path | None) -> Path:
    if folder is not None:
        return folder
    settings = load_settings((ctx.find_root().obj or {}).get("config"))
    return Path(settings.data_dir) / "surveillance" / "extract"


async def _extract(database_url: str | None, config: str | None, folder: Path, cutoff: datetime) -> ExtractSummary:
    overrides: dict[str, object] = {"database_url": database_url} if database_url else {}
    settings = load_settings(config, None, **overrides)
    definitions = load_definitions(settings.fhir_package_cache, settings.fhir_definitions_dir)
    store = open_store(settings.database_url, indexer=SearchIndexer(definitions))
    await store.open()
    try:
        return await extract_store(Repository(store, definitions, Validator(definitions)), folder, cutoff)
    finally:
        await store.close()


@click.command("extract")
@click.option("--database", "database_url", help="Database URL (else from settings).")
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path), help="The extract folder.")
@click.option("--cutoff", help="Data cut-off (an instant with a time zone; default now).")
@click.pass_context
def extract_command(ctx: click.Context, database_url: str | None, folder: Path | None, cutoff: str | None) -> None:
    """Bring the columnar surveillance extract up to a data cut-off."""
    moment = _instant(cutoff)
    target = _folder(ctx, folder)
    try:
        config = (ctx.find_root().obj or {}).get("config")
        summary = asyncio.run(_extract(database_url, config, target, moment))
    except (BindeledError, ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    read = ", ".join(f"{k} {v}" for k, v in summary.versions.items())
    click.echo(f"extract {target} now reaches {summary.cutoff.isoformat()} (read: {read or 'nothing new'})")


@click.command("report")
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path), help="The extract folder.")
@click.option("--cutoff", required=True, help="Data cut-off (the extract must reach it).")
@click.option("--level", type=click.Choice(LEVELS), default="region", show_default=True)
@click.option("--period", type=click.Choice(PERIODS), default="month", show_default=True)
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="csv", show_default=True)
@click.option("--definition", "definition_name", default="haiba", show_default=True)
@click.option("-o", "--output", type=click.File("wb"), default="-", help="Where to write (default standard output).")
@click.pass_context
def report_command(
    ctx: click.Context,
    folder: Path | None,
    cutoff: str,
    level: str,
    period: str,
    fmt: str,
    definition_name: str,
    output: BinaryIO,
) -> None:
    """Write one surveillance report (HAI rates and outbreak signals) from the extract."""
    try:
        extract = load_extract(_folder(ctx, folder), _instant(cutoff))
        report = build_report(extract, level=level, period=period, definition_name=definition_name)
    except BindeledError as exc:
        raise click.ClickException(str(exc)) from None
    output.write(render(report, fmt)[0])
