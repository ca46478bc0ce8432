-- Patterns (SQLite): a design plus its settings, optionally made for one measurement set.
-- `settings` is a JSON object as text in both backends; `design` never changes after creation.

CREATE TABLE patterns (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    notes      TEXT    NOT NULL DEFAULT '',
    design     TEXT    NOT NULL,
    settings   TEXT    NOT NULL DEFAULT '{}',
    -- The set the pattern is made for; unlinked (not deleted) when that set goes.
    set_id     INTEGER REFERENCES measurement_sets (id) ON DELETE SET NULL,
    public     INTEGER NOT NULL DEFAULT 0 CHECK (public IN (0, 1)),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX patterns_user_id_idx ON patterns (user_id, id);
CREATE INDEX patterns_set_id_idx ON patterns (set_id);
