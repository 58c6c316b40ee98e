//! Limits that would disable what they protect are refused at startup, naming the key.

use crate::helpers::test_settings;
use skyhook::config::Settings;

/// The validation error for the test settings changed by `change`.
fn refused(change: impl FnOnce(&mut Settings)) -> String {
    let mut settings = test_settings("sqlite://unused.db");
    assert!(settings.validate().is_ok(), "the defaults hold");
    change(&mut settings);
    settings.validate().unwrap_err().to_string()
}

#[test]
fn answer_limits_outside_their_range_are_refused() {
    let error = refused(|s| s.carriers.max_response_bytes = 100);
    assert!(error.contains("carriers.max_response_bytes"), "{error}");
    assert!(error.contains("1 KiB"), "{error}");
    let error = refused(|s| s.carriers.max_response_bytes = 2 << 30);
    assert!(error.contains("carriers.max_response_bytes"), "{error}");
}

#[test]
fn a_shipment_must_be_allowed_an_event() {
    let error = refused(|s| s.poller.max_events_per_shipment = 0);
    assert!(error.contains("poller.max_events_per_shipment"), "{error}");
}

#[test]
fn connection_limits_that_would_refuse_every_client_are_refused() {
    let error = refused(|s| s.server.header_timeout.0 = std::time::Duration::ZERO);
    assert!(error.contains("server.header_timeout"), "{error}");
    let error = refused(|s| s.server.max_connections = 0);
    assert!(error.contains("server.max_connections"), "{error}");
}

#[test]
fn an_enabled_carrier_needs_a_key_a_rate_and_a_concurrency() {
    let enabled = |s: &mut Settings| {
        s.carriers.cargoai.enabled = true;
        s.carriers.cargoai.api_key = skyhook::config::Secret::new("k");
    };
    let error = refused(|s| {
        enabled(s);
        s.carriers.cargoai.api_key = skyhook::config::Secret::new("");
    });
    assert!(error.contains("carriers.cargoai.api_key"), "{error}");
    assert!(
        error.contains("is required when the carrier is enabled"),
        "{error}"
    );
    let error = refused(|s| {
        enabled(s);
        s.carriers.cargoai.rate_limit = f64::NAN;
    });
    assert!(error.contains("carriers.cargoai.rate_limit"), "{error}");
    let error = refused(|s| {
        enabled(s);
        s.carriers.cargoai.concurrency = 0;
    });
    assert!(error.contains("carriers.cargoai.concurrency"), "{error}");
    // The sandbox needs no key.
    let mut settings = crate::helpers::test_settings("sqlite://unused.db");
    settings.carriers.demo.enabled = true;
    settings.carriers.demo.api_key = skyhook::config::Secret::new("");
    assert!(settings.validate().is_ok());
}
