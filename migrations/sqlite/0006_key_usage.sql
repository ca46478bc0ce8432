-- API key usage per UTC day (SQLite): calls accepted and calls refused (by the key's rate
-- limit or daily quota). Written in batches from memory; one row per key and day.

CREATE TABLE api_key_usage (
    key_id  TEXT    NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    day     TEXT    NOT NULL,                    -- YYYY-MM-DD, UTC
    calls   INTEGER NOT NULL DEFAULT 0,
    refused INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (key_id, day)
);
CREATE INDEX api_key_usage_day_idx ON api_key_usage (day);

-- Per-key limits set by staff (NULL: the instance's default; 0: refuse everything).
ALTER TABLE api_keys ADD COLUMN rate_limit INTEGER;    -- requests per minute
ALTER TABLE api_keys ADD COLUMN daily_quota INTEGER;   -- requests per UTC day
