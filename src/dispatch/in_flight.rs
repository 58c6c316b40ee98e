//! What this process is sending right now: the lease token of each message's latest claim,
//! how many attempts are in flight per destination, and the claimed messages waiting here for
//! room at theirs.
//!
//! The database fences claims across processes; this registry covers what the database cannot
//! see. A claim whose lease lapsed while its attempt was still running (a record delayed past
//! the lease, a clock jump) can be taken again by this very process: the message must not be
//! sent a second time, and the running attempt must record under the newer claim's token.
//!
//! A claim can bring more messages for a destination than it has room for. They wait here, and
//! each attempt that finishes there hands its slot to the next: given back to the queue
//! instead, they were claimed again and given back again by every round, many times over for
//! each message sent when one busy receiver had the whole backlog.

use crate::domain::Destination;
use crate::store::{ClaimedDelivery, LeaseToken};
use chrono::{DateTime, Utc};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use uuid::Uuid;

/// What to do with one claimed group: one webhook message, or one email's messages.
#[derive(Debug)]
pub(super) enum Admission {
    /// Send it: its destination had room, and its attempt now counts against it.
    Send(Vec<ClaimedDelivery>),
    /// Nothing to do now: its destination has its share in flight, so it waits for the next
    /// of those attempts to finish ([`Finished::next`]).
    Wait,
    /// Nothing to do: every message of it is being sent by this process already.
    AlreadySending,
}

pub(super) struct InFlight {
    per_destination_limit: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    tokens: HashMap<Uuid, LeaseToken>,
    attempts: HashMap<Destination, usize>,
    waiting: HashMap<Destination, VecDeque<Waiting>>,
}

/// A group waiting for room at its destination, and the last moment its claim still leaves a
/// whole attempt and its record inside the lease.
struct Waiting {
    group: Vec<ClaimedDelivery>,
    start_by: DateTime<Utc>,
}

/// What follows an attempt that finished.
#[derive(Debug, Default)]
pub(super) struct Finished {
    /// The next group that waited for this destination, now counted in flight: it takes the
    /// finished attempt's slot.
    pub next: Option<Vec<ClaimedDelivery>>,
    /// Messages that waited past their start-by: not sent, to be given back.
    pub lapsed: Vec<Uuid>,
    /// The destination had its share in flight and has room now: claims may take it again.
    pub room: bool,
}

impl InFlight {
    pub fn new(per_destination_limit: u32) -> Self {
        Self {
            per_destination_limit: per_destination_limit.max(1) as usize,
            state: Mutex::default(),
        }
    }

    /// Destinations that have their share of attempts in flight: claims pass over them.
    pub fn saturated(&self) -> Vec<Destination> {
        let state = self.lock();
        state
            .attempts
            .iter()
            .filter(|(_, n)| **n >= self.per_destination_limit)
            .map(|(d, _)| d.clone())
            .collect()
    }

    /// Sorts a claimed group. Messages this process is already sending (or holding) are taken
    /// out, adopting this claim's token; the rest is sent if its destination has room, and
    /// waits otherwise, if need be until `start_by`.
    pub fn admit(&self, mut group: Vec<ClaimedDelivery>, start_by: DateTime<Utc>) -> Admission {
        let mut state = self.lock();
        let mut claimed_again = Vec::new();
        group.retain(|delivery| match state.tokens.get_mut(&delivery.id) {
            Some(token) => {
                *token = delivery.lease_token;
                claimed_again.push(delivery.id);
                false
            }
            None => true,
        });
        if !claimed_again.is_empty() {
            // A waiting message claimed again has the new claim's lease to start in.
            let waiting = state.waiting.values_mut().flatten();
            for waiting in waiting.filter(|w| w.group.iter().any(|d| claimed_again.contains(&d.id)))
            {
                waiting.start_by = waiting.start_by.max(start_by);
            }
        }
        let Some(first) = group.first() else {
            return Admission::AlreadySending;
        };
        for delivery in &group {
            state.tokens.insert(delivery.id, delivery.lease_token);
        }
        if let Some(destination) = first.destination.clone() {
            let attempts = state.attempts.entry(destination.clone()).or_default();
            if *attempts >= self.per_destination_limit {
                let waiting = Waiting { group, start_by };
                state
                    .waiting
                    .entry(destination)
                    .or_default()
                    .push_back(waiting);
                return Admission::Wait;
            }
            *attempts += 1;
        }
        Admission::Send(group)
    }

