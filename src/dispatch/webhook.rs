//! One webhook attempt: a Standard Webhooks signed POST of the queued body, through the
//! SSRF-guarded client of the subscriber's tenant, with no redirects followed and a bounded
//! read of the answer. What an answer said is kept in the delivery log only when it came from
//! the public internet or the tenant's own networks: a network only the operator exempted may
//! hold other people's services, and their answers are not for tenants to read.

use super::guard::GuardedClients;
use crate::domain::retry::Attempt;
use crate::domain::signature::signature_header;
use crate::store::ClaimedDelivery;
use chrono::{DateTime, Utc};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use std::time::Duration;

/// At most this much of an answer is read; the rest is not our business.
const MAX_RESPONSE_READ: usize = 64 * 1024;
/// At most this much of a failed answer is kept in the delivery log.
const MAX_RESPONSE_KEPT: usize = 2 * 1024;

/// How an attempt went, ready for the retry policy and the delivery log.
#[derive(Debug)]
pub struct AttemptReport {
    pub attempt: Attempt,
    pub status_code: Option<u16>,
    pub error: Option<String>,
}

impl AttemptReport {
    /// A failed attempt worth retrying on the schedule.
    pub(super) fn failed(error: String) -> Self {
        Self {
            attempt: Attempt::Failed {
                gone: false,
                retry_after: None,
            },
            status_code: None,
            error: Some(error),
        }
    }
}

pub struct WebhookSender {
    clients: GuardedClients,
    timeout: Duration,
}

impl WebhookSender {
    pub fn new(clients: GuardedClients, timeout: Duration) -> Self {
        Self { clients, timeout }
    }

    /// Sends the message once. A fresh timestamp and signature every attempt; the same id and
    /// body.
    #[tracing::instrument(skip_all, fields(message_id = %delivery.message_id, attempt = delivery.attempts + 1))]
    pub async fn send(&self, delivery: &ClaimedDelivery, now: DateTime<Utc>) -> AttemptReport {
        let url = match url::Url::parse(&delivery.target) {
            Ok(url) => url,
            Err(e) => return AttemptReport::failed(format!("invalid callback URL: {e}")),
        };
        let guarded = match self.clients.for_tenant(&delivery.allow_networks) {
            Ok(guarded) => guarded,
            Err(e) => return AttemptReport::failed(format!("cannot build the HTTP client: {e}")),
        };
        // The resolver never sees IP literals, so they are checked here, at send time too.
        if let Err(refused) = guarded.guard.check_literal(&url) {
            return AttemptReport::failed(refused.to_string());
        }
        let timestamp = now.timestamp();
        let secrets: Vec<_> = delivery.secrets.iter().collect();
        let signature = signature_header(&secrets, &delivery.message_id, timestamp, &delivery.body);
        let mut headers = HeaderMap::new();
        // The subscriber's static headers first, so the protocol headers always win.
        for (name, value) in &delivery.headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                headers.insert(name, value);
            }
        }
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let protocol = [
            ("webhook-id", delivery.message_id.clone()),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", signature),
        ];
        for (name, value) in protocol {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(HeaderName::from_static(name), value);
            }
        }
        let sent = guarded
            .client
            .post(url)
            .headers(headers)
            .timeout(self.timeout)
            .body(delivery.body.clone())
            .send()
            .await;
        let mut response = match sent {
            Ok(response) => response,
            Err(e) => return AttemptReport::failed(describe_send_error(&e)),
        };
        let status = response.status();
        let answer_kept = response
            .remote_addr()
            .is_some_and(|peer| delivery.allow_networks.check(peer.ip()).is_ok());
        let retry_after = crate::ingest::retry_after(response.headers())
            .or_else(|| retry_after_date(response.headers(), now));
        let body = read_bounded(&mut response).await;
        if status.is_success() {
            return AttemptReport {
                attempt: Attempt::Succeeded,
                status_code: Some(status.as_u16()),
                error: None,
            };
        }
        let error = if !answer_kept {
            format!(
                "HTTP {status} (from a network the operator exempted: the answer is not kept; \
                 an API key allowing the network keeps it)"
            )
        } else if status.is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .unwrap_or("-");
            format!("HTTP {status}: redirects are not followed (Location: {location})")
        } else {
            format!("HTTP {status}: {}", truncate(&body, MAX_RESPONSE_KEPT))
        };
        let honours_retry_after = matches!(status.as_u16(), 429 | 503);
        AttemptReport {
            attempt: Attempt::Failed {
                gone: status == reqwest::StatusCode::GONE,
                retry_after: retry_after.filter(|_| honours_retry_after),
            },
            status_code: Some(status.as_u16()),
            error: Some(error),
        }
    }
}

/// `Retry-After` in its other form, an HTTP date (`Wed, 21 Oct 2026 07:28:00 GMT`), as the
/// wait from `now`; a date already past asks for no wait.
fn retry_after_date(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    let at = DateTime::parse_from_rfc2822(value.trim()).ok()?;
    (at.with_timezone(&Utc) - now).to_std().ok()
}

/// Reads at most [`MAX_RESPONSE_READ`] bytes of the answer, lossily as text.
async fn read_bounded(response: &mut reqwest::Response) -> String {
    let mut kept = Vec::new();
    while kept.len() < MAX_RESPONSE_READ {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = MAX_RESPONSE_READ - kept.len();
                kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Ok(None) | Err(_) => break,
        }
    }
    String::from_utf8_lossy(&kept).into_owned()
}

/// Cuts text to at most `max` bytes on a character boundary.
pub fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The error with its causes ("error sending request: … connection refused"), since reqwest's
/// top-level message alone rarely says what happened.
fn describe_send_error(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timed out".to_owned()
    } else {
        error.to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    truncate(&text, MAX_RESPONSE_KEPT).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_may_be_an_http_date() {
        let now: DateTime<Utc> = "2026-10-21T07:20:00Z".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            reqwest::header::RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2026 07:28:00 GMT"),
        );
        assert_eq!(
            retry_after_date(&headers, now),
            Some(Duration::from_secs(480))
        );
        let later: DateTime<Utc> = "2026-10-21T08:00:00Z".parse().unwrap();
        assert_eq!(retry_after_date(&headers, later), None);
    }

    #[test]
    fn truncation_respects_character_boundaries() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("ääää", 3), "ä");
    }
}
