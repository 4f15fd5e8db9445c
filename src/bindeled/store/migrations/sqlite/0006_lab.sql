-- MiBa lab intake (see lab/store_sink.py).
-- `lab_message` remembers every accepted message once per (laboratory, control id): redelivery is idempotent.
-- `lab_result_version` keeps every incoming version of a result immutably, per (laboratory, sample number,
-- analysis) and control id, with the mapped FHIR resources as received (`body`, JSON) and what storing it
-- did (`outcome`: current or history). The current view lives in the FHIR resources themselves.
-- `lab_quarantine` holds the messages that were not accepted, for an operator to inspect and replay.
-- Instants are UTC text, fixed width, so text order is time order.

CREATE TABLE lab_message (
    laboratory  TEXT NOT NULL,
    control_id  TEXT NOT NULL,
    received    TEXT NOT NULL,
    PRIMARY KEY (laboratory, control_id)
);

CREATE TABLE lab_result_version (
    laboratory    TEXT NOT NULL,
    sample_number TEXT NOT NULL,
    analysis      TEXT NOT NULL,
    control_id    TEXT NOT NULL,
    status        TEXT NOT NULL,
    message_time  TEXT NOT NULL,
    received      TEXT NOT NULL,
    outcome       TEXT NOT NULL,
    body          BLOB NOT NULL,
    PRIMARY KEY (laboratory, sample_number, analysis, control_id)
);
CREATE INDEX lab_result_version_received ON lab_result_version (received);

CREATE TABLE lab_quarantine (
    id          TEXT PRIMARY KEY,
    received    TEXT NOT NULL,
    source      TEXT NOT NULL,
    control_id  TEXT NOT NULL,
    status      TEXT NOT NULL,
    attempts    INTEGER NOT NULL,
    error       TEXT NOT NULL,
    raw         BLOB NOT NULL
);
CREATE INDEX lab_quarantine_status ON lab_quarantine (status, received);

-- FHIR Subscriptions that notify about new and corrected results (see api/subscriptions/).
-- `subscription_owner` is who created each Subscription (their access context as token claims): a
-- notification is only sent about a resource its owner may read. `subscription_notification` claims
-- each (subscription, resource version) once, so several server processes never notify twice.

CREATE TABLE subscription_owner (
    subscription_id TEXT PRIMARY KEY,
    claims          TEXT NOT NULL,
    recorded        TEXT NOT NULL
);

CREATE TABLE subscription_notification (
    subscription_id TEXT NOT NULL,
    resource_type   TEXT NOT NULL,
    resource_id     TEXT NOT NULL,
    version_id      INTEGER NOT NULL,
    claimed         TEXT NOT NULL,
    PRIMARY KEY (subscription_id, resource_type, resource_id, version_id)
);
CREATE INDEX subscription_notification_claimed ON subscription_notification (claimed);