    /// Takes out the messages that waited past their start-by at `now`, by destination: not
    /// sent, to be given back. Each round asks, so none waits long for an attempt at its
    /// destination to finish before it goes back.
    pub fn lapsed(&self, now: DateTime<Utc>) -> Vec<(Destination, Vec<Uuid>)> {
        let mut state = self.lock();
        let mut lapsed = Vec::new();
        for (destination, queue) in &mut state.waiting {
            let mut ids = Vec::new();
            queue.retain(|w| {
                let keep = w.start_by >= now;
                if !keep {
                    ids.extend(w.group.iter().map(|d| d.id));
                }
                keep
            });
            if !ids.is_empty() {
                lapsed.push((destination.clone(), ids));
            }
        }
        state.waiting.retain(|_, queue| !queue.is_empty());
        for id in lapsed.iter().flat_map(|(_, ids)| ids) {
            state.tokens.remove(id);
        }
        lapsed
    }

    /// The token of the latest claim of a message being sent.
    pub fn token(&self, id: Uuid) -> Option<LeaseToken> {
        self.lock().tokens.get(&id).copied()
    }

    /// The attempt of `group` is over and recorded, at `now`: its slot goes to the next group
    /// waiting for the destination that can still start, or is freed.
    pub fn finish(&self, group: &[ClaimedDelivery], now: DateTime<Utc>) -> Finished {
        let mut state = self.lock();
        for delivery in group {
            state.tokens.remove(&delivery.id);
        }
        let mut finished = Finished::default();
        let Some(destination) = group.first().and_then(|d| d.destination.as_ref()) else {
            return finished;
        };
        if let Some(queue) = state.waiting.get_mut(destination) {
            while let Some(waiting) = queue.pop_front() {
                if waiting.start_by >= now {
                    finished.next = Some(waiting.group);
                    break;
                }
                finished.lapsed.extend(waiting.group.iter().map(|d| d.id));
            }
            if queue.is_empty() {
                state.waiting.remove(destination);
            }
        }
        for id in &finished.lapsed {
            state.tokens.remove(id);
        }
        if finished.next.is_some() {
            return finished; // the slot is handed over: the count stays
        }
        let Some(attempts) = state.attempts.get_mut(destination) else {
            return finished;
        };
        finished.room = *attempts >= self.per_destination_limit;
        *attempts = attempts.saturating_sub(1);
        if *attempts == 0 {
            state.attempts.remove(destination);
        }
        finished
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves counts that are still the best we know.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::message::Channel;

    fn claimed(id: u128, token: i64, target: &str) -> ClaimedDelivery {
        ClaimedDelivery {
            id: Uuid::from_u128(id),
            lease_token: LeaseToken(token),
            destination: Destination::of(Channel::Webhook, target),
            message_id: format!("msg_{id}"),
            subscription_id: Uuid::from_u128(id).into(),
            kind: "tracking.updated".to_owned(),
            channel: Channel::Webhook,
            target: target.to_owned(),
            sequence: 1,
            body: "{}".to_owned(),
            attempts: 0,
            created_at: chrono::Utc::now(),
            channel_active: true,
            url_disabled: false,
            url_failing_since: None,
            headers: Default::default(),
            secrets: Vec::new(),
            unsubscribe_token: None,
            allow_networks: Default::default(),
        }
    }

    fn sent(admission: Admission) -> Vec<ClaimedDelivery> {
        match admission {
            Admission::Send(group) => group,
            other => panic!("expected Send, got {other:?}"),
        }
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000 + seconds, 0).unwrap()
    }

    #[track_caller]
    fn waits(sending: &InFlight, delivery: ClaimedDelivery, start_by: DateTime<Utc>) {
        let admission = sending.admit(vec![delivery], start_by);
        assert!(matches!(admission, Admission::Wait), "{admission:?}");
    }

    fn ids(group: &[ClaimedDelivery]) -> Vec<Uuid> {
        group.iter().map(|d| d.id).collect()
    }

