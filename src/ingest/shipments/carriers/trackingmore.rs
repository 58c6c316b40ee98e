//! TrackingMore's air cargo lookup (seed 004): `POST {base_url}/trackings/aircargo` with header
//! `Trackingmore-Api-Key` and body `{"track_number": [...], "lang": "en"}`, up to
//! `carriers.trackingmore.batch_size` AWBs per request.
//!
//! This module owns the request, what TrackingMore's HTTP statuses and `meta.code` values mean
//! for each AWB of the batch, matching the answer's entries back to the AWBs asked about, and
//! counting the quota spent (`skyhook_trackingmore_quota_spent_total`). What an entry says is
//! read by [`normalize`].

use super::{Carrier, FetchRequest, Fetched, join};
use crate::config::CarrierSettings;
use crate::ingest::{Source, SourceError, SourceHttp, SourceId, retry_after};
use async_trait::async_trait;
use normalize::{from_trackingmore, parse_trackingmore_response};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;

mod normalize;

const SOURCE: SourceId = SourceId::carrier("trackingmore");
/// Seed 004: "Each air waybill consumes 20 quotas".
const QUOTA_PER_AWB: u64 = 20;
const DEFAULT_BATCH_SIZE: u32 = 40;
/// TrackingMore's status table says of 429: "wait two minutes, and then try again". Used when
/// the answer carries no `Retry-After` of its own.
const RATE_LIMIT_WAIT: Duration = Duration::from_secs(120);

pub struct TrackingMore {
    http: SourceHttp,
    url: url::Url,
    api_key: String,
    batch_size: usize,
}

/// What a batch's answer amounts to before its entries are read.
#[derive(Debug)]
enum Answer {
    Entries(Value),
    /// TrackingMore said it has nothing for the whole request.
    NothingFound,
}

impl TrackingMore {
    pub fn new(http: SourceHttp, settings: &CarrierSettings) -> Self {
        Self {
            http,
            url: join(&settings.base_url, "trackings/aircargo"),
            api_key: settings.api_key.expose().to_owned(),
            batch_size: settings.batch_size.unwrap_or(DEFAULT_BATCH_SIZE).max(1) as usize,
        }
    }

    /// One request for the whole batch; an error here is every AWB's error.
    #[tracing::instrument(name = "trackingmore.fetch", skip_all, fields(awbs = requests.len()))]
    async fn request(&self, requests: &[FetchRequest]) -> Result<Answer, SourceError> {
        let numbers: Vec<&str> = requests.iter().map(|r| r.awb.as_str()).collect();
        let sent = self
            .http
            .client()
            .post(self.url.clone())
            .header("Trackingmore-Api-Key", &self.api_key)
            .json(&json!({"track_number": numbers, "lang": "en"}))
            .send()
            .await;
        // The quota is charged per AWB asked about. A connection that never opened asked nothing;
        // a timeout may have been answered and charged, so it counts: overcounting the quota is
        // the safer error for whoever watches the bill.
        if !matches!(&sent, Err(e) if e.is_connect()) {
            metrics::counter!("skyhook_trackingmore_quota_spent_total")
                .increment(QUOTA_PER_AWB * requests.len() as u64);
        }
        let response = sent.map_err(|e| SOURCE.unavailable(e.to_string(), None))?;
        let status = response.status();
        let wait = retry_after(response.headers());
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(SOURCE.unauthorized(status.as_u16()));
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(
                SOURCE.unavailable(format!("HTTP {status}"), wait.or(Some(RATE_LIMIT_WAIT)))
            );
        }
        if status.is_server_error() {
            return Err(SOURCE.unavailable(format!("HTTP {status}"), wait));
        }
        let body = self.http.read(SOURCE, response).await?;
        let body: Value = serde_json::from_slice(&body)
            .map_err(|e| SOURCE.malformed(format!("HTTP {status}, body not JSON: {e}")))?;
        // TrackingMore's envelope is more specific than its HTTP status (a bad key may come as
        // HTTP 200 with code 4001), so it speaks first.
        if let Some((code, message)) = meta(&body)
            && classify(code, &message, wait)? == MetaVerdict::NothingFound
        {
            return Ok(Answer::NothingFound);
        }
        if !status.is_success() {
            return Err(SOURCE.malformed(format!("unexpected HTTP {status}")));
        }
        Ok(Answer::Entries(body))
    }
}

/// `meta.code` (a number, or a number written as a string) and `meta.message`.
fn meta(body: &Value) -> Option<(i64, String)> {
    let meta = body.get("meta")?;
    let code = meta.get("code")?;
    let code = code
        .as_i64()
        .or_else(|| code.as_str()?.trim().parse().ok())?;
    let message = meta
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    Some((code, message))
}

#[derive(Debug, PartialEq)]
enum MetaVerdict {
    Success,
    NothingFound,
}

