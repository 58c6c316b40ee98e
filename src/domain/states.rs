//! The `states` filter of a subscription (Lufthansa's `States`): which status codes a
//! subscriber wants to be told about.

use std::collections::BTreeSet;

/// Status codes a subscription may filter on: the IATA Cargo-IMP milestones plus the extra
/// codes carriers are known to send. Unknown codes in *carrier data* are kept verbatim; in a
/// *filter* they are refused, because a typo there would silently mute a subscription.
pub const KNOWN_STATUS_CODES: &[&str] = &[
    "BKD", "FOH", "RCS", "PRE", "MAN", "DEP", "TRM", "TFD", "RCT", "ARR", "RCF", "AWR", "NFD",
    "AWD", "CRC", "TGC", "CCD", "DLV", "DDL", "DPU", "DOC", "DIS", "TOA", "FWB", "CLC", "CLD",
];

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum StateFilter {
    /// `["*"]`: every change.
    #[default]
    All,
    Only(BTreeSet<String>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatesError {
    #[error("`states` must not be empty; use [\"*\"] for every change")]
    Empty,
    #[error("`states` contains unknown status code `{0}`; known codes are * and {codes}", codes = KNOWN_STATUS_CODES.join(", "))]
    Unknown(String),
}

impl StateFilter {
    /// Codes are matched case-insensitively; `*` anywhere in the list means every change (the
    /// other codes must still be known ones).
    pub fn parse<S: AsRef<str>>(codes: &[S]) -> Result<Self, StatesError> {
        if codes.is_empty() {
            return Err(StatesError::Empty);
        }
        // Every code is checked, even beside `*`: a typo is refused wherever it stands.
        let mut set = BTreeSet::new();
        let mut every = false;
        for code in codes {
            let code = code.as_ref().trim().to_ascii_uppercase();
            if code == "*" {
                every = true;
            } else if !KNOWN_STATUS_CODES.contains(&code.as_str()) {
                return Err(StatesError::Unknown(code));
            } else {
                set.insert(code);
            }
        }
        Ok(if every { Self::All } else { Self::Only(set) })
    }

    pub fn matches(&self, code: &str) -> bool {
        match self {
            Self::All => true,
            Self::Only(codes) => codes.contains(&code.to_ascii_uppercase()),
        }
    }

    /// The list form used in the API and in storage.
    pub fn to_codes(&self) -> Vec<String> {
        match self {
            Self::All => vec!["*".to_owned()],
            Self::Only(codes) => codes.iter().cloned().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_means_every_change() {
        let filter = StateFilter::parse(&["DEP", "*"]).unwrap();
        assert_eq!(filter, StateFilter::All);
        assert!(filter.matches("XYZ"));
        assert_eq!(filter.to_codes(), vec!["*"]);
    }

    #[test]
    fn codes_are_normalised_and_matched_case_insensitively() {
        let filter = StateFilter::parse(&["dep", "ARR", "dep"]).unwrap();
        assert_eq!(filter.to_codes(), vec!["ARR", "DEP"]);
        assert!(filter.matches("dep"));
        assert!(!filter.matches("DLV"));
    }

    #[test]
    fn empty_and_unknown_filters_are_refused() {
        assert_eq!(StateFilter::parse::<&str>(&[]), Err(StatesError::Empty));
        assert_eq!(
            StateFilter::parse(&["DEP", "DEPARTED"]),
            Err(StatesError::Unknown("DEPARTED".into()))
        );
        assert_eq!(
            StateFilter::parse(&["*", "BOGUS"]),
            Err(StatesError::Unknown("BOGUS".into()))
        );
    }
}
