//! What this process is sending right now: the lease token of each message's latest claim,
//! and how many attempts are in flight per destination.
//!
//! The database fences claims across processes; this registry covers what the database cannot
//! see. A claim whose lease lapsed while its attempt was still running (a record delayed past
//! the lease, a clock jump) can be taken again by this very process: the message must not be
//! sent a second time, and the running attempt must record under the newer claim's token.

use crate::domain::Destination;
use crate::store::{ClaimedDelivery, LeaseToken};
use std::collections::HashMap;
use std::sync::Mutex;
use uuid::Uuid;

/// What to do with one claimed group: one webhook message, or one email's messages.
#[derive(Debug)]
pub(super) enum Admission {
    /// Send it: its destination had room, and its attempt now counts against it.
    Send(Vec<ClaimedDelivery>),
    /// Give it back: its destination has its share in flight.
    Hold(Destination, Vec<Uuid>),
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

    /// Sorts a claimed group. Messages this process is already sending are taken out, their
    /// running attempt adopting this claim's token; the rest is sent if its destination has
    /// room, and held back otherwise.
    pub fn admit(&self, mut group: Vec<ClaimedDelivery>) -> Admission {
        let mut state = self.lock();
        group.retain(|delivery| match state.tokens.get_mut(&delivery.id) {
            Some(token) => {
                *token = delivery.lease_token;
                false
            }
            None => true,
        });
        let Some(first) = group.first() else {
            return Admission::AlreadySending;
        };
        if let Some(destination) = first.destination.clone() {
            let attempts = state.attempts.entry(destination.clone()).or_default();
            if *attempts >= self.per_destination_limit {
                return Admission::Hold(destination, group.iter().map(|d| d.id).collect());
            }
            *attempts += 1;
        }
        for delivery in &group {
            state.tokens.insert(delivery.id, delivery.lease_token);
        }
        Admission::Send(group)
    }

    /// The token of the latest claim of a message being sent.
    pub fn token(&self, id: Uuid) -> Option<LeaseToken> {
        self.lock().tokens.get(&id).copied()
    }

    /// The attempt of `group` is over and recorded. Returns true when its destination had been
    /// saturated: messages held back for it may go now.
    pub fn finish(&self, group: &[ClaimedDelivery]) -> bool {
        let mut state = self.lock();
        for delivery in group {
            state.tokens.remove(&delivery.id);
        }
        let Some(destination) = group.first().and_then(|d| d.destination.as_ref()) else {
            return false;
        };
        let Some(attempts) = state.attempts.get_mut(destination) else {
            return false;
        };
        let was_saturated = *attempts >= self.per_destination_limit;
        *attempts = attempts.saturating_sub(1);
        if *attempts == 0 {
            state.attempts.remove(destination);
        }
        was_saturated
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

    #[test]
    fn a_destination_with_its_share_in_flight_is_saturated_until_one_finishes() {
        let sending = InFlight::new(2);
        let a = sent(sending.admit(vec![claimed(1, 1, "https://slow.example/1")]));
        sent(sending.admit(vec![claimed(2, 1, "https://slow.example/2")]));
        sent(sending.admit(vec![claimed(3, 1, "https://fast.example/1")]));
        let slow = Destination::of(Channel::Webhook, "https://slow.example/").unwrap();
        assert_eq!(sending.saturated(), vec![slow.clone()]);
        match sending.admit(vec![claimed(4, 1, "https://slow.example/3")]) {
            Admission::Hold(destination, ids) => {
                assert_eq!(destination, slow);
                assert_eq!(ids, vec![Uuid::from_u128(4)]);
            }
            other => panic!("expected Hold, got {other:?}"),
        }
        assert!(sending.finish(&a), "the slow host had been saturated");
        assert!(sending.saturated().is_empty());
        sent(sending.admit(vec![claimed(4, 2, "https://slow.example/3")]));
    }

    #[test]
    fn a_message_claimed_again_while_being_sent_is_not_sent_twice_and_takes_the_new_token() {
        let sending = InFlight::new(16);
        let first = sent(sending.admit(vec![claimed(1, 1, "https://tms.example/")]));
        assert!(matches!(
            sending.admit(vec![claimed(1, 2, "https://tms.example/")]),
            Admission::AlreadySending
        ));
        assert_eq!(sending.token(Uuid::from_u128(1)), Some(LeaseToken(2)));
        assert!(!sending.finish(&first));
        assert_eq!(sending.token(Uuid::from_u128(1)), None);
    }

    #[test]
    fn a_target_without_a_host_is_not_counted() {
        let sending = InFlight::new(1);
        for id in 1..=3 {
            sent(sending.admit(vec![claimed(id, 1, "not a url")]));
        }
        assert!(sending.saturated().is_empty());
    }
}
