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
    authorisation_id text NOT NULL,
    education_code   text NOT NULL,
    name             text NOT NULL,
    status           text NOT NULL,
    valid_from       text,
    valid_to         text,
    PRIMARY KEY (authorisation_id, education_code)
);

CREATE TABLE security_authorisation_import (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    imported_at text    NOT NULL,
    format      text    NOT NULL,
    row_count   integer NOT NULL,
    digest      text    NOT NULL
);

CREATE TABLE security_register_entry (
    register text NOT NULL,
    id       text NOT NULL,
    updated  text NOT NULL,
    body     bytea NOT NULL,
    PRIMARY KEY (register, id)
);

CREATE TABLE security_register_version (
    id      integer PRIMARY KEY CHECK (id = 1),
    version bigint  NOT NULL
);
INSERT INTO security_register_version VALUES (1, 0);

CREATE TABLE security_pending_verification (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    day              text    NOT NULL,
    user_key         text    NOT NULL,
    citizen          text    NOT NULL,
    purpose          text    NOT NULL,
    patient_ref      text,
    organisation_sor text,
    first_seen       text    NOT NULL,
    last_seen        text    NOT NULL,
    accesses         integer NOT NULL,
    resolved_at      text,
    resolution       text,
    body             bytea   NOT NULL,
    UNIQUE (day, user_key, citizen, purpose)
);
CREATE INDEX security_pending_open ON security_pending_verification (resolved_at, first_seen);
