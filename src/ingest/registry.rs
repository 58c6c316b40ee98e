//! Which enabled source serves which key (an AWB prefix for carriers, an airline designator
//! for flight-status sources), each behind its own throttle, with `*` for every key no other
//! source claims; and which sources last refused our credentials, for `/readyz`.

use super::{Source, SourceError, Throttle};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

/// A source with the limits it must be called under.
pub struct Entry<S: ?Sized> {
    pub source: Arc<S>,
    pub throttle: Throttle,
}

/// How one pipeline's registry names things, in its messages and metrics.
pub struct Kind {
    /// The settings section the sources are configured under (`carriers`).
    pub section: &'static str,
    /// What a source claims (`AWB prefix`).
    pub key: &'static str,
    /// The counter of refused credentials, and its label for the source.
    pub auth_failures_metric: &'static str,
    pub metric_label: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{section}.{first} and {section}.{second} both claim {key} `{claimed}`")]
    ClaimedTwice {
        section: &'static str,
        key: &'static str,
        claimed: String,
        first: &'static str,
        second: &'static str,
    },
    #[error("carriers.{0}.callback_url is not set (it defaults to one under server.public_url)")]
    NoCallbackUrl(&'static str),
}

pub struct Registry<S: ?Sized> {
    kind: &'static Kind,
    by_key: HashMap<String, Arc<Entry<S>>>,
    fallback: Option<Arc<Entry<S>>>,
    by_name: HashMap<&'static str, Arc<Entry<S>>>,
    /// Sources whose last answer refused our credentials, with what they said.
    auth_problems: Mutex<BTreeMap<&'static str, String>>,
}

impl<S: Source + ?Sized> Registry<S> {
    pub fn new(kind: &'static Kind) -> Self {
        Self {
            kind,
            by_key: HashMap::new(),
            fallback: None,
            by_name: HashMap::new(),
            auth_problems: Mutex::default(),
        }
    }

    /// Registers a source, behind its limits, for keys (`*` = every key no other source
    /// claims; keys are matched trimmed and in upper case).
    pub fn add(
        &mut self,
        source: Arc<S>,
        throttle: Throttle,
        keys: &[String],
    ) -> Result<(), RegistryError> {
        let entry = Arc::new(Entry { source, throttle });
        let name = entry.source.name();
        for key in keys {
            let key = key.trim().to_ascii_uppercase();
            let existing = if key == "*" {
                self.fallback.replace(entry.clone())
            } else {
                self.by_key.insert(key.clone(), entry.clone())
            };
            if let Some(other) = existing {
                return Err(RegistryError::ClaimedTwice {
                    section: self.kind.section,
                    key: self.kind.key,
                    claimed: key,
                    first: other.source.name(),
                    second: name,
                });
            }
        }
        self.by_name.insert(name, entry);
        Ok(())
    }

    /// The source serving a key, if any enabled source does.
    pub fn serving(&self, key: &str) -> Option<&Arc<Entry<S>>> {
        self.by_key.get(key).or(self.fallback.as_ref())
    }

    pub fn by_name(&self, name: &str) -> Option<&Arc<Entry<S>>> {
        self.by_name.get(name)
    }

    /// Notes how a source took our credentials on its latest answer: a refusal is counted and
    /// listed until an answer succeeds; any other failure says nothing about the credentials.
    pub fn note_answer<T>(&self, source: &'static str, answer: &Result<T, SourceError>) {
        match answer {
            Err(refused @ SourceError::Unauthorized { .. }) => {
                self.count_refusal(source);
                self.problems().insert(source, refused.to_string());
            }
            Ok(_) => {
                self.problems().remove(source);
            }
            Err(_) => {}
        }
    }

    /// Counts a refusal of our credentials in the pipeline's metric.
    pub fn count_refusal(&self, source: &'static str) {
        metrics::counter!(self.kind.auth_failures_metric, self.kind.metric_label => source)
            .increment(1);
    }

    /// Sources currently refusing our credentials, with the error they gave.
    pub fn auth_problems(&self) -> Vec<(&'static str, String)> {
        self.problems()
            .iter()
            .map(|(name, error)| (*name, error.clone()))
            .collect()
    }

    fn problems(&self) -> std::sync::MutexGuard<'_, BTreeMap<&'static str, String>> {
        self.auth_problems
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::SourceId;

    struct Named(&'static str);

    impl Source for Named {
        fn name(&self) -> &'static str {
            self.0
        }
    }

    static KIND: Kind = Kind {
        section: "carriers",
        key: "AWB prefix",
        auth_failures_metric: "test_auth_failures_total",
        metric_label: "carrier",
    };

    fn registry(claims: &[(&'static str, &[&str])]) -> Result<Registry<Named>, RegistryError> {
        let mut registry = Registry::new(&KIND);
        for (name, keys) in claims {
            let keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
            registry.add(Arc::new(Named(name)), Throttle::new(1.0, 1), &keys)?;
        }
        Ok(registry)
    }

    #[test]
    fn a_claimed_key_wins_over_the_fallback_which_takes_the_rest() {
        let registry = registry(&[("cargoai", &["*"]), ("lufthansa", &["020"])]).unwrap();
        let serving = |key| registry.serving(key).map(|e| e.source.name());
        assert_eq!(serving("020"), Some("lufthansa"));
        assert_eq!(serving("172"), Some("cargoai"));
        assert_eq!(
            registry.by_name("lufthansa").map(|e| e.source.0),
            Some("lufthansa")
        );
    }

    #[test]
    fn keys_are_matched_trimmed_and_in_upper_case_and_none_serves_without_a_fallback() {
        let registry = registry(&[("flightaware", &[" lh "])]).unwrap();
        assert!(registry.serving("LH").is_some());
        assert!(registry.serving("BA").is_none());
    }

    #[test]
    fn a_key_claimed_twice_names_both_sources() {
        let error = registry(&[("demo", &["000", "*"]), ("cargoai", &["*"])])
            .err()
            .expect("refused")
            .to_string();
        assert_eq!(
            error,
            "carriers.demo and carriers.cargoai both claim AWB prefix `*`"
        );
    }

    #[test]
    fn a_refusal_is_listed_until_an_answer_succeeds() {
        let registry = registry(&[("cargoai", &["*"])]).unwrap();
        let refused: Result<(), SourceError> = Err(SourceId::carrier("cargoai").unauthorized(401));
        registry.note_answer("cargoai", &refused);
        assert_eq!(registry.auth_problems().len(), 1);
        let outage: Result<(), _> = Err(SourceId::carrier("cargoai").unavailable("x".into(), None));
        registry.note_answer("cargoai", &outage);
        assert_eq!(
            registry.auth_problems().len(),
            1,
            "an outage says nothing of the key"
        );
        registry.note_answer("cargoai", &Ok::<(), SourceError>(()));
        assert!(registry.auth_problems().is_empty());
    }
}
