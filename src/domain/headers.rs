//! Static headers a subscriber wants on every webhook (seed 000's "authentication on request",
//! e.g. an `Authorization` its TMS expects). A few, well-formed, and never one that would
//! override the protocol's own.

use std::collections::BTreeMap;

pub const MAX_HEADERS: usize = 5;
pub const MAX_HEADER_VALUE_LEN: usize = 1024;

/// Names Skyhook sets itself or the HTTP client owns.
pub const RESERVED_HEADERS: &[&str] = &[
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "content-type",
    "content-length",
    "content-encoding",
    "transfer-encoding",
    "host",
    "connection",
    "te",
    "upgrade",
    "user-agent",
    "expect",
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomHeaders(BTreeMap<String, String>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeadersError {
    #[error("`headers` may hold at most {MAX_HEADERS} headers, got {0}")]
    TooMany(usize),
    #[error("`headers` has an invalid header name `{0}`")]
    InvalidName(String),
    #[error("`headers` may not set `{0}`: Skyhook sets it itself")]
    Reserved(String),
    #[error(
        "`headers.{0}` must be printable ASCII without line breaks, at most {MAX_HEADER_VALUE_LEN} characters"
    )]
    InvalidValue(String),
}

impl CustomHeaders {
    /// Names are case-insensitive and stored lower-case; a name given twice is an error.
    pub fn parse(headers: &BTreeMap<String, String>) -> Result<Self, HeadersError> {
        if headers.len() > MAX_HEADERS {
            return Err(HeadersError::TooMany(headers.len()));
        }
        let mut parsed = BTreeMap::new();
        for (name, value) in headers {
            let lower = name.trim().to_ascii_lowercase();
            let is_token = !lower.is_empty()
                && lower
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            if !is_token || parsed.contains_key(&lower) {
                return Err(HeadersError::InvalidName(name.clone()));
            }
            if RESERVED_HEADERS.contains(&lower.as_str()) || lower.starts_with("webhook-") {
                return Err(HeadersError::Reserved(name.clone()));
            }
            if value.len() > MAX_HEADER_VALUE_LEN
                || !value.bytes().all(|b| (b' '..=b'~').contains(&b))
            {
                return Err(HeadersError::InvalidValue(name.clone()));
            }
            parsed.insert(lower, value.clone());
        }
        Ok(Self(parsed))
    }

    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    pub fn names(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_static_authorization_header_is_accepted_and_names_are_lower_cased() {
        let headers = CustomHeaders::parse(&map(&[("Authorization", "Bearer abc")])).unwrap();
        assert_eq!(headers.names(), ["authorization"]);
        assert_eq!(headers.as_map()["authorization"], "Bearer abc");
    }

    #[test]
    fn protocol_headers_cannot_be_overridden() {
        for name in ["webhook-signature", "Content-Type", "Host", "webhook-extra"] {
            assert_eq!(
                CustomHeaders::parse(&map(&[(name, "x")])),
                Err(HeadersError::Reserved(name.to_owned()))
            );
        }
    }

    #[test]
    fn malformed_headers_are_refused() {
        let six: Vec<(String, String)> = (0..6).map(|i| (format!("x-{i}"), "v".into())).collect();
        assert_eq!(
            CustomHeaders::parse(&six.into_iter().collect()),
            Err(HeadersError::TooMany(6))
        );
        assert!(matches!(
            CustomHeaders::parse(&map(&[("bad name", "v")])),
            Err(HeadersError::InvalidName(_))
        ));
        assert!(matches!(
            CustomHeaders::parse(&map(&[("x-a", "line\r\nbreak")])),
            Err(HeadersError::InvalidValue(_))
        ));
    }
}