/// What TrackingMore's `meta.code` means for the batch. Seed 004 shows only 200; the other codes
/// are TrackingMore's published status table (api-status_code), mapped by what fixes them:
/// - 200/201: success (the table says some calls answer 201 instead of 200).
/// - 401, 403, 4001 (invalid key), 4002 (key deleted), 4018 (endpoint needs activation on the
///   account): only an operator fixes these, so Unauthorized, which the poller retries rarely.
/// - 429, and 202 ("successful but exceeding the limit"): rate limiting; back off, two minutes
///   at least as the table asks, unless `Retry-After` says otherwise.
/// - 500, 503: TrackingMore's own trouble; back off.
/// - 402, 4019, 4021 (balance or quota exhausted): a recharge fixes it with no restart, so
///   Unavailable with the growing back-off rather than Unauthorized's "check the key".
/// - 4017 (tracking does not exist), 4031 (empty result): nothing known about any AWB yet.
/// - everything else (4012–4016 bad parameters, 4020 over 200 per request, unknown codes): our
///   request or their format is off; Malformed, so the stored error names the code.
fn classify(code: i64, message: &str, wait: Option<Duration>) -> Result<MetaVerdict, SourceError> {
    let said = || format!("TrackingMore code {code}: {message}");
    match code {
        200 | 201 => Ok(MetaVerdict::Success),
        401 | 403 | 4001 | 4002 | 4018 => {
            Err(SOURCE.unauthorized(u16::try_from(code).unwrap_or(u16::MAX)))
        }
        202 | 429 => Err(SOURCE.unavailable(said(), wait.or(Some(RATE_LIMIT_WAIT)))),
        500 | 503 => Err(SOURCE.unavailable(said(), wait)),
        402 | 4019 | 4021 => Err(SOURCE.unavailable(
            format!("{}; quota exhausted, recharge the account", said()),
            wait,
        )),
        4017 | 4031 => Ok(MetaVerdict::NothingFound),
        _ => Err(SOURCE.malformed(format!("request rejected: {}", said()))),
    }
}

/// The AWB's 11 digits, however it is written (`172-28891936`, `17228891936`).
fn awb_digits(text: &str) -> Option<String> {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    (digits.len() == 11).then_some(digits)
}

/// One result per request, in request order, matched by AWB number rather than position:
/// TrackingMore keys entries by the number as it chooses to echo it, in no promised order.
fn match_entries(requests: &[FetchRequest], body: &Value) -> Vec<Result<Fetched, SourceError>> {
    let entries = match parse_trackingmore_response(body) {
        Ok(entries) => entries,
        Err(e) => {
            let error = SOURCE.malformed(e.to_string());
            return requests.iter().map(|_| Err(error.clone())).collect();
        }
    };
    let mut by_number: HashMap<String, Value> = HashMap::new();
    for (key, entry) in entries {
        let named = awb_digits(&key).or_else(|| {
            let number = entry.get("track_number")?.as_str()?;
            awb_digits(number)
        });
        match named {
            Some(digits) => {
                by_number.insert(digits, entry);
            }
            None => tracing::debug!(key, "TrackingMore entry names no AWB; ignored"),
        }
    }
    requests
        .iter()
        .map(|request| {
            let digits = awb_digits(request.awb.as_str()).unwrap_or_default();
            match by_number.get(&digits) {
                None => Ok(Fetched::NotFound),
                Some(entry) => read_entry(request, entry),
            }
        })
        .collect()
}

fn read_entry(request: &FetchRequest, entry: &Value) -> Result<Fetched, SourceError> {
    if reports_nothing(entry) {
        return Ok(Fetched::NotFound);
    }
    let tracking =
        from_trackingmore(&request.awb, entry).map_err(|e| SOURCE.malformed(e.to_string()))?;
    Ok(Fetched::Found {
        tracking,
        raw: entry.clone(),
    })
}

/// An entry that names the AWB but has no `return_data` to speak of. Seed 004 does not show how
/// an unknown AWB is answered; an empty or textual `return_data` is the only reading that does
/// not invent data, and "not found" keeps the AWB on the slow schedule until data appears.
fn reports_nothing(entry: &Value) -> bool {
    let Some(entry) = entry.as_object() else {
        // Not an object at all: unreadable, which the normaliser reports.
        return false;
    };
    match entry.get("return_data") {
        None | Some(Value::Null | Value::String(_)) => true,
        Some(Value::Object(data)) => data.is_empty(),
        Some(Value::Array(data)) => data.is_empty(),
        Some(_) => false,
    }
}

impl Source for TrackingMore {
    fn name(&self) -> &'static str {
        SOURCE.name
    }
}

#[async_trait]
impl Carrier for TrackingMore {
    fn batch_size(&self) -> usize {
        self.batch_size
    }

