-- What the console's status page counts per tenant (store/tenant_stats.rs): deliveries of the
-- last 24 hours, failures by their last attempt, and what waits. Without these it read every
-- delivery the tenant ever had, a cost that grew with history. Partial, so the failed and
-- waiting ones stay small; the delivered one costs an index entry per delivered message.
CREATE INDEX deliveries_delivered_by_subscription
    ON deliveries (subscription_id, delivered_at) WHERE delivered_at IS NOT NULL;
CREATE INDEX deliveries_failed_by_subscription
    ON deliveries (subscription_id, last_attempt_at) WHERE status = 'failed';
CREATE INDEX deliveries_waiting_by_subscription
    ON deliveries (subscription_id) WHERE status IN ('pending', 'parked');
