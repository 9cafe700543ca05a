#![forbid(unsafe_code)]

use clap::Parser;
use consulate::cli::Cli;

/// mimalloc for Rust and, through its `override` feature, for SQLite's C allocations too:
/// glibc's allocator spent a third of the writer thread's time on bound values.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("consulate: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(consulate::commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("consulate: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
