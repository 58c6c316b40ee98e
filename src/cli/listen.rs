//! `skyhook listen`: a webhook receiver for development. It prints each delivery it gets (type,
//! sequence, target, what is new) and whether its Standard Webhooks signature verified against
//! the subscription's `signingSecret`, and always answers 2xx (OPTIONS preflights with
//! `Allow: OPTIONS, POST`), so Skyhook marks the message delivered.
//!
//! The secret is only known once a subscription exists, after `listen` started: it comes from
//! `--secret`, or is pasted on standard input while `listen` runs (any number of them, so
//! several subscriptions, or a rotation, verify).

use crate::domain::SigningSecret;
use crate::domain::signature::{self, HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP};
use anyhow::Context;
use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::{Arc, RwLock};
use tokio::io::AsyncBufReadExt;

/// New events listed one by one before the rest are counted.
const EVENTS_SHOWN: usize = 5;

type Secrets = Arc<RwLock<Vec<SigningSecret>>>;

pub async fn run(port: u16, secret: Option<String>) -> anyhow::Result<ExitCode> {
    let secrets: Secrets = Arc::default();
    if let Some(secret) = secret {
        let parsed = SigningSecret::from_stored(secret.trim().to_owned())
            .context("--secret is not a signing secret (`whsec_` and base64)")?;
        secrets.write().expect("secrets lock").push(parsed);
    }
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address} (try --port)"))?;
    let address = listener.local_addr()?;
    println!("Listening for webhooks on http://{address}/ (Ctrl-C stops).");
    if secrets.read().expect("secrets lock").is_empty() {
        println!(
            "No --secret given: paste a subscription's signingSecret (whsec_…) here and press \
             Enter to verify signatures."
        );
    }
    tokio::spawn(read_pasted_secrets(secrets.clone()));
    let app = Router::new().fallback(move |method: Method, headers: HeaderMap, body: Bytes| {
        let secrets = secrets.clone();
        async move { receive(&secrets, method, &headers, &body) }
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(ExitCode::SUCCESS)
}

/// Secrets pasted on standard input, one a line; other lines are ignored with a hint.
async fn read_pasted_secrets(secrets: Secrets) {
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match SigningSecret::from_stored(line.to_owned()) {
            Some(secret) => {
                secrets.write().expect("secrets lock").push(secret);
                println!("Secret added: signatures made with it now verify.");
            }
            None => println!("That is not a signing secret (`whsec_` and base64); ignored."),
        }
    }
}

fn receive(secrets: &Secrets, method: Method, headers: &HeaderMap, body: &[u8]) -> Response {
    if method == Method::OPTIONS {
        return (StatusCode::NO_CONTENT, [(header::ALLOW, "OPTIONS, POST")]).into_response();
    }
    if method != Method::POST {
        return (StatusCode::OK, "skyhook listen: POST webhooks here\n").into_response();
    }
    let body = String::from_utf8_lossy(body);
    let verdict = check(&secrets.read().expect("secrets lock"), headers, &body);
    println!("{}", describe(&body, &verdict));
    StatusCode::NO_CONTENT.into_response()
}

/// "signature verified", or why not.
fn check(secrets: &[SigningSecret], headers: &HeaderMap, body: &str) -> String {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(id), Some(timestamp), Some(signatures)) = (
        text(HEADER_ID),
        text(HEADER_TIMESTAMP),
        text(HEADER_SIGNATURE),
    ) else {
        return format!("NOT verified: {}", signature::VerifyError::MissingHeaders);
    };
    if secrets.is_empty() {
        return "signature not checked: no secret yet (paste the signingSecret here)".to_owned();
    }
    let now = chrono::Utc::now().timestamp();
    let mut last_error = None;
    for secret in secrets {
        match signature::verify(secret, id, timestamp, signatures, body, now) {
            Ok(()) => return "signature verified".to_owned(),
            Err(e) => last_error = Some(e),
        }
    }
    format!(
        "NOT verified: {}",
        last_error.expect("at least one secret was tried")
    )
}

