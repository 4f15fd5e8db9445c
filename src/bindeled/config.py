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

    medcom_packages_dir: str = ""
    """Folder of ``name#version`` packages the message hub validates MedCom messages with; empty: the package cache."""

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

    audit_write_behind_ms: int = 200
    """Longest delay before the audit records of a read are written (0: write them before answering)."""

    audit_queue_limit: int = 500
    """Reads whose audit records may wait at once; the request that fills the queue writes it first."""

    registers_refresh_seconds: float = 5.0
    """How often a server looks for register changes made by other processes (0: only after its own writes)."""

    citizen_cache_follow_seconds: float = 1.0
    """How often a server forgets the Patients other processes wrote from its Patient → CPR cache (0: never)."""

    overview_legal_bases: tuple[str, ...] = ("SEL-79a", "SEL-83", "SEL-83a", "SEL-84", "SEL-86")
    """Legal bases a municipal appointment may give (codes of ``https://bindeled.dk/fhir/CodeSystem/legal-basis``)."""

    reminders_enabled: bool = True
    """Run the appointment-reminder worker (scheduling from the Appointment history, sending what is due)."""

    reminder_default_lead_minutes: int = 1440
    """How long before an appointment a reminder goes out when the citizen names no lead time (24 hours)."""

    reminder_sender: str = "file"
    """Where reminders go: ``file`` (one text file per reminder under ``data_dir/reminders``) or ``http``."""

    reminder_gateway_url: str = ""
    """The SMS gateway's URL for ``reminder_sender = "http"`` (a JSON POST per reminder)."""

    reminder_gateway_timeout_seconds: float = 10.0
    """How long one request to the SMS gateway may take."""

    reminder_gateway_retries: int = 3
    """Extra tries of one reminder against the gateway (connection errors, timeouts, 429, 5xx) before giving up."""

    reminder_poll_seconds: float = 5.0
    """How often the reminder worker looks for changed appointments and due reminders."""

    reminder_settle_seconds: float = 30.0
    """PostgreSQL: how long a write may take to commit; the history mark stays this far behind (see reminders.tail)."""

    reminder_max_attempts: int = 5
    """Rounds of sending one reminder (each with the gateway retries) before it is marked failed."""

    reminder_claim_lease_seconds: float = 600.0
    """A reminder claimed this long ago without being settled is marked unknown and never sent again."""

    delivery_backend: str = "database"
    """How the message hub delivers letters: ``database`` (outbox workers) or ``nats`` (JetStream)."""

    delivery_concurrency: int = 8
    """Letters delivered at the same time by one hub process."""

    delivery_poll_seconds: float = 0.2
    """How often an idle delivery worker looks for due letters."""

    delivery_timeout_seconds: float = 10.0
    """How long one push to a receiver may take before it counts as a transient error."""

    delivery_lease_seconds: float = 60.0
    """How long a claimed letter stays claimed; a worker that dies leaves it to be tried again after this."""

    delivery_retry_base_seconds: float = 1.0
    """First wait after a transient delivery error; each further attempt waits twice as long."""

    delivery_retry_max_seconds: float = 300.0
    """Longest wait between two delivery attempts."""

    delivery_max_attempts: int = 50
    """Attempts per copy of a letter before it is marked failed and dead-lettered."""

    delivery_ack_timeout_seconds: float = 1800.0
    """How long the hub waits for the receiver's Acknowledgement before sending the letter again."""

    delivery_max_resends: int = 3
    """New envelopes sent for a letter the receiver does not acknowledge, before it is marked failed."""

    nats_url: str = "nats://127.0.0.1:4222"
    """The NATS server with JetStream (``delivery_backend = "nats"``)."""

    nats_stream: str = "BINDELED_DELIVERY"
    """The JetStream stream (and consumer name prefix) the hub's letters pass through."""

    mllp_enabled: bool = False
    """Start the MLLP listener for HL7 v2 lab results (ORU^R01) with ``bindeled serve``."""

    mllp_host: str = "127.0.0.1"
    """Address the MLLP listener binds to."""

    mllp_port: int = 2575
    """TCP port of the MLLP listener (2575 is HL7's registered port)."""

    mllp_max_frame_bytes: int = 1024 * 1024
    """Largest HL7 v2 message accepted over MLLP; larger ones are rejected (AR) and quarantined."""

    lab_intake_dir: str = ""
    """A folder of ``*.hl7`` lab result files that ``bindeled serve`` reads (then moves them); empty: off."""

    lab_intake_poll_seconds: float = 5.0
    """How often that folder is looked at."""

    subscription_poll_seconds: float = 0.2
    """How often the Subscription notifier reads the versions written since its last round."""

    subscription_lookback_seconds: float = 2.0
    """How far before its high-water mark the notifier looks again, for transactions that committed late."""

    subscription_timeout_seconds: float = 5.0
    """How long one rest-hook call may take before it counts as a failed delivery."""

    subscription_max_failures: int = 3
    """Failed deliveries in a row after which a Subscription is set to ``error``."""

    subscription_retry_seconds: float = 1.0
    """The wait before retrying a failed rest-hook notification; it doubles with each failure in a row."""

    subscription_retry_max_seconds: float = 300.0
    """The longest wait between retries of a failed rest-hook notification."""

    def __post_init__(self) -> None:
        if not (1 <= self.port <= 65535):
            raise ValueError("port must be between 1 and 65535")
        if self.default_page_size < 1 or self.max_page_size < self.default_page_size:
            raise ValueError("page sizes must satisfy 1 <= default_page_size <= max_page_size")
        if not self.database_url.startswith(("sqlite:", "postgresql:", "postgres:")):
            raise ValueError("database_url must start with sqlite: or postgresql:")
        if self.minlog_retention_days < 1 or self.audit_retention_days < 1:
            raise ValueError("retention periods must be at least one day")
        if self.audit_write_behind_ms < 0 or self.audit_queue_limit < 1:
            raise ValueError("audit_write_behind_ms must be >= 0 and audit_queue_limit >= 1")
        if self.registers_refresh_seconds < 0:
            raise ValueError("registers_refresh_seconds must be >= 0")
        if self.citizen_cache_follow_seconds < 0:
            raise ValueError("citizen_cache_follow_seconds must be >= 0")
        if self.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("log_level must be DEBUG, INFO, WARNING or ERROR")
        if self.reminder_sender not in ("file", "http") or (
            self.reminder_sender == "http" and not self.reminder_gateway_url
        ):
            raise ValueError("reminder_sender must be file or http (http needs reminder_gateway_url)")
        waits = (self.reminder_poll_seconds, self.reminder_claim_lease_seconds, self.reminder_gateway_timeout_seconds)
        if min(waits) <= 0 or min(self.reminder_settle_seconds, self.reminder_gateway_retries) < 0:
            raise ValueError("reminder waits must be positive, retries and settle time not negative")
        if self.reminder_max_attempts < 1 or self.reminder_default_lead_minutes < 1:
            raise ValueError("reminder_max_attempts and reminder_default_lead_minutes must be at least 1")
        if self.delivery_backend not in ("database", "nats"):
            raise ValueError("delivery_backend must be database or nats")
        if self.delivery_concurrency < 1 or self.delivery_max_attempts < 1 or self.delivery_max_resends < 0:
            raise ValueError("delivery_concurrency and delivery_max_attempts must be >= 1, delivery_max_resends >= 0")
        delivery_times = (
            self.delivery_poll_seconds,
            self.delivery_timeout_seconds,
            self.delivery_lease_seconds,
            self.delivery_retry_base_seconds,
            self.delivery_retry_max_seconds,
            self.delivery_ack_timeout_seconds,
        )
        if min(delivery_times) <= 0:
            raise ValueError("delivery times must be positive")
        if not (1 <= self.mllp_port <= 65535) or self.mllp_max_frame_bytes < 1024:
            raise ValueError("mllp_port must be between 1 and 65535 and mllp_max_frame_bytes at least 1024")
        if self.lab_intake_poll_seconds <= 0:
            raise ValueError("lab_intake_poll_seconds must be positive")
        subscription_times = (
            self.subscription_poll_seconds,
            self.subscription_timeout_seconds,
            self.subscription_retry_seconds,
            self.subscription_retry_max_seconds,
        )
        if min(subscription_times) <= 0 or self.subscription_lookback_seconds < 0 or self.subscription_max_failures < 1:
            raise ValueError("subscription times must be positive and subscription_max_failures at least 1")

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
