//! Deterministic random inputs: the parsers must never panic, must respect their limits on
//! every accepted input, and must reject hostile inputs quickly.

use std::time::{Duration, Instant};

use crate::{
    ExpandItem, MAX_DEPTH, MAX_EXPAND_DEPTH, MAX_EXPAND_ITEMS, MAX_NODES, MAX_OPTION_LEN,
    QueryOptions, parse_expand, parse_filter, parse_orderby, parse_query_options, parse_select,
};

/// xorshift64*: small, deterministic, good enough to drive input generation.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform-ish in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const FILTER_TOKENS: &[&str] = &[
    "(",
    ")",
    "'",
    "''",
    "'a'",
    "'日本'",
    " ",
    "\t",
    "/",
    ":",
    ",",
    "eq",
    " eq ",
    " ne ",
    " gt ",
    " and ",
    " or ",
    "not ",
    " in ",
    "any(",
    "all(",
    "any()",
    "x",
    "is",
    "displayName",
    "microsoft.graph.user",
    ".",
    "0",
    "1",
    "-",
    "-5",
    "1.5",
    "1e9",
    "99999999999999999999",
    "2024-01-01T00:00:00Z",
    "2024-01-01",
    "2024-01-01T",
    "0ab4f2b5-1c64-4e13-a9f7-2b5f3c9f8a01",
    "true",
    "NULL",
    "contains(",
    "tolower(",
    "substring(",
    "foo(",
    "é",
    "日",
    "😀",
    "$",
    "@",
    "\"",
    "+",
    ";",
    "=",
    "&",
];

const OPTION_TOKENS: &[&str] = &[
    "$select",
    "$expand",
    "$filter",
    "$top",
    "$orderby",
    "select",
    "top",
    "=",
    ";",
    ",",
    "(",
    ")",
    "'",
    "'a;b)'",
    "/",
    " ",
    "id",
    "x",
    "y",
    "desc",
    "asc",
    "5",
    "-1",
    "1000",
    "a eq 1",
    "é",
    "日",
    "microsoft.graph.group",
    ".",
    "*",
    "$skiptoken",
];

const VALID_FILTERS: &[&str] = &[
    "displayName eq 'Contoso'",
    "startswith(displayName,'Con')",
    "contains(tolower(displayName),'staff')",
    "identitySources/any(is:is/microsoft.graph.azureActiveDirectoryTenant/tenantId eq '0ab4f2b5-1c64-4e13-a9f7-2b5f3c9f8a01')",
    "identitySources/any(s:s/microsoft.graph.domainIdentitySource/domainName eq 'contoso.com')",
    "accessPackage/id eq 'abc' and target/objectId eq 'u1'",
    "state eq 'Delivered'",
    "activityDateTime ge 2024-01-01T00:00:00Z and category eq 'ConnectedOrganization'",
    "id in ('a','b')",
    "not (displayName eq 'x')",
];

fn random_text(rng: &mut Rng, alphabet: &[&str], max_tokens: usize) -> String {
    let n = rng.below(max_tokens + 1);
    (0..n).map(|_| *rng.pick(alphabet)).collect()
}

