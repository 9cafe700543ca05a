//! Server-driven paging: opaque `$skiptoken`s and absolute `@odata.nextLink`s that repeat the
//! original query options, plus `$select` projection and `$orderby`/`$top` handling.

use crate::error::ApiError;
use base64::Engine as _;
use consulate_odata::QueryOptions;
use consulate_store::list::{Cursor, ListQuery, MAX_PAGE_SIZE, Order};
use serde_json::{Map, Value};

/// Page size when the client does not say.
pub const DEFAULT_PAGE_SIZE: u32 = 100;

const SEP: char = '\u{1f}';

/// Encodes a cursor as an opaque, URL-safe token.
pub fn encode_cursor(c: &Cursor) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("v1{SEP}{}{SEP}{}", c.key, c.id))
}

pub fn decode_cursor(token: &str) -> Result<Cursor, ApiError> {
    let bad = || {
        ApiError::bad_request(
            "The $skiptoken is not valid; use the @odata.nextLink exactly as returned.",
        )
        .with_target("$skiptoken")
    };
    if token.len() > 2048 {
        return Err(bad());
    }
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| bad())?;
    let s = String::from_utf8(raw).map_err(|_| bad())?;
    let mut parts = s.split(SEP);
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("v1"), Some(key), Some(id), None) if uuid::Uuid::parse_str(id).is_ok() => {
            Ok(Cursor {
                key: key.to_owned(),
                id: id.to_owned(),
            })
        }
        _ => Err(bad()),
    }
}

/// The absolute next-page URL: the same path and query options, with a new `$skiptoken`.
pub fn next_link(public_url: &str, path: &str, pairs: &[(String, String)], token: &str) -> String {
    let enc = |s: &str| percent_encoding::utf8_percent_encode(s, QUERY).to_string();
    let mut q: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| !k.trim_start_matches('$').eq_ignore_ascii_case("skiptoken"))
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect();
    q.push(format!("$skiptoken={token}"));
    format!("{public_url}{path}?{}", q.join("&"))
}

const QUERY: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'$')
    .remove(b',')
    .remove(b'(')
    .remove(b')')
    .remove(b'\'')
    .remove(b'/')
    .remove(b':');

/// Builds a store list query from OData options: `$top`, `$skiptoken`, `$count`,
/// `$orderby` (only `displayName`), `$search` (display name, contains). Without `$orderby`
/// lists are ordered by display name, then id (Graph leaves the default unspecified; this one
/// lets name filters walk the name index and stop early), and bare searches by creation.
pub fn list_query<F>(
    opts: &QueryOptions,
    filter: Option<consulate_core::filter::Filter<F>>,
) -> Result<ListQuery<F>, ApiError> {
    let order = match opts.orderby.as_deref() {
        // A bare name search is answered in creation order, which lets the scan stop after a
        // page of matches; everything else defaults to display-name order.
        None | Some([]) if opts.search.is_some() => Order::Created,
        None | Some([]) => Order::DisplayName { descending: false },
        Some([o]) if o.path.len() == 1 && o.path[0] == "displayName" => Order::DisplayName {
            descending: o.descending,
        },
        Some(_) => {
            return Err(
                ApiError::bad_request("$orderby supports displayName (asc or desc) only")
                    .with_target("$orderby"),
            );
        }
    };
    if opts.skip.is_some() {
        return Err(ApiError::bad_request(
            "$skip is not supported; follow @odata.nextLink for the next page",
        )
        .with_target("$skip"));
    }
    let search = opts.search.as_deref().map(|s| {
        let s = s.trim();
        // Accept Graph's `"displayName:term"` form as well as a bare term.
        s.strip_prefix("displayName:")
            .unwrap_or(s)
            .trim_matches('"')
            .to_owned()
    });
    Ok(ListQuery {
        filter,
        search,
        order,
        top: opts
            .top
            .unwrap_or(DEFAULT_PAGE_SIZE)
            .clamp(1, MAX_PAGE_SIZE),
        after: opts.skiptoken.as_deref().map(decode_cursor).transpose()?,
        count: opts.count.unwrap_or(false),
    })
}

/// Keeps only the `$select`ed properties (and annotations) of each object; unknown names are
/// a 400.
pub fn project(
    mut items: Vec<Value>,
    select: Option<&[String]>,
    known: &[&str],
) -> Result<Vec<Value>, ApiError> {
    let Some(select) = select else {
        return Ok(items);
    };
    for s in select {
        if !known.contains(&s.as_str()) {
            return Err(ApiError::bad_request(format!(
                "Could not find a property named '{s}' to $select"
            ))
            .with_target("$select"));
        }
    }
    for item in &mut items {
        if let Value::Object(map) = item {
            let kept: Map<String, Value> = std::mem::take(map)
                .into_iter()
                .filter(|(k, _)| k.starts_with('@') || select.iter().any(|s| s == k))
                .collect();
            *map = kept;
        }
    }
    Ok(items)
}

/// The list query behind a `/$count` segment: the same filter and search, counted.
pub fn count_query<F>(
    opts: &QueryOptions,
    filter: Option<consulate_core::filter::Filter<F>>,
) -> Result<ListQuery<F>, ApiError> {
    let mut q = list_query(opts, filter)?;
    q.count = true;
    q.top = 1;
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = Cursor {
            key: "contoso ltd".into(),
            id: "0190f1d2-0000-7000-8000-000000000001".into(),
        };
        assert_eq!(decode_cursor(&encode_cursor(&c)).unwrap(), c);
        assert!(decode_cursor("not-a-token").is_err());
        assert!(
            decode_cursor(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("v1\u{1f}a\u{1f}not-uuid")
            )
            .is_err()
        );
    }

    #[test]
    fn next_links_keep_other_options() {
        let pairs = vec![
            (
                "$filter".to_string(),
                "startswith(displayName,'A B')".to_string(),
            ),
            ("$skiptoken".into(), "old".into()),
            ("$top".into(), "5".into()),
        ];
        let l = next_link("http://127.0.0.1:8080", "/v1.0/x", &pairs, "NEW");
        assert_eq!(
            l,
            "http://127.0.0.1:8080/v1.0/x?$filter=startswith(displayName,'A%20B')&$top=5&$skiptoken=NEW"
        );
    }
}
