//! Subscriptions: what is watched (the target), how the subscriber is reached, and where the
//! subscription is in its lifecycle.

use super::{AwbNumber, CallbackUrl, EmailAddress, FlightTarget, StateFilter, TenantId};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use rand::RngCore;
use std::fmt;
use std::str::FromStr;

pub use super::ids::SubscriptionId;

/// A subscription as stored. The signing secret is not part of it: it is only read where
/// messages are signed, and shown only when created.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    pub id: SubscriptionId,
    pub tenant: TenantId,
    pub target: Target,
    /// Set when the target is a flight Skyhook knows.
    pub flight_id: Option<uuid::Uuid>,
    pub url: Option<CallbackUrl>,
    /// Set when deliveries to the URL were stopped (410 Gone, or failing too long).
    pub url_disabled: Option<UrlDisabled>,
    pub emails: Vec<EmailAddress>,
    /// Messages also go to the tenant's feed (`GET /v1/messages`).
    pub feed: bool,
    /// Names of the static headers sent with every webhook (values are not shown again).
    pub header_names: Vec<String>,
    pub states: StateFilter,
    pub reference: Option<Reference>,
    pub status: SubscriptionStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// When the last message was queued for it, on any channel; `None` before the first.
    pub last_message_at: Option<DateTime<Utc>>,
}

/// Why and since when a subscription's callback URL receives nothing any more.
#[derive(Debug, Clone, PartialEq)]
pub struct UrlDisabled {
    pub at: DateTime<Utc>,
    pub reason: String,
}

/// What a subscription watches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    Awb(AwbNumber),
    Flight(FlightTarget),
}

impl Target {
    /// One string per distinct target, the key of the duplicate rules ("the same tenant and
    /// target") and of the unique indexes that enforce them.
    pub fn key(&self) -> String {
        match self {
            Self::Awb(awb) => format!("awb:{awb}"),
            Self::Flight(f) => format!(
                "flight:{}:{}:{}",
                f.number,
                f.date,
                f.origin.as_ref().map_or("*", |o| o.as_str())
            ),
        }
    }

    pub fn awb(&self) -> Option<&AwbNumber> {
        match self {
            Self::Awb(awb) => Some(awb),
            Self::Flight(_) => None,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Awb(awb) => write!(f, "AWB {awb}"),
            Self::Flight(flight) => write!(f, "flight {flight}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubscriptionStatus {
    /// Receiving updates.
    Active,
    /// The shipment was delivered (or the flight arrived) and the final update went out.
    Completed,
    /// Reached `expiresAt` before completing.
    Expired,
    /// Ended by the subscriber (DELETE, or the last channel was unsubscribed).
    Unsubscribed,
}

impl SubscriptionStatus {
    pub const ALL: [Self; 4] = [
        Self::Active,
        Self::Completed,
        Self::Expired,
        Self::Unsubscribed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Completed => "completed",
            Self::Expired => "expired",
            Self::Unsubscribed => "unsubscribed",
        }
    }
}

impl FromStr for SubscriptionStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| {
                format!("unknown status `{s}`; expected active, completed, expired or unsubscribed")
            })
    }
}

impl fmt::Display for SubscriptionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The client's own identifier for a subscription, echoed in every message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference(String);

pub const MAX_REFERENCE_LEN: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`reference` must be at most {MAX_REFERENCE_LEN} characters without control characters")]
pub struct ReferenceError;

impl Reference {
    pub fn parse(input: &str) -> Result<Self, ReferenceError> {
        if input.chars().count() > MAX_REFERENCE_LEN || input.chars().any(char::is_control) {
            return Err(ReferenceError);
        }
        Ok(Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A Standard Webhooks signing secret: `whsec_` + base64 of the HMAC key. Skyhook generates
/// 24-byte keys; a secret read back accepts any non-empty key, as other Standard Webhooks
/// implementations (and the published test vector) use other lengths.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(String);

const SECRET_PREFIX: &str = "whsec_";

impl SigningSecret {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 24];
        rand::rng().fill_bytes(&mut bytes);
        Self(format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes)))
    }

    /// Rebuilds a secret read back from storage; `None` if it is not `whsec_` followed by the
    /// standard base64 of a non-empty key.
    pub fn from_stored(stored: String) -> Option<Self> {
        let key = stored.strip_prefix(SECRET_PREFIX)?;
        // An empty key would make every signature forgeable by anyone who knows the scheme.
        if STANDARD.decode(key).ok()?.is_empty() {
            return None;
        }
        Some(Self(stored))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The HMAC key bytes.
    pub fn key(&self) -> Vec<u8> {
        STANDARD
            .decode(&self.0[SECRET_PREFIX.len()..])
            .expect("validated at construction")
    }
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningSecret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::FlightTarget;

    #[test]
    fn target_keys_distinguish_awbs_and_flights() {
        let awb = Target::Awb(AwbNumber::parse("02008002050").unwrap());
        assert_eq!(awb.key(), "awb:020-08002050");
        let flight = Target::Flight(FlightTarget::parse("lh 8160", "2026-11-25", None).unwrap());
        assert_eq!(flight.key(), "flight:LH8160:2026-11-25:*");
        let with_origin =
            Target::Flight(FlightTarget::parse("LH8160", "2026-11-25", Some("fra")).unwrap());
        assert_eq!(with_origin.key(), "flight:LH8160:2026-11-25:FRA");
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in SubscriptionStatus::ALL {
            assert_eq!(status.as_str().parse::<SubscriptionStatus>(), Ok(status));
        }
        assert!("cancelled".parse::<SubscriptionStatus>().is_err());
    }

    #[test]
    fn signing_secrets_have_the_standard_webhooks_shape() {
        let secret = SigningSecret::generate();
        assert!(secret.expose().starts_with("whsec_"));
        assert_eq!(secret.key().len(), 24);
        let stored = SigningSecret::from_stored(secret.expose().to_owned()).unwrap();
        assert_eq!(stored, secret);
        assert!(SigningSecret::from_stored("whsec_***".into()).is_none());
        assert!(SigningSecret::from_stored("whsec_".into()).is_none());
        assert!(SigningSecret::from_stored("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into()).is_none());
        assert_eq!(format!("{secret:?}"), "SigningSecret(<redacted>)");
    }

    #[test]
    fn secrets_from_other_implementations_are_accepted_whatever_their_key_length() {
        // The Standard Webhooks published test vector's secret.
        let vector = SigningSecret::from_stored("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into())
            .expect("the published secret is valid");
        assert_eq!(vector.key().len(), 24);
        let long = format!("whsec_{}", STANDARD.encode([7u8; 64]));
        assert_eq!(
            SigningSecret::from_stored(long).unwrap().key(),
            vec![7u8; 64]
        );
    }

    #[test]
    fn references_refuse_control_characters_and_excess_length() {
        assert!(Reference::parse("PO-4711 / Müller").is_ok());
        assert!(Reference::parse("line\nbreak").is_err());
        assert!(Reference::parse(&"x".repeat(MAX_REFERENCE_LEN + 1)).is_err());
    }
}
