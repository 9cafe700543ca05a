//! The `consulate` binary's library half: configuration, the server's start-up and shutdown,
//! and the CLI commands. `main.rs` only parses arguments and dispatches here, so integration
//! tests can start real servers in-process.
#![forbid(unsafe_code)]

pub mod bench;
pub mod catalog_cli;
pub mod cli;
pub mod client;
pub mod commands;
pub mod idp_cli;
pub mod server;
