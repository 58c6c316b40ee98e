//! Integration tests: the real server on a random port, against SQLite and (when
//! `SKYHOOK_TEST_DATABASE_URL` is set) Postgres.

mod browser;
mod helpers;
mod receiver;
mod smtp_sink;

mod batch;
mod claims;
mod cli;
mod console;
mod console_store;
mod db;
mod delivery;
mod duplicates;
mod email;
mod errors;
mod fake_carrier;
mod feed;
mod flights;
mod import;
mod limits;
mod lufthansa;
mod nul;
mod one_click;
mod openapi;
mod operations;
mod restored;
mod safety;
mod storage;
mod subscriptions;
mod tracking;
mod trackingmore;
