-- The message feed (`GET /v1/messages`) for TMSs that cannot receive webhooks, and the
-- `feed` channel of a subscription that sends its messages there.
--
-- A subscription may have `feed` on (besides, or instead of, a URL and emails); one active
-- feed subscription per tenant and target, as for a URL (the duplicate rules). The index's
-- condition is spelled as the statements spell it (`AND feed`): SQLite uses a partial index
-- only for a query whose terms match its own, and `feed = 1` does not match `feed`.
ALTER TABLE subscriptions ADD COLUMN feed INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX subscriptions_active_feed
    ON subscriptions (tenant_id, target_key) WHERE status = 'active' AND feed;

-- For the same reason `subscription_emails_active` (`WHERE active = 1`) serves no statement,
-- which all say `AND active`: the duplicate rules' look-up of taken emails scanned every
-- email row of the database on each create and batch. This one serves them.
CREATE INDEX subscription_emails_active_by_target
    ON subscription_emails (tenant_id, target_key) WHERE active;

-- One row per message queued to a tenant's feed, in the transaction that queued it. SQLite
-- has one writer, so positions commit in the order they are handed out and `tx` is always 0
-- (Postgres needs it; see its migration). AUTOINCREMENT: a position is never reused, even
-- after the newest row is deleted, so a cursor never falls behind a new row.
CREATE TABLE feed_messages (
    position         INTEGER PRIMARY KEY AUTOINCREMENT,
    tx               INTEGER NOT NULL DEFAULT 0,
    tenant_id        BLOB NOT NULL REFERENCES api_keys (id),
    subscription_id  BLOB NOT NULL REFERENCES subscriptions (id),
    message_id       TEXT NOT NULL,
    type             TEXT NOT NULL,
    sequence         INTEGER NOT NULL,
    body             TEXT NOT NULL,
    created_at       TEXT NOT NULL
);
CREATE INDEX feed_messages_by_tenant ON feed_messages (tenant_id, tx, position);
