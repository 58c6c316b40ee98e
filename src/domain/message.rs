//! Outgoing messages: their envelope (Standard Webhooks' `id`, a per-subscription `sequence`),
//! the bodies of each message type, and the rule that turns "what changed on a shipment" into
//! one message per interested subscription, addressed to each of its channels. Bodies are
//! rendered here once, at queue time, so every retry sends the same bytes.

use super::{AwbNumber, StateFilter, SubscriptionId, SummaryStatus, TrackingEvent};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A message as every channel carries it: the envelope fields plus the type's own body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// Equal to the `webhook-id` header: stable across retries, the receiver's dedupe key.
    pub id: String,
    pub subscription_id: SubscriptionId,
    /// 1, 2, 3… per subscription, in the order messages were queued.
    pub sequence: u64,
    pub reference: Option<String>,
    /// When the message was queued.
    pub timestamp: DateTime<Utc>,
    #[serde(flatten)]
    pub body: MessageBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum MessageBody {
    #[serde(rename = "tracking.updated")]
    TrackingUpdated(ShipmentUpdate),
    #[serde(rename = "subscription.completed")]
    SubscriptionCompleted(Lifecycle),
    #[serde(rename = "subscription.expired")]
    SubscriptionExpired(Lifecycle),
    #[serde(rename = "subscription.test")]
    SubscriptionTest(Lifecycle),
}

impl MessageBody {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::TrackingUpdated(_) => "tracking.updated",
            Self::SubscriptionCompleted(_) => "subscription.completed",
            Self::SubscriptionExpired(_) => "subscription.expired",
            Self::SubscriptionTest(_) => "subscription.test",
        }
    }
}

/// The seed-003 callback shape with the seed-001 event model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShipmentUpdate {
    pub awb: AwbNumber,
    pub origin: Option<String>,
    pub destination: Option<String>,
    pub pieces: Option<u32>,
    pub weight: Option<f64>,
    pub volume: Option<f64>,
    pub status: SummaryStatus,
    /// New or changed events this subscription asked for (its `states` filter).
    pub new_events: Vec<TrackingEvent>,
    /// Events known before this update, already carried by earlier messages.
    pub old_events: Vec<TrackingEvent>,
    /// Everything known now (withdrawn events excluded).
    pub events: Vec<TrackingEvent>,
}

/// Body of the messages about the subscription itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lifecycle {
    pub awb: Option<AwbNumber>,
    pub status: Option<SummaryStatus>,
    pub expires_at: DateTime<Utc>,
    /// What this means for the subscriber, in words.
    pub message: String,
}

/// Where a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    Webhook,
    Email,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::Email => "email",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "webhook" => Some(Self::Webhook),
            "email" => Some(Self::Email),
            _ => None,
        }
    }
}

/// An active subscription as the outbox sees it when a shipment changes.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub subscription_id: SubscriptionId,
    pub reference: Option<String>,
    pub states: StateFilter,
    /// The sequence number the next message of this subscription gets.
    pub next_sequence: u64,
    pub expires_at: DateTime<Utc>,
    /// The callback URL, unless absent or disabled.
    pub url: Option<String>,
    pub emails: Vec<String>,
}

impl Recipient {
    fn targets(&self) -> Vec<(Channel, String)> {
        self.url
            .iter()
            .map(|url| (Channel::Webhook, url.clone()))
            .chain(self.emails.iter().map(|e| (Channel::Email, e.clone())))
            .collect()
    }
}

/// One message ready for the outbox: its rendered body and every channel target it goes to.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub subscription_id: SubscriptionId,
    pub message_id: String,
    pub kind: &'static str,
    pub sequence: u64,
    pub body: String,
    pub targets: Vec<(Channel, String)>,
}

/// What a poll found on a shipment, before it is tailored to each subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct ShipmentChange {
    pub awb: AwbNumber,
    pub origin: Option<String>,
    pub destination: Option<String>,
    pub pieces: Option<u32>,
    pub weight: Option<f64>,
    pub volume: Option<f64>,
    pub status: SummaryStatus,
    /// New, updated and restored events.
    pub changed: Vec<TrackingEvent>,
    /// Every active event now known, changed ones included, in event order.
    pub events: Vec<TrackingEvent>,
    /// Active events known before this poll that did not change.
    pub unchanged: Vec<TrackingEvent>,
}

impl ShipmentChange {
    pub fn is_delivered(&self) -> bool {
        self.status == SummaryStatus::Delivered
    }
}

/// A fresh message id in the Standard Webhooks `msg_` style.
pub fn new_message_id() -> String {
    format!("msg_{}", uuid::Uuid::new_v4().simple())
}

