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
    patient_id   text PRIMARY KEY,
    channel      text NOT NULL CHECK (channel IN ('sms', 'email')),
    address      text NOT NULL,
    lead_minutes integer NOT NULL CHECK (lead_minutes > 0),
    set_by       text NOT NULL,
    updated      text NOT NULL
);

CREATE TABLE reminder (
    id                  text PRIMARY KEY,
    appointment_id      text NOT NULL,
    appointment_version integer NOT NULL,
    patient_id          text NOT NULL,
    starts              text NOT NULL,
    due                 text NOT NULL,
    not_before          text NOT NULL,
    state               text NOT NULL,
    attempts            integer NOT NULL DEFAULT 0,
    claimed_by          text,
    claimed_at          text,
    sent_at             text,
    message             text NOT NULL,
    detail              text NOT NULL DEFAULT '',
    UNIQUE (appointment_id, appointment_version)
);
CREATE INDEX reminder_due ON reminder (state, due);
CREATE INDEX reminder_patient ON reminder (patient_id, state);
CREATE INDEX reminder_appointment ON reminder (appointment_id, state);

CREATE TABLE reminder_cursor (
    name text PRIMARY KEY,
    low  bigint NOT NULL
);
