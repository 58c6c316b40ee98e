-- A subscription's emails are freed when it completes or expires, as they already were when
-- it was unsubscribed, so the same address can subscribe to the target again. Subscriptions
-- that ended before this release kept theirs active; free them, dated at the ending (which is
-- what tells the email rows of an ended subscription from those removed earlier).
UPDATE subscription_emails SET active = false, removed_at = s.ended_at
FROM subscriptions s
WHERE s.id = subscription_emails.subscription_id
  AND s.status IN ('completed', 'expired')
  AND subscription_emails.active;
