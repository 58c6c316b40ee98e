//! What every page shares: the frame's context (title, the signed-in key, the CSRF token for
//! the sign-out button), rendering, and how times are written.

use super::session::Signed;
use crate::api::error::ApiError;
pub use crate::domain::display::{local, utc};
use askama::Template;
use axum::response::Html;
use chrono::{DateTime, Utc};

/// The frame of a page (`templates/console/base.html`).
pub struct Page {
    pub title: String,
    pub nav: Option<Nav>,
    /// Show the header's links without a session at hand (error pages): Sign out is then a
    /// link to its own page rather than a button.
    pub links: bool,
}

/// The header of a signed-in page.
pub struct Nav {
    pub key_name: String,
    pub csrf: String,
    /// Which header link is the current section: `subscriptions`, `new` or `status`.
    pub section: &'static str,
}

impl Page {
    pub fn anonymous(title: &str) -> Self {
        Self {
            title: title.to_owned(),
            nav: None,
            links: false,
        }
    }

    /// An error page's frame: the header's links, whoever is asking.
    pub fn error(title: &str) -> Self {
        Self {
            links: true,
            ..Self::anonymous(title)
        }
    }

    /// The session's CSRF token, for the page's forms (empty when signed out).
    pub fn csrf(&self) -> &str {
        self.nav.as_ref().map_or("", |nav| nav.csrf.as_str())
    }

    pub fn signed(title: impl Into<String>, signed: &Signed, section: &'static str) -> Self {
        Self {
            title: title.into(),
            nav: Some(Nav {
                key_name: signed.key_name.clone(),
                csrf: signed.csrf.clone(),
                section,
            }),
            links: true,
        }
    }
}

pub fn render(template: &impl Template) -> Result<Html<String>, askama::Error> {
    template.render().map(Html)
}

/// An API error as the console shows it, by its name and words: `ErrInvalidAWBCheckDigit: …`.
pub fn api_error(e: &ApiError) -> String {
    format!("{}: {e}", e.name())
}

pub fn utc_or_dash(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(|| "—".to_owned(), utc)
}

/// `3 min`, `2 h 5 min`, `4 d 1 h`: how long ago, for ages of queues and checks.
pub fn age(seconds: i64) -> String {
    let seconds = seconds.max(0);
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => format!("{} min", seconds / 60),
        3600..86400 => format!("{} h {} min", seconds / 3600, seconds % 3600 / 60),
        _ => format!("{} d {} h", seconds / 86400, seconds % 86400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_are_written_in_the_largest_units_that_fit() {
        assert_eq!(age(-5), "0 s");
        assert_eq!(age(59), "59 s");
        assert_eq!(age(61), "1 min");
        assert_eq!(age(3600 + 5 * 60), "1 h 5 min");
        assert_eq!(age(2 * 86400 + 3 * 3600), "2 d 3 h");
    }

    #[test]
    fn times_are_written_to_the_minute() {
        let at = DateTime::parse_from_rfc3339("2026-12-01T09:10:59+01:00").unwrap();
        assert_eq!(local(at), "2026-12-01 09:10 +01:00");
        assert_eq!(utc(at.with_timezone(&Utc)), "2026-12-01 08:10 UTC");
        assert_eq!(utc_or_dash(None), "—");
    }
}
