-- Versioned resources. `resources` holds the current version (or tombstone) of each resource;
-- `resource_history` every version ever written, tombstones included, in write order (`seq`).
-- Instants are text in one fixed-width form, 'YYYY-MM-DDTHH:MM:SS.ffffff+00:00' (UTC), so text
-- order is time order. Bodies are the exact JSON bytes; a tombstone's body is empty.

CREATE TABLE resources (
    res_type     TEXT    NOT NULL,
    res_id       TEXT    NOT NULL,
    version      INTEGER NOT NULL CHECK (version > 0),
    last_updated TEXT    NOT NULL,
    deleted      INTEGER NOT NULL CHECK (deleted IN (0, 1)),
    method       TEXT    NOT NULL,
    body         BLOB    NOT NULL,
    PRIMARY KEY (res_type, res_id)
);

CREATE TABLE resource_history (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    res_type     TEXT    NOT NULL,
    res_id       TEXT    NOT NULL,
    version      INTEGER NOT NULL CHECK (version > 0),
    last_updated TEXT    NOT NULL,
    deleted      INTEGER NOT NULL CHECK (deleted IN (0, 1)),
    method       TEXT    NOT NULL,
    body         BLOB    NOT NULL,
    FOREIGN KEY (res_type, res_id) REFERENCES resources (res_type, res_id)
);

-- vread, instance history (and its `_at` look-ups), the history foreign key.
CREATE UNIQUE INDEX resource_history_version ON resource_history (res_type, res_id, version);
-- Type history, newest first; system history uses `seq` itself.
CREATE INDEX resource_history_type_seq ON resource_history (res_type, seq);
-- `_since` / `_at` / `until` on type and system history.
CREATE INDEX resource_history_type_updated ON resource_history (res_type, last_updated);
CREATE INDEX resource_history_updated ON resource_history (last_updated);
