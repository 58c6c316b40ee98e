//! Which fetched tracking events are new, which changed, which vanished: the rule.
//!
//! **Identity.** An event's *fingerprint* is `CODE|LOCATION|FLIGHT|SCHEDULED_DEPARTURE|PIECES`,
//! e.g. `DEP|FRA|LH8160|2026-11-25T10:00:00Z|34`: code and location upper-cased, the flight number
//! without spaces and without the leading zeros of its number (`00768` = `768`), the scheduled
//! departure as a UTC instant, an absent part written as an empty string. The event date, the
//! planned flag, estimated/actual times and weight are deliberately *not* part of it: they are
//! what changes when a planned event happens or is re-timed, an update of the same event. Split
//! shipments (same code and place, another flight or piece count) get distinct fingerprints.
//!
//! **Missing pieces.** Some sources send the same event once with and once without `pieces`
//! (seed 003). When one side lacks pieces, events that agree on everything else are the same
//! event; a source omitting pieces later does not forget the pieces we know.
//!
//! **One fetch.** Two fetched events with the same identity are merged into the more complete one
//! (an anomaly records it), unless both are actual, dated, and differ both as instants and as
//! wall-clock times: then they are separate occurrences (two partial deliveries of 17 pieces) and
//! the later one is keyed `…#2`, `…#3`. Equal wall-clock times with other offsets (`Z` against
//! `+01:00`, seed 003) are the sloppy source writing one event twice.
//!
//! **Against the store.** Unknown identity → *new*. Known identity whose content changed (event
//! date instant, planned flag, description, pieces, weight, volume, flight times as instants,
//! flight destination) → *updated*, under the stored fingerprint. A fetched event is matched to
//! a stored one of the same identity at the same instant before it is matched by key, so an
//! aggregator back-filling an earlier occurrence (`…` then `…#2`) adds one new event rather than
//! renumbering the stored one into an update. A stored event missing from a non-empty fetch →
//! *withdrawn* (kept in history, marked); an empty fetch withdraws nothing, since it is far
//! likelier a source hiccup than a carrier deleting a whole history. A withdrawn event that
//! reappears → *restored*, and news only if it also changed ([`outcome`]). Offsets never
//! matter, only instants: the same data fetched twice, however written, yields an empty diff.

mod identity;
mod outcome;
#[cfg(test)]
mod properties;
mod status;
#[cfg(test)]
mod tests;

pub use outcome::{Outcome, outcome};
pub use status::{is_delivered, summary_status};

use identity::Identity;

use crate::domain::{EventFlight, TrackingEvent};
use chrono::{DateTime, FixedOffset, Utc};
use std::cmp::Reverse;
use std::collections::{HashMap, HashSet};

/// An event as the store keeps it: under its fingerprint, never deleted, only marked withdrawn.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub fingerprint: String,
    pub event: TrackingEvent,
    pub withdrawn: bool,
}

/// An event with the fingerprint the store keys it by. For an update that is the *stored* row's
/// fingerprint, which may differ from [`fingerprint`] of the event (pieces learnt later, `#2`).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyedEvent {
    pub fingerprint: String,
    pub event: TrackingEvent,
}

impl From<KeyedEvent> for StoredEvent {
    /// A fetched event as the store keeps it: active.
    fn from(keyed: KeyedEvent) -> Self {
        Self {
            fingerprint: keyed.fingerprint,
            event: keyed.event,
            withdrawn: false,
        }
    }
}

/// What a fetch changed against the stored events. `new` and `updated` are chronological.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Diff {
    pub new: Vec<KeyedEvent>,
    pub updated: Vec<KeyedEvent>,
    /// Fingerprints of stored events the source no longer reports.
    pub withdrawn: Vec<String>,
    /// Fingerprints of withdrawn events the source reports again.
    pub restored: Vec<String>,
    /// Oddities in the fetched data, for people to read.
    pub anomalies: Vec<String>,
}

impl Diff {
    /// Nothing to store or notify. Anomalies alone do not count.
    pub fn is_empty(&self) -> bool {
        self.new.is_empty()
            && self.updated.is_empty()
            && self.withdrawn.is_empty()
            && self.restored.is_empty()
    }

    /// New and updated events: the ones to notify about.
    pub fn changed(&self) -> impl Iterator<Item = &TrackingEvent> {
        self.new
            .iter()
            .chain(&self.updated)
            .map(|keyed| &keyed.event)
    }
}

/// The event's identity as stable, readable text (see the module doc).
pub fn fingerprint(event: &TrackingEvent) -> String {
    Identity::of(event).key()
}

/// Chronological by instant, undated events last; stable, so equal instants keep their order.
pub fn sort_events(events: &mut [TrackingEvent]) {
    events.sort_by_key(chronological);
}

