//! Turning each source's wire format into the [`Tracking`](super::tracking::Tracking) model,
//! leniently: odd values are normalised where possible, kept raw where not, and noted as
//! anomalies instead of failing the shipment.
