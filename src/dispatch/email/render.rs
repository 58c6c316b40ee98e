//! The words of an email: subject, plain text and HTML rendered from the queued messages of one
//! subscription. Pure (no I/O, no clock), so every retry of a batch renders the same email.
//!
//! There is no template engine: the layout is small, and one hand-written escape function
//! applied to every value is easier to audit than a template's auto-escaping rules. Both parts
//! are drawn from one intermediate `Document`, so the text and HTML never disagree.

use crate::domain::message::{Lifecycle, Message, MessageBody, ShipmentUpdate};
use crate::domain::normalize::describe_code;
use crate::domain::{SummaryStatus, TrackingEvent};
use chrono::{DateTime, FixedOffset, Utc};

mod events;
mod flight;
#[cfg(test)]
mod tests;

/// A rendered email, ready for any transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailContent {
    /// One line, no control characters.
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Renders one email from the queued messages of ONE subscription, given in sequence order:
/// several when updates arrived within the batch window.
///
/// The subject names the newest event of the last `tracking.updated` message
/// (`AWB 020-08002050 · DEP FRA · Departed`), with ` · subscription completed` (or `expired`)
/// appended when the batch also ends the subscription; a batch of notices only gets the last
/// notice's subject. The body lists every message's new events, then any notices.
pub fn render(messages: &[Message]) -> EmailContent {
    let document = Document::build(messages);
    let subject = single_line(&subject(messages));
    EmailContent {
        text: document.text(),
        html: document.html(&subject),
        subject,
    }
}

fn subject(messages: &[Message]) -> String {
    let last_update = messages.iter().rev().find_map(|m| match &m.body {
        MessageBody::TrackingUpdated(update) => Some(update_subject(update)),
        MessageBody::FlightUpdated(update) => Some(update.summary.clone()),
        _ => None,
    });
    let last_notice = messages.iter().rev().find_map(|m| match &m.body {
        MessageBody::TrackingUpdated(_) | MessageBody::FlightUpdated(_) => None,
        other => Some(other),
    });
    match (last_update, last_notice) {
        (Some(mut subject), notice) => {
            // Tell the reader in the inbox list that this is the last email.
            match notice {
                Some(MessageBody::SubscriptionCompleted(_)) => {
                    subject.push_str(" · subscription completed");
                }
                Some(MessageBody::SubscriptionExpired(_)) => {
                    subject.push_str(" · subscription expired");
                }
                _ => {}
            }
            subject
        }
        (None, Some(notice)) => notice_subject(notice),
        (None, None) => "Skyhook".to_owned(),
    }
}

fn update_subject(update: &ShipmentUpdate) -> String {
    let Some(event) = newest(&update.new_events) else {
        return format!(
            "AWB {} · {}",
            update.awb,
            status_label(update.summary.status)
        );
    };
    let mut parts = vec![format!("AWB {}", update.awb)];
    parts.push(match place(event) {
        Some(place) => format!("{} {place}", event.code.trim()),
        None => event.code.trim().to_owned(),
    });
    parts.extend(description(event));
    parts.join(" · ")
}

fn notice_subject(body: &MessageBody) -> String {
    let (lifecycle, what) = match body {
        MessageBody::SubscriptionCompleted(l) => (l, "subscription completed"),
        MessageBody::SubscriptionExpired(l) => (l, "subscription expired"),
        MessageBody::SubscriptionTest(_)
        | MessageBody::TrackingUpdated(_)
        | MessageBody::FlightUpdated(_) => {
            return "Skyhook test message".to_owned();
        }
    };
    match (&lifecycle.awb, &lifecycle.flight) {
        (Some(awb), _) => format!("AWB {awb} · {what}"),
        (None, Some(flight)) => format!("{} · {what}", flight::title(flight)),
        (None, None) => format!("Skyhook · {what}"),
    }
}

