-- The message feed (`GET /v1/messages`) for TMSs that cannot receive webhooks, and the
-- `feed` channel of a subscription that sends its messages there.
--
-- A subscription may have `feed` on (besides, or instead of, a URL and emails); one active
-- feed subscription per tenant and target, as for a URL (the duplicate rules).
ALTER TABLE subscriptions ADD COLUMN feed boolean NOT NULL DEFAULT false;
CREATE UNIQUE INDEX subscriptions_active_feed
    ON subscriptions (tenant_id, target_key) WHERE status = 'active' AND feed;

-- One row per message queued to a tenant's feed, in the transaction that queued it.
--
-- Readers page through it by `(tx, position)`. `position` alone would lose messages:
-- identity values are handed out when rows are inserted, not when they commit, so a
-- transaction holding position 10 can commit after one holding 11, and a reader that had
-- already moved past 11 would never see 10. `tx` is the inserting transaction's id
-- (`pg_current_xact_id()`, 64-bit, never wraps), and a reader takes only rows whose `tx` is
-- below its snapshot's `xmin`: every transaction below it has finished, so no row can appear
-- later behind the reader's cursor. A transaction still running (anywhere on the cluster)
-- holds the feed back until it ends; it never makes it skip.
CREATE TABLE feed_messages (
    position         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tx               bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    tenant_id        uuid NOT NULL REFERENCES api_keys (id),
    subscription_id  uuid NOT NULL REFERENCES subscriptions (id),
    message_id       text NOT NULL,
    type             text NOT NULL,
    sequence         bigint NOT NULL,
    body             text NOT NULL,
    created_at       timestamptz NOT NULL
);
CREATE INDEX feed_messages_by_tenant ON feed_messages (tenant_id, tx, position);
