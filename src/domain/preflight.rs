//! How demanding the callback preflight is (the `OPTIONS` request that asks a callback URL,
//! before a subscription is accepted, whether it will take our POSTs; `webhooks.preflight`).
//! A policy, so settings and the dispatcher that runs the request both depend on it here
//! rather than on each other.

use serde::Deserialize;

/// How demanding the preflight is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PreflightMode {
    /// Any HTTP answer will do, unless it carries an `Allow` header without POST.
    #[default]
    Reachable,
    /// A 2xx answer with an `Allow` header that includes POST (the Lufthansa Cargo rule).
    Strict,
    /// No request at all.
    Off,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_deserialize_from_lowercase_names_and_default_to_reachable() {
        #[derive(Deserialize)]
        struct Settings {
            #[serde(default)]
            preflight: PreflightMode,
        }
        for (json, mode) in [
            (r#"{"preflight": "reachable"}"#, PreflightMode::Reachable),
            (r#"{"preflight": "strict"}"#, PreflightMode::Strict),
            (r#"{"preflight": "off"}"#, PreflightMode::Off),
            ("{}", PreflightMode::Reachable),
        ] {
            let settings: Settings = serde_json::from_str(json).unwrap();
            assert_eq!(settings.preflight, mode, "{json}");
        }
        assert!(serde_json::from_str::<Settings>(r#"{"preflight": "Strict"}"#).is_err());
    }
}
