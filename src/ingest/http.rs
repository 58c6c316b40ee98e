//! The HTTP client every carrier and flight-status source calls through, and the one reader of
//! their answers: at most `carriers.max_response_bytes` of any answer is ever held, however
//! much the source sends.

use super::{SourceError, SourceId};
use serde::de::DeserializeOwned;

/// A client plus the bound on what one answer may weigh. Cheap to clone (reqwest's client is
/// a handle to a shared pool).
#[derive(Debug, Clone)]
pub struct SourceHttp {
    client: reqwest::Client,
    max_response_bytes: usize,
}

impl SourceHttp {
    pub fn new(client: reqwest::Client, max_response_bytes: usize) -> Self {
        Self {
            client,
            max_response_bytes,
        }
    }

    /// The client to build requests with; read what they answer with [`SourceHttp::read`].
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The whole body of `from`'s answer, or [`SourceError::TooLarge`] as soon as it is known
    /// to exceed the limit: up front from `Content-Length`, else while reading, piece by piece.
    /// The response is then dropped unread, which closes its connection (reqwest returns only
    /// fully read connections to its pool), so the rest is never received.
    pub async fn read(
        &self,
        from: SourceId,
        mut response: reqwest::Response,
    ) -> Result<Vec<u8>, SourceError> {
        let limit = self.max_response_bytes;
        let too_large = || SourceError::TooLarge { from, limit };
        let declared = response.content_length();
        if declared.is_some_and(|length| length > limit as u64) {
            return Err(too_large());
        }
        // A declared length is only a hint for the buffer; the limit still caps it.
        let mut body = Vec::with_capacity(declared.map_or(0, |l| l as usize));
        while let Some(piece) = response.chunk().await.map_err(|e| {
            // A connection dropped mid-answer is the source's (or the network's) trouble, so
            // retrying is right.
            from.unavailable(format!("reading the answer: {}", describe(&e)), None)
        })? {
            if body.len() + piece.len() > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&piece);
        }
        Ok(body)
    }

    /// [`SourceHttp::read`], then the body as JSON.
    pub async fn json<T: DeserializeOwned>(
        &self,
        from: SourceId,
        response: reqwest::Response,
    ) -> Result<T, SourceError> {
        let body = self.read(from, response).await?;
        serde_json::from_slice(&body).map_err(|e| from.malformed(format!("not JSON: {e}")))
    }
}

/// The error with its causes ("error decoding response body: … connection reset"), since
/// reqwest's top-level message alone rarely says what happened.
pub(crate) fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `8388608` as `8 MiB`, `1536` as `1.5 KiB`: limits as operators write them.
pub(crate) fn human_bytes(bytes: usize) -> String {
    const UNITS: [(usize, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (size, unit) in UNITS {
        if bytes >= size {
            let value = bytes as f64 / size as f64;
            return if bytes.is_multiple_of(size) {
                format!("{} {unit}", bytes / size)
            } else {
                format!("{value:.1} {unit}")
            };
        }
    }
    format!("{bytes} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_read_as_operators_write_them() {
        assert_eq!(human_bytes(8 * 1024 * 1024), "8 MiB");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(1 << 30), "1 GiB");
        assert_eq!(human_bytes(512), "512 bytes");
    }
}
