-- Delivery under faults. `lease_token` is a fencing token: every claim of a message writes a
-- new one, and an attempt's outcome is recorded only with the token of the claim it belongs
-- to, so the late outcome of a lapsed claim cannot overwrite the claim that replaced it.
-- `destination` is the receiver an attempt talks to (a webhook URL's host and explicit port,
-- or the email relay), written when the message is queued, so that a claim can pass over
-- destinations that already have their share of messages in flight. Rows queued before this
-- migration have none; the dispatcher fills it in the first time it has to hold one back.
ALTER TABLE deliveries ADD COLUMN lease_token bigint NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN destination text;
