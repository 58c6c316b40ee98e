-- Delivery engine: when the callback URL of a subscription started failing without a success
-- since (for `webhooks.disable_after`), and an index for the per-target ordering check.
ALTER TABLE subscriptions ADD COLUMN url_failing_since TEXT;
CREATE INDEX deliveries_pending_by_target
    ON deliveries (subscription_id, channel, target, sequence) WHERE status = 'pending';
