-- The operator audit chain and the citizens' MinLog (see security/audit.py, security/minlog.py).
-- `audit_chain` holds one AuditEvent per row, each linked to the previous one by hash; rows are
-- never updated (a trigger refuses it) and are deleted only from the front by the retention purge,
-- which moves the anchor in `audit_chain_state`. Writers lock the single `audit_chain_state` row, so
-- concurrent transactions append one after the other and the chain never forks. Instants are UTC
-- text, fixed width (they are part of the hashed record); MinLog bodies keep the entry's zoned time.

CREATE TABLE audit_chain (
    seq       bigint PRIMARY KEY,
    recorded  text   NOT NULL,
    prev_hash text   NOT NULL,
    hash      text   NOT NULL,
    body      bytea  NOT NULL
);
CREATE INDEX audit_chain_recorded ON audit_chain (recorded);

CREATE FUNCTION audit_chain_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit records are append-only';
END;
$$;
CREATE TRIGGER audit_chain_append_only BEFORE UPDATE ON audit_chain
    FOR EACH ROW EXECUTE FUNCTION audit_chain_refuse_update();

CREATE TABLE audit_chain_state (
    id          integer PRIMARY KEY CHECK (id = 1),
    anchor_seq  bigint  NOT NULL,
    anchor_hash text    NOT NULL,
    head_seq    bigint  NOT NULL,
    head_hash   text    NOT NULL
);
INSERT INTO audit_chain_state VALUES (
    1, 0, '0000000000000000000000000000000000000000000000000000000000000000',
    0, '0000000000000000000000000000000000000000000000000000000000000000'
);

CREATE TABLE minlog (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    citizen        text   NOT NULL,
    time           text   NOT NULL,
    correlation_id text   NOT NULL,
    body           bytea  NOT NULL
);
CREATE INDEX minlog_citizen_time ON minlog (citizen, time);
CREATE INDEX minlog_time ON minlog (time);
