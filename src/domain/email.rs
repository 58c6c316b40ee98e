//! Notification email addresses.

use std::fmt;

/// CargoAI's limit, kept so that a TMS written against it behaves the same here.
pub const MAX_EMAILS: usize = 5;

/// An email address in a normalised (lower-case, trimmed) form, so that `Ops@Example.com` and
/// `ops@example.com` count as the same recipient for the duplicate rules.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a valid email address: {reason}")]
pub struct EmailError {
    pub input: String,
    pub reason: &'static str,
}

impl EmailAddress {
    /// A deliberately plain check (RFC 5321 sizes, one `@`, a dotted domain of letters, digits
    /// and hyphens). Anything it lets through is something an SMTP server can be asked about.
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let fail = |reason| EmailError {
            input: input.to_owned(),
            reason,
        };
        let address = input.trim().to_lowercase();
        if address.len() > 254 {
            return Err(fail("longer than 254 characters"));
        }
        let (local, domain) = address.split_once('@').ok_or_else(|| fail("missing `@`"))?;
        if local.is_empty() || local.len() > 64 {
            return Err(fail("the part before `@` must be 1 to 64 characters"));
        }
        if local
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "@<>()[]\\,;:\"".contains(c))
        {
            return Err(fail(
                "the part before `@` contains a character not allowed there",
            ));
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(fail("misplaced `.` before `@`"));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2 {
            return Err(fail("the domain needs at least one `.`"));
        }
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        };
        if !labels.iter().all(|l| label_ok(l)) {
            return Err(fail("the domain is not a valid host name"));
        }
        Ok(Self(address))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_normalised_to_lower_case() {
        assert_eq!(
            EmailAddress::parse("  Ops@Forwarder.Example ")
                .unwrap()
                .as_str(),
            "ops@forwarder.example"
        );
    }

    #[test]
    fn malformed_addresses_are_rejected_with_a_reason() {
        for input in [
            "",
            "no-at-sign",
            "@example.com",
            "a@b",
            "a b@example.com",
            "a@exa_mple.com",
            "a@-example.com",
            ".a@example.com",
            "a@@example.com",
        ] {
            let err = EmailAddress::parse(input).unwrap_err();
            assert_eq!(err.input, input);
        }
    }
}
