use clap::Parser;
use skyhook::cli::{self, Cli};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    match cli::run(Cli::parse()).await {
        Ok(code) => code,
        Err(err) => {
            // `{:#}` prints the whole cause chain on one line: "cannot open database: …: …".
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
