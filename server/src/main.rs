//! `gantry`: see `gantry --help`.

use clap::Parser;
use std::process::ExitCode;

/// mimalloc rather than glibc's malloc: the gateway allocates a few small objects per request
/// (headers, bodies, futures), and glibc's free/consolidate was a tenth of its user-space
/// instructions under load (`bench/README.md`, "Profile").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = gantry::cli::Cli::parse();
    let runtime = match cli.runtime() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: starting the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        gantry::telemetry::init();
        match gantry::cli::run(cli).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error:#}");
                ExitCode::FAILURE
            }
        }
    })
}
