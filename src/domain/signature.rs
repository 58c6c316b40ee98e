//! Standard Webhooks signatures (<https://www.standardwebhooks.com/>).
//!
//! A push carries three headers: `webhook-id` (the message id receivers dedupe on),
//! `webhook-timestamp` (unix seconds) and `webhook-signature`, which is
//! `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>` with `key` the base64-decoded part
//! of the `whsec_` secret. During a secret rotation the header carries one signature per secret,
//! separated by a single space; a receiver accepts the message if any of them verifies.
//!
//! Pure functions: choosing the id and the timestamp, and sending, are the dispatcher's job.

use super::SigningSecret;
use super::digest::constant_time_eq;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Header carrying the message id (stable across retries, so receivers can dedupe).
pub const HEADER_ID: &str = "webhook-id";
/// Header carrying the signing time in unix seconds.
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// Header carrying the space-separated `v1,<base64>` signatures.
pub const HEADER_SIGNATURE: &str = "webhook-signature";

type HmacSha256 = Hmac<Sha256>;

/// The `v1,<base64>` signature of one message under one secret.
///
/// `body` must be the exact bytes sent: receivers verify the raw body, so re-serialising the
/// JSON after signing breaks every signature.
pub fn sign(secret: &SigningSecret, msg_id: &str, timestamp: i64, body: &str) -> String {
    let mut mac =
        HmacSha256::new_from_slice(&secret.key()).expect("HMAC accepts keys of any length");
    // Fed piecewise rather than through format!: the body can be large and need not be copied.
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The `webhook-signature` header value: one signature per secret, in the order given, joined
/// by a single space. Passing the new and the old secret during a rotation lets receivers that
/// still hold either one verify the message.
///
/// An empty `secrets` gives an empty string, which no receiver accepts; callers always have at
/// least the subscription's current secret.
pub fn signature_header(
    secrets: &[&SigningSecret],
    msg_id: &str,
    timestamp: i64,
    body: &str,
) -> String {
    secrets
        .iter()
        .map(|secret| sign(secret, msg_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// How far a message's `webhook-timestamp` may be from the receiver's clock (Standard Webhooks'
/// tolerance, against replays of old messages).
pub const TIMESTAMP_TOLERANCE_SECS: i64 = 5 * 60;

/// Why a received message did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("no `webhook-id`, `webhook-timestamp` or `webhook-signature` header")]
    MissingHeaders,
    #[error("`webhook-timestamp` `{0}` is not unix seconds")]
    BadTimestamp(String),
    #[error(
        "`webhook-timestamp` is {0} s away from this clock (at most {TIMESTAMP_TOLERANCE_SECS} s allowed)"
    )]
    OutsideTolerance(i64),
    #[error("no signature matches the secret (wrong secret, or the body was changed)")]
    NoMatch,
}

/// A receiver's check of a message: one of the `v1,` signatures of `signature_header` is the
/// message's signature under `secret`, and its timestamp is within the tolerance of `now`
/// (unix seconds).
pub fn verify(
    secret: &SigningSecret,
    msg_id: &str,
    timestamp: &str,
    signature_header: &str,
    body: &str,
    now: i64,
) -> Result<(), VerifyError> {
    let at: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| VerifyError::BadTimestamp(timestamp.to_owned()))?;
    if (now - at).abs() > TIMESTAMP_TOLERANCE_SECS {
        return Err(VerifyError::OutsideTolerance(now - at));
    }
    let expected = sign(secret, msg_id, at, body);
    // Compared in full whatever the first difference, so timing reveals nothing.
    let matches = signature_header
        .split(' ')
        .any(|candidate| constant_time_eq(candidate, &expected));
    if matches {
        Ok(())
    } else {
        Err(VerifyError::NoMatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};
    use standardwebhooks::Webhook;

    const VECTOR_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const VECTOR_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const VECTOR_TIMESTAMP: i64 = 1614265330;
    const VECTOR_BODY: &str = r#"{"test": 2432232314}"#;
    const VECTOR_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn vector_secret() -> SigningSecret {
        SigningSecret::from_stored(VECTOR_SECRET.to_owned()).expect("published secret is valid")
    }

    fn headers(msg_id: &str, timestamp: i64, signature: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(HEADER_ID, HeaderValue::from_str(msg_id).unwrap());
        headers.insert(HEADER_TIMESTAMP, HeaderValue::from(timestamp));
        headers.insert(HEADER_SIGNATURE, HeaderValue::from_str(signature).unwrap());
        headers
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    #[test]
    fn the_published_test_vector_is_reproduced() {
        let signature = sign(&vector_secret(), VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY);
        assert_eq!(signature, VECTOR_SIGNATURE);
    }

    #[test]
    fn every_signed_part_changes_the_signature() {
        let secret = vector_secret();
        let base = sign(&secret, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY);
        let variants = [
            sign(&secret, "msg_other", VECTOR_TIMESTAMP, VECTOR_BODY),
            sign(&secret, VECTOR_ID, VECTOR_TIMESTAMP + 1, VECTOR_BODY),
            sign(
                &secret,
                VECTOR_ID,
                VECTOR_TIMESTAMP,
                r#"{"test": 2432232315}"#,
            ),
            sign(
                &SigningSecret::generate(),
                VECTOR_ID,
                VECTOR_TIMESTAMP,
                VECTOR_BODY,
            ),
        ];
        for variant in variants {
            assert!(variant.starts_with("v1,"), "{variant}");
            assert_ne!(variant, base);
        }
    }

    #[test]
    fn a_rotation_header_lists_one_signature_per_secret_in_order() {
        let new = SigningSecret::generate();
        let old = vector_secret();
        let header = signature_header(&[&new, &old], VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY);
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(
            parts,
            [
                sign(&new, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY).as_str(),
                VECTOR_SIGNATURE,
            ]
        );
        assert_eq!(
            signature_header(&[&old], VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY),
            VECTOR_SIGNATURE
        );
        assert_eq!(signature_header(&[], VECTOR_ID, 0, ""), "");
    }

    #[test]
    fn the_reference_library_verifies_our_signature() {
        // The reference verifier refuses timestamps more than five minutes from now, so this
        // test signs a fresh message rather than the published vector.
        let secret = SigningSecret::generate();
        let (id, timestamp) = ("msg_2p5jXN8AQM9LWM0D4loKWxJek", now());
        let body = r#"{"awb":"020-08002050","events":[{"code":"DEP"}]}"#;
        let signature = sign(&secret, id, timestamp, body);

        let receiver = Webhook::new(secret.expose()).unwrap();
        receiver
            .verify(body.as_bytes(), &headers(id, timestamp, &signature))
            .expect("a receiver holding the secret accepts the message");

        let tampered = body.replace("DEP", "ARR");
        assert!(
            receiver
                .verify(tampered.as_bytes(), &headers(id, timestamp, &signature))
                .is_err(),
            "a changed body must not verify"
        );
        let stranger = Webhook::new(SigningSecret::generate().expose()).unwrap();
        assert!(
            stranger
                .verify(body.as_bytes(), &headers(id, timestamp, &signature))
                .is_err(),
            "a receiver holding another secret must not verify"
        );
    }

    #[test]
    fn during_a_rotation_receivers_holding_either_secret_verify() {
        let (new, old) = (SigningSecret::generate(), SigningSecret::generate());
        let (id, timestamp, body) = ("msg_rotation", now(), r#"{"n":1}"#);
        let header = signature_header(&[&new, &old], id, timestamp, body);
        for secret in [&new, &old] {
            Webhook::new(secret.expose())
                .unwrap()
                .verify(body.as_bytes(), &headers(id, timestamp, &header))
                .expect("either secret verifies");
        }
        let retired = Webhook::new(SigningSecret::generate().expose()).unwrap();
        assert!(
            retired
                .verify(body.as_bytes(), &headers(id, timestamp, &header))
                .is_err()
        );
    }

    #[test]
    fn the_published_vector_verifies_and_tampering_does_not() {
        let secret = vector_secret();
        let verify_at = |body: &str, signature: &str, now: i64| {
            verify(
                &secret,
                VECTOR_ID,
                &VECTOR_TIMESTAMP.to_string(),
                signature,
                body,
                now,
            )
        };
        let now = VECTOR_TIMESTAMP + 10;
        assert_eq!(verify_at(VECTOR_BODY, VECTOR_SIGNATURE, now), Ok(()));
        let rotated = format!("v1,b3RoZXI= {VECTOR_SIGNATURE}");
        assert_eq!(
            verify_at(VECTOR_BODY, &rotated, now),
            Ok(()),
            "any of several"
        );
        assert_eq!(
            verify_at(r#"{"test": 2432232315}"#, VECTOR_SIGNATURE, now),
            Err(VerifyError::NoMatch)
        );
        assert_eq!(
            verify_at(VECTOR_BODY, VECTOR_SIGNATURE, VECTOR_TIMESTAMP + 301),
            Err(VerifyError::OutsideTolerance(301))
        );
        assert_eq!(
            verify(
                &secret,
                VECTOR_ID,
                "soon",
                VECTOR_SIGNATURE,
                VECTOR_BODY,
                now
            ),
            Err(VerifyError::BadTimestamp("soon".into()))
        );
    }
}
