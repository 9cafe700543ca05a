//! The query-option set: `$select`, `$orderby`, the scalar options, and the dispatcher that
//! `parse_query_options` and `$expand`'s nested options share.

use std::fmt;

use crate::ast::Expr;
use crate::expand::{ExpandBudget, ExpandItem, parse_expand_in};
use crate::filter::parse_filter;
use crate::lexer::{char_at, is_ident_char, is_ident_start, scan_path, skip_spaces};
use crate::{MAX_OPTION_LEN, MAX_ORDERBY_ITEMS, MAX_SELECT_ITEMS, MAX_TOP, ParseError, excerpt};

/// The parsed system query options of one request (or of one `$expand` item).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueryOptions {
    pub filter: Option<Expr>,
    pub select: Option<Vec<String>>,
    pub orderby: Option<Vec<OrderBy>>,
    pub top: Option<u32>,
    pub skip: Option<u32>,
    pub count: Option<bool>,
    pub expand: Option<Vec<ExpandItem>>,
    /// Raw `$search` text, one pair of surrounding double quotes removed.
    pub search: Option<String>,
    /// Raw `$skiptoken`.
    pub skiptoken: Option<String>,
}

/// One `$orderby` key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBy {
    pub path: Vec<String>,
    pub descending: bool,
}

/// An invalid system query option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionError {
    /// The option's canonical name, e.g. `"$filter"`.
    pub option: String,
    pub message: String,
}

impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: {}", self.option, self.message)
    }
}

impl std::error::Error for OptionError {}

/// The system query options this crate understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SystemOption {
    Filter,
    Select,
    OrderBy,
    Top,
    Skip,
    Count,
    Expand,
    Search,
    SkipToken,
}

impl SystemOption {
    const ALL: [SystemOption; 9] = [
        SystemOption::Filter,
        SystemOption::Select,
        SystemOption::OrderBy,
        SystemOption::Top,
        SystemOption::Skip,
        SystemOption::Count,
        SystemOption::Expand,
        SystemOption::Search,
        SystemOption::SkipToken,
    ];

    /// Matches a parameter name with or without the leading `$`, case-insensitively.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        let bare = name.strip_prefix('$').unwrap_or(name);
        Self::ALL
            .into_iter()
            .find(|opt| opt.canonical()[1..].eq_ignore_ascii_case(bare))
    }

    pub(crate) fn canonical(self) -> &'static str {
        match self {
            Self::Filter => "$filter",
            Self::Select => "$select",
            Self::OrderBy => "$orderby",
            Self::Top => "$top",
            Self::Skip => "$skip",
            Self::Count => "$count",
            Self::Expand => "$expand",
            Self::Search => "$search",
            Self::SkipToken => "$skiptoken",
        }
    }

    fn is_set(self, opts: &QueryOptions) -> bool {
        match self {
            Self::Filter => opts.filter.is_some(),
            Self::Select => opts.select.is_some(),
            Self::OrderBy => opts.orderby.is_some(),
            Self::Top => opts.top.is_some(),
            Self::Skip => opts.skip.is_some(),
            Self::Count => opts.count.is_some(),
            Self::Expand => opts.expand.is_some(),
            Self::Search => opts.search.is_some(),
            Self::SkipToken => opts.skiptoken.is_some(),
        }
    }
}

/// Why one option value was rejected; `position` is a byte offset in the value, absent for
/// scalar options where it would say nothing.
#[derive(Debug)]
pub(crate) struct ValueError {
    pub message: String,
    pub position: Option<usize>,
}

impl ValueError {
    fn plain(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            position: None,
        }
    }

    fn render(self) -> String {
        match self.position {
            Some(p) => format!("{} at position {p}", self.message),
            None => self.message,
        }
    }
}

impl From<ParseError> for ValueError {
    fn from(e: ParseError) -> Self {
        Self {
            message: e.message,
            position: Some(e.position),
        }
    }
}

/// Parses `value` as option `opt` and stores it in `opts`. Rejects a repeated option.
pub(crate) fn apply_option(
    opts: &mut QueryOptions,
    opt: SystemOption,
    value: &str,
    budget: &mut ExpandBudget,
) -> Result<(), ValueError> {
    if opt.is_set(opts) {
        return Err(ValueError::plain("option is given more than once"));
    }
    if value.len() > MAX_OPTION_LEN {
        return Err(ValueError::plain(format!(
            "value is longer than {MAX_OPTION_LEN} bytes"
        )));
    }
    match opt {
        SystemOption::Filter => opts.filter = Some(parse_filter(value)?),
        SystemOption::Select => opts.select = Some(parse_select(value)?),
        SystemOption::OrderBy => opts.orderby = Some(parse_orderby(value)?),
        SystemOption::Top => match parse_u32(value) {
            Some(n) if n <= MAX_TOP => opts.top = Some(n),
            _ => {
                return Err(ValueError::plain(format!(
                    "must be an integer from 0 to {MAX_TOP}"
                )));
            }
        },
        SystemOption::Skip => match parse_u32(value) {
            Some(n) => opts.skip = Some(n),
            None => {
                return Err(ValueError::plain(format!(
                    "must be an integer from 0 to {}",
                    u32::MAX
                )));
            }
        },
        SystemOption::Count => {
            opts.count = Some(if value.eq_ignore_ascii_case("true") {
                true
            } else if value.eq_ignore_ascii_case("false") {
                false
            } else {
                return Err(ValueError::plain("must be 'true' or 'false'"));
            });
        }
        SystemOption::Expand => opts.expand = Some(parse_expand_in(value, budget)?),
        SystemOption::Search => {
            let raw = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            opts.search = Some(raw.to_owned());
        }
        SystemOption::SkipToken => opts.skiptoken = Some(value.to_owned()),
    }
    Ok(())
}

