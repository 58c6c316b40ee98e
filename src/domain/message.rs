//! Outgoing messages: their envelope (Standard Webhooks' `id`, a per-subscription `sequence`),
//! the bodies of each message type, and the rule that turns "what changed on a shipment" into
//! one message per interested subscription, addressed to each of its channels. Bodies are
//! rendered here once, at queue time, so every retry sends the same bytes.

use super::flight_state::{self, FlightChange, FlightSnapshot};
use super::{
    AwbNumber, ShipmentSummary, StateFilter, SubscriptionId, SummaryStatus, TrackingEvent,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
    #[serde(rename = "flight.updated")]
    FlightUpdated(FlightUpdate),
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
            Self::FlightUpdated(_) => "flight.updated",
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
    #[serde(flatten)]
    pub summary: ShipmentSummary,
    /// New or changed events this subscription asked for (its `states` filter).
    pub new_events: Vec<TrackingEvent>,
    /// Events known before this update, already carried by earlier messages.
    pub old_events: Vec<TrackingEvent>,
    /// Everything known now (withdrawn events excluded).
    pub events: Vec<TrackingEvent>,
}

/// What changed on a subscribed flight: the flight as it is now, each changed field with its
/// old and new value, and the same in words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlightUpdate {
    pub flight: FlightSnapshot,
    pub changes: Vec<FlightChange>,
    /// "LH8160 FRA→ORD delayed: estimated departure 14:05 → 16:40 (+2h35)"
    pub summary: String,
}

/// Body of the messages about the subscription itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lifecycle {
    pub awb: Option<AwbNumber>,
    /// The flight, for a flight subscription's notices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flight: Option<FlightSnapshot>,
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
    /// Its messages also go to the tenant's feed.
    pub feed: bool,
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
    /// Also queued to the tenant's feed, with the same body.
    pub to_feed: bool,
}

/// The sequence each subscription's next message gets after these messages.
pub fn next_sequences(messages: &[Outgoing]) -> Vec<(SubscriptionId, i64)> {
    let mut next: BTreeMap<SubscriptionId, u64> = BTreeMap::new();
    for m in messages {
        let entry = next.entry(m.subscription_id).or_default();
        *entry = (*entry).max(m.sequence + 1);
    }
    next.into_iter()
        .map(|(id, seq)| (id, i64::try_from(seq).unwrap_or(i64::MAX)))
        .collect()
}

/// What a poll found on a shipment, before it is tailored to each subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct ShipmentChange {
    pub awb: AwbNumber,
    pub summary: ShipmentSummary,
    /// New and updated events; a restored event only when it changed while away.
    pub changed: Vec<TrackingEvent>,
    /// Every active event now known, changed ones included, in event order.
    pub events: Vec<TrackingEvent>,
    /// Active events known before this poll that did not change.
    pub unchanged: Vec<TrackingEvent>,
}

impl ShipmentChange {
    pub fn is_delivered(&self) -> bool {
        self.summary.status == SummaryStatus::Delivered
    }

    /// What the changed events say about the flights they name: carriers report flight times
    /// too, and a flight's subscribers hear of them even without a flight-status source.
    pub fn flight_reports(&self) -> Vec<super::FlightReport> {
        self.changed
            .iter()
            .filter_map(|event| super::FlightReport::from_event_flight(event.flight.as_ref()?))
            .collect()
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
                summary: change.summary.clone(),
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
                flight: None,
                status: Some(change.summary.status),
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

/// Messages for the subscriptions of a flight that changed: a `flight.updated` for each, then —
/// when `complete` (the flight has arrived or is cancelled, and for a subscription to every
/// leg of a number, so have the others) — a `subscription.completed`, which ends it.
/// A flight subscription's `states` filter concerns AWB events and does not apply here.
pub fn plan_flight_messages(
    flight: &FlightSnapshot,
    changes: &[FlightChange],
    recipients: &[Recipient],
    complete: bool,
    now: DateTime<Utc>,
) -> (Vec<Outgoing>, Vec<SubscriptionId>) {
    let finished = complete && flight.status.is_final();
    let summary = flight_state::describe(flight, changes);
    let mut messages = Vec::new();
    let mut completed = Vec::new();
    for recipient in recipients {
        let mut sequence = recipient.next_sequence;
        if !changes.is_empty() {
            let body = MessageBody::FlightUpdated(FlightUpdate {
                flight: flight.clone(),
                changes: changes.to_vec(),
                summary: summary.headline.clone(),
            });
            messages.push(outgoing(recipient, sequence, body, now));
            sequence += 1;
        }
        if finished {
            let outcome = if flight.status == super::FlightStatus::Cancelled {
                "was cancelled"
            } else {
                "has arrived"
            };
            let body = MessageBody::SubscriptionCompleted(Lifecycle {
                awb: None,
                flight: Some(flight.clone()),
                status: None,
                expires_at: recipient.expires_at,
                message: format!(
                    "Flight {} from {} on {} {outcome}; this subscription is complete and no \
                     further updates will be sent.",
                    flight.number, flight.origin, flight.date
                ),
            });
            messages.push(outgoing(recipient, sequence, body, now));
            completed.push(recipient.subscription_id);
        }
    }
    (messages, completed)
}

/// The `subscription.expired` notice for a subscription that reached `expiresAt`, naming its
/// AWB or flight (`LH8160 on 2026-11-25 from FRA`).
pub fn expired_message(
    recipient: &Recipient,
    awb: Option<&AwbNumber>,
    flight: Option<&str>,
    now: DateTime<Utc>,
) -> Outgoing {
    let what = match (awb, flight) {
        (Some(awb), _) => format!("AWB {awb}"),
        (None, Some(flight)) => format!("flight {flight}"),
        (None, None) => "this flight".to_owned(),
    };
    let body = MessageBody::SubscriptionExpired(Lifecycle {
        awb: awb.cloned(),
        flight: None,
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
        flight: None,
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
        to_feed: recipient.feed,
    }
}

#[cfg(test)]
mod tests;
