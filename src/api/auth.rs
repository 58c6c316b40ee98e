//! Bearer-key authentication. The extracted [`Tenant`] (or, where a handler also needs what
//! the key allows, [`Caller`]) is the only way a handler learns who is calling, so a handler
//! cannot forget to scope its queries.

use super::AppState;
use super::error::ApiError;
use crate::domain::{ApiKeyHash, TenantId};
use crate::store::VerifiedKey;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// The tenant behind the request's API key.
#[derive(Debug, Clone, Copy)]
pub struct Tenant(pub TenantId);

/// The request's API key as verified: its tenant and the private networks it allows.
#[derive(Debug, Clone)]
pub struct Caller(pub VerifiedKey);

/// In a request's extensions: its key was looked up and refused (see `safety.rs`, which
/// verifies each `/v1` request's key once and leaves the [`Caller`] there otherwise).
#[derive(Debug, Clone, Copy)]
pub struct KeyRefused;

impl FromRequestParts<AppState> for Tenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Caller(key) = Caller::from_request_parts(parts, state).await?;
        Ok(Tenant(key.tenant))
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        if parts.extensions.get::<KeyRefused>().is_some() {
            return Err(ApiError::Unauthorized);
        }
        let presented = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                let (scheme, key) = value.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| key.trim())
            })
            .filter(|key| !key.is_empty())
            .ok_or(ApiError::Unauthorized)?;
        let hash = ApiKeyHash::of(presented);
        let key = match state.keys.get(&hash) {
            Some(key) => key,
            None => {
                let key = state
                    .store
                    .verify_key(&hash)
                    .await?
                    .ok_or(ApiError::Unauthorized)?;
                state.keys.insert(hash, key.clone());
                key
            }
        };
        tracing::Span::current().record("tenant", tracing::field::display(key.tenant));
        Ok(Caller(key))
    }
}

/// Keys verified within the last `server.auth_cache_ttl`, so a busy client costs no key lookup
/// per request. The price: a revoked key keeps working, and a key's changed networks take
/// effect, at most that much later on each instance.
/// Unknown keys are never cached, so a new key works at once.
pub struct KeyCache {
    ttl: Duration,
    entries: Mutex<HashMap<ApiKeyHash, (VerifiedKey, Instant)>>,
}

/// Beyond this many distinct keys the cache starts over rather than growing without bound.
const MAX_CACHED_KEYS: usize = 10_000;

impl KeyCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, hash: &ApiKeyHash) -> Option<VerifiedKey> {
        let entries = self.entries.lock().expect("key cache lock");
        entries
            .get(hash)
            .filter(|(_, verified)| verified.elapsed() < self.ttl)
            .map(|(key, _)| key.clone())
    }

    pub fn insert(&self, hash: ApiKeyHash, key: VerifiedKey) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().expect("key cache lock");
        if entries.len() >= MAX_CACHED_KEYS {
            entries.clear();
        }
        entries.insert(hash, (key, Instant::now()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verified() -> VerifiedKey {
        VerifiedKey {
            tenant: TenantId::new_random(),
            allow_networks: Default::default(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_verified_key_is_remembered_for_the_ttl_only() {
        let cache = KeyCache::new(Duration::from_secs(10));
        let (hash, key) = (ApiKeyHash::of("sk_a"), verified());
        assert_eq!(cache.get(&hash), None);
        cache.insert(hash.clone(), key.clone());
        assert_eq!(cache.get(&hash), Some(key));
        assert_eq!(cache.get(&ApiKeyHash::of("sk_b")), None);
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(cache.get(&hash), None, "expired after the ttl");
    }

    #[tokio::test(start_paused = true)]
    async fn a_zero_ttl_disables_the_cache() {
        let cache = KeyCache::new(Duration::ZERO);
        let hash = ApiKeyHash::of("sk_a");
        cache.insert(hash.clone(), verified());
        assert_eq!(cache.get(&hash), None);
    }

    #[tokio::test(start_paused = true)]
    async fn the_cache_never_holds_more_than_its_bound() {
        let cache = KeyCache::new(Duration::from_secs(10));
        for n in 0..=MAX_CACHED_KEYS {
            cache.insert(ApiKeyHash::of(&format!("sk_{n}")), verified());
        }
        assert!(cache.entries.lock().unwrap().len() <= MAX_CACHED_KEYS);
        assert!(
            cache
                .get(&ApiKeyHash::of(&format!("sk_{MAX_CACHED_KEYS}")))
                .is_some()
        );
    }
}
