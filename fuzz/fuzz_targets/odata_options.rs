//! `parse_query_options` on an arbitrary query string split on `&` and `=`: must never panic,
//! and every accepted option set must respect the crate's limits.

#![no_main]

use consulate_odata::{
    ExpandItem, MAX_DEPTH, MAX_EXPAND_DEPTH, MAX_EXPAND_ITEMS, MAX_NODES, MAX_ORDERBY_ITEMS,
    MAX_SELECT_ITEMS, MAX_TOP, QueryOptions, parse_query_options,
};
use libfuzzer_sys::fuzz_target;

/// Checks one option set; returns the number of `$expand` items below it.
fn check(opts: &QueryOptions, level: usize) -> usize {
    if let Some(expr) = &opts.filter {
        assert!(expr.node_count() <= MAX_NODES);
        assert!(expr.depth() <= MAX_DEPTH);
    }
    if let Some(select) = &opts.select {
        assert!(!select.is_empty() && select.len() <= MAX_SELECT_ITEMS);
    }
    if let Some(orderby) = &opts.orderby {
        assert!(!orderby.is_empty() && orderby.len() <= MAX_ORDERBY_ITEMS);
    }
    if let Some(top) = opts.top {
        assert!(top <= MAX_TOP);
    }
    opts.expand
        .as_deref()
        .map_or(0, |items| check_expand(items, level + 1))
}

fn check_expand(items: &[ExpandItem], level: usize) -> usize {
    assert!(level <= MAX_EXPAND_DEPTH);
    items
        .iter()
        .map(|item| 1 + check(&item.options, level))
        .sum()
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let pairs = input
        .split('&')
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")));
    if let Ok(opts) = parse_query_options(pairs) {
        assert!(check(&opts, 0) <= MAX_EXPAND_ITEMS, "{input:?}");
    }
});
