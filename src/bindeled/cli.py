"""The ``bindeled`` command: serve, demo, definitions, migrate."""

from __future__ import annotations

import asyncio
import logging
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from . import __version__
from .config import Settings, load_settings
from .fhir.definitions import PACKAGE_NAME, PACKAGE_VERSION, DefinitionsNotFound, load_definitions
from .logs import configure_logging

if TYPE_CHECKING:
    from .demo.region import DemoSummary

__all__ = ["main"]

log = logging.getLogger("bindeled.cli")


def _settings(ctx: click.Context, **overrides: Any) -> Settings:
    try:
        return load_settings(ctx.obj.get("config"), **overrides)
    except (ValueError, OSError) as exc:
        raise click.UsageError(str(exc)) from None


@click.group(help="bindeled — the link: a FHIR R4 platform joining Danish healthcare.")
@click.version_option(__version__, prog_name="bindeled")
@click.option("--config", type=click.Path(dir_okay=False), help="A TOML settings file (also BINDELED_CONFIG).")
@click.pass_context
def main(ctx: click.Context, config: str | None) -> None:
    ctx.ensure_object(dict)
    ctx.obj["config"] = config


def _run_server(settings: Settings) -> None:
    import uvicorn

    from .api.app import create_app

    configure_logging(settings.log_level, settings.log_json)
    try:
        app = create_app(settings)
    except DefinitionsNotFound as exc:
        raise click.ClickException(str(exc)) from None
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False)


@main.command(help="Serve the FHIR API and pages.")
@click.option("--database", "database_url", help="sqlite:///file.db, sqlite:///:memory: or postgresql://…")
@click.option("--host", help="Address to listen on.")
@click.option("--port", type=int, help="Port to listen on.")
@click.option("--dev", is_flag=True, default=None, help="Development mode (demo identity provider).")
@click.pass_context
def serve(ctx: click.Context, database_url: str | None, host: str | None, port: int | None, dev: bool | None) -> None:
    _run_server(_settings(ctx, database_url=database_url, host=host, port=port, dev=dev))


@main.command(help="Build the synthetic demo data set and serve it.")
@click.option("--database", "database_url", default="sqlite:///bindeled-demo.db", show_default=True)
@click.option("--citizens", type=click.IntRange(1), default=200, show_default=True, help="How many citizens.")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--host", help="Address to listen on.")
@click.option("--port", type=int, help="Port to listen on.")
@click.option("--no-serve", is_flag=True, help="Only build the data set.")
@click.pass_context
def demo(
    ctx: click.Context, database_url: str, citizens: int, seed: int, host: str | None, port: int | None, no_serve: bool
) -> None:
    settings = _settings(ctx, database_url=database_url, host=host, port=port, dev=True)
    configure_logging(settings.log_level, settings.log_json)
    if settings.database_url.startswith("sqlite:///") and ":memory:" not in settings.database_url:
        path = Path(settings.database_url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    # Derived data of an earlier demo (the surveillance extract and reports) belongs to the old database.
    shutil.rmtree(Path(settings.data_dir) / "surveillance", ignore_errors=True)
    started = time.monotonic()
    try:
        summary = asyncio.run(_load_demo(settings, citizens, seed))
    except DefinitionsNotFound as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Synthetic demo data (not real people): {citizens} citizens in {time.monotonic() - started:.1f} s — "
        + ", ".join(f"{n:,} {part}" for part, n in summary.parts.items())
    )
    click.echo(f"Steps: {summary.timings()}")
    if no_serve:
        return
    from .security import DEMO_USERS

    base = f"http://{settings.host}:{settings.port}/fhir"
    click.echo(f"FHIR API:  {base}/metadata")
    click.echo(f"Pages:     http://{settings.host}:{settings.port}/login  (one-click demo logins)")
    click.echo("Demo logins (synthetic people); get a bearer token with `bindeled token --as USER [--purpose P]`:")
    for user in DEMO_USERS:
        click.echo(f"  {user.username:<8} {user.claims.get('name', '')} ({user.claims.get('user_type', '')})")
    click.echo(f'Example:   curl -H "Authorization: Bearer $(bindeled token --as admin)" "{base}/Patient?_count=10"')
    _run_server(settings)


