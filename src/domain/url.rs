//! Callback URLs a subscription pushes to.

use std::fmt;

/// An absolute `http`/`https` URL with a host and without embedded credentials.
///
/// Whether the host is a network Skyhook may call (the SSRF guard) is a separate decision taken
/// where DNS and configuration are known; this type only guarantees the URL is well formed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CallbackUrl(url::Url);

pub const MAX_URL_LEN: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("callback url `{input}` is not usable: {reason}")]
pub struct UrlError {
    pub input: String,
    pub reason: String,
}

impl CallbackUrl {
    pub fn parse(input: &str) -> Result<Self, UrlError> {
        let fail = |reason: String| UrlError {
            input: input.chars().take(200).collect(),
            reason,
        };
        let trimmed = input.trim();
        if trimmed.len() > MAX_URL_LEN {
            return Err(fail(format!("longer than {MAX_URL_LEN} characters")));
        }
        let url = url::Url::parse(trimmed).map_err(|e| fail(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(fail(format!(
                "scheme `{}` is not http or https",
                url.scheme()
            )));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(fail("it has no host".into()));
        }
        // Credentials in a URL end up in logs and delivery records; custom headers are the
        // place for them.
        if !url.username().is_empty() || url.password().is_some() {
            return Err(fail(
                "it contains credentials; send them as a header instead".into(),
            ));
        }
        if url.fragment().is_some() {
            return Err(fail(
                "it contains a #fragment, which is never sent to a server".into(),
            ));
        }
        Ok(Self(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn as_url(&self) -> &url::Url {
        &self.0
    }
}

impl fmt::Display for CallbackUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_and_https_urls_are_accepted_and_normalised() {
        assert_eq!(
            CallbackUrl::parse(" HTTPS://Tms.Example.com/hooks/awb ")
                .unwrap()
                .as_str(),
            "https://tms.example.com/hooks/awb"
        );
        assert!(CallbackUrl::parse("http://tms.example.com:8443/x?y=1").is_ok());
    }

    #[test]
    fn unusable_urls_are_refused_with_a_reason() {
        for (input, reason) in [
            ("not a url", "relative URL"),
            ("ftp://example.com/x", "scheme `ftp`"),
            ("https://user:pw@example.com/", "credentials"),
            ("https://example.com/#frag", "fragment"),
            ("mailto:ops@example.com", "scheme `mailto`"),
        ] {
            let err = CallbackUrl::parse(input).unwrap_err();
            assert!(err.reason.contains(reason), "{input}: {err}");
        }
    }
}
