-- A message for a callback URL that was disabled (410 Gone, or failing past
-- webhooks.disable_after) is `parked`: kept, not attempted, until a PUT re-enables the URL and
-- the messages go out again in their order. Before this, they were cancelled.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
    CHECK (status IN ('pending', 'delivered', 'failed', 'parked'));
