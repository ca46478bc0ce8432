-- The operator's console (SQLite): why an account is suspended, and the operator log —
-- every action staff (or the operator on the command line) took on someone else's account
-- or key, with who did it and why.

ALTER TABLE users ADD COLUMN suspend_reason TEXT;

CREATE TABLE operator_log (
    id            INTEGER PRIMARY KEY,
    actor_user_id INTEGER REFERENCES users (id) ON DELETE SET NULL,  -- NULL: the command line
    actor         TEXT    NOT NULL,              -- the actor's username then, or 'operator'
    action        TEXT    NOT NULL,              -- an audit kind: key_limits_changed, account_suspended, …
    user_id       INTEGER REFERENCES users (id) ON DELETE SET NULL,  -- whose account or key
    username      TEXT    NOT NULL,              -- their username then
    key_id        TEXT,
    reason        TEXT,
    detail        TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX operator_log_user_idx ON operator_log (user_id, id);
