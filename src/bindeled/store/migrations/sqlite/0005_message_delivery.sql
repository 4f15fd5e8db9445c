-- The MedCom message hub, delivering side (see messaging/delivery/).
-- `hub_outbox` holds one row per letter to deliver (a letter to its receiver, or an Acknowledgement to
-- the original sender), written in the receiving transaction. `envelope_id` is the Bundle.id of the copy
-- on its way (a resend gets a new one); `state` is pending, relayed, delivered, acknowledged or dead;
-- `due` is when the row next needs attention (the next attempt, the end of a worker's lease, or the end
-- of the wait for the receiver's Acknowledgement). `attempts` counts tries of the current copy, `copies`
-- the envelopes sent. `delivered_at` is the first delivery, `last_delivered` the latest; `channel` says
-- how it was delivered (push or mailbox; a mailbox letter is fetched by the receiver from this table).
-- Instants are UTC text, fixed width, so text order is time order; '' means not yet.

CREATE TABLE hub_outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id      TEXT    NOT NULL,
    is_ack          INTEGER NOT NULL,
    envelope_id     TEXT    NOT NULL,
    message_type    TEXT    NOT NULL,
    sender_gln      TEXT    NOT NULL,
    receiver_gln    TEXT    NOT NULL,
    payload         BLOB    NOT NULL,
    state           TEXT    NOT NULL,
    enqueued        TEXT    NOT NULL,
    due             TEXT    NOT NULL,
    attempts        INTEGER NOT NULL,
    copies          INTEGER NOT NULL,
    delivered_at    TEXT    NOT NULL,
    last_delivered  TEXT    NOT NULL,
    channel         TEXT    NOT NULL,
    acknowledged_at TEXT    NOT NULL,
    last_error      TEXT    NOT NULL,
    UNIQUE (message_id, is_ack)
);
CREATE INDEX hub_outbox_due ON hub_outbox (state, due);
CREATE INDEX hub_outbox_enqueued ON hub_outbox (enqueued);
CREATE INDEX hub_outbox_mailbox ON hub_outbox (receiver_gln, last_delivered);
