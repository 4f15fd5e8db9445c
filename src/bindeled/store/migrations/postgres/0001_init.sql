-- Versioned resources. `resources` holds the current version (or tombstone) of each resource;
-- `resource_history` every version ever written, tombstones included, in write order (`seq`).
-- Bodies are the exact JSON bytes as written (bytea, not jsonb, which would rewrite decimals and key
-- order); a tombstone's body is empty. Instants are timestamptz (UTC, microseconds).

CREATE TABLE resources (
    res_type     text        NOT NULL,
    res_id       text        NOT NULL,
    version      integer     NOT NULL CHECK (version > 0),
    last_updated timestamptz NOT NULL,
    deleted      boolean     NOT NULL,
    method       text        NOT NULL,
    body         bytea       NOT NULL,
    PRIMARY KEY (res_type, res_id)
) WITH (fillfactor = 90);

CREATE TABLE resource_history (
    seq          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    res_type     text        NOT NULL,
    res_id       text        NOT NULL,
    version      integer     NOT NULL CHECK (version > 0),
    last_updated timestamptz NOT NULL,
    deleted      boolean     NOT NULL,
    method       text        NOT NULL,
    body         bytea       NOT NULL,
    FOREIGN KEY (res_type, res_id) REFERENCES resources (res_type, res_id)
);

-- vread, instance history (and its `_at` look-ups), the history foreign key.
CREATE UNIQUE INDEX resource_history_version ON resource_history (res_type, res_id, version);
-- Type history, newest first; system history uses `seq` itself.
CREATE INDEX resource_history_type_seq ON resource_history (res_type, seq);
-- `_since` / `_at` / `until` on type and system history.
CREATE INDEX resource_history_type_updated ON resource_history (res_type, last_updated);
CREATE INDEX resource_history_updated ON resource_history (last_updated);
