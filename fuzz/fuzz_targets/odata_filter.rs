//! `parse_filter` on arbitrary UTF-8: must never panic, and every accepted filter must respect
//! the node and depth limits.

#![no_main]

use consulate_odata::{MAX_DEPTH, MAX_NODES, parse_filter};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(expr) = parse_filter(input) {
        assert!(expr.node_count() <= MAX_NODES, "{input:?}");
        assert!(expr.depth() <= MAX_DEPTH, "{input:?}");
    }
});
