-- The web console's sessions, kept in the database so that every instance sharing it knows
-- them. `session_hash` is the SHA-256 (hex) of the random value in the browser's cookie; the
-- value itself is never stored, so a copy of this table opens no session. A session is its
-- key's (`tenant_id` is the key's id): it ends at `expires_at`, at sign-out, or when the key is
-- revoked (checked at each request). `csrf_token` goes into every form the session is shown.
-- Expired rows are deleted on the way when sessions start and end (by `expires_at`).
CREATE TABLE console_sessions (
    session_hash  TEXT PRIMARY KEY,
    tenant_id     BLOB NOT NULL REFERENCES api_keys (id),
    csrf_token    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