    async fn fetch(&self, requests: &[FetchRequest]) -> Vec<Result<Fetched, SourceError>> {
        if requests.is_empty() {
            return Vec::new();
        }
        match self.request(requests).await {
            Ok(Answer::Entries(body)) => match_entries(requests, &body),
            Ok(Answer::NothingFound) => requests.iter().map(|_| Ok(Fetched::NotFound)).collect(),
            Err(error) => requests.iter().map(|_| Err(error.clone())).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AwbNumber;

    fn request(awb: &str) -> FetchRequest {
        FetchRequest {
            awb: AwbNumber::parse(awb).unwrap(),
            first_seen: chrono::Utc::now(),
        }
    }

    fn entry(number: &str) -> Value {
        json!({"track_number": number, "return_data": {"origin": "XMN", "track_info": [
            {"actual_date": "2018-04-11 17:41:00", "station": "XMN", "status": "RCS"}
        ]}})
    }

    fn outcome(result: &Result<Fetched, SourceError>) -> &'static str {
        match result {
            Ok(Fetched::Found { .. }) => "found",
            Ok(Fetched::NotFound) => "not found",
            Err(SourceError::Malformed { .. }) => "malformed",
            Err(SourceError::Unauthorized { .. }) => "unauthorized",
            Err(SourceError::Unavailable { .. }) => "unavailable",
            Err(SourceError::TooLarge { .. }) => "too large",
        }
    }

    #[test]
    fn entries_are_matched_by_number_with_or_without_dash_not_by_position() {
        let requests = [
            request("172-28891936"),
            request("020-08002050"),
            request("176-12345675"),
        ];
        let body = json!({"meta": {"code": 200}, "data": {
            "02008002050": entry("02008002050"),
            "172-28891936": entry("172-28891936"),
            "999-00000000": entry("999-00000000"),
        }});
        let results = match_entries(&requests, &body);
        let outcomes: Vec<_> = results.iter().map(outcome).collect();
        assert_eq!(outcomes, ["found", "found", "not found"]);
        for (request, result) in requests.iter().zip(&results) {
            if let Ok(Fetched::Found { tracking, raw }) = result {
                assert_eq!(tracking.awb, request.awb);
                assert_eq!(
                    awb_digits(raw["track_number"].as_str().unwrap()),
                    awb_digits(request.awb.as_str())
                );
            }
        }
    }

    #[test]
    fn an_unreadable_or_empty_entry_affects_only_its_awb() {
        let requests = [
            request("172-28891936"),
            request("020-08002050"),
            request("176-12345675"),
        ];
        let body = json!({"data": {
            "172-28891936": "garbage",
            "020-08002050": entry("020-08002050"),
            "176-12345675": {"track_number": "176-12345675", "return_data": {}},
        }});
        let outcomes: Vec<_> = match_entries(&requests, &body)
            .iter()
            .map(outcome)
            .collect();
        assert_eq!(outcomes, ["malformed", "found", "not found"]);
    }

    #[test]
    fn an_answer_without_entries_fails_every_awb_alike() {
        let requests = [request("172-28891936"), request("020-08002050")];
        let results = match_entries(&requests, &json!({"meta": {"code": 200}, "data": 7}));
        let outcomes: Vec<_> = results.iter().map(outcome).collect();
        assert_eq!(outcomes, ["malformed", "malformed"]);
    }

    #[test]
    fn meta_codes_map_to_what_fixes_them() {
        let verdict = |code| match classify(code, "m", None) {
            Ok(MetaVerdict::Success) => "success",
            Ok(MetaVerdict::NothingFound) => "not found",
            Err(e) => outcome(&Err(e)),
        };
        for (code, expected) in [
            (200, "success"),
            (201, "success"),
            (401, "unauthorized"),
            (4001, "unauthorized"),
            (4002, "unauthorized"),
            (4018, "unauthorized"),
            (429, "unavailable"),
            (202, "unavailable"),
            (503, "unavailable"),
            (4021, "unavailable"),
            (4017, "not found"),
            (4031, "not found"),
            (4014, "malformed"),
            (4020, "malformed"),
            (9999, "malformed"),
        ] {
            assert_eq!(verdict(code), expected, "meta.code {code}");
        }
    }

    #[test]
    fn rate_limits_wait_two_minutes_unless_told_otherwise() {
        let waited = |wait| classify(429, "slow down", wait).unwrap_err().retry_after();
        assert_eq!(waited(None), Some(RATE_LIMIT_WAIT));
        assert_eq!(
            waited(Some(Duration::from_secs(7))),
            Some(Duration::from_secs(7))
        );
        let refused = classify(4001, "Invalid API key", None).unwrap_err();
        assert!(refused.to_string().contains("status 4001"), "{refused}");
    }

    #[test]
    fn meta_codes_may_be_written_as_strings() {
        let body = json!({"meta": {"code": " 4001 ", "message": "Invalid API key"}});
        assert_eq!(meta(&body), Some((4001, "Invalid API key".to_owned())));
        assert_eq!(meta(&json!({"data": {}})), None);
    }
}
