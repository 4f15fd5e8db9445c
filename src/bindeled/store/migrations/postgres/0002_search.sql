-- Search indexes: one table per value type, rows only for current, non-deleted versions
-- (written by the store in the resource's own transaction; see store/search/tables.py).
-- Compared texts use the "C" collation (code point order), so prefix searches are index range scans.

CREATE TABLE search_token (
    res_type    text NOT NULL,
    res_id      text NOT NULL,
    param       text NOT NULL,
    system      text,
    code        text,
    text        text COLLATE "C",
    type_system text,
    type_code   text
);
CREATE INDEX search_token_code ON search_token (res_type, param, code, system);
CREATE INDEX search_token_resource ON search_token (res_type, res_id, param);

CREATE TABLE search_string (
    res_type text NOT NULL,
    res_id   text NOT NULL,
    param    text NOT NULL,
    norm     text COLLATE "C" NOT NULL,
    exact    text NOT NULL
);
CREATE INDEX search_string_norm ON search_string (res_type, param, norm);
CREATE INDEX search_string_resource ON search_string (res_type, res_id, param);

CREATE TABLE search_reference (
    res_type          text NOT NULL,
    res_id            text NOT NULL,
    param             text NOT NULL,
    target_type       text,
    target_id         text,
    url               text,
    identifier_system text,
    identifier_value  text
);
CREATE INDEX search_reference_target ON search_reference (res_type, param, target_id, target_type);
CREATE INDEX search_reference_reverse ON search_reference (target_type, target_id);
CREATE INDEX search_reference_url ON search_reference (res_type, param, url);
CREATE INDEX search_reference_resource ON search_reference (res_type, res_id, param);

CREATE TABLE search_date (
    res_type text NOT NULL,
    res_id   text NOT NULL,
    param    text NOT NULL,
    low      text COLLATE "C" NOT NULL,
    high     text COLLATE "C" NOT NULL
);
CREATE INDEX search_date_low ON search_date (res_type, param, low);
CREATE INDEX search_date_high ON search_date (res_type, param, high);
CREATE INDEX search_date_resource ON search_date (res_type, res_id, param);

CREATE TABLE search_number (
    res_type text NOT NULL,
    res_id   text NOT NULL,
    param    text NOT NULL,
    low      double precision NOT NULL,
    high     double precision NOT NULL
);
CREATE INDEX search_number_low ON search_number (res_type, param, low);
CREATE INDEX search_number_resource ON search_number (res_type, res_id, param);

CREATE TABLE search_quantity (
    res_type text NOT NULL,
    res_id   text NOT NULL,
    param    text NOT NULL,
    low      double precision NOT NULL,
    high     double precision NOT NULL,
    system   text,
    code     text,
    unit     text
);
CREATE INDEX search_quantity_low ON search_quantity (res_type, param, low);
CREATE INDEX search_quantity_resource ON search_quantity (res_type, res_id, param);

CREATE TABLE search_uri (
    res_type text NOT NULL,
    res_id   text NOT NULL,
    param    text NOT NULL,
    value    text COLLATE "C" NOT NULL
);
CREATE INDEX search_uri_value ON search_uri (res_type, param, value);
CREATE INDEX search_uri_resource ON search_uri (res_type, res_id, param);

-- Default search order.
CREATE INDEX resources_type_updated ON resources (res_type, last_updated, res_id);

-- :contains and :text search with trigram indexes.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX search_string_norm_trgm ON search_string USING gin (norm gin_trgm_ops);
CREATE INDEX search_token_text_trgm ON search_token USING gin (text gin_trgm_ops);

-- Composite parameters: one row per combination of component values found together; component i
-- uses s<i>/v<i>/w<i> (texts: system, code or value, extra text) and lo<i>/hi<i> (number ranges).
CREATE TABLE search_composite (
    res_type text NOT NULL,
    res_id   text NOT NULL,
    param    text NOT NULL,
    s1 text COLLATE "C", v1 text COLLATE "C", w1 text COLLATE "C", lo1 double precision, hi1 double precision,
    s2 text COLLATE "C", v2 text COLLATE "C", w2 text COLLATE "C", lo2 double precision, hi2 double precision,
    s3 text COLLATE "C", v3 text COLLATE "C", w3 text COLLATE "C", lo3 double precision, hi3 double precision
);
CREATE INDEX search_composite_first ON search_composite (res_type, param, v1, s1);
CREATE INDEX search_composite_resource ON search_composite (res_type, res_id, param);
