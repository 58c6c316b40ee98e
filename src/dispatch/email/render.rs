//! The words of an email: subject, plain text and HTML rendered from the queued messages of one
//! subscription. Pure (no I/O, no clock), so every retry of a batch renders the same email.
//!
//! There is no template engine: the layout is small, and one hand-written escape function
//! applied to every value is easier to audit than a template's auto-escaping rules. Both parts
//! are drawn from one intermediate `Document`, so the text and HTML never disagree.
//!
//! The HTML speaks the console's visual language ([`html`]) in the form mail programs keep:
//! inline styles, layout tables, no scripts, no images, no fonts or style sheets to fetch.

use crate::domain::display::utc;
use crate::domain::message::{Lifecycle, Message, MessageBody, ShipmentUpdate};
use crate::domain::normalize::describe_code;
use crate::domain::{Route, SummaryStatus, TrackingEvent};
use headline::{Headline, Tone, update_headline};

mod events;
mod flight;
mod headline;
mod html;
mod route;
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
/// notice's subject. The body opens with the newest status and the shipment's route, then lists
/// every message's new events, then any notices.
///
/// `console_base` is the URL the web console is served under (`server.public_url`): the email
/// links to the subscription's console page there. `None` when the console is off: no link.
pub fn render(messages: &[Message], console_base: Option<&str>) -> EmailContent {
    let mut document = Document::build(messages);
    document.console_url = console_base
        .zip(messages.last())
        .map(|(base, last)| console_url(base, &last.subscription_id.to_string()));
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

/// `{base}/console/subscriptions/{id}`, whether or not the base ends in `/`.
fn console_url(base: &str, subscription_id: &str) -> String {
    format!(
        "{}/console/subscriptions/{subscription_id}",
        base.trim_end_matches('/')
    )
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
    /// The newest status, shown large at the top of the HTML.
    headline: Option<Headline>,
    summary: Vec<(&'static str, String)>,
    /// The shipment's route as the last update knows it.
    route: Option<Route>,
    /// "New events", or "Flight updates" for a flight subscription.
    section: &'static str,
    events: Vec<Block>,
    notices: Vec<String>,
    /// The subscription's page in the console, when the console is on.
    console_url: Option<String>,
    footer: String,
}

/// One event: a heading and labelled lines.
struct Block {
    heading: String,
    /// A planned event, drawn unlike the ones that happened.
    planned: bool,
    tone: Tone,
    rows: Vec<(&'static str, String)>,
}

impl Document {
    fn build(messages: &[Message]) -> Self {
        let mut doc = Document {
            title: None,
            headline: None,
            summary: Vec::new(),
            route: None,
            section: "New events",
            events: Vec::new(),
            notices: Vec::new(),
            console_url: None,
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

    /// Each update replaces the summary, headline and route (the latest status wins) and adds
    /// its new events.
    fn add_update(&mut self, update: &ShipmentUpdate) {
        let summary = &update.summary;
        let route = route(summary.origin.as_deref(), summary.destination.as_deref());
        self.title = Some(match route {
            Some(route) => format!("AWB {}, {route}", update.awb),
            None => format!("AWB {}", update.awb),
        });
        self.headline = Some(update_headline(update));
        let known = match update.events.is_empty() {
            true => &update.new_events,
            false => &update.events,
        };
        self.route = Some(Route::of(summary, known)).filter(|route| route.stops.len() > 1);
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
        // Without an update's status (which only updates give), the last notice is the news.
        if self.summary.is_empty() {
            let (status, tone) = match body {
                MessageBody::SubscriptionCompleted(_) => ("Subscription completed", Tone::Done),
                MessageBody::SubscriptionExpired(_) => ("Subscription expired", Tone::Quiet),
                _ => ("Test message", Tone::Progress),
            };
            self.headline = Some(Headline {
                status: status.to_owned(),
                detail: None,
                tone,
            });
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
                utc(lifecycle.expires_at)
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
        if let Some(route) = &self.route {
            out.push_str(&format!("Route: {}\n", route::line(route)));
        }
        if !self.events.is_empty() {
            out.push_str(&format!("\n{}\n", self.section));
            for block in &self.events {
                let planned = if block.planned { " (planned)" } else { "" };
                out.push_str(&format!("\n{}{planned}\n", block.heading));
                for (label, value) in &block.rows {
                    out.push_str(&format!("  {:<11}{value}\n", format!("{label}:")));
                }
            }
        }
        for notice in &self.notices {
            out.push_str(&format!("\n{notice}\n"));
        }
        if let Some(url) = &self.console_url {
            out.push_str(&format!("\nView in console: {url}\n"));
        }
        out.push_str(&format!("\n-- \n{}\n", self.footer));
        // A notice without a title would otherwise open with a blank line.
        out.trim_start_matches('\n').to_owned()
    }
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
