"""All settings in one place.

Settings are a frozen record, loaded once at start-up from (lowest to highest precedence) the
defaults below, an optional TOML file and ``BINDELED_*`` environment variables, then validated and
never changed. Every field is documented in ``docs/settings.md``; a test keeps the two in step.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

__all__ = ["Settings", "SystemClient", "TrustedIssuer", "load_settings"]

ENV_PREFIX = "BINDELED_"


class TrustedIssuer(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An OpenID Connect issuer whose bearer tokens bindeled accepts (configured in the TOML file)."""

    issuer: str
    """The exact ``iss`` of its tokens."""
    audience: str
    """The ``aud`` its tokens must carry for bindeled."""
    jwks_uri: str = ""
    """Where its public keys are published (fetched and cached at run time)."""
    jwks_file: str = ""
    """Or: a local JWKS file with its public keys."""
    leeway_seconds: int = 60
    """Allowed clock skew."""


class SystemClient(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A system registered with bindeled: it gets tokens at ``/oauth/token`` with a ``private_key_jwt`` assertion."""

    client_id: str
    """The client's id (``iss`` and ``sub`` of its assertions)."""
    jwks_file: str
    """A JWKS file with the client's public keys."""
    system_name: str
    """The system's name, as MinLog and the audit trail show it."""
    organisation_sor: str
    """The SOR code of the organisation running the system."""
    scopes: str = "system/*.rs"
    """The SMART ``system/`` scopes it may be granted (space-separated)."""
    purposes: tuple[str, ...] = ()
    """Purposes of use it may state; the first in sort order is its default."""
    system_version: str = ""
    """The system's version."""
    organisation_name: str = ""
    """The organisation's name."""


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The settings of one bindeled process."""

    database_url: str = "sqlite:///bindeled.db"
    """Where resources live: ``sqlite:///path.db``, ``sqlite:///:memory:`` or ``postgresql://…``."""

    host: str = "127.0.0.1"
    """Address the HTTP server listens on."""

    port: int = 8080
    """TCP port the HTTP server listens on."""

    base_url: str = ""
    """Public base URL of the FHIR API (used in links and Location headers); empty: taken from requests."""

    fhir_package_cache: str = "~/.fhir/packages"
    """The FHIR package cache holding ``hl7.fhir.r4.examples#4.0.1``."""

    fhir_definitions_dir: str = ""
    """A folder with the R4 definitions to use instead of the package cache (package or spec layout)."""

    fhir_profile_packages: tuple[str, ...] = ()
    """FHIR package folders whose profiles, extensions and value sets the validator also knows (DK-core, MedCom)."""

    max_body_bytes: int = 64 * 1024 * 1024
    """Largest request body accepted; larger ones get 413."""

    default_page_size: int = 50
    """Entries per page of a search or history Bundle when the client gives no ``_count``."""

    max_page_size: int = 1000
    """Largest ``_count`` honoured; larger values are cut to this."""

    log_level: str = "INFO"
    """Level of the application log (DEBUG, INFO, WARNING, ERROR)."""

    log_json: bool = True
    """Write the application log as one JSON object per line (else plain text)."""

    dev: bool = False
    """Development mode: enables the demo identity provider and demo users. Never in production."""

    data_dir: str = "bindeled-data"
    """Where bindeled keeps its own files (the development issuer's signing key)."""

    trusted_issuers: tuple[TrustedIssuer, ...] = ()
    """Identity providers whose tokens are accepted (TOML: ``[[trusted_issuers]]`` tables)."""

    clients: tuple[SystemClient, ...] = ()
    """Systems registered for the SMART Backend Services token exchange (TOML: ``[[clients]]`` tables)."""

    minlog_retention_days: int = 730
    """How long citizens' MinLog entries are kept (2 years by default)."""

    audit_retention_days: int = 3650
    """How long the operator audit trail is kept."""

    enforce_security: bool = True
    """Authenticate every request and apply the access policy. Off only for benchmark baselines."""

    strict_treatment_relation: bool = False
    """Refuse professionals' access without evidence of a treatment relation (else allow and flag it)."""

    def __post_init__(self) -> None:
        if not (1 <= self.port <= 65535):
            raise ValueError("port must be between 1 and 65535")
        if self.default_page_size < 1 or self.max_page_size < self.default_page_size:
            raise ValueError("page sizes must satisfy 1 <= default_page_size <= max_page_size")
        if not self.database_url.startswith(("sqlite:", "postgresql:", "postgres:")):
            raise ValueError("database_url must start with sqlite: or postgresql:")
        if self.minlog_retention_days < 1 or self.audit_retention_days < 1:
            raise ValueError("retention periods must be at least one day")
        if self.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("log_level must be DEBUG, INFO, WARNING or ERROR")

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed (validated again)."""
        return msgspec.convert(msgspec.to_builtins(self) | changes, Settings)


def _env_values(environ: Mapping[str, str]) -> dict[str, Any]:
    fields = {f.name: f for f in msgspec.structs.fields(Settings)}
    values: dict[str, Any] = {}
    for key, raw in environ.items():
        if not key.startswith(ENV_PREFIX):
            continue
        name = key[len(ENV_PREFIX) :].lower()
        if name == "config" or name not in fields:
            continue
        is_list = "tuple" in str(fields[name].type)
        values[name] = [part.strip() for part in raw.split(",") if part.strip()] if is_list else raw
    return values


def load_settings(
    config_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Defaults ← TOML file ← ``BINDELED_*`` environment ← explicit overrides (e.g. CLI flags)."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    path = config_file or env.get(ENV_PREFIX + "CONFIG")
    if path:
        with open(path, "rb") as fh:
            values.update(tomllib.load(fh))
    values.update(_env_values(env))
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return msgspec.convert(values, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise ValueError(f"invalid settings: {exc}") from exc
