//! What a diff means once it is written: the rows to write, and what subscribers are told.

use super::{Diff, StoredEvent, sort_events};
use crate::domain::TrackingEvent;
use std::collections::HashSet;

/// A shipment's events once a [`Diff`] against `stored` is written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// New and updated events, and restored ones as they were stored: to insert or overwrite,
    /// un-withdrawing them.
    pub upserts: Vec<StoredEvent>,
    /// Fingerprints of stored events to mark withdrawn.
    pub withdrawn: Vec<String>,
    /// New and updated events, in the diff's order: the news. A restored event that did not
    /// change is not news; subscribers were told of it before it was withdrawn.
    pub changed: Vec<TrackingEvent>,
    /// Active events known before this fetch that did not change, restored ones included,
    /// chronological: what earlier messages carried.
    pub unchanged: Vec<TrackingEvent>,
    /// Every active event afterwards, chronological.
    pub events: Vec<TrackingEvent>,
}

/// The rows to write for `diff` (computed against `stored`) and what is news.
pub fn outcome(stored: &[StoredEvent], diff: &Diff) -> Outcome {
    let changed_keys: HashSet<&str> = diff
        .new
        .iter()
        .chain(&diff.updated)
        .map(|keyed| keyed.fingerprint.as_str())
        .collect();
    let restored: HashSet<&str> = diff.restored.iter().map(String::as_str).collect();
    let withdrawn: HashSet<&str> = diff.withdrawn.iter().map(String::as_str).collect();

    let mut upserts: Vec<StoredEvent> = diff
        .new
        .iter()
        .chain(&diff.updated)
        .cloned()
        .map(StoredEvent::from)
        .collect();
    let mut unchanged = Vec::new();
    for row in stored {
        let key = row.fingerprint.as_str();
        let is_restored = restored.contains(key);
        if changed_keys.contains(key) || withdrawn.contains(key) || (row.withdrawn && !is_restored)
        {
            continue;
        }
        if is_restored {
            upserts.push(StoredEvent {
                withdrawn: false,
                ..row.clone()
            });
        }
        unchanged.push(row.event.clone());
    }
    sort_events(&mut unchanged);

    let changed: Vec<TrackingEvent> = diff.changed().cloned().collect();
    let mut events: Vec<TrackingEvent> = unchanged.iter().chain(&changed).cloned().collect();
    sort_events(&mut events);
    Outcome {
        upserts,
        withdrawn: diff.withdrawn.clone(),
        changed,
        unchanged,
        events,
    }
}

#[cfg(test)]
mod tests;
