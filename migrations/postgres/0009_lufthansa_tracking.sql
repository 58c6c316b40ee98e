-- Lufthansa as seed 002 describes it: a push only asks for a fetch of the Shipment Tracking
-- API, and each registration's callback URL carries a secret token.
-- `callback_token_hash`: SHA-256 (hex) of the token in the current registration's callback
--   URL; set before the registration is sent, so a push arriving before `carrier_ref` is known
--   is recognised (and asked to come again) rather than refused.
-- `registration_checked_at`: when the carrier last confirmed the registration (its answer to
--   the registration, or to a check). NULL with a `carrier_ref` marks a registration made
--   before callback tokens, which the poller replaces.
-- `push_count`, `last_push_at`: pushes accepted, for the operator.
-- `push_due_at`: when the fetch a push asked for is due; a poll claimed after it answers it.
ALTER TABLE shipments ADD COLUMN callback_token_hash text;
ALTER TABLE shipments ADD COLUMN registration_checked_at timestamptz;
ALTER TABLE shipments ADD COLUMN push_count integer NOT NULL DEFAULT 0;
ALTER TABLE shipments ADD COLUMN last_push_at timestamptz;
ALTER TABLE shipments ADD COLUMN push_due_at timestamptz;
CREATE UNIQUE INDEX shipments_callback_token
    ON shipments (carrier, callback_token_hash) WHERE callback_token_hash IS NOT NULL;
