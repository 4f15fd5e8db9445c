-- FHIR Subscriptions, hardened (see api/subscriptions/).
-- `subscription_header` keeps each Subscription's channel.header lines (often a receiver's secret) out of
-- the stored resource, whose versions carry them as `Name: [redacted]`.
-- A claimed rest-hook notification is now a queue entry: `pending` until the receiver takes it (`sent`),
-- retried with back-off from `next_attempt`, `lease` while one process is calling, `dropped` when its
-- Subscription is gone or its owner may no longer see the data. Old rows were all delivered: `sent`.
-- `subscription_mark` is how far the notifiers have read the history, so a restart misses no version.

CREATE TABLE subscription_header (
    subscription_id text PRIMARY KEY,
    lines           text NOT NULL
);

ALTER TABLE subscription_notification ADD COLUMN state text NOT NULL DEFAULT 'sent';
ALTER TABLE subscription_notification ADD COLUMN attempts integer NOT NULL DEFAULT 0;
ALTER TABLE subscription_notification ADD COLUMN next_attempt text NOT NULL DEFAULT '';
ALTER TABLE subscription_notification ADD COLUMN lease text NOT NULL DEFAULT '';
ALTER TABLE subscription_notification ADD COLUMN last_error text;
CREATE INDEX subscription_notification_due ON subscription_notification (state, next_attempt);

CREATE TABLE subscription_mark (
    id   integer PRIMARY KEY,
    mark text NOT NULL
);