/// Applies 1 to 4 random byte-level edits, then repairs invalid UTF-8 lossily.
fn mutate(rng: &mut Rng, seed: &str, alphabet: &[&str]) -> String {
    let mut bytes = seed.as_bytes().to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = bytes.len();
        let at = if len == 0 { 0 } else { rng.below(len + 1) };
        match rng.below(5) {
            0 if len > 0 => {
                let end = (at + 1 + rng.below(8)).min(len);
                bytes.drain(at.min(len - 1)..end);
            }
            1 => {
                let token = rng.pick(alphabet).as_bytes();
                bytes.splice(at..at, token.iter().copied());
            }
            2 if at < len => bytes[at] = (rng.next() & 0xff) as u8,
            3 if len > 0 => {
                let start = rng.below(len);
                let end = (start + 1 + rng.below(16)).min(len);
                let copy = bytes[start..end].to_vec();
                bytes.splice(at..at, copy);
            }
            _ => bytes.insert(at, *rng.pick(b"()',/: ")),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn check_filter(input: &str) {
    if let Ok(expr) = parse_filter(input) {
        assert!(expr.node_count() <= MAX_NODES, "{input:?}");
        assert!(expr.depth() <= MAX_DEPTH, "{input:?}");
    }
}

/// Checks limits over a whole expand tree; returns the number of items in it.
fn check_expand(items: &[ExpandItem], level: usize) -> usize {
    assert!(level <= MAX_EXPAND_DEPTH);
    items
        .iter()
        .map(|item| 1 + check_options(&item.options, level))
        .sum()
}

fn check_options(opts: &QueryOptions, level: usize) -> usize {
    if let Some(expr) = &opts.filter {
        assert!(expr.node_count() <= MAX_NODES);
        assert!(expr.depth() <= MAX_DEPTH);
    }
    if let Some(top) = opts.top {
        assert!(top <= crate::MAX_TOP);
    }
    opts.expand
        .as_deref()
        .map_or(0, |items| check_expand(items, level + 1))
}

#[test]
fn random_filters_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for i in 0..20_000 {
        let input = if i % 2 == 0 {
            random_text(&mut rng, FILTER_TOKENS, 40)
        } else {
            let seed = *rng.pick(VALID_FILTERS);
            mutate(&mut rng, seed, FILTER_TOKENS)
        };
        check_filter(&input);
    }
    for seed in VALID_FILTERS {
        assert!(parse_filter(seed).is_ok(), "{seed}");
    }
}

const OPTION_SEEDS: &[(&str, &str)] = &[
    ("$select", "id,displayName"),
    ("$expand", "x($select=id;$expand=y($select=z))"),
    ("$expand", "resourceRoleScopes($expand=role,scope)"),
    ("expand", "a($filter=startswith(n,'a;b)');$top=5),b"),
    (
        "$filter",
        "accessPackage/id eq 'abc' and target/objectId eq 'u1'",
    ),
    ("$orderby", "displayName desc,createdDateTime asc"),
    ("$top", "10"),
    ("$count", "true"),
    ("$search", "\"displayName:Con\""),
    ("api-version", "1.0"),
];

#[test]
fn random_options_never_panic() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    for i in 0..10_000 {
        // Structured values: one to three (name, mutated or random value) pairs.
        let values: Vec<(&str, String)> = (0..1 + rng.below(3))
            .map(|_| {
                let (name, seed) = *rng.pick(OPTION_SEEDS);
                let value = if i % 4 == 0 {
                    random_text(&mut rng, OPTION_TOKENS, 20)
                } else {
                    mutate(&mut rng, seed, OPTION_TOKENS)
                };
                (name, value)
            })
            .collect();
        let pairs = values.iter().map(|(n, v)| (*n, v.as_str()));
        if let Ok(opts) = parse_query_options(pairs) {
            assert!(check_options(&opts, 0) <= MAX_EXPAND_ITEMS, "{values:?}");
        }

        // The same text through each parser directly, and split as a raw query string.
        let input = &values[0].1;
        if let Ok(items) = parse_expand(input) {
            assert!(check_expand(&items, 1) <= MAX_EXPAND_ITEMS, "{input:?}");
        }
        if let Ok(keys) = parse_orderby(input) {
            assert!(!keys.is_empty() && keys.len() <= crate::MAX_ORDERBY_ITEMS);
        }
        if let Ok(props) = parse_select(input) {
            assert!(!props.is_empty() && props.len() <= crate::MAX_SELECT_ITEMS);
        }
        let raw = random_text(&mut rng, OPTION_TOKENS, 30).replace(';', "&");
        let pairs = raw.split('&').map(|p| p.split_once('=').unwrap_or((p, "")));
        if let Ok(opts) = parse_query_options(pairs) {
            assert!(check_options(&opts, 0) <= MAX_EXPAND_ITEMS, "{raw:?}");
        }
    }
}

/// Runs `f` and asserts it returned an error within a generous time bound (a quadratic or
/// exponential parser would blow far past it on 8 KiB).
fn rejected_quickly<T: std::fmt::Debug, E>(input: &str, f: impl Fn(&str) -> Result<T, E>) {
    let start = Instant::now();
    let result = f(input);
    assert!(result.is_err(), "accepted {} bytes", input.len());
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[test]
fn hostile_inputs_fail_fast() {
    let parens = "(".repeat(MAX_OPTION_LEN);
    rejected_quickly(&parens, parse_filter);
    rejected_quickly(&"not ".repeat(MAX_OPTION_LEN / 4), parse_filter);
    rejected_quickly(&"tolower(".repeat(MAX_OPTION_LEN / 8), parse_filter);
    rejected_quickly(&"a/any(x:".repeat(MAX_OPTION_LEN / 8), parse_filter);
    rejected_quickly(&"a eq 1 and ".repeat(MAX_OPTION_LEN / 11), parse_filter);
    rejected_quickly(&"'".repeat(MAX_OPTION_LEN - 1), parse_filter);
    rejected_quickly(&"日".repeat(MAX_OPTION_LEN / 3), parse_filter);
    rejected_quickly(&"(".repeat(MAX_OPTION_LEN + 1), parse_filter);
    rejected_quickly(
        &format!("x{}", "(".repeat(MAX_OPTION_LEN - 1)),
        parse_expand,
    );
    rejected_quickly(&"x($expand=".repeat(MAX_OPTION_LEN / 10), parse_expand);
    rejected_quickly(&",".repeat(MAX_OPTION_LEN), parse_select);
    rejected_quickly(&"a/".repeat(MAX_OPTION_LEN / 2), parse_orderby);
}

#[test]
fn long_valid_inputs_are_linear() {
    // One long path and one long string: accepted, in linear time.
    let path = vec!["a"; MAX_OPTION_LEN / 2 - 4].join("/");
    let start = Instant::now();
    assert!(parse_filter(&format!("{path} eq 1")).is_ok());
    assert!(parse_orderby(&path).is_ok());
    assert!(parse_expand(&path).is_ok());
    let text = format!("x eq '{}'", "''".repeat(MAX_OPTION_LEN / 2 - 4));
    assert!(parse_filter(&text).is_ok());
    assert!(start.elapsed() < Duration::from_secs(2));
}