/// The event the subject names: the latest by time, ties (and undated events) going to the one
/// listed last. Planned events lie in the future, so they count only when nothing has happened.
fn newest(events: &[TrackingEvent]) -> Option<&TrackingEvent> {
    let any_actual = events.iter().any(|e| !e.is_planned);
    events
        .iter()
        .filter(|e| !any_actual || !e.is_planned)
        .max_by_key(|e| e.event_date)
}

fn place(event: &TrackingEvent) -> Option<&str> {
    non_blank(event.event_location.as_deref())
}

/// The source's own description, else the standard one for the code.
fn description(event: &TrackingEvent) -> Option<String> {
    non_blank(event.description.as_deref())
        .or_else(|| describe_code(&event.code))
        .map(str::to_owned)
}

fn non_blank(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

fn status_label(status: SummaryStatus) -> &'static str {
    match status {
        SummaryStatus::PendingDelivery => "Pending delivery",
        SummaryStatus::InTransit => "In transit",
        SummaryStatus::AtDestination => "At destination",
        SummaryStatus::Delivered => "Delivered",
    }
}

/// Times are shown with the offset the source gave: local time at the station is what
/// forwarders read on the carrier's own screens.
fn time(t: &DateTime<FixedOffset>) -> String {
    t.format("%Y-%m-%d %H:%M %:z").to_string()
}

fn utc_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn kg(weight: f64) -> String {
    format!("{weight} kg")
}

fn route(origin: Option<&str>, destination: Option<&str>) -> Option<String> {
    match (non_blank(origin), non_blank(destination)) {
        (Some(o), Some(d)) => Some(format!("{o} → {d}")),
        (Some(o), None) => Some(format!("from {o}")),
        (None, Some(d)) => Some(format!("to {d}")),
        (None, None) => None,
    }
}

/// A subject is a single header line: carrier data must not smuggle line breaks into it.
fn single_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Escapes text for HTML element content and quoted attribute values.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What an email says, before it is laid out as text or HTML. Every string is raw (unescaped).
struct Document {
    title: Option<String>,
    summary: Vec<(&'static str, String)>,
    /// "New events", or "Flight updates" for a flight subscription.
    section: &'static str,
    events: Vec<Block>,
    notices: Vec<String>,
    footer: String,
}

/// One event: a heading and labelled lines.
struct Block {
    heading: String,
    rows: Vec<(&'static str, String)>,
}

impl Document {
    fn build(messages: &[Message]) -> Self {
        let mut doc = Document {
            title: None,
            summary: Vec::new(),
            section: "New events",
            events: Vec::new(),
            notices: Vec::new(),
            footer: footer(messages),
        };
        for message in messages {
            match &message.body {
                MessageBody::TrackingUpdated(update) => doc.add_update(update),
                MessageBody::FlightUpdated(update) => doc.add_flight_update(update),
                MessageBody::SubscriptionCompleted(l)
                | MessageBody::SubscriptionExpired(l)
                | MessageBody::SubscriptionTest(l) => doc.add_notice(&message.body, l),
            }
        }
        if let Some(reference) = messages.iter().rev().find_map(|m| m.reference.as_deref()) {
            doc.summary.push(("Reference", reference.to_owned()));
        }
        doc
    }