/// Messages for the subscriptions of a shipment that changed: a `tracking.updated` for every
/// subscription with at least one matching changed event, then — when the shipment is
/// delivered — a `subscription.completed` for every subscription, which ends it. Returns the
/// messages and the ids of the subscriptions that complete.
pub fn plan_shipment_messages(
    change: &ShipmentChange,
    recipients: &[Recipient],
    now: DateTime<Utc>,
) -> (Vec<Outgoing>, Vec<SubscriptionId>) {
    let delivered = change.is_delivered();
    let mut messages = Vec::new();
    let mut completed = Vec::new();
    for recipient in recipients {
        let mut sequence = recipient.next_sequence;
        let matching: Vec<TrackingEvent> = change
            .changed
            .iter()
            .filter(|e| recipient.states.matches(&e.code))
            .cloned()
            .collect();
        if !matching.is_empty() {
            let body = MessageBody::TrackingUpdated(ShipmentUpdate {
                awb: change.awb.clone(),
                origin: change.origin.clone(),
                destination: change.destination.clone(),
                pieces: change.pieces,
                weight: change.weight,
                volume: change.volume,
                status: change.status,
                new_events: matching,
                old_events: change.unchanged.clone(),
                events: change.events.clone(),
            });
            messages.push(outgoing(recipient, sequence, body, now));
            sequence += 1;
        }
        if delivered {
            let body = MessageBody::SubscriptionCompleted(Lifecycle {
                awb: Some(change.awb.clone()),
                status: Some(change.status),
                expires_at: recipient.expires_at,
                message: format!(
                    "AWB {} has been delivered; this subscription is complete and no further \
                     updates will be sent.",
                    change.awb
                ),
            });
            messages.push(outgoing(recipient, sequence, body, now));
            completed.push(recipient.subscription_id);
        }
    }
    (messages, completed)
}

/// The `subscription.expired` notice for a subscription that reached `expiresAt`.
pub fn expired_message(
    recipient: &Recipient,
    awb: Option<&AwbNumber>,
    now: DateTime<Utc>,
) -> Outgoing {
    let what = awb.map_or_else(|| "this flight".to_owned(), |a| format!("AWB {a}"));
    let body = MessageBody::SubscriptionExpired(Lifecycle {
        awb: awb.cloned(),
        status: None,
        expires_at: recipient.expires_at,
        message: format!(
            "The subscription to {what} has expired; no further updates will be sent. \
             Create a new subscription to keep tracking it."
        ),
    });
    outgoing(recipient, recipient.next_sequence, body, now)
}

/// A `subscription.test` message, queued on request so a receiver can check its set-up.
pub fn test_message(
    recipient: &Recipient,
    awb: Option<&AwbNumber>,
    now: DateTime<Utc>,
) -> Outgoing {
    let body = MessageBody::SubscriptionTest(Lifecycle {
        awb: awb.cloned(),
        status: None,
        expires_at: recipient.expires_at,
        message: "This is a test message from Skyhook; your endpoint received and can verify it."
            .to_owned(),
    });
    outgoing(recipient, recipient.next_sequence, body, now)
}

