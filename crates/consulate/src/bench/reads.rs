//! List, filter, search and get latency over HTTP: one client, one request at a time, a few
//! untimed warm-up requests and then the timed ones, for every read query kind, with
//! parameters drawn from the seeded data.

use super::api::{Api, ORGS_PATH, USERS_PATH};
use super::data::{OrgSpec, SeededUsers};
use super::progress;
use super::stats::Samples;
use crate::server::Running;
use anyhow::{Context as _, ensure};
use rand::Rng as _;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom as _;
use serde_json::Value;
use std::time::{Duration, Instant};

/// Untimed requests before each read query kind.
pub(super) const WARMUP: usize = 20;

/// Walks the display-name pages, then times `samples` requests of every read query kind.
pub(super) async fn measure(
    running: &Running,
    token: &str,
    orgs: &[OrgSpec],
    users: &SeededUsers,
    samples: usize,
    rng: &mut StdRng,
) -> anyhow::Result<(PageWalk, Vec<ReadResult>)> {
    let api = Api::new(&running.public_url, token)?;
    progress(format_args!("walking $orderby=displayName pages"));
    let walk = walk_display_name_pages(&api).await?;
    let kinds = read_kinds(
        &running.public_url,
        orgs,
        users,
        &walk,
        WARMUP + samples,
        rng,
    );
    let mut reads = Vec::with_capacity(kinds.len());
    for kind in &kinds {
        progress(format_args!("reads: {}", kind.label));
        reads.push(time_reads(&api, kind).await?);
    }
    Ok((walk, reads))
}

/// The `@odata.nextLink`s met walking every `$orderby=displayName` page.
pub(super) struct PageWalk {
    /// `next_links[k]` fetches page `k + 2`.
    next_links: Vec<String>,
    pub(super) elapsed: Duration,
}

impl PageWalk {
    pub(super) fn pages(&self) -> usize {
        self.next_links.len() + 1
    }
    /// The first page counted as deep: the middle one.
    pub(super) fn first_deep_page(&self) -> usize {
        self.next_links.len() / 2 + 2
    }
}

async fn walk_display_name_pages(api: &Api) -> anyhow::Result<PageWalk> {
    let started = Instant::now();
    let mut next_links = Vec::new();
    let mut url = format!("{}{ORGS_PATH}?$orderby=displayName&$top=100", api.base);
    loop {
        let (_, body) = api.get(&url).await?;
        let page: Value = serde_json::from_slice(&body).context("a page is not JSON")?;
        match page["@odata.nextLink"].as_str() {
            Some(next) => {
                next_links.push(next.to_owned());
                url = next.to_owned();
            }
            None => break,
        }
    }
    ensure!(
        !next_links.is_empty(),
        "the organizations fit on one page; there is no deep page"
    );
    Ok(PageWalk {
        next_links,
        elapsed: started.elapsed(),
    })
}

/// One query kind: its label, a readable example and the URLs to request (warm-up first).
struct QueryKind {
    label: &'static str,
    example: String,
    urls: Vec<String>,
}

/// One request of a query kind: the absolute URL and how it reads.
struct Request {
    url: String,
    shown: String,
}

impl Request {
    fn new(base: &str, path: &str, params: &[(&str, String)]) -> Self {
        let query = |f: &dyn Fn(&str) -> String| {
            params
                .iter()
                .map(|(k, v)| format!("{k}={}", f(v)))
                .collect::<Vec<_>>()
                .join("&")
        };
        let sep = if params.is_empty() { "" } else { "?" };
        let short = path.replace("/v1.0/identityGovernance/entitlementManagement", "…");
        Request {
            url: format!("{base}{path}{sep}{}", query(&encode)),
            shown: format!("`GET {short}{sep}{}`", query(&str::to_owned)),
        }
    }
}

impl QueryKind {
    fn generate(
        label: &'static str,
        count: usize,
        rng: &mut StdRng,
        mut make: impl FnMut(&mut StdRng) -> Request,
    ) -> Self {
        let requests: Vec<Request> = (0..count).map(|_| make(rng)).collect();
        QueryKind {
            label,
            example: requests
                .get(WARMUP.min(count - 1))
                .map(|r| r.shown.clone())
                .unwrap_or_default(),
            urls: requests.into_iter().map(|r| r.url).collect(),
        }
    }
}

