//! `gantry`: see `gantry --help`.

use clap::Parser;
use std::process::ExitCode;

/// mimalloc rather than glibc's malloc: the gateway allocates a few small objects per request
/// (headers, bodies, futures), and glibc's free/consolidate was a tenth of its user-space
/// instructions under load (`bench/README.md`, "Profile").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    gantry::telemetry::init();
    match gantry::cli::run(gantry::cli::Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
