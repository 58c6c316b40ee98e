//! What the paged lists (`GET /v1/subscriptions`, `GET /v1/messages`) share: the page size a
//! query asks for, and cursors that are opaque to the client (base64url of the list's own
//! text, which each list writes and reads itself).

use super::error::ApiError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The query's `limit`, or `default` without one; one outside 1 to `max` is `ErrInvalidQuery`.
pub fn page_size(limit: Option<u32>, default: u32, max: u32) -> Result<u32, ApiError> {
    let limit = limit.unwrap_or(default);
    if !(1..=max).contains(&limit) {
        return Err(ApiError::InvalidQuery(format!(
            "`limit` must be between 1 and {max}"
        )));
    }
    Ok(limit)
}

/// A cursor carrying `text`.
pub fn encode_cursor(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(text)
}

/// The text a cursor carries; `None` when it is not one [`encode_cursor`] wrote.
pub fn cursor_text(cursor: &str) -> Option<String> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
}
