//! Console sessions. A signed-in browser holds a random session id in its cookie; the server
//! keeps only the SHA-256 of it (as it does of API keys), so a copy of the database, or a look
//! at it, opens no session.

use super::digest::sha256_hex;

/// The stored form of a console session's cookie value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConsoleSessionHash(String);

impl ConsoleSessionHash {
    /// Hashes whatever cookie a browser presented; an unknown one hashes to something not
    /// stored.
    pub fn of(cookie_value: &str) -> Self {
        Self(sha256_hex(cookie_value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_stable_distinct_hex_and_never_the_cookie_value() {
        let cookie = "c2Vzc2lvbi1jb29raWUtdmFsdWUtZm9yLWEtdGVzdA";
        let hash = ConsoleSessionHash::of(cookie);
        assert_eq!(hash, ConsoleSessionHash::of(cookie));
        assert_ne!(hash, ConsoleSessionHash::of("another cookie value"));
        assert_ne!(hash.as_str(), cookie);
        assert!(!hash.as_str().contains(cookie));
        assert_eq!(hash.as_str().len(), 64);
        assert!(
            hash.as_str()
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        );
    }

    #[test]
    fn is_the_same_hash_an_api_key_of_that_text_gets() {
        // One hashing for every stored secret: a session is not a weaker kind of key.
        let text = "sk_same-text";
        assert_eq!(
            ConsoleSessionHash::of(text).as_str(),
            super::super::ApiKeyHash::of(text).as_str()
        );
    }
}
