//! API keys. A key is its own tenant; only a SHA-256 hash of it is ever stored.

use std::fmt;

pub use super::ids::TenantId;

const KEY_PREFIX: &str = "sk_";

/// A freshly generated secret key. It is shown once and then only its hash is kept.
pub struct ApiKey(String);

/// The stored form of a key (see `digest.rs`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ApiKeyHash(String);

/// The operator's name for a key, e.g. `acme-tms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("key name `{0}` must be 1 to 64 characters of letters, digits, `.`, `_` or `-`")]
pub struct KeyNameError(pub String);

impl ApiKey {
    pub fn generate() -> Self {
        Self(format!("{KEY_PREFIX}{}", super::digest::random_token()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> ApiKeyHash {
        ApiKeyHash::of(&self.0)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl ApiKeyHash {
    /// Hashes whatever a client presented; unknown keys simply hash to something not stored.
    pub fn of(presented: &str) -> Self {
        Self(super::digest::sha256_hex(presented))
    }

    pub fn from_stored(hex: String) -> Self {
        Self(hex)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl KeyName {
    pub fn parse(input: &str) -> Result<Self, KeyNameError> {
        let ok = !input.is_empty()
            && input.len() <= 64
            && input
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if ok {
            Ok(Self(input.to_owned()))
        } else {
            Err(KeyNameError(input.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_distinct_and_hash_stably() {
        let (a, b) = (ApiKey::generate(), ApiKey::generate());
        assert_ne!(a.expose(), b.expose());
        assert!(a.expose().starts_with("sk_") && a.expose().len() == 3 + 43);
        assert_eq!(a.hash(), ApiKeyHash::of(a.expose()));
        assert_ne!(a.hash(), b.hash());
        assert_eq!(a.hash().as_str().len(), 64);
        assert_eq!(format!("{a:?}"), "ApiKey(<redacted>)");
    }

    #[test]
    fn key_names_are_restricted() {
        assert!(KeyName::parse("acme-tms.prod_1").is_ok());
        for bad in ["", "has space", "ümlaut", &"x".repeat(65)] {
            assert!(KeyName::parse(bad).is_err(), "{bad}");
        }
    }
}