/// Compares `fetched` (one source's full current answer) with what is `stored` for the shipment.
pub fn diff(stored: &[StoredEvent], fetched: &[TrackingEvent]) -> Diff {
    let mut out = Diff::default();
    let slots = merge_duplicates(fetched, &mut out.anomalies);
    let matched = match_stored(stored, &slots);

    let mut taken: HashSet<String> = stored.iter().map(|s| s.fingerprint.clone()).collect();
    for (slot, stored_index) in slots.into_iter().zip(matched.iter().copied()) {
        let Some(j) = stored_index else {
            let fingerprint = free_key(&slot, &taken);
            taken.insert(fingerprint.clone());
            out.new.push(KeyedEvent {
                fingerprint,
                event: slot.event,
            });
            continue;
        };
        let known = &stored[j];
        if known.withdrawn {
            out.restored.push(known.fingerprint.clone());
        }
        let mut event = slot.event;
        event.pieces = event.pieces.or(known.event.pieces);
        if content_changed(&known.event, &event) {
            out.updated.push(KeyedEvent {
                fingerprint: known.fingerprint.clone(),
                event,
            });
        }
    }

    if !fetched.is_empty() {
        let claimed: HashSet<usize> = matched.into_iter().flatten().collect();
        out.withdrawn = stored
            .iter()
            .enumerate()
            .filter(|(j, s)| !s.withdrawn && !claimed.contains(j))
            .map(|(_, s)| s.fingerprint.clone())
            .collect();
    }
    out
}

/// One distinct event of a fetch, after merging duplicates.
struct Slot {
    identity: Identity,
    event: TrackingEvent,
    /// 1 for the first occurrence of an identity in the fetch, 2 for the next, …
    occurrence: usize,
}

impl Slot {
    fn key(&self, occurrence: usize) -> String {
        match occurrence {
            0 | 1 => self.identity.key(),
            n => format!("{}#{n}", self.identity.key()),
        }
    }
}

/// Merges events written twice in one fetch; returns the distinct ones chronologically, numbered.
fn merge_duplicates(fetched: &[TrackingEvent], anomalies: &mut Vec<String>) -> Vec<Slot> {
    // Merged in a canonical order, not the fetch's: which copy wins a tie, and which of two
    // split events a copy without pieces joins, must not change when a source reorders its
    // answer, or the same answer reordered would be announced as an update.
    let mut fetched: Vec<&TrackingEvent> = fetched.iter().collect();
    fetched.sort_by_cached_key(|event| {
        let text = serde_json::to_string(event).expect("events serialise");
        (chronological(event), Reverse(completeness(event)), text)
    });
    let mut slots: Vec<Slot> = Vec::new();
    for event in fetched {
        let identity = Identity::of(event);
        let same = |slot: &Slot| same_occurrence(&slot.event, event);
        // An exact match beats one that only works because a piece count is missing.
        let existing = slots
            .iter()
            .position(|s| s.identity == identity && same(s))
            .or_else(|| {
                slots
                    .iter()
                    .position(|s| s.identity.matches_loosely(&identity) && same(s))
            });
        let Some(slot) = existing.map(|i| &mut slots[i]) else {
            slots.push(Slot {
                identity,
                event: event.clone(),
                occurrence: 1,
            });
            continue;
        };
        anomalies.push(format!(
            "duplicate event {} (eventDate {} and {}) merged, the more complete one kept",
            slot.identity.key(),
            date_text(slot.event.event_date),
            date_text(event.event_date),
        ));
        // The copy kept keeps the pieces either copy knew, as the store does across fetches.
        let pieces = slot.event.pieces.or(event.pieces);
        if completeness(event) > completeness(&slot.event) {
            slot.event = event.clone();
        }
        slot.event.pieces = slot.event.pieces.or(pieces);
        slot.identity = Identity::of(&slot.event);
    }

    // Equal instants keep the canonical order, so numbering is reproducible fetch after fetch.
    slots.sort_by_key(|slot| chronological(&slot.event));
    let mut seen: HashMap<String, usize> = HashMap::new();
    for slot in &mut slots {
        let count = seen.entry(slot.identity.key()).or_default();
        *count += 1;
        slot.occurrence = *count;
    }
    slots
}

/// Whether two events with one identity are one event written twice rather than two occurrences.
fn same_occurrence(a: &TrackingEvent, b: &TrackingEvent) -> bool {
    if a.is_planned || b.is_planned {
        return true;
    }
    match (a.event_date, b.event_date) {
        // Same wall-clock time under another offset is seed 003's sloppy double write.
        (Some(x), Some(y)) => x == y || x.naive_local() == y.naive_local(),
        _ => true,
    }
}

