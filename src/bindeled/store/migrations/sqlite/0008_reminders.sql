-- Appointment reminders (see overview/reminders/).
-- `reminder_subscription`: a citizen's opt-in (one per Patient): channel (sms | email), address and
-- lead time, who set it up (user type and id, never a name). `reminder` is the outbox: one row per
-- appointment version, never two (the unique key), with its state: pending → sending (claimed by one
-- worker, committed before anything is sent) → sent | pending again (a transient failure, after
-- `not_before`) | failed; or superseded (a newer version), cancelled (the appointment was cancelled),
-- unsubscribed, unknown (a claim that lapsed mid-send: never sent again). `reminder_cursor` is the
-- high-water mark of the Appointment history the scheduler has seen.
-- Instants are UTC text, fixed width, so text order is time order (the same SQL serves both backends).

CREATE TABLE reminder_subscription (
    patient_id   TEXT PRIMARY KEY,
    channel      TEXT NOT NULL CHECK (channel IN ('sms', 'email')),
    address      TEXT NOT NULL,
    lead_minutes INTEGER NOT NULL CHECK (lead_minutes > 0),
    set_by       TEXT NOT NULL,
    updated      TEXT NOT NULL
);

CREATE TABLE reminder (
    id                  TEXT PRIMARY KEY,
    appointment_id      TEXT NOT NULL,
    appointment_version INTEGER NOT NULL,
    patient_id          TEXT NOT NULL,
    starts              TEXT NOT NULL,
    due                 TEXT NOT NULL,
    not_before          TEXT NOT NULL,
    state               TEXT NOT NULL,
    attempts            INTEGER NOT NULL DEFAULT 0,
    claimed_by          TEXT,
    claimed_at          TEXT,
    sent_at             TEXT,
    message             TEXT NOT NULL,
    detail              TEXT NOT NULL DEFAULT '',
    UNIQUE (appointment_id, appointment_version)
);
CREATE INDEX reminder_due ON reminder (state, due);
CREATE INDEX reminder_patient ON reminder (patient_id, state);
CREATE INDEX reminder_appointment ON reminder (appointment_id, state);

CREATE TABLE reminder_cursor (
    name TEXT PRIMARY KEY,
    low  INTEGER NOT NULL
);
