-- The MedCom message hub, receiving side (see messaging/hub/).
-- `hub_message` holds each received letter once per MessageHeader.id: the Bundle bytes exactly as
-- received, who sent it to whom, and the Acknowledgement the hub answered with (sent again, unchanged
-- in content, for every duplicate copy). `hub_envelope` remembers every Bundle.id (envelope) seen and
-- the letter it carried, so a repeated envelope and a new envelope of a known letter are told apart.
-- `hub_hop` is the "where is my message?" trail: one AuditEvent per hop, oldest first by `seq`.
-- `hub_stay` is each citizen's current hospital stay as the HospitalNotifications in effect (the
-- state behind the citizen's current-stay Encounter, see messaging/hub/stay_effects.py).
-- Instants are UTC text, fixed width, so text order is time order.

CREATE TABLE hub_message (
    message_id      TEXT PRIMARY KEY,
    envelope_id     TEXT NOT NULL,
    message_type    TEXT NOT NULL,
    sender_gln      TEXT NOT NULL,
    receiver_gln    TEXT NOT NULL,
    sender_sor      TEXT NOT NULL,
    receiver_sor    TEXT NOT NULL,
    received        TEXT NOT NULL,
    response_code   TEXT NOT NULL,
    media_type      TEXT NOT NULL,
    body            BLOB NOT NULL,
    acknowledgement BLOB NOT NULL
);
CREATE INDEX hub_message_sender ON hub_message (sender_gln, received);
CREATE INDEX hub_message_receiver ON hub_message (receiver_gln, received);

CREATE TABLE hub_envelope (
    envelope_id TEXT PRIMARY KEY,
    message_id  TEXT NOT NULL,
    received    TEXT NOT NULL
);
CREATE INDEX hub_envelope_message ON hub_envelope (message_id);

CREATE TABLE hub_hop (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id   TEXT NOT NULL,
    hop          TEXT NOT NULL,
    at           TEXT NOT NULL,
    message_type TEXT NOT NULL,
    sender_gln   TEXT NOT NULL,
    receiver_gln TEXT NOT NULL,
    body         BLOB NOT NULL
);
CREATE INDEX hub_hop_message ON hub_hop (message_id, seq);

CREATE TABLE hub_stay (
    patient_id   TEXT PRIMARY KEY,
    encounter_id TEXT NOT NULL,
    events       BLOB NOT NULL
);
