-- API key usage per UTC day (PostgreSQL): calls accepted and calls refused (by the key's rate
-- limit or daily quota). Written in batches from memory; one row per key and day.

CREATE TABLE api_key_usage (
    key_id  TEXT    NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    day     TEXT    NOT NULL,                    -- YYYY-MM-DD, UTC
    calls   BIGINT  NOT NULL DEFAULT 0,
    refused BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (key_id, day)
);
CREATE INDEX api_key_usage_day_idx ON api_key_usage (day);
