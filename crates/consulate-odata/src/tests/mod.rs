//! Table, error, limit and robustness tests for the public API.

mod expand;
mod filter;
mod options;
mod robustness;
