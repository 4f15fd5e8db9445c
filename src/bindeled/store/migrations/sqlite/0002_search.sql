-- Search indexes: one table per value type, rows only for current, non-deleted versions
-- (written by the store in the resource's own transaction; see store/search/tables.py).
-- Text compares in BINARY (code point) order, so prefix searches are index range scans.

CREATE TABLE search_token (
    res_type    TEXT NOT NULL,
    res_id      TEXT NOT NULL,
    param       TEXT NOT NULL,
    system      TEXT,
    code        TEXT,
    text        TEXT,
    type_system TEXT,
    type_code   TEXT
);
CREATE INDEX search_token_code ON search_token (res_type, param, code, system);
CREATE INDEX search_token_resource ON search_token (res_type, res_id, param);

CREATE TABLE search_string (
    res_type TEXT NOT NULL,
    res_id   TEXT NOT NULL,
    param    TEXT NOT NULL,
    norm     TEXT NOT NULL,
    exact    TEXT NOT NULL
);
CREATE INDEX search_string_norm ON search_string (res_type, param, norm);
CREATE INDEX search_string_resource ON search_string (res_type, res_id, param);

CREATE TABLE search_reference (
    res_type          TEXT NOT NULL,
    res_id            TEXT NOT NULL,
    param             TEXT NOT NULL,
    target_type       TEXT,
    target_id         TEXT,
    url               TEXT,
    identifier_system TEXT,
    identifier_value  TEXT
);
CREATE INDEX search_reference_target ON search_reference (res_type, param, target_id, target_type);
CREATE INDEX search_reference_reverse ON search_reference (target_type, target_id);
CREATE INDEX search_reference_url ON search_reference (res_type, param, url);
CREATE INDEX search_reference_resource ON search_reference (res_type, res_id, param);

CREATE TABLE search_date (
    res_type TEXT NOT NULL,
    res_id   TEXT NOT NULL,
    param    TEXT NOT NULL,
    low      TEXT NOT NULL,
    high     TEXT NOT NULL
);
CREATE INDEX search_date_low ON search_date (res_type, param, low);
CREATE INDEX search_date_high ON search_date (res_type, param, high);
CREATE INDEX search_date_resource ON search_date (res_type, res_id, param);

CREATE TABLE search_number (
    res_type TEXT NOT NULL,
    res_id   TEXT NOT NULL,
    param    TEXT NOT NULL,
    low      REAL NOT NULL,
    high     REAL NOT NULL
);
CREATE INDEX search_number_low ON search_number (res_type, param, low);
CREATE INDEX search_number_resource ON search_number (res_type, res_id, param);

CREATE TABLE search_quantity (
    res_type TEXT NOT NULL,
    res_id   TEXT NOT NULL,
    param    TEXT NOT NULL,
    low      REAL NOT NULL,
    high     REAL NOT NULL,
    system   TEXT,
    code     TEXT,
    unit     TEXT
);
CREATE INDEX search_quantity_low ON search_quantity (res_type, param, low);
CREATE INDEX search_quantity_resource ON search_quantity (res_type, res_id, param);

CREATE TABLE search_uri (
    res_type TEXT NOT NULL,
    res_id   TEXT NOT NULL,
    param    TEXT NOT NULL,
    value    TEXT NOT NULL
);
CREATE INDEX search_uri_value ON search_uri (res_type, param, value);
CREATE INDEX search_uri_resource ON search_uri (res_type, res_id, param);

-- Default search order.
CREATE INDEX resources_type_updated ON resources (res_type, last_updated, res_id);

-- Composite parameters: one row per combination of component values found together; component i
-- uses s<i>/v<i>/w<i> (texts: system, code or value, extra text) and lo<i>/hi<i> (number ranges).
CREATE TABLE search_composite (
    res_type TEXT NOT NULL,
    res_id   TEXT NOT NULL,
    param    TEXT NOT NULL,
    s1 TEXT, v1 TEXT, w1 TEXT, lo1 REAL, hi1 REAL,
    s2 TEXT, v2 TEXT, w2 TEXT, lo2 REAL, hi2 REAL,
    s3 TEXT, v3 TEXT, w3 TEXT, lo3 REAL, hi3 REAL
);
CREATE INDEX search_composite_first ON search_composite (res_type, param, v1, s1);
CREATE INDEX search_composite_resource ON search_composite (res_type, res_id, param);
