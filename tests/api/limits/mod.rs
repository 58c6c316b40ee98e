//! What hostile or broken peers cannot make Skyhook hold: a carrier's huge answer, a carrier
//! listing endless events, clients that open connections and never finish a request.

mod answers;
mod connections;
mod firehose;
mod settings;
