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
    seq             bigserial PRIMARY KEY,
    message_id      text    NOT NULL,
    is_ack          integer NOT NULL,
    envelope_id     text    NOT NULL,
    message_type    text    NOT NULL,
    sender_gln      text    NOT NULL,
    receiver_gln    text    NOT NULL,
    payload         bytea   NOT NULL,
    state           text    NOT NULL,
    enqueued        text    NOT NULL,
    due             text    NOT NULL,
    attempts        integer NOT NULL,
    copies          integer NOT NULL,
    delivered_at    text    NOT NULL,
    last_delivered  text    NOT NULL,
    channel         text    NOT NULL,
    acknowledged_at text    NOT NULL,
    last_error      text    NOT NULL,
    UNIQUE (message_id, is_ack)
);
CREATE INDEX hub_outbox_due ON hub_outbox (state, due);
CREATE INDEX hub_outbox_enqueued ON hub_outbox (enqueued);
CREATE INDEX hub_outbox_mailbox ON hub_outbox (receiver_gln, last_delivered);