/// The read query kinds, with parameters drawn from the seeded data.
fn read_kinds(
    base: &str,
    orgs: &[OrgSpec],
    users: &SeededUsers,
    walk: &PageWalk,
    count: usize,
    rng: &mut StdRng,
) -> Vec<QueryKind> {
    let org = |rng: &mut StdRng| &orgs[rng.random_range(0..orgs.len())];
    let user = |rng: &mut StdRng| rng.random_range(0..users.ids.len());
    let deep = &walk.next_links[walk.first_deep_page() - 2..];
    let filter = |f: String| [("$filter", f)];
    vec![
        QueryKind::generate("first page", count, rng, |_| {
            Request::new(base, ORGS_PATH, &[("$top", "100".into())])
        }),
        QueryKind::generate("deep page, `$orderby=displayName`", count, rng, |rng| {
            let k = rng.random_range(0..deep.len());
            Request {
                url: deep[k].clone(),
                shown: format!(
                    "`GET` the `@odata.nextLink` to page {} of {} \
                     (`…?$orderby=displayName&$top=100&$skiptoken=…`)",
                    walk.first_deep_page() + k,
                    walk.pages()
                ),
            }
        }),
        QueryKind::generate("`displayName eq`", count, rng, |rng| {
            let name = odata_string(&org(rng).name);
            Request::new(base, ORGS_PATH, &filter(format!("displayName eq {name}")))
        }),
        QueryKind::generate("`startswith(displayName)`", count, rng, |rng| {
            let prefix = odata_string(&prefix_of(&org(rng).name, rng));
            Request::new(
                base,
                ORGS_PATH,
                &filter(format!("startswith(displayName,{prefix})")),
            )
        }),
        QueryKind::generate("`identitySources/any(domainName eq)`", count, rng, |rng| {
            let domain = odata_string(&org(rng).domain);
            Request::new(
                base,
                ORGS_PATH,
                &filter(format!("identitySources/any(s:s/domainName eq {domain})")),
            )
        }),
        QueryKind::generate("`$search` (name contains)", count, rng, |rng| {
            let term = fragment_of(&org(rng).name, rng);
            Request::new(base, ORGS_PATH, &[("$search", format!("\"{term}\""))])
        }),
        QueryKind::generate("`$count=true`", count, rng, |_| {
            Request::new(
                base,
                ORGS_PATH,
                &[("$count", "true".into()), ("$top", "100".into())],
            )
        }),
        QueryKind::generate("users `startswith(displayName)`", count, rng, |rng| {
            let prefix = odata_string(&prefix_of(&users.names[user(rng)], rng));
            Request::new(
                base,
                USERS_PATH,
                &filter(format!("startswith(displayName,{prefix})")),
            )
        }),
        QueryKind::generate("`users/{id}`", count, rng, |rng| {
            let id = users.ids[user(rng)];
            Request::new(base, &format!("{USERS_PATH}/{id}"), &[])
        }),
    ]
}

/// The first 3 to 12 characters of `name`: what someone types into a picker.
fn prefix_of(name: &str, rng: &mut StdRng) -> String {
    let chars: Vec<char> = name.chars().collect();
    let max = chars.len().clamp(3, 12);
    let n = rng.random_range(3.min(chars.len())..=max.min(chars.len()));
    chars[..n].iter().collect()
}

/// Three or more consecutive letters from one word of `name`.
fn fragment_of(name: &str, rng: &mut StdRng) -> String {
    let words: Vec<&str> = name.split_whitespace().filter(|w| w.len() >= 3).collect();
    let word: Vec<char> = words.choose(rng).copied().unwrap_or(name).chars().collect();
    let len = rng.random_range(3.min(word.len())..=word.len());
    let start = rng.random_range(0..=word.len() - len);
    word[start..start + len].iter().collect()
}

fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// An OData string literal.
fn odata_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

pub(super) struct ReadResult {
    pub(super) label: &'static str,
    pub(super) example: String,
    pub(super) latency: Samples,
    pub(super) median_rows: usize,
}

/// Sends the warm-up requests, then times the rest one at a time.
async fn time_reads(api: &Api, kind: &QueryKind) -> anyhow::Result<ReadResult> {
    let (warmup, timed) = kind.urls.split_at(WARMUP.min(kind.urls.len()));
    for url in warmup {
        api.get(url).await?;
    }
    let mut latencies = Vec::with_capacity(timed.len());
    let mut rows = Vec::with_capacity(timed.len());
    for url in timed {
        let (elapsed, body) = api.get(url).await?;
        latencies.push(elapsed);
        rows.push(rows_in(&body));
    }
    rows.sort_unstable();
    Ok(ReadResult {
        label: kind.label,
        example: kind.example.clone(),
        latency: Samples::new(latencies),
        median_rows: rows.get(rows.len() / 2).copied().unwrap_or(0),
    })
}

/// Objects in a response: the length of `value`, or 1 for a single entity.
fn rows_in(body: &[u8]) -> usize {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => match v.get("value").and_then(Value::as_array) {
            Some(items) => items.len(),
            None => usize::from(v.get("id").is_some()),
        },
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::SEED;
    use crate::bench::data::org_plan;
    use consulate_core::domain_name::DomainName;
    use rand::SeedableRng as _;

    #[test]
    fn generated_names_and_domains_are_valid() {
        let mut rng = StdRng::seed_from_u64(SEED);
        let orgs = org_plan(500, &mut rng);
        for o in &orgs {
            assert!(DomainName::parse(&o.domain).is_ok(), "{}", o.domain);
            let p = prefix_of(&o.name, &mut rng);
            assert!(o.name.starts_with(&p) && p.len() >= 3);
            let frag = fragment_of(&o.name, &mut rng);
            assert!(o.name.contains(&frag) && frag.len() >= 3);
        }
        let domains: std::collections::HashSet<_> = orgs.iter().map(|o| &o.domain).collect();
        assert_eq!(domains.len(), orgs.len());
    }

    #[test]
    fn requests_are_encoded_and_shown_readably() {
        let r = Request::new(
            "http://h",
            ORGS_PATH,
            &[("$filter", "displayName eq 'A B'".into())],
        );
        assert_eq!(
            r.url,
            format!("http://h{ORGS_PATH}?$filter=displayName%20eq%20%27A%20B%27")
        );
        assert_eq!(
            r.shown,
            "`GET …/connectedOrganizations?$filter=displayName eq 'A B'`"
        );
        assert_eq!(odata_string("O'Neil"), "'O''Neil'");
    }
}
