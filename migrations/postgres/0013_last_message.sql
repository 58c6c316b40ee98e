-- When the last message was queued for a subscription (any channel): what the console's list
-- calls its last update, and `lastMessageAt` in the API. Set in the statement that advances
-- `next_sequence`; NULL until the first message.
ALTER TABLE subscriptions ADD COLUMN last_message_at timestamptz;
