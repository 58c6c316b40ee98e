//! The top of an email: its newest status in a few words, and what that status means to the
//! reader (its [`Tone`], which the HTML colours as the console does).

use super::{newest, non_blank, place, status_label};
use crate::domain::display::local;
use crate::domain::message::ShipmentUpdate;
use crate::domain::normalize::describe_code;
use crate::domain::{SummaryStatus, TrackingEvent};

/// A status in a few words (`Departed FRA`), with its time or other detail.
pub(super) struct Headline {
    pub(super) status: String,
    pub(super) detail: Option<String>,
    pub(super) tone: Tone,
}

/// What a status means to the reader, as the console colours it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tone {
    /// Moving along: departed, arrived at a transit station, in transit.
    Progress,
    /// Delivered, arrived, completed.
    Done,
    /// Planned, booked, delayed: not happened (yet).
    Pending,
    /// A discrepancy, an offload, a cancellation.
    Failed,
    /// Nothing more to say: an expiry.
    Quiet,
}

impl Tone {
    pub(super) fn of_status(status: SummaryStatus) -> Self {
        match status {
            SummaryStatus::PendingDelivery => Self::Pending,
            SummaryStatus::InTransit | SummaryStatus::AtDestination => Self::Progress,
            SummaryStatus::Delivered => Self::Done,
        }
    }

    pub(super) fn of_event(event: &TrackingEvent) -> Self {
        if event.is_planned {
            return Self::Pending;
        }
        match event.code.trim().to_ascii_uppercase().as_str() {
            "DLV" | "DDL" => Self::Done,
            "BKD" => Self::Pending,
            "DIS" | "OFLD" | "MSCA" | "SSPD" | "OVCD" => Self::Failed,
            _ => Self::Progress,
        }
    }
}

/// The top of an update email: the newest event in words (`Departed FRA`) and its time, the
/// summary status when the update brought no event.
pub(super) fn update_headline(update: &ShipmentUpdate) -> Headline {
    let fallback = || Headline {
        status: status_label(update.summary.status).to_owned(),
        detail: None,
        tone: Tone::of_status(update.summary.status),
    };
    let Some(event) = newest(&update.new_events) else {
        return fallback();
    };
    // The standard words first: a source's own description can run to a sentence.
    let Some(what) = describe_code(&event.code)
        .or_else(|| non_blank(event.description.as_deref()))
        .or_else(|| non_blank(Some(&event.code)))
    else {
        return fallback();
    };
    let detail = event.event_date.as_ref().map(|t| match event.is_planned {
        true => format!("planned for {}", local(*t)),
        false => local(*t),
    });
    Headline {
        status: match place(event) {
            Some(place) => format!("{what} {place}"),
            None => what.to_owned(),
        },
        detail,
        tone: Tone::of_event(event),
    }
}
