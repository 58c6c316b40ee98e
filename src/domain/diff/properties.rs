//! Properties of the diff and the message planner over random carrier histories (issue 12):
//! each history is polled snapshot by snapshot into a model of the store, and what a subscriber
//! to every state would be sent is read back from the planned messages.

mod found;
mod history;

use super::identity::Identity;
use super::{StoredEvent, content_changed, diff, outcome, sort_events, summary_status};
use crate::domain::message::{Message, MessageBody, Recipient, ShipmentChange};
use crate::domain::testing::{awb, summary};
use crate::domain::{StateFilter, SubscriptionId, SummaryStatus, TrackingEvent, message};
use chrono::{DateTime, Utc};
use history::History;
use proptest::prelude::*;

/// One poll of the model: what was stored before, what came, and what was sent.
#[derive(Debug)]
struct Poll {
    before: Vec<StoredEvent>,
    fetched: Vec<TrackingEvent>,
    /// `newEvents` of the `tracking.updated` message, if one was planned.
    announced: Vec<TrackingEvent>,
    /// `events` of that message.
    listed: Option<Vec<TrackingEvent>>,
    after: Vec<StoredEvent>,
    status: SummaryStatus,
}

/// The store and the subscriber of one shipment, as the poller and the outbox treat them.
struct Model {
    rows: Vec<StoredEvent>,
    status: Option<SummaryStatus>,
    recipient: Recipient,
}

impl Model {
    fn new() -> Self {
        Self {
            rows: Vec::new(),
            status: None,
            recipient: Recipient {
                subscription_id: SubscriptionId::new_random(),
                reference: None,
                states: StateFilter::All,
                next_sequence: 1,
                expires_at: now() + chrono::TimeDelta::days(21),
                url: Some("https://tms.example.com/hook".to_owned()),
                emails: Vec::new(),
                feed: false,
            },
        }
    }

    /// Diffs, plans and writes one answer, as `ingest::shipments::apply` and the store do.
    fn poll(&mut self, fetched: &[TrackingEvent]) -> Poll {
        let before = self.rows.clone();
        let found = diff(&before, fetched);
        let written = outcome(&before, &found);
        let status = summary_status(fetched, Some("ORD"), Some(3), self.status);
        let change = ShipmentChange {
            awb: awb(),
            summary: summary("ORD", Some(3), None, status),
            changed: written.changed,
            events: written.events,
            unchanged: written.unchanged,
        };
        let (messages, _) =
            message::plan_shipment_messages(&change, std::slice::from_ref(&self.recipient), now());
        let update = messages.iter().find_map(|m| {
            let body = serde_json::from_str::<Message>(&m.body)
                .expect("bodies parse")
                .body;
            match body {
                MessageBody::TrackingUpdated(update) => Some(update),
                _ => None,
            }
        });
        for upsert in written.upserts {
            match self
                .rows
                .iter_mut()
                .find(|r| r.fingerprint == upsert.fingerprint)
            {
                Some(row) => *row = upsert,
                None => self.rows.push(upsert),
            }
        }
        for row in &mut self.rows {
            row.withdrawn |= written.withdrawn.contains(&row.fingerprint);
        }
        self.status = Some(status);
        Poll {
            before,
            fetched: fetched.to_vec(),
            announced: update
                .as_ref()
                .map(|u| u.new_events.clone())
                .unwrap_or_default(),
            listed: update.map(|u| u.events),
            after: self.rows.clone(),
            status,
        }
    }
}

fn now() -> DateTime<Utc> {
    "2026-11-23T12:00:00Z".parse().expect("a valid instant")
}

/// Every poll of `history`, each snapshot fed once.
fn run(history: &History) -> Vec<Poll> {
    let mut model = Model::new();
    history
        .snapshots()
        .iter()
        .map(|snapshot| model.poll(snapshot))
        .collect()
}

/// Whether a row the subscriber has heard of (withdrawn or not) says what `event` says.
fn already_told(rows: &[StoredEvent], event: &TrackingEvent) -> bool {
    let identity = Identity::of(event);
    rows.iter().any(|row| {
        Identity::of(&row.event).matches_loosely(&identity) && !content_changed(&row.event, event)
    })
}

/// Events in a canonical order, to compare lists whose equal instants may come either way.
fn canonical(events: impl IntoIterator<Item = TrackingEvent>) -> Vec<String> {
    let mut texts: Vec<String> = events
        .into_iter()
        .map(|e| serde_json::to_string(&e).expect("events serialise"))
        .collect();
    texts.sort();
    texts
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// (a) The same answer twice, as sent or reordered, tells nobody anything the second time.
    #[test]
    fn the_same_snapshot_twice_announces_nothing(history in history::history()) {
        let mut model = Model::new();
        for snapshot in history.snapshots() {
            model.poll(&snapshot);
            let again = model.poll(&snapshot);
            prop_assert!(again.announced.is_empty(), "again: {:?}", again.announced);
            prop_assert_eq!(&again.after, &again.before, "the store changed");
            let mut reordered = snapshot.clone();
            reordered.reverse();
            let shuffled = model.poll(&reordered);
            prop_assert!(shuffled.announced.is_empty(), "reordered: {:?}", shuffled.announced);
        }
    }

    /// (b) Nothing is announced that the subscriber was already told as it is now: not an
    /// event restored unchanged, not a stored event renumbered beside a back-filled one.
    #[test]
    fn no_event_is_announced_twice_unless_it_changed(history in history::history()) {
        for poll in run(&history) {
            for event in &poll.announced {
                prop_assert!(
                    !already_told(&poll.before, event),
                    "announced again: {:?}\nstored: {:?}\nfetched: {:?}",
                    event, poll.before, poll.fetched
                );
            }
        }
    }

    /// (c) The summary status never moves backwards, whatever order events arrive in.
    #[test]
    fn the_summary_status_never_moves_backwards(history in history::history()) {
        let statuses: Vec<SummaryStatus> = run(&history).iter().map(|p| p.status).collect();
        prop_assert!(statuses.windows(2).all(|w| w[0] <= w[1]), "{:?}", statuses);
    }

    /// (d) Every event ever reported stays in the history (rows are never lost, only marked
    /// withdrawn), and every message lists exactly the active ones.
    #[test]
    fn every_event_ever_reported_stays_in_the_history(history in history::history()) {
        let mut reported: Vec<TrackingEvent> = Vec::new();
        for poll in run(&history) {
            reported.extend(poll.fetched.iter().cloned());
            prop_assert!(poll.after.len() >= poll.before.len());
            for event in &reported {
                let identity = Identity::of(event);
                prop_assert!(
                    poll.after.iter().any(|r| Identity::of(&r.event).matches_loosely(&identity)),
                    "lost: {:?}\nstored: {:?}", event, poll.after
                );
            }
            if let Some(listed) = poll.listed {
                let mut active: Vec<TrackingEvent> =
                    poll.after.iter().filter(|r| !r.withdrawn).map(|r| r.event.clone()).collect();
                sort_events(&mut active);
                prop_assert_eq!(canonical(listed), canonical(active));
            }
        }
    }
}
