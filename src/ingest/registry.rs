//! Which enabled source serves which key (an AWB prefix for carriers, an airline designator
//! for flight-status sources), each behind its own throttle, with `*` for every key no other
//! source claims, built from the enabled sources and their settings ([`SourceSettings`]); and
//! which sources last refused our credentials, for `/readyz`.

use super::{Source, SourceError, Throttle};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

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

/// What the registry reads of a source's settings (carriers' and flight sources' alike).
pub trait SourceSettings {
    /// The rate limit and concurrency bound it is called under.
    fn throttle(&self) -> Throttle;
    /// The keys it serves (`*` = every key no other source claims).
    fn keys(&self) -> &[String];
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
    /// How each source has answered so far, on this instance.
    answers: Mutex<BTreeMap<&'static str, Answers>>,
}

/// What a source's answers have shown.
#[derive(Debug, Default)]
struct Answers {
    /// When it last answered without an error.
    last_success: Option<DateTime<Utc>>,
    /// What it said when it last refused our credentials, until an answer succeeds.
    refused: Option<String>,
}

/// How one source is doing, for the console's status page.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceStatus {
    pub name: &'static str,
    /// What it serves (`*` for the fallback), sorted.
    pub keys: Vec<String>,
    pub sandbox: bool,
    pub last_success: Option<DateTime<Utc>>,
    /// What it said when it last refused our credentials, until an answer succeeds.
    pub refused: Option<String>,
}

impl<S: Source + ?Sized> Registry<S> {
    pub fn new(kind: &'static Kind) -> Self {
        Self {
            kind,
            by_key: HashMap::new(),
            fallback: None,
            by_name: HashMap::new(),
            answers: Mutex::default(),
        }
    }

    /// The enabled sources, each behind the throttle its settings ask for, serving their keys.
    pub fn of_enabled<C: SourceSettings + ?Sized>(
        kind: &'static Kind,
        enabled: Vec<(Arc<S>, &C)>,
    ) -> Result<Self, RegistryError> {
        let mut registry = Self::new(kind);
        for (source, settings) in enabled {
            registry.add(source, settings.throttle(), settings.keys())?;
        }
        Ok(registry)
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

    /// Notes how a source answered at `at`: a success is remembered, a refusal of our
    /// credentials is counted and listed until an answer succeeds; any other failure says
    /// nothing about the credentials.
    pub fn note_answer<T>(
        &self,
        source: &'static str,
        answer: &Result<T, SourceError>,
        at: DateTime<Utc>,
    ) {
        match answer {
            Err(refused @ SourceError::Unauthorized { .. }) => {
                self.count_refusal(source);
                self.answers().entry(source).or_default().refused = Some(refused.to_string());
            }
            Ok(_) => {
                let mut answers = self.answers();
                let answers = answers.entry(source).or_default();
                answers.last_success = Some(at);
                answers.refused = None;
            }
            Err(_) => {}
        }
    }

    /// Every enabled source, by name, with what it serves and how it last answered.
    pub fn statuses(&self) -> Vec<SourceStatus> {
        let answers = self.answers();
        let mut statuses: Vec<SourceStatus> = self
            .by_name
            .iter()
            .map(|(name, entry)| {
                let mut keys: Vec<String> = self
                    .by_key
                    .iter()
                    .filter(|(_, e)| Arc::ptr_eq(e, entry))
                    .map(|(key, _)| key.clone())
                    .collect();
                if self
                    .fallback
                    .as_ref()
                    .is_some_and(|f| Arc::ptr_eq(f, entry))
                {
                    keys.push("*".to_owned());
                }
                keys.sort();
                let answered = answers.get(name);
                SourceStatus {
                    name,
                    keys,
                    sandbox: entry.source.is_sandbox(),
                    last_success: answered.and_then(|a| a.last_success),
                    refused: answered.and_then(|a| a.refused.clone()),
                }
            })
            .collect();
        statuses.sort_by_key(|s| s.name);
        statuses
    }

    /// Counts a refusal of our credentials in the pipeline's metric.
    pub fn count_refusal(&self, source: &'static str) {
        metrics::counter!(self.kind.auth_failures_metric, self.kind.metric_label => source)
            .increment(1);
    }

    /// Sources currently refusing our credentials, with the error they gave.
    pub fn auth_problems(&self) -> Vec<(&'static str, String)> {
        self.answers()
            .iter()
            .filter_map(|(name, answers)| Some((*name, answers.refused.clone()?)))
            .collect()
    }

    fn answers(&self) -> MutexGuard<'_, BTreeMap<&'static str, Answers>> {
        self.answers.lock().unwrap_or_else(PoisonError::into_inner)
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
        registry.note_answer("cargoai", &refused, Utc::now());
        assert_eq!(registry.auth_problems().len(), 1);
        let outage: Result<(), _> = Err(SourceId::carrier("cargoai").unavailable("x".into(), None));
        registry.note_answer("cargoai", &outage, Utc::now());
        assert_eq!(
            registry.auth_problems().len(),
            1,
            "an outage says nothing of the key"
        );
        registry.note_answer("cargoai", &Ok::<(), SourceError>(()), Utc::now());
        assert!(registry.auth_problems().is_empty());
    }

    #[test]
    fn statuses_say_what_each_source_serves_and_when_it_last_answered() {
        let registry = registry(&[("cargoai", &["*", "172"]), ("lufthansa", &["020"])]).unwrap();
        let at = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        registry.note_answer("lufthansa", &Ok::<(), SourceError>(()), at);
        let statuses = registry.statuses();
        let names: Vec<&str> = statuses.iter().map(|s| s.name).collect();
        assert_eq!(names, ["cargoai", "lufthansa"]);
        assert_eq!(statuses[0].keys, ["*", "172"]);
        assert_eq!(statuses[0].last_success, None);
        assert_eq!(statuses[1].keys, ["020"]);
        assert_eq!(statuses[1].last_success, Some(at));
        assert!(statuses.iter().all(|s| !s.sandbox && s.refused.is_none()));
    }
}
