//! The flight parts of an email: a `flight.updated` message as a summary of the flight and one
//! block of changes, each said in words.

use super::{Block, Document, Headline, Tone};
use crate::domain::display::local;
use crate::domain::flight_state::describe;
use crate::domain::message::FlightUpdate;
use crate::domain::{FlightSnapshot, FlightStatus};

/// `Flight LH8160 FRA → ORD, 2026-11-25`.
pub(super) fn title(flight: &FlightSnapshot) -> String {
    let route = super::route(Some(&flight.origin), flight.destination.as_deref())
        .unwrap_or_else(|| flight.origin.clone());
    format!("Flight {} {route}, {}", flight.number, flight.date)
}

fn tone(status: FlightStatus) -> Tone {
    match status {
        FlightStatus::Scheduled | FlightStatus::Delayed => Tone::Pending,
        FlightStatus::Departed => Tone::Progress,
        FlightStatus::Arrived => Tone::Done,
        FlightStatus::Cancelled => Tone::Failed,
    }
}

/// The flight's latest known movement: its actual time when it has one, else the expected
/// departure.
fn headline_detail(flight: &FlightSnapshot) -> Option<String> {
    let t = &flight.times;
    let (what, at) = match flight.status {
        FlightStatus::Arrived => ("arrived", t.actual_arrival),
        FlightStatus::Departed => ("departed", t.actual_departure),
        _ => ("departure", t.estimated_departure.or(t.scheduled_departure)),
    };
    at.map(|at| format!("{what} {}", local(at)))
}

fn status_label(flight: &FlightSnapshot) -> String {
    let status = flight.status.as_str();
    let mut label = status[..1].to_owned();
    label.push_str(&status[1..].to_ascii_lowercase());
    label
}

