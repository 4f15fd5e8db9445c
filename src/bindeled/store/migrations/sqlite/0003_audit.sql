-- The operator audit chain and the citizens' MinLog (see security/audit.py, security/minlog.py).
-- `audit_chain` holds one AuditEvent per row, each linked to the previous one by hash; rows are
-- never updated (a trigger refuses it) and are deleted only from the front by the retention purge,
-- which moves the anchor in `audit_chain_state`. Instants are UTC text, fixed width, so text order
-- is time order; MinLog bodies keep the entry's own zoned time.

CREATE TABLE audit_chain (
    seq       INTEGER PRIMARY KEY,
    recorded  TEXT    NOT NULL,
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL,
    body      BLOB    NOT NULL
);
CREATE INDEX audit_chain_recorded ON audit_chain (recorded);

CREATE TRIGGER audit_chain_append_only BEFORE UPDATE ON audit_chain
BEGIN
    SELECT RAISE(ABORT, 'audit records are append-only');
END;

CREATE TABLE audit_chain_state (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    anchor_seq  INTEGER NOT NULL,
    anchor_hash TEXT    NOT NULL,
    head_seq    INTEGER NOT NULL,
    head_hash   TEXT    NOT NULL
);
INSERT INTO audit_chain_state VALUES (
    1, 0, '0000000000000000000000000000000000000000000000000000000000000000',
    0, '0000000000000000000000000000000000000000000000000000000000000000'
);

CREATE TABLE minlog (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    citizen        TEXT NOT NULL,
    time           TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    body           BLOB NOT NULL
);
CREATE INDEX minlog_citizen_time ON minlog (citizen, time);
CREATE INDEX minlog_time ON minlog (time);
