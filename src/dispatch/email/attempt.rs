//! One email attempt: the messages claimed together for one address rendered as one email and
//! sent, and the outcome as the retry policy reads it.

use super::render::render;
use super::{Mailer, mask};
use crate::dispatch::webhook::{AttemptReport, truncate};
use crate::domain::EmailAddress;
use crate::domain::SubscriptionId;
use crate::domain::message::{Channel, Message};
use crate::domain::retry::Attempt;
use crate::store::ClaimedDelivery;
use std::collections::BTreeMap;

/// Sends one email carrying every message of `group` (one subscription, one address), with
/// links to the console under `console_base` when it is served.
pub(in crate::dispatch) async fn send_emails(
    mailer: &Mailer,
    public_url: &url::Url,
    console_base: Option<&str>,
    group: &[ClaimedDelivery],
) -> AttemptReport {
    let first = &group[0];
    let failed = AttemptReport::failed;
    let to = match EmailAddress::parse(&first.target) {
        Ok(to) => to,
        Err(e) => return failed(e.to_string()),
    };
    let messages: Result<Vec<Message>, _> = group
        .iter()
        .map(|d| serde_json::from_str(&d.body))
        .collect();
    let messages = match messages {
        Ok(messages) => messages,
        Err(e) => return failed(format!("unreadable queued message: {e}")),
    };
    let token = first.unsubscribe_token.as_deref().unwrap_or_default();
    let unsubscribe = public_url
        .join(&format!("unsubscribe/{token}"))
        .map_or_else(|_| String::new(), String::from);
    let content = render(&messages, console_base);
    match mailer.send(&to, &content, &unsubscribe).await {
        Ok(()) => AttemptReport {
            attempt: Attempt::Succeeded,
            status_code: None,
            error: None,
        },
        Err(e) => {
            let permanent = e.is_permanent();
            tracing::warn!(to = mask(to.as_str()), error = %e, permanent, "email not sent");
            let mut report = failed(truncate(&e.to_string(), 2048).to_owned());
            if permanent {
                // An unknown mailbox stays unknown: fail now, not after days of retries.
                report.attempt = Attempt::Refused;
            }
            report
        }
    }
}

/// Webhook messages go one by one; emails to the same address of the same subscription that
/// were claimed together (a batch window's worth) go as one email.
pub(in crate::dispatch) fn group_emails(
    claimed: Vec<ClaimedDelivery>,
) -> Vec<Vec<ClaimedDelivery>> {
    let mut groups = Vec::new();
    let mut emails: BTreeMap<(SubscriptionId, String), Vec<ClaimedDelivery>> = BTreeMap::new();
    for delivery in claimed {
        match delivery.channel {
            Channel::Webhook => groups.push(vec![delivery]),
            Channel::Email => emails
                .entry((delivery.subscription_id, delivery.target.clone()))
                .or_default()
                .push(delivery),
        }
    }
    groups.extend(emails.into_values().map(|mut group| {
        group.sort_by_key(|d| d.sequence);
        group
    }));
    groups
}