impl Document {
    /// Each update replaces the summary (the latest times win) and adds its changes.
    pub(super) fn add_flight_update(&mut self, update: &FlightUpdate) {
        let flight = &update.flight;
        self.title = Some(title(flight));
        self.section = "Flight updates";
        self.headline = Some(Headline {
            status: format!("{} {}", flight.number, status_label(flight)),
            detail: headline_detail(flight),
            tone: tone(flight.status),
        });
        self.summary = vec![("Status", status_label(flight))];
        let t = &flight.times;
        let times = [
            (
                "Departure",
                t.scheduled_departure,
                t.estimated_departure,
                t.actual_departure,
            ),
            (
                "Arrival",
                t.scheduled_arrival,
                t.estimated_arrival,
                t.actual_arrival,
            ),
        ];
        for (label, scheduled, estimated, actual) in times {
            let parts: Vec<String> = [
                ("scheduled", scheduled),
                ("estimated", estimated),
                ("actual", actual),
            ]
            .into_iter()
            .filter_map(|(what, at)| at.map(|at| format!("{what} {}", local(at))))
            .collect();
            if !parts.is_empty() {
                self.summary.push((label, parts.join(", ")));
            }
        }
        let words = describe(flight, &update.changes);
        self.events.push(Block {
            heading: update.summary.clone(),
            planned: false,
            tone: tone(flight.status),
            rows: words
                .lines
                .into_iter()
                .map(|line| ("Change", line))
                .collect(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::render;
    use crate::domain::message::{Message, Recipient, plan_flight_messages};
    use crate::domain::{
        AirportCode, FlightKey, FlightNumber, FlightSnapshot, FlightState, FlightTimes, StateFilter,
    };
    use chrono::{TimeZone, Utc};

    fn messages(old: &FlightState, new: &FlightState) -> Vec<Message> {
        let key = FlightKey {
            number: FlightNumber::parse("LH8160").unwrap(),
            date: "2026-11-25".parse().unwrap(),
            origin: AirportCode::parse("FRA").unwrap(),
        };
        let recipient = Recipient {
            subscription_id: uuid::Uuid::nil().into(),
            reference: Some("PO-7".into()),
            states: StateFilter::default(),
            next_sequence: 1,
            expires_at: Utc.with_ymd_and_hms(2026, 12, 14, 0, 0, 0).unwrap(),
            url: None,
            emails: vec!["ops@example.com".into()],
            feed: false,
        };
        let snapshot = FlightSnapshot::new(uuid::Uuid::nil(), &key, new);
        let (outgoing, _) = plan_flight_messages(
            &snapshot,
            &new.changes_since(old),
            &[recipient],
            true,
            Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).unwrap(),
        );
        outgoing
            .iter()
            .map(|m| serde_json::from_str(&m.body).unwrap())
            .collect()
    }

    fn scheduled() -> FlightState {
        FlightState {
            destination: Some("ORD".into()),
            times: FlightTimes {
                scheduled_departure: Some("2026-11-25T14:05:00+01:00".parse().unwrap()),
                scheduled_arrival: Some("2026-11-25T16:50:00-06:00".parse().unwrap()),
                ..FlightTimes::default()
            },
            cancelled: false,
        }
    }

    #[test]
    fn a_delay_is_said_in_words_in_the_subject_and_the_body() {
        let old = scheduled();
        let mut new = old.clone();
        new.times.estimated_departure = Some("2026-11-25T16:40:00+01:00".parse().unwrap());
        let email = render(&messages(&old, &new), None);
        assert_eq!(
            email.subject,
            "LH8160 FRA→ORD delayed: estimated departure 14:05 → 16:40 (+2h35)"
        );
        assert!(
            email
                .text
                .starts_with("Flight LH8160 FRA → ORD, 2026-11-25\n")
        );
        assert!(email.text.contains("Status: Delayed\n"), "{}", email.text);
        assert!(email.text.contains("\nFlight updates\n"), "{}", email.text);
        assert!(
            email.text.contains("Change:    status SCHEDULED → DELAYED"),
            "{}",
            email.text
        );
        assert!(
            email
                .html
                .contains("estimated departure 14:05 → 16:40 (+2h35)")
        );
        assert!(!email.text.contains("New events"));
    }

    #[test]
    fn a_flight_update_has_the_frame_the_status_large_and_the_console_link() {
        let old = scheduled();
        let mut new = old.clone();
        new.times.estimated_departure = Some("2026-11-25T16:40:00+01:00".parse().unwrap());
        let email = render(&messages(&old, &new), Some("https://skyhook.example.com"));
        let html = &email.html;
        assert!(html.contains(">Skyhook</td>"), "{html}");
        let headline = html.find(">LH8160 Delayed</p>").expect(html);
        // Delayed is not happened yet: the console's amber.
        assert!(
            html[..headline].ends_with("font-weight:700;color:#9a6700\""),
            "{html}"
        );
        assert!(
            html.contains(">departure 2026-11-25 16:40 +01:00</p>"),
            "{html}"
        );
        let url = format!(
            "https://skyhook.example.com/console/subscriptions/{}",
            uuid::Uuid::nil()
        );
        assert!(html.contains(&format!("href=\"{url}\"")), "{html}");
        assert!(email.text.contains(&format!("View in console: {url}\n")));
        // A flight has no shipment route to draw.
        assert!(!html.contains("data-route"));
        assert!(!email.text.contains("Route:"));
    }

    #[test]
    fn a_cancellation_ends_with_the_completion_notice() {
        let old = scheduled();
        let new = FlightState {
            cancelled: true,
            ..old.clone()
        };
        let email = render(&messages(&old, &new), None);
        assert_eq!(
            email.subject,
            "LH8160 FRA→ORD cancelled · subscription completed"
        );
        assert!(email.text.contains("was cancelled"), "{}", email.text);
        // The notice alone names the flight too.
        let notice = render(&messages(&old, &new)[1..], None);
        assert_eq!(
            notice.subject,
            "Flight LH8160 FRA → ORD, 2026-11-25 · subscription completed"
        );
    }
}