    /// Each update replaces the summary (the latest status wins) and adds its new events.
    fn add_update(&mut self, update: &ShipmentUpdate) {
        let summary = &update.summary;
        let route = route(summary.origin.as_deref(), summary.destination.as_deref());
        self.title = Some(match route {
            Some(route) => format!("AWB {}, {route}", update.awb),
            None => format!("AWB {}", update.awb),
        });
        self.summary = vec![("Status", status_label(summary.status).to_owned())];
        let shipment: Vec<String> = [
            summary.pieces.map(|p| format!("{p} pieces")),
            summary.weight.map(kg),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !shipment.is_empty() {
            self.summary.push(("Shipment", shipment.join(", ")));
        }
        self.events
            .extend(update.new_events.iter().map(events::event_block));
    }

    fn add_notice(&mut self, body: &MessageBody, lifecycle: &Lifecycle) {
        if self.title.is_none() {
            self.title = match (&lifecycle.awb, &lifecycle.flight) {
                (Some(awb), _) => Some(format!("AWB {awb}")),
                (None, Some(flight)) => Some(flight::title(flight)),
                (None, None) => None,
            };
        }
        let fallback = match body {
            MessageBody::SubscriptionCompleted(_) => {
                "This subscription is complete; no further updates will be sent."
            }
            MessageBody::SubscriptionExpired(_) => {
                "This subscription has expired; no further updates will be sent. Create a new \
                 subscription to keep tracking the shipment."
            }
            _ => "This is a test message from Skyhook.",
        };
        // The message was worded at queue time; the fallback only covers an empty one.
        let text = non_blank(Some(&lifecycle.message)).unwrap_or(fallback);
        self.notices.push(text.to_owned());
        if let MessageBody::SubscriptionTest(_) = body {
            self.notices.push(format!(
                "The subscription runs until {}.",
                utc_time(&lifecycle.expires_at)
            ));
        }
    }

    fn text(&self) -> String {
        let mut out = String::new();
        if let Some(title) = &self.title {
            out.push_str(&format!("{title}\n"));
        }
        for (label, value) in &self.summary {
            out.push_str(&format!("{label}: {value}\n"));
        }
        if !self.events.is_empty() {
            out.push_str(&format!("\n{}\n", self.section));
            for block in &self.events {
                out.push_str(&format!("\n{}\n", block.heading));
                for (label, value) in &block.rows {
                    out.push_str(&format!("  {:<11}{value}\n", format!("{label}:")));
                }
            }
        }
        for notice in &self.notices {
            out.push_str(&format!("\n{notice}\n"));
        }
        out.push_str(&format!("\n-- \n{}\n", self.footer));
        // A notice without a title would otherwise open with a blank line.
        out.trim_start_matches('\n').to_owned()
    }

    fn html(&self, subject: &str) -> String {
        let mut out = format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head>\n\
             <body style=\"font-family: sans-serif; color: #222\">\n",
            escape(subject)
        );
        if let Some(title) = &self.title {
            out.push_str(&format!(
                "<h1 style=\"font-size: 1.3em\">{}</h1>\n",
                escape(title)
            ));
        }
        out.push_str(&rows_html(&self.summary));
        if !self.events.is_empty() {
            out.push_str(&format!(
                "<h2 style=\"font-size: 1.1em\">{}</h2>\n",
                escape(self.section)
            ));
            for block in &self.events {
                out.push_str(&format!(
                    "<h3 style=\"font-size: 1em; margin-bottom: 0.2em\">{}</h3>\n",
                    escape(&block.heading)
                ));
                out.push_str(&rows_html(&block.rows));
            }
        }
        for notice in &self.notices {
            out.push_str(&format!("<p>{}</p>\n", escape(notice)));
        }
        out.push_str(&format!(
            "<p style=\"color: #777; font-size: 0.85em\">{}</p>\n</body></html>\n",
            escape(&self.footer)
        ));
        out
    }
}

fn rows_html(rows: &[(&'static str, String)]) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let mut out = String::from("<table cellpadding=\"2\">\n");
    for (label, value) in rows {
        out.push_str(&format!(
            "<tr><th align=\"left\" style=\"padding-right: 1em\">{}</th><td>{}</td></tr>\n",
            escape(label),
            escape(value)
        ));
    }
    out.push_str("</table>\n");
    out
}

/// Names the subscription and messages, so a forwarder's support desk can trace an email.
fn footer(messages: &[Message]) -> String {
    let (Some(first), Some(last)) = (messages.first(), messages.last()) else {
        return "Sent by Skyhook air cargo tracking.".to_owned();
    };
    let sequence = if first.sequence == last.sequence {
        format!("message {}", first.sequence)
    } else {
        format!("messages {}–{}", first.sequence, last.sequence)
    };
    format!(
        "Sent by Skyhook air cargo tracking for subscription {} ({sequence}). Use your mail \
         program's unsubscribe function to stop these emails.",
        last.subscription_id
    )
}