    #[test]
    fn a_message_for_a_saturated_destination_waits_and_takes_the_next_free_slot_there() {
        let sending = InFlight::new(2);
        let a = sent(sending.admit(vec![claimed(1, 1, "https://slow.example/1")], at(10)));
        let b = sent(sending.admit(vec![claimed(2, 1, "https://slow.example/2")], at(10)));
        sent(sending.admit(vec![claimed(3, 1, "https://fast.example/1")], at(10)));
        let slow = Destination::of(Channel::Webhook, "https://slow.example/").unwrap();
        assert_eq!(sending.saturated(), vec![slow.clone()]);
        for id in [4, 5] {
            waits(&sending, claimed(id, 1, "https://slow.example/3"), at(10));
        }
        // Each finished attempt hands its slot to the next waiting message, in claim order.
        let next = sending.finish(&a, at(5));
        assert_eq!(ids(next.next.as_deref().unwrap()), [Uuid::from_u128(4)]);
        assert!(!next.room && next.lapsed.is_empty());
        assert_eq!(
            sending.saturated(),
            vec![slow.clone()],
            "still two in flight"
        );
        let last = sending.finish(&b, at(6));
        assert_eq!(ids(last.next.as_deref().unwrap()), [Uuid::from_u128(5)]);
        // With nothing left waiting, a finished attempt frees its slot.
        let freed = sending.finish(&last.next.unwrap(), at(7));
        assert!(freed.next.is_none() && freed.room);
        assert!(sending.saturated().is_empty());
    }

    #[test]
    fn a_message_that_waited_past_its_start_by_is_given_back_unsent() {
        let sending = InFlight::new(1);
        let a = sent(sending.admit(vec![claimed(1, 1, "https://slow.example/1")], at(10)));
        waits(&sending, claimed(2, 1, "https://slow.example/2"), at(10));
        waits(&sending, claimed(3, 1, "https://slow.example/3"), at(30));
        let finished = sending.finish(&a, at(20));
        assert_eq!(finished.lapsed, [Uuid::from_u128(2)]);
        assert_eq!(ids(finished.next.as_deref().unwrap()), [Uuid::from_u128(3)]);
        assert_eq!(
            sending.token(Uuid::from_u128(2)),
            None,
            "no longer this process's"
        );
    }

    #[test]
    fn waiting_messages_past_their_start_by_are_taken_out_each_round_and_a_new_claim_extends_it() {
        let sending = InFlight::new(1);
        sent(sending.admit(vec![claimed(1, 1, "https://slow.example/1")], at(10)));
        waits(&sending, claimed(2, 1, "https://slow.example/2"), at(10));
        waits(&sending, claimed(3, 1, "https://slow.example/3"), at(10));
        // Message 3 is claimed again (its lease lapsed): its new claim starts by 40.
        assert!(matches!(
            sending.admit(vec![claimed(3, 2, "https://slow.example/3")], at(40)),
            Admission::AlreadySending
        ));
        let slow = Destination::of(Channel::Webhook, "https://slow.example/").unwrap();
        assert!(sending.lapsed(at(10)).is_empty(), "not before its start-by");
        assert_eq!(
            sending.lapsed(at(20)),
            vec![(slow, vec![Uuid::from_u128(2)])]
        );
        assert_eq!(sending.token(Uuid::from_u128(2)), None);
        assert_eq!(sending.token(Uuid::from_u128(3)), Some(LeaseToken(2)));
        assert!(sending.lapsed(at(30)).is_empty());
    }

    #[test]
    fn a_waiting_message_claimed_again_is_not_queued_twice() {
        let sending = InFlight::new(1);
        let a = sent(sending.admit(vec![claimed(1, 1, "https://slow.example/1")], at(10)));
        waits(&sending, claimed(2, 1, "https://slow.example/2"), at(10));
        assert!(matches!(
            sending.admit(vec![claimed(2, 2, "https://slow.example/2")], at(10)),
            Admission::AlreadySending
        ));
        assert_eq!(sending.token(Uuid::from_u128(2)), Some(LeaseToken(2)));
        let next = sending.finish(&a, at(5)).next.unwrap();
        assert!(sending.finish(&next, at(6)).next.is_none());
    }

    #[test]
    fn a_message_claimed_again_while_being_sent_is_not_sent_twice_and_takes_the_new_token() {
        let sending = InFlight::new(16);
        let first = sent(sending.admit(vec![claimed(1, 1, "https://tms.example/")], at(10)));
        assert!(matches!(
            sending.admit(vec![claimed(1, 2, "https://tms.example/")], at(10)),
            Admission::AlreadySending
        ));
        assert_eq!(sending.token(Uuid::from_u128(1)), Some(LeaseToken(2)));
        assert!(!sending.finish(&first, at(5)).room);
        assert_eq!(sending.token(Uuid::from_u128(1)), None);
    }

    #[test]
    fn a_target_without_a_host_is_not_counted() {
        let sending = InFlight::new(1);
        for id in 1..=3 {
            sent(sending.admit(vec![claimed(id, 1, "not a url")], at(10)));
        }
        assert!(sending.saturated().is_empty());
    }
}
