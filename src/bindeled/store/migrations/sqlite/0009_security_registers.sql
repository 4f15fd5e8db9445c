-- The security gate's administered registers (see security/register_store.py, security/pending.py).
-- `security_authorisation` is the imported snapshot of the authorisation register: each import replaces
-- it whole; `security_authorisation_import` remembers when and what was imported.
-- `security_register_entry` holds trust agreements, delegations, treatment relations and registered
-- system clients as JSON documents, one row per (register, id).
-- `security_register_version` is bumped by every change, so each process can tell cheaply that the
-- gate's registers need rebuilding.
-- `security_pending_verification` holds the accesses allowed without a registered treatment relation
-- (lenient mode), one row per day, user, citizen and purpose, for an operator to follow up.
-- Instants are UTC text, fixed width, so text order is time order.

CREATE TABLE security_authorisation (
    authorisation_id TEXT NOT NULL,
    education_code   TEXT NOT NULL,
    name             TEXT NOT NULL,
    status           TEXT NOT NULL,
    valid_from       TEXT,
    valid_to         TEXT,
    PRIMARY KEY (authorisation_id, education_code)
);

CREATE TABLE security_authorisation_import (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    imported_at TEXT    NOT NULL,
    format      TEXT    NOT NULL,
    row_count   INTEGER NOT NULL,
    digest      TEXT    NOT NULL
);

CREATE TABLE security_register_entry (
    register TEXT NOT NULL,
    id       TEXT NOT NULL,
    updated  TEXT NOT NULL,
    body     BLOB NOT NULL,
    PRIMARY KEY (register, id)
);

CREATE TABLE security_register_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO security_register_version VALUES (1, 0);

CREATE TABLE security_pending_verification (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    day              TEXT    NOT NULL,
    user_key         TEXT    NOT NULL,
    citizen          TEXT    NOT NULL,
    purpose          TEXT    NOT NULL,
    patient_ref      TEXT,
    organisation_sor TEXT,
    first_seen       TEXT    NOT NULL,
    last_seen        TEXT    NOT NULL,
    accesses         INTEGER NOT NULL,
    resolved_at      TEXT,
    resolution       TEXT,
    body             BLOB    NOT NULL,
    UNIQUE (day, user_key, citizen, purpose)
);
CREATE INDEX security_pending_open ON security_pending_verification (resolved_at, first_seen);
