-- The rollout register and the indicators' incrementally maintained aggregates (see indicators/).
-- `rollout_plan` holds what cannot be derived from the registers and the hub: an organisation's planned
-- go-live date for a service and whether it is live, one row per (organisation SOR code, service).
-- `indicator_cursor` remembers, per aggregate, the last audit_chain seq already counted, so a page view
-- counts only the records written since the previous one.
-- `indicator_overview_use` counts successful overview requests per UTC day and requesting SOR unit.
-- Dates are ISO text (YYYY-MM-DD); instants UTC text, fixed width.

CREATE TABLE rollout_plan (
    organisation_sor TEXT    NOT NULL,
    service          TEXT    NOT NULL,
    planned_go_live  TEXT,
    live             INTEGER NOT NULL,
    note             TEXT    NOT NULL,
    updated          TEXT    NOT NULL,
    PRIMARY KEY (organisation_sor, service)
);

CREATE TABLE indicator_cursor (
    name     TEXT PRIMARY KEY,
    last_seq INTEGER NOT NULL
);

CREATE TABLE indicator_overview_use (
    day      TEXT    NOT NULL,
    unit_sor TEXT    NOT NULL,
    requests INTEGER NOT NULL,
    PRIMARY KEY (day, unit_sor)
);
