-- API keys and the per-user audit log (SQLite).

CREATE TABLE api_keys (
    id             TEXT    PRIMARY KEY,          -- public id, also inside the token
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name           TEXT    NOT NULL,
    level          INTEGER NOT NULL CHECK (level BETWEEN 0 AND 8),
    secret_hash    TEXT    NOT NULL,             -- HMAC-SHA256(pepper, secret), hex
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    last_used_at   INTEGER,
    calls          INTEGER NOT NULL DEFAULT 0,
    created_by_key TEXT,                         -- the key that minted this one, if any
    revoked_at     INTEGER,
    revoked_by     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    revoke_reason  TEXT
);
CREATE INDEX api_keys_user_id_idx ON api_keys (user_id);

CREATE TABLE audit_events (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind          TEXT    NOT NULL,              -- key_created, key_revoked, key_use_refused, …
    key_id        TEXT,
    actor_user_id INTEGER,                       -- who did it, when not the owner
    detail        TEXT,
    created_at    INTEGER NOT NULL
);
CREATE INDEX audit_events_user_id_idx ON audit_events (user_id, id);
