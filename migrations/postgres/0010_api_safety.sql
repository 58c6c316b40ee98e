-- Safe retries: one row per (API key, Idempotency-Key) seen within the replay window. While
-- the first request runs, `owner` and `locked_until` mark it in flight (a crashed instance's
-- claim lapses at `locked_until`); once it answered, its response is kept for replays until
-- `expires_at`. `fingerprint` is a SHA-256 of the method, path and body, so the same key with
-- another request is told apart.
CREATE TABLE idempotency_keys (
    tenant_id         uuid NOT NULL REFERENCES api_keys (id),
    key               text NOT NULL,
    fingerprint       text NOT NULL,
    owner             uuid,
    locked_until      timestamptz,
    response_status   integer,
    response_headers  jsonb,
    response_body     text,
    created_at        timestamptz NOT NULL,
    expires_at        timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
