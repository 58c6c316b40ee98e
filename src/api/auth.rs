//! Bearer-key authentication. The extracted [`Tenant`] is the only way a handler learns who is
//! calling, so a handler cannot forget to scope its queries.

use super::AppState;
use super::error::ApiError;
use crate::domain::{ApiKeyHash, TenantId};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

/// The tenant behind the request's API key.
#[derive(Debug, Clone, Copy)]
pub struct Tenant(pub TenantId);

impl FromRequestParts<AppState> for Tenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
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
        let tenant = state
            .store
            .tenant_for_key(&ApiKeyHash::of(presented))
            .await?
            .ok_or(ApiError::Unauthorized)?;
        tracing::Span::current().record("tenant", tracing::field::display(tenant));
        Ok(Tenant(tenant))
    }
}
