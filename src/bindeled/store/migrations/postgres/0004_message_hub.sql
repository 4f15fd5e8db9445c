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
    message_id      text  PRIMARY KEY,
    envelope_id     text  NOT NULL,
    message_type    text  NOT NULL,
    sender_gln      text  NOT NULL,
    receiver_gln    text  NOT NULL,
    sender_sor      text  NOT NULL,
    receiver_sor    text  NOT NULL,
    received        text  NOT NULL,
    response_code   text  NOT NULL,
    media_type      text  NOT NULL,
    body            bytea NOT NULL,
    acknowledgement bytea NOT NULL
);
CREATE INDEX hub_message_sender ON hub_message (sender_gln, received);
CREATE INDEX hub_message_receiver ON hub_message (receiver_gln, received);

CREATE TABLE hub_envelope (
    envelope_id text PRIMARY KEY,
    message_id  text NOT NULL,
    received    text NOT NULL
);
CREATE INDEX hub_envelope_message ON hub_envelope (message_id);

CREATE TABLE hub_hop (
    seq          bigserial PRIMARY KEY,
    message_id   text  NOT NULL,
    hop          text  NOT NULL,
    at           text  NOT NULL,
    message_type text  NOT NULL,
    sender_gln   text  NOT NULL,
    receiver_gln text  NOT NULL,
    body         bytea NOT NULL
);
CREATE INDEX hub_hop_message ON hub_hop (message_id, seq);

CREATE TABLE hub_stay (
    patient_id   text PRIMARY KEY,
    encounter_id text NOT NULL,
    events       bytea NOT NULL
);
