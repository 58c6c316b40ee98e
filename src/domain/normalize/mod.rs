//! What reading any source's wire format into the [`Tracking`](super::tracking::Tracking)
//! model shares: lenient field readers (odd values normalised where possible, kept raw where
//! not, and noted as anomalies instead of failing the shipment), the few errors that fail an
//! answer as a whole, and the descriptions of known status codes. Each source's own format is
//! read beside its adapter (`ingest::shipments::carriers::*::normalize`), with these.

#[cfg(test)]
pub(crate) mod arbitrary;
pub mod lenient;
mod times;

pub use times::Times;

use super::AwbNumber;

/// The few ways a source's answer is unusable as a whole; everything else becomes an anomaly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NormalizeError {
    #[error("{what} is not a JSON object")]
    NotAnObject { what: &'static str },
    /// The source answered about another shipment: storing it under ours would be wrong.
    #[error("the source answered for AWB `{found}`, not the requested {requested}")]
    AwbMismatch { requested: AwbNumber, found: String },
    /// The source reported a failure in its own envelope (TrackingMore's `meta`).
    #[error("the source rejected the request (code {code}): {message}")]
    Rejected { code: String, message: String },
    /// A field without which the data means nothing (a push's subscription id).
    #[error("`{what}` is missing")]
    Missing { what: &'static str },
}

/// The description for a known status code (IATA's Cargo-IMP / Cargo-XML status list, plus
/// Lufthansa's TOA and the e-AWB's FWB), used when a source sends a code without one. Discrepancy sub-codes are included.
pub fn describe_code(code: &str) -> Option<&'static str> {
    Some(match code.trim().to_ascii_uppercase().as_str() {
        "BKD" => "Booked",
        "FOH" => "On hand",
        "RCS" => "Received from shipper",
        "PRE" => "Prepared for loading",
        "MAN" => "Manifested",
        "DEP" => "Departed",
        "TRM" => "To be transferred",
        "TFD" => "Transferred to another carrier",
        "RCT" => "Received from another carrier",
        "ARR" => "Arrived",
        "RCF" => "Received from flight",
        "AWR" => "Arrival documents received",
        "NFD" => "Consignee notified",
        "AWD" => "Documents delivered",
        "CRC" => "Reported to customs",
        "TGC" => "Transferred to customs",
        "CCD" => "Customs cleared",
        "DLV" => "Delivered",
        "DDL" => "Delivered to door",
        "DPU" => "Picked up at shipper",
        "DOC" => "Documents received",
        "DIS" => "Discrepancy",
        "OFLD" => "Offloaded",
        "MSCA" => "Missing cargo",
        "FDCA" => "Found cargo",
        "SSPD" => "Short-shipped",
        "OVCD" => "Over-carried",
        "TOA" => "Time of availability changed",
        "FWB" => "e-AWB data received",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::describe_code;

    #[test]
    fn known_codes_are_described_whatever_their_case() {
        assert_eq!(describe_code("DEP"), Some("Departed"));
        assert_eq!(describe_code(" dlv "), Some("Delivered"));
        assert_eq!(describe_code("OFLD"), Some("Offloaded"));
    }

    #[test]
    fn unknown_codes_have_no_description() {
        assert_eq!(describe_code("XYZ"), None);
        assert_eq!(describe_code(""), None);
    }
}
