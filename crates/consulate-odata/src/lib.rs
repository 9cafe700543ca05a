#![forbid(unsafe_code)]
//! Bounded parser for the OData v4 system query options that Microsoft Graph clients send:
//! `$filter`, `$select`, `$orderby`, `$top`, `$skip`, `$count`, `$expand`, `$search` and
//! `$skiptoken`.
//!
//! The input is attacker-controlled, so every parser here is bounded:
//!
//! * no option value may be longer than [`MAX_OPTION_LEN`] bytes;
//! * a `$filter` may build at most [`MAX_NODES`] expression nodes and its syntax tree may be at
//!   most [`MAX_DEPTH`] levels deep; parenthesised nesting is capped too, so recursion depth is
//!   a small constant and hostile inputs (thousands of `(` or `not`) fail fast;
//! * `$select` takes at most [`MAX_SELECT_ITEMS`] items, `$orderby` at most
//!   [`MAX_ORDERBY_ITEMS`], and `$expand` at most [`MAX_EXPAND_ITEMS`] items in total, nested at
//!   most [`MAX_EXPAND_DEPTH`] levels.
//!
//! Every parser runs in time linear in its input and never panics; errors carry the byte
//! offset at which they were detected.
//!
//! What this crate does not do: it knows nothing about Graph's resources. Property names,
//! casts, types and function argument types are not checked here; callers bind the syntax tree
//! to a resource's schema (rejecting unknown properties and ill-typed comparisons). Arithmetic
//! operators, `$apply`, `$compute`, `$levels` and parameter aliases are not supported.

mod ast;
mod expand;
mod filter;
mod lexer;
mod options;

#[cfg(test)]
mod tests;

use std::fmt;

pub use ast::{CompareOp, Expr, LambdaKind, Literal};
pub use expand::{ExpandItem, parse_expand};
pub use filter::parse_filter;
pub use options::{
    OptionError, OrderBy, QueryOptions, parse_orderby, parse_query_options, parse_select,
};

/// Maximum number of expression nodes in one `$filter`.
pub const MAX_NODES: usize = 32;
/// Maximum depth of a `$filter` syntax tree (a lone literal has depth 1).
pub const MAX_DEPTH: usize = 12;
/// Maximum length in bytes of any single option value.
pub const MAX_OPTION_LEN: usize = 8192;
/// Maximum number of properties in one `$select`.
pub const MAX_SELECT_ITEMS: usize = 64;
/// Maximum number of keys in one `$orderby`.
pub const MAX_ORDERBY_ITEMS: usize = 32;
/// Maximum number of `$expand` items, counted over all nesting levels.
pub const MAX_EXPAND_ITEMS: usize = 16;
/// Maximum nesting of `$expand` (a top-level `$expand` is level 1).
pub const MAX_EXPAND_DEPTH: usize = 4;
/// Largest accepted `$top`.
pub const MAX_TOP: u32 = 999;

/// A syntax error in one option value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
    /// Byte offset in the input at which the error was detected.
    pub position: usize,
}

impl ParseError {
    pub(crate) fn new(message: impl Into<String>, position: usize) -> Self {
        Self {
            message: message.into(),
            position,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at position {}", self.message, self.position)
    }
}

impl std::error::Error for ParseError {}

/// Shortens user-supplied text quoted in an error message, cutting at a char boundary.
pub(crate) fn excerpt(text: &str) -> String {
    const MAX_CHARS: usize = 40;
    let mut chars = text.chars();
    let mut out: String = chars.by_ref().take(MAX_CHARS).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}
