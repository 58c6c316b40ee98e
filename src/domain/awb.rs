//! Air waybill numbers: a 3-digit airline prefix and an 8-digit serial whose last digit is a
//! mod-7 check digit over the first seven.

use std::fmt;

/// A syntactically valid AWB with a correct check digit, in canonical `NNN-NNNNNNNN` form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AwbNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AwbError {
    #[error("AWB `{0}` must be 11 digits, optionally written `NNN-NNNNNNNN`")]
    NotDigits(String),
    #[error("AWB `{input}` has {digits} digits; expected 11 (3-digit prefix + 8-digit serial)")]
    Length { input: String, digits: usize },
    #[error(
        "AWB `{input}` has check digit {found}; expected {expected} (first seven serial digits mod 7)"
    )]
    CheckDigit {
        input: String,
        expected: u32,
        found: u32,
    },
}

impl AwbNumber {
    /// Accepts `020-08002050`, `02008002050` and `020 08002050`; leading/trailing spaces are
    /// ignored. The prefix is not checked against a list: unknown airlines are allowed.
    pub fn parse(input: &str) -> Result<Self, AwbError> {
        let trimmed = input.trim();
        let digits: String = match trimmed.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
            None => trimmed.to_owned(),
            // One separator, right after the prefix, is the only non-digit allowed.
            Some((3, '-' | ' ')) if trimmed[4..].chars().all(|c| c.is_ascii_digit()) => {
                format!("{}{}", &trimmed[..3], &trimmed[4..])
            }
            Some(_) => return Err(AwbError::NotDigits(input.to_owned())),
        };
        if digits.is_empty() {
            return Err(AwbError::NotDigits(input.to_owned()));
        }
        if digits.len() != 11 {
            return Err(AwbError::Length {
                input: input.to_owned(),
                digits: digits.len(),
            });
        }
        let serial7: u32 = digits[3..10].parse().expect("seven ASCII digits");
        let found = u32::from(digits.as_bytes()[10] - b'0');
        let expected = serial7 % 7;
        if found != expected {
            return Err(AwbError::CheckDigit {
                input: input.to_owned(),
                expected,
                found,
            });
        }
        Ok(Self(format!("{}-{}", &digits[..3], &digits[3..])))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 3-digit airline prefix, e.g. `020` for Lufthansa Cargo.
    pub fn prefix(&self) -> &str {
        &self.0[..3]
    }

    /// The airline that owns this prefix, when it is one we know.
    pub fn airline(&self) -> Option<&'static str> {
        airline_for_prefix(self.prefix())
    }
}

impl fmt::Display for AwbNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Prefixes on which independent published airline-prefix lists agree. `000` is the sandbox
/// prefix.
fn airline_for_prefix(prefix: &str) -> Option<&'static str> {
    Some(match prefix {
        "000" => "Sandbox",
        "001" => "American Airlines",
        "006" => "Delta Air Lines",
        "014" => "Air Canada",
        "016" => "United Airlines",
        "020" => "Lufthansa Cargo",
        "045" => "LATAM",
        "057" => "Air France",
        "074" => "KLM",
        "075" => "Iberia",
        "125" => "British Airways",
        "131" => "Japan Airlines",
        "157" => "Qatar Airways",
        "160" => "Cathay Pacific",
        "172" => "Cargolux",
        "176" => "Emirates",
        "180" => "Korean Air",
        "205" => "ANA",
        "217" => "Thai Airways",
        "235" => "Turkish Airlines",
        "297" => "China Airlines",
        "369" => "Atlas Air",
        "607" => "Etihad",
        "618" => "Singapore Airlines",
        "724" => "Swiss",
        "738" => "Vietnam Airlines",
        "781" => "China Eastern",
        "784" => "China Southern",
        "988" => "Asiana",
        "999" => "Air China",
        _ => return None,
    })
}

impl serde::Serialize for AwbNumber {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for AwbNumber {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_valid_awbs_parse_to_canonical_form() {
        for (input, canonical) in [
            ("020-08002050", "020-08002050"),
            ("02008002050", "020-08002050"),
            ("020 08002050", "020-08002050"),
            (" 172-28891936 ", "172-28891936"),
            ("176-12345675", "176-12345675"),
        ] {
            assert_eq!(AwbNumber::parse(input).unwrap().as_str(), canonical);
        }
    }

    #[test]
    fn wrong_check_digit_names_the_expected_digit() {
        let err = AwbNumber::parse("000-11223345").unwrap_err();
        assert_eq!(
            err,
            AwbError::CheckDigit {
                input: "000-11223345".into(),
                expected: 1122334 % 7,
                found: 5
            }
        );
        assert!(err.to_string().contains("expected 3"), "{err}");
    }

    #[test]
    fn non_digits_and_misplaced_separators_are_invalid() {
        for input in [
            "",
            "abc-defghijk",
            "020-0800205x",
            "0200-8002050",
            "020--08002050",
        ] {
            assert!(
                matches!(AwbNumber::parse(input), Err(AwbError::NotDigits(_))),
                "{input}"
            );
        }
    }

    #[test]
    fn wrong_length_reports_digit_count() {
        assert!(matches!(
            AwbNumber::parse("020-0800205"),
            Err(AwbError::Length { digits: 10, .. })
        ));
        assert!(matches!(
            AwbNumber::parse("020080020501"),
            Err(AwbError::Length { digits: 12, .. })
        ));
    }

    #[test]
    fn prefix_and_airline() {
        let awb = AwbNumber::parse("020-08002050").unwrap();
        assert_eq!(awb.prefix(), "020");
        assert_eq!(awb.airline(), Some("Lufthansa Cargo"));
        assert_eq!(
            AwbNumber::parse("999-00000000").unwrap().airline(),
            Some("Air China")
        );
        assert_eq!(AwbNumber::parse("555-00000000").unwrap().airline(), None);
    }
}
