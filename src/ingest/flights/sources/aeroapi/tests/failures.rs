//! How AeroAPI's refusals and failures are reported.

use super::*;
use std::time::Duration;

#[tokio::test]
async fn a_garbage_body_is_malformed() {
    let (source, _) = serve(200, Vec::new(), "<html>maintenance</html>").await;
    let error = source.lookup(&query()).await.unwrap_err();
    assert!(matches!(error, SourceError::Malformed { .. }), "{error:?}");
}

#[tokio::test]
async fn refused_credentials_are_unauthorized() {
    for status in [401, 403] {
        let (source, _) = serve(status, Vec::new(), r#"{"title":"Unauthorized"}"#).await;
        match source.lookup(&query()).await {
            Err(SourceError::Unauthorized { from, status: s }) => {
                assert_eq!((from, s), (SourceId::flights("flightaware"), status));
            }
            other => panic!("HTTP {status}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn rate_limits_honour_retry_after() {
    let (source, _) = serve(429, vec![("retry-after", "7")], "{}").await;
    let error = source.lookup(&query()).await.unwrap_err();
    assert!(
        matches!(error, SourceError::Unavailable { .. }),
        "{error:?}"
    );
    assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));

    let (source, _) = serve(503, Vec::new(), "").await;
    let error = source.lookup(&query()).await.unwrap_err();
    assert!(
        matches!(error, SourceError::Unavailable { .. }),
        "{error:?}"
    );
    assert_eq!(error.retry_after(), None);
}

#[tokio::test]
async fn not_found_is_no_flight() {
    let (source, _) = serve(404, Vec::new(), r#"{"title":"Not found"}"#).await;
    assert_eq!(source.lookup(&query()).await.unwrap(), Vec::new());
}

#[tokio::test]
async fn a_rejected_request_names_the_detail() {
    let body = json!({"title": "Invalid argument", "reason": "INVALID_ARGUMENT",
        "detail": format!("start is too far in the future{}", "!".repeat(500)), "status": 400});
    let (source, _) = serve(400, Vec::new(), body.to_string()).await;
    match source.lookup(&query()).await.unwrap_err() {
        SourceError::Malformed { reason, .. } => {
            assert!(
                reason.contains("start is too far in the future"),
                "{reason}"
            );
            assert!(reason.len() < 260, "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_refused_connection_is_unavailable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let settings = FlightSourceSettings {
        enabled: true,
        base_url: format!("http://{address}/").parse().unwrap(),
        api_key: Secret::new("k"),
        designators: Vec::new(),
        rate_limit: 1.0,
        concurrency: 1,
        step: None,
    };
    let source = AeroApi::new(client(), &settings, clock());
    let error = source.lookup(&query()).await.unwrap_err();
    assert!(
        matches!(error, SourceError::Unavailable { .. }),
        "{error:?}"
    );
}