/// Actual beats planned, then more filled-in fields win.
fn completeness(event: &TrackingEvent) -> (bool, usize) {
    let flight_fields = event.flight.as_ref().map_or(0, |f| {
        f.times().iter().flatten().count()
            + [&f.number, &f.origin, &f.destination]
                .iter()
                .filter(|v| v.is_some())
                .count()
    });
    let fields = [
        event.description.is_some(),
        event.event_date.is_some(),
        event.event_location.is_some(),
        event.pieces.is_some(),
        event.weight.is_some(),
        event.volume.is_some(),
        !event.event_ulds.is_empty(),
        event.additional_information.is_some(),
    ];
    (
        !event.is_planned,
        fields.iter().filter(|f| **f).count() + flight_fields,
    )
}

/// For each slot, the index of the stored event it is, by the first rule that finds one:
/// 1. the same identity at the same instant, then 2. loosely the same (a piece count missing on
///    one side) at the same instant: occurrence numbers follow the fetch, so an earlier
///    occurrence back-filled later, or one whose pieces went missing, shifts them, and
///    matching by key first would take a stored event for an update of its neighbour;
/// 3. the same key (a re-timed event), before 4. the only stored event loosely the same, so a
///    loose match never steals a row another fetched event names exactly.
fn match_stored(stored: &[StoredEvent], slots: &[Slot]) -> Vec<Option<usize>> {
    let at = |event: &TrackingEvent| event.event_date.map(instant);
    let identities: Vec<Identity> = stored.iter().map(|s| Identity::of(&s.event)).collect();
    let mut matching = Matching {
        claimed: vec![false; stored.len()],
        found: vec![None; slots.len()],
    };
    matching.pass(slots, |slot, j| {
        at(&slot.event).is_some()
            && at(&slot.event) == at(&stored[j].event)
            && identities[j] == slot.identity
    });
    matching.pass(slots, |slot, j| {
        at(&slot.event).is_some()
            && at(&slot.event) == at(&stored[j].event)
            && identities[j].matches_loosely(&slot.identity)
    });
    matching.pass(slots, |slot, j| {
        stored[j].fingerprint == slot.key(slot.occurrence)
    });
    for (i, slot) in slots.iter().enumerate() {
        if matching.found[i].is_some() {
            continue;
        }
        let mut candidates = (0..stored.len())
            .filter(|&j| !matching.claimed[j] && identities[j].matches_loosely(&slot.identity));
        if let (Some(j), None) = (candidates.next(), candidates.next()) {
            matching.claim(i, j);
        }
    }
    matching.found
}

/// Stored events matched to slots so far.
struct Matching {
    claimed: Vec<bool>,
    found: Vec<Option<usize>>,
}

impl Matching {
    /// Gives every unmatched slot the first unclaimed stored event `rule` accepts.
    fn pass(&mut self, slots: &[Slot], rule: impl Fn(&Slot, usize) -> bool) {
        for (i, slot) in slots.iter().enumerate() {
            if self.found[i].is_some() {
                continue;
            }
            let pick = (0..self.claimed.len()).find(|&j| !self.claimed[j] && rule(slot, j));
            if let Some(j) = pick {
                self.claim(i, j);
            }
        }
    }

    fn claim(&mut self, slot: usize, stored: usize) {
        self.claimed[stored] = true;
        self.found[slot] = Some(stored);
    }
}

/// The slot's key, bumped past `#n` suffixes already in use. Defensive: rows keyed by an older
/// rule (matched by content, not key) must not make a new event's key clash with theirs.
fn free_key(slot: &Slot, taken: &HashSet<String>) -> String {
    (slot.occurrence..)
        .map(|n| slot.key(n))
        .find(|key| !taken.contains(key))
        .expect("an unbounded range has a free key")
}

fn content_changed(old: &TrackingEvent, new: &TrackingEvent) -> bool {
    old.event_date.map(instant) != new.event_date.map(instant)
        || old.is_planned != new.is_planned
        || text(old.description.as_deref()) != text(new.description.as_deref())
        || old.pieces != new.pieces
        || old.weight != new.weight
        || old.volume != new.volume
        || flight_content(old.flight.as_ref()) != flight_content(new.flight.as_ref())
}

type FlightContent = ([Option<DateTime<Utc>>; 6], Option<String>);

fn flight_content(flight: Option<&EventFlight>) -> FlightContent {
    let Some(f) = flight else {
        return ([None; 6], None);
    };
    let times = f.times().map(|t| t.map(instant));
    let destination = text(f.destination.as_deref()).map(str::to_uppercase);
    (times, destination)
}

fn text(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|s| !s.is_empty())
}

fn instant(date: DateTime<FixedOffset>) -> DateTime<Utc> {
    date.with_timezone(&Utc)
}

/// Sort key: dated events by instant, undated last.
fn chronological(event: &TrackingEvent) -> (bool, Option<DateTime<Utc>>) {
    (event.event_date.is_none(), event.event_date.map(instant))
}

fn date_text(date: Option<DateTime<FixedOffset>>) -> String {
    date.map_or_else(|| "none".to_owned(), |d| d.to_rfc3339())
}