async def _load_demo(settings: Settings, citizens: int, seed: int) -> DemoSummary:
    from .api.app import build_services
    from .demo.region import build_region

    svc = build_services(settings)
    await svc.store.open()
    try:
        return await build_region(svc, citizens=citizens, seed=seed)
    finally:
        await svc.store.close()


@main.command(help="Print a bearer token for a demo user (development issuer; the server must run with --dev).")
@click.option(
    "--as",
    "username",
    required=True,
    help="admin, gp, doctor, nurse, sosu, secretary, epidemiologist, operator, citizen, citizen2 or proxy.",
)
@click.option("--purpose", help="Purpose of use, e.g. ESP_APPOINTMENTS, LAB_READ, FMK_READ.")
@click.option("--emergency-reason", help="Ask for emergency access (værdispring) with this reason code.")
@click.option("--hours", type=click.IntRange(1, 24), default=1, show_default=True, help="Lifetime.")
@click.pass_context
def token(ctx: click.Context, username: str, purpose: str | None, emergency_reason: str | None, hours: int) -> None:
    from datetime import timedelta

    from .security import LocalIssuer, demo_user
    from .security.demo import DEV_AUDIENCE, DEV_ISSUER

    settings = _settings(ctx)
    try:
        user = demo_user(username)
    except KeyError as exc:
        raise click.BadParameter(str(exc.args[0]), param_hint="--as") from None
    issuer = LocalIssuer(Path(settings.data_dir), DEV_ISSUER, DEV_AUDIENCE)
    click.echo(
        issuer.mint(
            user,
            now=datetime.now(UTC),
            purpose=purpose,
            emergency_reason=emergency_reason,
            lifetime=timedelta(hours=hours),
        )
    )


@main.group(help="The tamper-evident audit trail.")
def audit() -> None:
    pass


@audit.command("verify", help="Check the audit hash chain; exit 1 and name the first bad record if broken.")
@click.option("--database", "database_url", help="Database URL (else from settings).")
@click.pass_context
def audit_verify(ctx: click.Context, database_url: str | None) -> None:
    from .security import SqlAuditSink
    from .security.sinks import verify_chain
    from .store.factory import open_store

    settings = _settings(ctx, database_url=database_url)

    async def run() -> Any:
        store = open_store(settings.database_url)
        await store.open()
        try:
            return await verify_chain(SqlAuditSink(store))
        finally:
            await store.close()

    result = asyncio.run(run())
    if not result.ok:
        click.echo(f"audit chain BROKEN: record {result.first_bad_seq} {result.problem} ({result.checked} checked)")
        sys.exit(1)
    click.echo(f"audit chain intact: {result.checked} records")


@audit.command("purge", help="Remove MinLog entries and audit records older than their retention periods.")
@click.option("--database", "database_url", help="Database URL (else from settings).")
@click.pass_context
def audit_purge(ctx: click.Context, database_url: str | None) -> None:
    from datetime import timedelta

    from .security import SqlAuditSink
    from .security.sinks import purge_expired
    from .store.factory import open_store

    settings = _settings(ctx, database_url=database_url)

    async def run() -> Any:
        store = open_store(settings.database_url)
        await store.open()
        try:
            return await purge_expired(
                SqlAuditSink(store),
                datetime.now(UTC),
                minlog_retention=timedelta(days=settings.minlog_retention_days),
                audit_retention=timedelta(days=settings.audit_retention_days),
            )
        finally:
            await store.close()

    counts = asyncio.run(run())
    click.echo(f"purged {counts.minlog_entries} MinLog entries and {counts.audit_records} audit records")


@main.group(help="The official FHIR R4 definitions package.")
def definitions() -> None:
    pass


