//! Shipments (one AWB each): the carriers that are polled or push, the poller that claims due
//! shipments, and the one rule both polls and pushes go by to diff and record what came in.

mod apply;
pub mod carriers;
mod poller;
mod pushes;

pub use carriers::{Carriers, LUFTHANSA_CALLBACK_PATH, LufthansaPush, lufthansa_callback};
pub use poller::Poller;
pub use pushes::{PushError, PushOutcome, Pushes};
