//! How Skyhook makes, stores and compares the bearer secrets it hands out (API keys, callback
//! tokens, console session ids and CSRF tokens). Each is 256 random bits, and the first three
//! are stored only as the hex SHA-256 of what a client presents. A fast hash is enough for
//! values that long: there is nothing for a slow password hash to protect against. A
//! presented key, token or session is looked up by its hash, so no comparison runs on the
//! secret itself; what must be compared as presented (a CSRF token, a webhook signature) is
//! compared in constant time. Webhook signing secrets and unsubscribe tokens have formats of
//! their own and are made beside their types. (The console also versions a page's live part
//! by the same hex digest.)

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Random bytes per secret: 256 bits, well past the 128 a guess would have to beat.
const SECRET_BYTES: usize = 32;

/// The lowercase hex SHA-256 of `presented` (64 characters).
pub fn sha256_hex(presented: &str) -> String {
    let digest = Sha256::digest(presented.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A fresh random secret as URL-safe base64 without padding (43 characters): safe in a path, a
/// cookie or a form field without escaping.
pub fn random_token() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Compares without an early exit, so the time taken says nothing about how much matched.
pub fn constant_time_eq(presented: &str, expected: &str) -> bool {
    presented.len() == expected.len()
        && presented
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_url_safe_and_distinct() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }

    #[test]
    fn constant_time_eq_is_true_only_for_equal_text() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abd", "abc"));
        assert!(!constant_time_eq("ab", "abc"));
        assert!(!constant_time_eq("", "abc"));
    }

    #[test]
    fn is_the_sha256_of_the_text_in_hex() {
        // The published SHA-256 of "abc" (FIPS 180-2, appendix B.1).
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
