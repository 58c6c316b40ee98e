//! Flights as subscription targets: a normalised flight number, its scheduled departure date
//! (local at origin) and optionally the origin airport.

use chrono::NaiveDate;
use std::fmt;

/// A flight number in canonical form: a 2-character IATA (or 3-letter ICAO) designator, the
/// number without leading zeros, and an optional operational suffix: `LH 8160`, `LH08160`
/// and `lh8160` all become `LH8160`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FlightNumber(String);

/// A 3-letter IATA airport code, upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AirportCode(String);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FlightTarget {
    pub number: FlightNumber,
    pub date: NaiveDate,
    pub origin: Option<AirportCode>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlightError {
    #[error(
        "flight number `{0}` must be a 2-character airline designator (or 3-letter ICAO code) followed by 1 to 4 digits, e.g. `LH8160`"
    )]
    Number(String),
    #[error("flight date `{0}` must be a calendar date written YYYY-MM-DD")]
    Date(String),
    #[error("airport `{0}` must be a 3-letter IATA code")]
    Airport(String),
}

impl FlightNumber {
    pub fn parse(input: &str) -> Result<Self, FlightError> {
        let fail = || FlightError::Number(input.to_owned());
        let compact: String = input
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        if !compact.is_ascii() {
            return Err(fail());
        }
        // A 3-letter ICAO designator is tried first; an IATA designator is two alphanumerics
        // with at least one letter (`LH`, `5X`, `D0`).
        let designator_len =
            if compact.len() > 3 && compact[..3].chars().all(|c| c.is_ascii_alphabetic()) {
                3
            } else {
                2
            };
        if compact.len() <= designator_len {
            return Err(fail());
        }
        let (designator, rest) = compact.split_at(designator_len);
        if !designator.chars().all(|c| c.is_ascii_alphanumeric())
            || designator.chars().all(|c| c.is_ascii_digit())
        {
            return Err(fail());
        }
        let (digits, suffix) = match rest.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
            Some((i, _)) => rest.split_at(i),
            None => (rest, ""),
        };
        let number = digits.trim_start_matches('0');
        let suffix_ok = suffix.is_empty()
            || (suffix.len() == 1 && suffix.chars().all(|c| c.is_ascii_alphabetic()));
        if digits.is_empty()
            || digits.len() > 5
            || number.len() > 4
            || number.is_empty()
            || !suffix_ok
        {
            return Err(fail());
        }
        Ok(Self(format!("{designator}{number}{suffix}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The airline designator: `LH` of `LH8160`, `DLH` of `DLH400`.
    pub fn designator(&self) -> &str {
        let letters = self
            .0
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .count();
        // A 3-letter prefix is an ICAO designator; otherwise IATA's two characters (`5X`).
        if letters >= 3 {
            &self.0[..3]
        } else {
            &self.0[..2]
        }
    }
}

impl AirportCode {
    pub fn parse(input: &str) -> Result<Self, FlightError> {
        let code = input.trim();
        if code.len() == 3 && code.chars().all(|c| c.is_ascii_alphabetic()) {
            Ok(Self(code.to_ascii_uppercase()))
        } else {
            Err(FlightError::Airport(input.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A calendar date written exactly `YYYY-MM-DD` (surrounding whitespace ignored): chrono alone
/// would also take `2026-1-5` and `+2026-01-05`.
pub fn parse_flight_date(input: &str) -> Result<NaiveDate, FlightError> {
    let date = input.trim();
    let shaped = date.len() == 10
        && date.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    shaped
        .then(|| NaiveDate::parse_from_str(date, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| FlightError::Date(input.to_owned()))
}

impl FlightTarget {
    pub fn parse(number: &str, date: &str, origin: Option<&str>) -> Result<Self, FlightError> {
        Ok(Self {
            number: FlightNumber::parse(number)?,
            date: parse_flight_date(date)?,
            origin: origin.map(AirportCode::parse).transpose()?,
        })
    }
}

impl FlightTarget {
    /// The one flight this target names, when it names its origin.
    pub fn key(&self) -> Option<super::FlightKey> {
        Some(super::FlightKey {
            number: self.number.clone(),
            date: self.date,
            origin: self.origin.clone()?,
        })
    }
}

impl fmt::Display for FlightNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for FlightTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.number, self.date)?;
        match &self.origin {
            Some(origin) => write!(f, " {}", origin.as_str()),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flight_dates_are_written_exactly_yyyy_mm_dd() {
        assert_eq!(
            parse_flight_date(" 2026-11-25 "),
            Ok(NaiveDate::from_ymd_opt(2026, 11, 25).unwrap())
        );
        for input in [
            "2026-1-5",
            "+2026-01-05",
            "2026-02-30",
            "20261125",
            "2026/11/25",
            "",
        ] {
            assert_eq!(
                parse_flight_date(input),
                Err(FlightError::Date(input.into()))
            );
        }
    }

    #[test]
    fn spellings_of_one_flight_number_are_one_flight() {
        for input in ["LH8160", "LH 8160", "LH08160", "lh8160", " lh 08160 "] {
            assert_eq!(
                FlightNumber::parse(input).unwrap().as_str(),
                "LH8160",
                "{input}"
            );
        }
        assert_eq!(FlightNumber::parse("5x 0001").unwrap().as_str(), "5X1");
        assert_eq!(FlightNumber::parse("CV7493A").unwrap().as_str(), "CV7493A");
        assert_eq!(FlightNumber::parse("DLH400").unwrap().as_str(), "DLH400");
        assert_eq!(FlightNumber::parse("DLH400").unwrap().designator(), "DLH");
        assert_eq!(FlightNumber::parse("5X1").unwrap().designator(), "5X");
        assert_eq!(FlightNumber::parse("LH8160").unwrap().designator(), "LH");
    }

    #[test]
    fn malformed_flight_numbers_are_rejected() {
        for input in [
            "", "LH", "8160", "12345", "LH81601", "LH-8160", "LH8160AB", "LH0000",
        ] {
            assert_eq!(
                FlightNumber::parse(input),
                Err(FlightError::Number(input.to_owned())),
                "{input}"
            );
        }
    }

    #[test]
    fn flight_targets_parse_dates_and_origins() {
        let target = FlightTarget::parse("lh 8160", "2026-11-25", Some("fra")).unwrap();
        assert_eq!(target.to_string(), "LH8160 2026-11-25 FRA");
        assert_eq!(
            FlightTarget::parse("LH8160", "25.11.2026", None),
            Err(FlightError::Date("25.11.2026".into()))
        );
        assert_eq!(
            FlightTarget::parse("LH8160", "2026-11-25", Some("FRAN")),
            Err(FlightError::Airport("FRAN".into()))
        );
    }
}
