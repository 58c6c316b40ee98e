//! Shipments (one AWB each): the carriers that are polled or push, the poller that claims due
//! shipments (registering them first with a carrier that pushes), the pushes that ask for a
//! fetch, and the one rule polls go by to diff and record what came in.

mod apply;
pub mod carriers;
mod poller;
mod pushes;
mod registrations;

pub use carriers::{Carriers, LUFTHANSA_CALLBACK_PATH, LufthansaPush, lufthansa_callback};
pub use poller::Poller;
pub use pushes::{PushError, PushOutcome, Pushes};