fn outgoing(
    recipient: &Recipient,
    sequence: u64,
    body: MessageBody,
    now: DateTime<Utc>,
) -> Outgoing {
    let kind = body.kind();
    let message = Message {
        id: new_message_id(),
        subscription_id: recipient.subscription_id,
        sequence,
        reference: recipient.reference.clone(),
        timestamp: now,
        body,
    };
    Outgoing {
        subscription_id: recipient.subscription_id,
        body: serde_json::to_string(&message).expect("messages always serialise"),
        message_id: message.id,
        kind,
        sequence,
        targets: recipient.targets(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn event(code: &str, place: &str) -> TrackingEvent {
        TrackingEvent {
            code: code.into(),
            description: None,
            event_date: None,
            event_location: Some(place.into()),
            is_planned: false,
            pieces: Some(2),
            weight: None,
            volume: None,
            flight: None,
            event_ulds: Vec::new(),
            additional_information: None,
        }
    }

    fn recipient(states: &[&str], url: Option<&str>, emails: &[&str]) -> Recipient {
        Recipient {
            subscription_id: uuid::Uuid::new_v4(),
            reference: Some("PO-1".into()),
            states: StateFilter::parse(states).unwrap(),
            next_sequence: 4,
            expires_at: Utc.with_ymd_and_hms(2026, 12, 14, 0, 0, 0).unwrap(),
            url: url.map(str::to_owned),
            emails: emails.iter().map(|e| (*e).to_owned()).collect(),
        }
    }

    fn change(status: SummaryStatus, changed: Vec<TrackingEvent>) -> ShipmentChange {
        let unchanged = vec![event("BKD", "FRA")];
        let events = unchanged.iter().chain(&changed).cloned().collect();
        ShipmentChange {
            awb: AwbNumber::parse("020-08002050").unwrap(),
            origin: Some("FRA".into()),
            destination: Some("ORD".into()),
            pieces: Some(2),
            weight: Some(120.0),
            volume: None,
            status,
            changed,
            events,
            unchanged,
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
    }

    #[test]
    fn a_message_goes_to_every_channel_of_a_subscription_whose_filter_matches() {
        let all = recipient(
            &["*"],
            Some("https://tms.example.com/hook"),
            &["ops@example.com"],
        );
        let arrivals = recipient(&["ARR"], Some("https://other.example.com/"), &[]);
        let change = change(SummaryStatus::InTransit, vec![event("DEP", "FRA")]);
        let (messages, completed) =
            plan_shipment_messages(&change, &[all.clone(), arrivals], now());
        assert!(completed.is_empty());
        assert_eq!(
            messages.len(),
            1,
            "the ARR-only subscription is not told about DEP"
        );
        let message = &messages[0];
        assert_eq!(message.subscription_id, all.subscription_id);
        assert_eq!(message.sequence, 4);
        assert_eq!(message.kind, "tracking.updated");
        assert_eq!(
            message.targets,
            vec![
                (Channel::Webhook, "https://tms.example.com/hook".to_owned()),
                (Channel::Email, "ops@example.com".to_owned())
            ]
        );
    }

    #[test]
    fn the_body_carries_the_envelope_and_new_old_and_all_events() {
        let r = recipient(&["DEP", "ARR"], Some("https://tms.example.com/"), &[]);
        let change = change(
            SummaryStatus::InTransit,
            vec![event("DEP", "FRA"), event("MAN", "FRA")],
        );
        let (messages, _) = plan_shipment_messages(&change, std::slice::from_ref(&r), now());
        let body: serde_json::Value = serde_json::from_str(&messages[0].body).unwrap();
        assert_eq!(body["type"], "tracking.updated");
        assert_eq!(body["id"], messages[0].message_id.as_str());
        assert!(messages[0].message_id.starts_with("msg_"));
        assert_eq!(body["subscriptionId"], r.subscription_id.to_string());
        assert_eq!(body["sequence"], 4);
        assert_eq!(body["reference"], "PO-1");
        assert_eq!(body["awb"], "020-08002050");
        assert_eq!(body["status"], "IN_TRANSIT");
        let codes = |key: &str| -> Vec<String> {
            body[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["code"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(codes("newEvents"), ["DEP"], "MAN is filtered out");
        assert_eq!(codes("oldEvents"), ["BKD"]);
        assert_eq!(codes("events"), ["BKD", "DEP", "MAN"]);
        let parsed: Message = serde_json::from_str(&messages[0].body).unwrap();
        assert_eq!(parsed.sequence, 4);
    }

    #[test]
    fn delivery_completes_every_subscription_after_its_last_update() {
        let dlv_only = recipient(&["DLV"], Some("https://a.example.com/"), &[]);
        let dep_only = recipient(&["DEP"], None, &["ops@example.com"]);
        let change = change(SummaryStatus::Delivered, vec![event("DLV", "ORD")]);
        let (messages, completed) =
            plan_shipment_messages(&change, &[dlv_only.clone(), dep_only.clone()], now());
        let kinds: Vec<_> = messages
            .iter()
            .map(|m| (m.subscription_id, m.kind, m.sequence))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (dlv_only.subscription_id, "tracking.updated", 4),
                (dlv_only.subscription_id, "subscription.completed", 5),
                (dep_only.subscription_id, "subscription.completed", 4),
            ]
        );
        assert_eq!(
            completed,
            vec![dlv_only.subscription_id, dep_only.subscription_id]
        );
    }

    #[test]
    fn nothing_changed_means_no_message() {
        let r = recipient(&["*"], Some("https://a.example.com/"), &[]);
        let (messages, completed) =
            plan_shipment_messages(&change(SummaryStatus::InTransit, vec![]), &[r], now());
        assert!(messages.is_empty());
        assert!(completed.is_empty());
    }

    #[test]
    fn the_expiry_notice_says_a_new_subscription_is_needed() {
        let r = recipient(&["*"], None, &["ops@example.com"]);
        let awb = AwbNumber::parse("020-08002050").unwrap();
        let message = expired_message(&r, Some(&awb), now());
        let body: Message = serde_json::from_str(&message.body).unwrap();
        let MessageBody::SubscriptionExpired(lifecycle) = body.body else {
            panic!("wrong type: {}", message.body);
        };
        assert!(lifecycle.message.contains("new subscription"));
        assert_eq!(
            message.targets,
            vec![(Channel::Email, "ops@example.com".into())]
        );
    }
}
