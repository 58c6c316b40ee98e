//! `Idempotency-Key` values (draft-ietf-httpapi-idempotency-key-header): what a client may send
//! as the key of a safe retry, and the fingerprint that tells "the same request again" from "the
//! same key with another request".

use sha2::{Digest, Sha256};

/// The most characters a key may have (what payment APIs accept; a UUID needs 36).
pub const MAX_KEY_LEN: usize = 255;

/// A client's idempotency key: 1–255 visible ASCII characters, sent bare
/// (`Idempotency-Key: 8e03978e-…`) or as the draft's structured-field string
/// (`Idempotency-Key: "8e03978e-…"`), which is the same key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdempotencyKeyError {
    #[error("`Idempotency-Key` is empty; send 1 to {MAX_KEY_LEN} characters, e.g. a UUID")]
    Empty,
    #[error("`Idempotency-Key` has {0} characters; at most {MAX_KEY_LEN} are allowed")]
    TooLong(usize),
    #[error(
        "`Idempotency-Key` may only hold visible ASCII characters other than `\"` and `\\` \
         (found {0:?} at position {1}); a UUID is a good key"
    )]
    Character(char, usize),
}

impl IdempotencyKey {
    /// Reads a header value as sent.
    pub fn parse(header: &[u8]) -> Result<Self, IdempotencyKeyError> {
        let text = String::from_utf8_lossy(header);
        let trimmed = text.trim_matches([' ', '\t']);
        let inner = trimmed
            .strip_prefix('"')
            .and_then(|rest| rest.strip_suffix('"'))
            .unwrap_or(trimmed);
        if inner.is_empty() {
            return Err(IdempotencyKeyError::Empty);
        }
        let length = inner.chars().count();
        if length > MAX_KEY_LEN {
            return Err(IdempotencyKeyError::TooLong(length));
        }
        if let Some((position, bad)) = inner
            .chars()
            .enumerate()
            .find(|(_, c)| !c.is_ascii_graphic() || matches!(c, '"' | '\\'))
        {
            return Err(IdempotencyKeyError::Character(bad, position + 1));
        }
        Ok(Self(inner.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What makes two requests "the same" for a replay: method, path with query, and the exact
/// body bytes, as a hex SHA-256.
pub fn request_fingerprint(method: &str, path_and_query: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(method.as_bytes());
    hash.update(b"\n");
    hash.update(path_and_query.as_bytes());
    hash.update(b"\n");
    hash.update(body);
    format!("{:x}", hash.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_and_quoted_keys_are_the_same_key() {
        let bare = IdempotencyKey::parse(b"8e03978e-40d5-43e8-bc93-6894a57f9324").unwrap();
        let quoted = IdempotencyKey::parse(b"\"8e03978e-40d5-43e8-bc93-6894a57f9324\"").unwrap();
        assert_eq!(bare, quoted);
        assert_eq!(bare.as_str(), "8e03978e-40d5-43e8-bc93-6894a57f9324");
    }

    #[test]
    fn empty_long_and_odd_keys_are_refused_with_the_reason() {
        assert_eq!(IdempotencyKey::parse(b""), Err(IdempotencyKeyError::Empty));
        assert_eq!(
            IdempotencyKey::parse(b"\"\""),
            Err(IdempotencyKeyError::Empty)
        );
        let long = "k".repeat(MAX_KEY_LEN + 1);
        assert_eq!(
            IdempotencyKey::parse(long.as_bytes()),
            Err(IdempotencyKeyError::TooLong(MAX_KEY_LEN + 1))
        );
        assert!(IdempotencyKey::parse("k".repeat(MAX_KEY_LEN).as_bytes()).is_ok());
        assert_eq!(
            IdempotencyKey::parse(b"two words"),
            Err(IdempotencyKeyError::Character(' ', 4))
        );
        assert_eq!(
            IdempotencyKey::parse("caf\u{e9}".as_bytes()),
            Err(IdempotencyKeyError::Character('\u{e9}', 4))
        );
    }

    #[test]
    fn the_fingerprint_covers_method_path_and_body() {
        let base = request_fingerprint("POST", "/v1/subscriptions", b"{}");
        assert_eq!(base.len(), 64);
        assert_eq!(
            base,
            request_fingerprint("POST", "/v1/subscriptions", b"{}")
        );
        assert_ne!(base, request_fingerprint("POST", "/v1/unsubscribe", b"{}"));
        assert_ne!(
            base,
            request_fingerprint("POST", "/v1/subscriptions", b"{ }")
        );
        assert_ne!(base, request_fingerprint("PUT", "/v1/subscriptions", b"{}"));
    }
}
