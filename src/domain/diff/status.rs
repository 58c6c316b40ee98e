//! The summary status (CargoAI's four) derived from the actual events.
//!
//! Only actual events count: a planned DEP is a promise, not a movement.
//! - `PENDING_DELIVERY`: nothing below yet (BKD, FWB, DOC … only).
//! - `IN_TRANSIT`: acceptance or movement (RCS, FOH, PRE, MAN, DEP, TRM, TFD, RCT), ARR/RCF at a
//!   station that is not the final destination, or any destination event seen elsewhere.
//! - `AT_DESTINATION`: ARR/RCF/AWR/NFD/AWD/CRC/TGC/CCD at the final destination.
//! - `DELIVERED`: DLV/DDL at the destination; when the total piece count and every delivery's
//!   pieces are known, only once the deliveries add up to the total (a split shipment is
//!   delivered in parts). Until then `AT_DESTINATION`.
//!
//! Unknown destination: ARR/RCF count as transit, every other destination event (DLV/DDL
//! included) as happening at the destination. An event without a location is treated the same
//! way. The result never moves back behind `previous`: a late event arriving out of order cannot
//! un-deliver a shipment. Events written twice are merged first (as [`super::diff`] does), so a
//! duplicated DLV does not count its pieces twice.

use crate::domain::{SummaryStatus, TrackingEvent};

/// The status the events justify, never behind `previous`.
pub fn summary_status(
    events: &[TrackingEvent],
    destination: Option<&str>,
    total_pieces: Option<u32>,
    previous: Option<SummaryStatus>,
) -> SummaryStatus {
    let destination = destination.map(str::trim).filter(|d| !d.is_empty());
    let mut computed = SummaryStatus::PendingDelivery;
    let mut deliveries = [Delivered::default(); 2];

    let distinct = super::merge_duplicates(events, &mut Vec::new());
    for event in distinct
        .iter()
        .map(|slot| &slot.event)
        .filter(|e| !e.is_planned)
    {
        let code = event.code.trim().to_ascii_uppercase();
        let place = Place::of(event, destination);
        let status = match code.as_str() {
            "DLV" | "DDL" if place != Place::Elsewhere => {
                deliveries[usize::from(code == "DDL")].add(event.pieces);
                SummaryStatus::AtDestination
            }
            "ARR" | "RCF" if place.is_destination() => SummaryStatus::AtDestination,
            "AWR" | "NFD" | "AWD" | "CRC" | "TGC" | "CCD" if place != Place::Elsewhere => {
                SummaryStatus::AtDestination
            }
            "RCS" | "FOH" | "PRE" | "MAN" | "DEP" | "TRM" | "TFD" | "RCT" | "ARR" | "RCF"
            | "AWR" | "NFD" | "AWD" | "CRC" | "TGC" | "CCD" | "DLV" | "DDL" => {
                SummaryStatus::InTransit
            }
            _ => SummaryStatus::PendingDelivery,
        };
        computed = computed.max(status);
    }

    // DLV and DDL usually report the same pieces twice: judge each code on its own.
    if deliveries.iter().any(|d| d.complete(total_pieces)) {
        computed = SummaryStatus::Delivered;
    }
    previous.map_or(computed, |previous| previous.max(computed))
}

/// Whether the events show the whole shipment delivered (see [`summary_status`]).
pub fn is_delivered(
    events: &[TrackingEvent],
    destination: Option<&str>,
    total_pieces: Option<u32>,
) -> bool {
    summary_status(events, destination, total_pieces, None) == SummaryStatus::Delivered
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Place {
    Destination,
    Elsewhere,
    /// No destination or no event location to compare.
    Unknown,
}

impl Place {
    fn of(event: &TrackingEvent, destination: Option<&str>) -> Self {
        let location = event
            .event_location
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty());
        match (location, destination) {
            (Some(location), Some(destination)) if location.eq_ignore_ascii_case(destination) => {
                Self::Destination
            }
            (Some(_), Some(_)) => Self::Elsewhere,
            _ => Self::Unknown,
        }
    }

    /// Unknown counts as transit for arrivals (they happen at every stop).
    fn is_destination(self) -> bool {
        self == Self::Destination
    }
}

/// Delivery events of one code: how many, and the pieces they add up to.
#[derive(Debug, Clone, Copy, Default)]
struct Delivered {
    events: usize,
    pieces: u32,
    pieces_unknown: bool,
}

impl Delivered {
    fn add(&mut self, pieces: Option<u32>) {
        self.events += 1;
        match pieces {
            Some(p) => self.pieces = self.pieces.saturating_add(p),
            None => self.pieces_unknown = true,
        }
    }

    fn complete(&self, total_pieces: Option<u32>) -> bool {
        self.events > 0
            && match total_pieces {
                Some(total) if !self.pieces_unknown => self.pieces >= total,
                _ => true,
            }
    }
}