/// Decimal digits only (no sign, no spaces), fitting in a `u32`.
fn parse_u32(value: &str) -> Option<u32> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// Builds options from already percent-decoded `(name, value)` query pairs.
///
/// Names are matched with or without the leading `$` and case-insensitively (`$filter`,
/// `filter`, `$Filter`). Parameters that are not OData system options (e.g. `api-version` or
/// `@id`) are ignored. A repeated system option is an error, as is any value longer than
/// [`MAX_OPTION_LEN`]. `$top` must be an integer from 0 to [`MAX_TOP`]; `$skip` a non-negative
/// integer; `$count` `true` or `false` (any case); `$search` is kept raw with one pair of
/// surrounding double quotes removed; `$skiptoken` is kept raw.
pub fn parse_query_options<'a, I: IntoIterator<Item = (&'a str, &'a str)>>(
    pairs: I,
) -> Result<QueryOptions, OptionError> {
    let mut opts = QueryOptions::default();
    for (name, value) in pairs {
        let opt = SystemOption::from_name(name);
        let Some(opt) = opt else {
            if value.len() > MAX_OPTION_LEN {
                return Err(OptionError {
                    option: excerpt(name),
                    message: format!("value is longer than {MAX_OPTION_LEN} bytes"),
                });
            }
            continue;
        };
        let mut budget = ExpandBudget::default();
        apply_option(&mut opts, opt, value, &mut budget).map_err(|e| OptionError {
            option: opt.canonical().to_owned(),
            message: e.render(),
        })?;
    }
    Ok(opts)
}

/// Splits on `,`, yielding each item trimmed of spaces and tabs with its byte offset.
/// Commas are ASCII, so every offset is a char boundary.
fn items(input: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut offset = 0;
    input.split(',').map(move |piece| {
        let start = offset;
        offset += piece.len() + 1;
        let lead = skip_spaces(piece.as_bytes(), 0);
        let item = piece[lead..].trim_end_matches([' ', '\t']);
        (start + lead, item)
    })
}

/// Parses `$select`: comma-separated plain identifiers (`id,displayName`), at most
/// [`MAX_SELECT_ITEMS`]. Spaces around items are tolerated; empty items are errors.
pub fn parse_select(input: &str) -> Result<Vec<String>, ParseError> {
    if input.len() > MAX_OPTION_LEN {
        return Err(ParseError::new(
            format!("$select is longer than {MAX_OPTION_LEN} bytes"),
            MAX_OPTION_LEN,
        ));
    }
    let mut out = Vec::new();
    for (pos, item) in items(input) {
        if item.is_empty() {
            return Err(ParseError::new("empty item in $select", pos));
        }
        if out.len() == MAX_SELECT_ITEMS {
            return Err(ParseError::new(
                format!("$select has more than {MAX_SELECT_ITEMS} items"),
                pos,
            ));
        }
        let bytes = item.as_bytes();
        let bad = if is_ident_start(bytes[0]) {
            bytes.iter().position(|&b| !is_ident_char(b))
        } else {
            Some(0)
        };
        if let Some(i) = bad {
            return Err(ParseError::new(
                format!(
                    "expected a property name, found {:?}",
                    char_at(input, pos + i)
                ),
                pos + i,
            ));
        }
        out.push(item.to_owned());
    }
    Ok(out)
}

/// Parses `$orderby`: comma-separated member paths, each optionally followed by `asc` or
/// `desc` (any case), at most [`MAX_ORDERBY_ITEMS`].
pub fn parse_orderby(input: &str) -> Result<Vec<OrderBy>, ParseError> {
    if input.len() > MAX_OPTION_LEN {
        return Err(ParseError::new(
            format!("$orderby is longer than {MAX_OPTION_LEN} bytes"),
            MAX_OPTION_LEN,
        ));
    }
    let mut out = Vec::new();
    for (pos, item) in items(input) {
        if item.is_empty() {
            return Err(ParseError::new("empty item in $orderby", pos));
        }
        if out.len() == MAX_ORDERBY_ITEMS {
            return Err(ParseError::new(
                format!("$orderby has more than {MAX_ORDERBY_ITEMS} items"),
                pos,
            ));
        }
        let (path, end) =
            scan_path(item, 0).map_err(|e| ParseError::new(e.message, pos + e.position))?;
        let rest_at = skip_spaces(item.as_bytes(), end);
        let rest = &item[rest_at..];
        let spaced = rest_at > end;
        let descending = if rest.is_empty() || (spaced && rest.eq_ignore_ascii_case("asc")) {
            false
        } else if spaced && rest.eq_ignore_ascii_case("desc") {
            true
        } else {
            let (at, found) = if spaced {
                (rest_at, format!("'{}'", excerpt(rest)))
            } else {
                (end, format!("{:?}", char_at(item, end)))
            };
            return Err(ParseError::new(
                format!("expected 'asc', 'desc' or ',', found {found}"),
                pos + at,
            ));
        };
        out.push(OrderBy { path, descending });
    }
    Ok(out)
}
