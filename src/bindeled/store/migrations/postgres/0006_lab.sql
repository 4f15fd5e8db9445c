-- MiBa lab intake (see lab/store_sink.py).
-- `lab_message` remembers every accepted message once per (laboratory, control id): redelivery is idempotent.
-- `lab_result_version` keeps every incoming version of a result immutably, per (laboratory, sample number,
-- analysis) and control id, with the mapped FHIR resources as received (`body`, JSON) and what storing it
-- did (`outcome`: current or history). The current view lives in the FHIR resources themselves.
-- `lab_quarantine` holds the messages that were not accepted, for an operator to inspect and replay.
-- Instants are UTC text, fixed width, so text order is time order.

CREATE TABLE lab_message (
    laboratory  text NOT NULL,
    control_id  text NOT NULL,
    received    text NOT NULL,
    PRIMARY KEY (laboratory, control_id)
);

CREATE TABLE lab_result_version (
    laboratory    text NOT NULL,
    sample_number text NOT NULL,
    analysis      text NOT NULL,
    control_id    text NOT NULL,
    status        text NOT NULL,
    message_time  text NOT NULL,
    received      text NOT NULL,
    outcome       text NOT NULL,
    body          bytea NOT NULL,
    PRIMARY KEY (laboratory, sample_number, analysis, control_id)
);
CREATE INDEX lab_result_version_received ON lab_result_version (received);

CREATE TABLE lab_quarantine (
    id          text PRIMARY KEY,
    received    text NOT NULL,
    source      text NOT NULL,
    control_id  text NOT NULL,
    status      text NOT NULL,
    attempts    integer NOT NULL,
    error       text NOT NULL,
    raw         bytea NOT NULL
);
CREATE INDEX lab_quarantine_status ON lab_quarantine (status, received);

-- FHIR Subscriptions that notify about new and corrected results (see api/subscriptions/).
-- `subscription_owner` is who created each Subscription (their access context as token claims): a
-- notification is only sent about a resource its owner may read. `subscription_notification` claims
-- each (subscription, resource version) once, so several server processes never notify twice.

CREATE TABLE subscription_owner (
    subscription_id text PRIMARY KEY,
    claims          text NOT NULL,
    recorded        text NOT NULL
);

CREATE TABLE subscription_notification (
    subscription_id text NOT NULL,
    resource_type   text NOT NULL,
    resource_id     text NOT NULL,
    version_id      integer NOT NULL,
    claimed         text NOT NULL,
    PRIMARY KEY (subscription_id, resource_type, resource_id, version_id)
);
CREATE INDEX subscription_notification_claimed ON subscription_notification (claimed);