/// One delivery in a few lines: `tracking.updated #3 000-00000000 (PO-4711): signature
/// verified`, then what is new.
fn describe(body: &str, verdict: &str) -> String {
    let Ok(message) = serde_json::from_str::<Value>(body) else {
        return format!("a POST that is not JSON ({} bytes): {verdict}", body.len());
    };
    let field = |name: &str| message[name].as_str().unwrap_or("?").to_owned();
    let target = message["awb"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| message["flight"]["number"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "-".to_owned());
    let reference = message["reference"]
        .as_str()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    let mut out = format!(
        "{} #{} {target}{reference}: {verdict}",
        field("type"),
        message["sequence"].as_u64().unwrap_or(0)
    );
    if let Some(events) = message["newEvents"].as_array() {
        let shown: Vec<String> = events.iter().take(EVENTS_SHOWN).map(event).collect();
        out.push_str(&format!("\n  newEvents: {}", shown.join("; ")));
        if events.len() > EVENTS_SHOWN {
            out.push_str(&format!(" and {} more", events.len() - EVENTS_SHOWN));
        }
        if events.is_empty() {
            out.push_str("none");
        }
    }
    for words in ["summary", "message"] {
        if let Some(text) = message[words].as_str() {
            out.push_str(&format!("\n  {text}"));
        }
    }
    out
}

/// `DEP FRA 2026-11-25T14:05:00+01:00 ZZ100 (planned)`.
fn event(event: &Value) -> String {
    let mut parts: Vec<&str> = ["code", "eventLocation", "eventDate"]
        .iter()
        .filter_map(|name| event[*name].as_str())
        .collect();
    if let Some(flight) = event["flight"]["number"].as_str() {
        parts.push(flight);
    }
    if event["isPlanned"] == true {
        parts.push("(planned)");
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn signed(secret: &SigningSecret, body: &str) -> HeaderMap {
        let now = chrono::Utc::now().timestamp();
        let mut headers = HeaderMap::new();
        headers.insert(HEADER_ID, HeaderValue::from_static("msg_1"));
        headers.insert(HEADER_TIMESTAMP, HeaderValue::from(now));
        let signature = signature::sign(secret, "msg_1", now, body);
        headers.insert(HEADER_SIGNATURE, HeaderValue::from_str(&signature).unwrap());
        headers
    }

    #[test]
    fn a_delivery_is_summarised_with_its_verdict() {
        let secret = SigningSecret::generate();
        let body = serde_json::json!({
            "type": "tracking.updated", "sequence": 2, "awb": "000-00000000",
            "reference": "PO-4711",
            "newEvents": [{"code": "DEP", "eventLocation": "FRA",
                           "eventDate": "2026-11-25T14:05:00+01:00",
                           "flight": {"number": "ZZ100"}, "isPlanned": false}]
        })
        .to_string();
        let verdict = check(
            std::slice::from_ref(&secret),
            &signed(&secret, &body),
            &body,
        );
        assert_eq!(verdict, "signature verified");
        assert_eq!(
            describe(&body, &verdict),
            "tracking.updated #2 000-00000000 (PO-4711): signature verified\n  \
             newEvents: DEP FRA 2026-11-25T14:05:00+01:00 ZZ100"
        );
    }

    #[test]
    fn a_wrong_secret_or_no_secret_is_said_so() {
        let (secret, other) = (SigningSecret::generate(), SigningSecret::generate());
        let headers = signed(&secret, "{}");
        assert!(check(&[other], &headers, "{}").starts_with("NOT verified: no signature matches"));
        assert!(check(&[], &headers, "{}").starts_with("signature not checked"));
        assert!(
            check(&[secret], &HeaderMap::new(), "{}").starts_with("NOT verified: no `webhook-id`")
        );
    }
}
