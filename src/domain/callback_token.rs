//! The secret in a push carrier's callback URL (`…/carriers/lufthansa/callback/{token}`): a push
//! is only heard when it comes to the URL of a live registration. Like API keys, only a SHA-256
//! hash of a token is stored, and a presented token is looked up by its hash, so no comparison
//! ever runs on the token itself and the time a lookup takes says nothing about it.

use std::fmt;

/// A fresh token, put into one registration's callback URL and then known only by its hash.
pub struct CallbackToken(String);

/// The stored form of a token.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CallbackTokenHash(String);

impl CallbackToken {
    pub fn generate() -> Self {
        Self(super::digest::random_token())
    }

    /// The token as it goes into the callback URL (URL-safe base64, no padding).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> CallbackTokenHash {
        CallbackTokenHash::of(&self.0)
    }
}

impl fmt::Debug for CallbackToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CallbackToken(<redacted>)")
    }
}

impl CallbackTokenHash {
    /// Hashes whatever a caller presented; a wrong token hashes to something not stored.
    pub fn of(presented: &str) -> Self {
        Self(super::digest::sha256_hex(presented))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_url_safe_distinct_and_hash_stably() {
        let (a, b) = (CallbackToken::generate(), CallbackToken::generate());
        assert_ne!(a.expose(), b.expose());
        // 32 bytes in unpadded base64: 43 characters, none needing escaping in a path.
        assert_eq!(a.expose().len(), 43);
        assert!(
            a.expose()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(a.hash(), CallbackTokenHash::of(a.expose()));
        assert_ne!(a.hash(), b.hash());
        assert_eq!(a.hash().as_str().len(), 64);
        assert_eq!(format!("{a:?}"), "CallbackToken(<redacted>)");
    }
}
