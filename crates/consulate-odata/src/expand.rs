//! `$expand`: comma-separated navigation paths, each optionally followed by nested options in
//! parentheses separated by `;`, e.g. `x($select=id;$expand=y($select=z))`.

use crate::lexer::{char_at, scan_path, skip_spaces};
use crate::options::{QueryOptions, SystemOption, apply_option};
use crate::{MAX_EXPAND_DEPTH, MAX_EXPAND_ITEMS, MAX_OPTION_LEN, ParseError, excerpt};

/// One `$expand` item: the navigation path and the options applied to it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpandItem {
    pub path: Vec<String>,
    pub options: Box<QueryOptions>,
}

/// Limits shared by all nesting levels of one `$expand`.
#[derive(Debug, Default)]
pub(crate) struct ExpandBudget {
    /// Nesting level of the `$expand` being parsed (1 = top level).
    depth: usize,
    /// Items parsed so far, over all levels.
    items: usize,
}

/// Parses an `$expand` value: at most [`MAX_EXPAND_ITEMS`] items in total, nested at most
/// [`MAX_EXPAND_DEPTH`] levels. Nested options may be any system option except `$skiptoken`;
/// unknown nested options are errors.
pub fn parse_expand(input: &str) -> Result<Vec<ExpandItem>, ParseError> {
    parse_expand_in(input, &mut ExpandBudget::default())
}

pub(crate) fn parse_expand_in(
    input: &str,
    budget: &mut ExpandBudget,
) -> Result<Vec<ExpandItem>, ParseError> {
    if input.len() > MAX_OPTION_LEN {
        return Err(ParseError::new(
            format!("$expand is longer than {MAX_OPTION_LEN} bytes"),
            MAX_OPTION_LEN,
        ));
    }
    if budget.depth == MAX_EXPAND_DEPTH {
        return Err(ParseError::new(
            format!("$expand is nested more than {MAX_EXPAND_DEPTH} levels deep"),
            0,
        ));
    }
    budget.depth += 1;
    let result = parse_items(input, budget);
    budget.depth -= 1;
    result
}

fn parse_items(input: &str, budget: &mut ExpandBudget) -> Result<Vec<ExpandItem>, ParseError> {
    let bytes = input.as_bytes();
    let mut items = Vec::new();
    let mut i = 0;
    loop {
        i = skip_spaces(bytes, i);
        if i == bytes.len() || bytes[i] == b',' {
            return Err(ParseError::new("empty item in $expand", i));
        }
        let start = i;
        let (path, end) = scan_path(input, i)?;
        budget.items += 1;
        if budget.items > MAX_EXPAND_ITEMS {
            return Err(ParseError::new(
                format!("$expand has more than {MAX_EXPAND_ITEMS} items"),
                start,
            ));
        }
        i = skip_spaces(bytes, end);
        let mut options = QueryOptions::default();
        if bytes.get(i) == Some(&b'(') {
            let (parts, close) = split_nested(input, i)?;
            for (from, to) in parts {
                nested_option(&input[from..to], from, &mut options, budget)?;
            }
            i = skip_spaces(bytes, close + 1);
        }
        items.push(ExpandItem {
            path,
            options: Box::new(options),
        });
        match bytes.get(i) {
            None => return Ok(items),
            Some(b',') => i += 1,
            Some(_) => {
                return Err(ParseError::new(
                    format!(
                        "expected ',', '(' or end of $expand, found {:?}",
                        char_at(input, i)
                    ),
                    i,
                ));
            }
        }
    }
}

/// Finds the `)` matching the `(` at `open`, skipping quoted strings and nested parentheses,
/// and splits the text between them on top-level `;`. Returns the parts' byte ranges and the
/// offset of the closing `)`. Every delimiter is ASCII, so the ranges are char boundaries.
fn split_nested(input: &str, open: usize) -> Result<(Vec<(usize, usize)>, usize), ParseError> {
    let bytes = input.as_bytes();
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut in_string = false;
    let mut part_start = open + 1;
    for (k, &b) in bytes.iter().enumerate().skip(open + 1) {
        if in_string {
            // `''` closes and reopens, which is exactly the escaped quote.
            in_string = b != b'\'';
            continue;
        }
        match b {
            b'\'' => in_string = true,
            b'(' => depth += 1,
            b')' if depth == 0 => {
                parts.push((part_start, k));
                return Ok((parts, k));
            }
            b')' => depth -= 1,
            b';' if depth == 0 => {
                parts.push((part_start, k));
                part_start = k + 1;
            }
            _ => {}
        }
    }
    Err(ParseError::new("unclosed '(' in $expand", open))
}

/// Parses one `name=value` nested option found at byte offset `base` of the `$expand` value.
fn nested_option(
    text: &str,
    base: usize,
    options: &mut QueryOptions,
    budget: &mut ExpandBudget,
) -> Result<(), ParseError> {
    let lead = skip_spaces(text.as_bytes(), 0);
    let at = base + lead;
    let text = &text[lead..];
    if text.trim_end_matches([' ', '\t']).is_empty() {
        return Err(ParseError::new("empty option in $expand", at));
    }
    let Some(eq) = text.find('=') else {
        return Err(ParseError::new("expected '=' in nested option", at));
    };
    let name = text[..eq].trim_end_matches([' ', '\t']);
    let value = &text[eq + 1..];
    let value_at = at + eq + 1;
    let opt = match SystemOption::from_name(name) {
        Some(SystemOption::SkipToken) => {
            return Err(ParseError::new("$skiptoken is not allowed in $expand", at));
        }
        Some(opt) => opt,
        None => {
            return Err(ParseError::new(
                format!("unknown option '{}' in $expand", excerpt(name)),
                at,
            ));
        }
    };
    apply_option(options, opt, value, budget).map_err(|e| {
        ParseError::new(
            format!("{}: {}", opt.canonical(), e.message),
            value_at + e.position.unwrap_or(0),
        )
    })
}
