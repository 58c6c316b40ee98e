-- A message for a callback URL that was disabled (410 Gone, or failing past
-- webhooks.disable_after) is `parked`: kept, not attempted, until a PUT re-enables the URL and
-- the messages go out again in their order. Before this, they were cancelled. SQLite cannot
-- change a CHECK constraint, so the table is rebuilt (nothing references it).
CREATE TABLE deliveries_new (
    id                BLOB PRIMARY KEY,
    message_id        TEXT NOT NULL,
    subscription_id   BLOB NOT NULL REFERENCES subscriptions (id),
    type              TEXT NOT NULL,
    channel           TEXT NOT NULL CHECK (channel IN ('webhook', 'email')),
    target            TEXT NOT NULL,
    sequence          INTEGER NOT NULL,
    body              TEXT NOT NULL,
    status            TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'delivered', 'failed', 'parked')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   TEXT,
    lease_owner       BLOB,
    lease_expires_at  TEXT,
    last_attempt_at   TEXT,
    last_status_code  INTEGER,
    last_error        TEXT,
    failing_since     TEXT,
    created_at        TEXT NOT NULL,
    delivered_at      TEXT,
    lease_token       INTEGER NOT NULL DEFAULT 0,
    destination       TEXT,
    UNIQUE (message_id, channel, target)
);
INSERT INTO deliveries_new (id, message_id, subscription_id, type, channel, target, sequence,
    body, status, attempts, next_attempt_at, lease_owner, lease_expires_at, last_attempt_at,
    last_status_code, last_error, failing_since, created_at, delivered_at, lease_token,
    destination)
SELECT id, message_id, subscription_id, type, channel, target, sequence,
    body, status, attempts, next_attempt_at, lease_owner, lease_expires_at, last_attempt_at,
    last_status_code, last_error, failing_since, created_at, delivered_at, lease_token,
    destination
FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_by_subscription ON deliveries (subscription_id, created_at);
CREATE INDEX deliveries_pending_by_target
    ON deliveries (subscription_id, channel, target, sequence) WHERE status = 'pending';