@definitions.command("install", help=f"Put {PACKAGE_NAME}#{PACKAGE_VERSION} into the FHIR package cache.")
@click.option(
    "--tarball",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Install from this package file instead of fetching it with npm.",
)
@click.pass_context
def definitions_install(ctx: click.Context, tarball: Path | None) -> None:
    from .fhir.packages import install_package

    settings = _settings(ctx)
    try:
        folder = install_package(settings.fhir_package_cache, PACKAGE_NAME, PACKAGE_VERSION, tarball)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{PACKAGE_NAME}#{PACKAGE_VERSION} is in {folder}")


@definitions.command("check", help="Load the definitions and say what they hold.")
@click.pass_context
def definitions_check(ctx: click.Context) -> None:
    settings = _settings(ctx)
    try:
        defs = load_definitions(settings.fhir_package_cache, settings.fhir_definitions_dir)
    except DefinitionsNotFound as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"FHIR {defs.version} from {defs.folder}: {len(defs.resource_types)} resource types, "
        f"{len(defs.search_parameters)} search parameters, {len(defs.value_sets)} value sets"
    )


@main.command(help="Apply pending database migrations (or list them with --dry-run).")
@click.option("--database", "database_url", help="Database URL (else from settings).")
@click.option("--dry-run", is_flag=True, help="Only list what would run.")
@click.pass_context
def migrate(ctx: click.Context, database_url: str | None, dry_run: bool) -> None:
    from .store.factory import open_store

    settings = _settings(ctx, database_url=database_url)

    async def run() -> list[str]:
        store = open_store(settings.database_url, migrate=False)
        await store.open()
        try:
            return [m.name for m in await store.migrate(dry_run=dry_run)]
        finally:
            await store.close()

    names = asyncio.run(run())
    if not names:
        click.echo("No pending migrations")
    for name in names:
        click.echo(f"{'pending' if dry_run else 'applied'}: {name}")


@main.group("import", help="Import national registers into the store.")
def import_group() -> None:
    pass


@import_group.command("sor", help="Import a SOR XML export (Organization, Location and Endpoint resources).")
@click.argument("export", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--previous",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The export imported last time: units it has and EXPORT lacks are switched off.",
)
@click.option("--database", "database_url", help="Database URL (else from settings).")
@click.pass_context
def import_sor(ctx: click.Context, export: Path, previous: Path | None, database_url: str | None) -> None:
    from .errors import BindeledError
    from .registry import SorTree, diff_trees, import_into, load_export
    from .store.factory import open_store

    settings = _settings(ctx, database_url=database_url)
    try:
        tree = SorTree.from_export(load_export(export))
        old = SorTree.from_export(load_export(previous)) if previous else None
    except BindeledError as exc:
        raise click.ClickException(f"{exc.message} ({', '.join(exc.location)})") from None

    async def run() -> Any:
        store = open_store(settings.database_url)
        await store.open()
        try:
            return await import_into(store, tree, previous=old)
        finally:
            await store.close()

    result = asyncio.run(run())
    click.echo(
        f"SOR import: {result.created} created, {result.updated} updated, "
        f"{result.unchanged} unchanged, {result.retired} switched off"
    )
    if old is not None:
        changes = diff_trees(old, tree)
        for kind, count in changes.counts().items():
            click.echo(f"  {kind}: {count}")


def _mount_optional_commands() -> None:
    """Commands whose packages live elsewhere in the tree (surveillance and others)."""
    try:
        from .surveillance.outbreak.cli import outbreak
    except ImportError:  # pragma: no cover - the surveillance package is part of the distribution
        return

    @main.group(help="Infection surveillance: outbreak detection and HAI reports.")
    def surveillance() -> None:
        pass

    surveillance.add_command(outbreak)
    from .surveillance.reports.cli import extract_command, report_command

    surveillance.add_command(extract_command)
    surveillance.add_command(report_command)


_mount_optional_commands()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
