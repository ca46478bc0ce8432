-- Measurement sets (SQLite). Flags are 0/1 integers and measurements a JSON object
-- ({"waist": 720.0, …}, millimetres; degrees for shoulderSlope) in both backends.

CREATE TABLE measurement_sets (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    notes        TEXT    NOT NULL DEFAULT '',
    imperial     INTEGER NOT NULL DEFAULT 0 CHECK (imperial IN (0, 1)),
    public       INTEGER NOT NULL DEFAULT 0 CHECK (public IN (0, 1)),
    measurements TEXT    NOT NULL DEFAULT '{}',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX measurement_sets_user_id_idx ON measurement_sets (user_id, id);
