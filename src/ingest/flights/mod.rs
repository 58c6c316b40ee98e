//! Subscribed flights (a number on a date): the flight-status sources and the poller that asks
//! them.

mod poller;
pub mod sources;

pub use poller::FlightPoller;
pub use sources::FlightSources;
