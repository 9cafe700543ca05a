//! Bulk create: connected organizations POSTed by concurrent keep-alive clients, each taking
//! the next organization until none are left. Measures the rate (organizations ÷ wall time)
//! and the latency of each request.

use super::api::{Api, ORGS_PATH};
use super::data::OrgSpec;
use super::stats::Samples;
use anyhow::Context as _;
use reqwest::StatusCode;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub(super) struct CreateRun {
    pub(super) clients: usize,
    pub(super) orgs: usize,
    pub(super) elapsed: Duration,
    pub(super) latency: Samples,
}

impl CreateRun {
    pub(super) fn rate(&self) -> f64 {
        self.orgs as f64 / self.elapsed.as_secs_f64()
    }
}

/// Creates every organization in `orgs` from `clients` concurrent clients, each taking the
/// next one until none are left; times the whole run and each request.
pub(super) async fn bulk_create(
    base: &str,
    token: &str,
    orgs: Arc<[OrgSpec]>,
    clients: usize,
) -> anyhow::Result<CreateRun> {
    let apis = (0..clients)
        .map(|_| Api::new(base, token))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for api in apis {
        let (orgs, next) = (orgs.clone(), next.clone());
        workers.spawn(async move { create_worker(&api, &orgs, &next).await });
    }
    let mut latencies = Vec::with_capacity(orgs.len());
    while let Some(done) = workers.join_next().await {
        latencies.extend(done.context("a create worker panicked")??);
    }
    Ok(CreateRun {
        clients,
        orgs: orgs.len(),
        elapsed: started.elapsed(),
        latency: Samples::new(latencies),
    })
}

async fn create_worker(
    api: &Api,
    orgs: &[OrgSpec],
    next: &AtomicUsize,
) -> anyhow::Result<Vec<Duration>> {
    let mut latencies = Vec::new();
    while let Some(org) = orgs.get(next.fetch_add(1, Ordering::Relaxed)) {
        latencies.push(create_org(api, org).await?);
    }
    Ok(latencies)
}

/// POSTs one connected organization; returns the time to the end of the response.
async fn create_org(api: &Api, org: &OrgSpec) -> anyhow::Result<Duration> {
    let body = json!({
        "displayName": org.name,
        "description": format!("Partner organization {}", org.domain),
        "identitySources": [{
            "@odata.type": "#microsoft.graph.domainIdentitySource",
            "domainName": org.domain,
            "displayName": org.domain,
        }],
    });
    let (elapsed, _) = api
        .send(
            || format!("POST connectedOrganizations ({})", org.domain),
            |status| status == StatusCode::CREATED,
            |http| http.post(format!("{}{ORGS_PATH}", api.base)).json(&body),
        )
        .await?;
    Ok(elapsed)
}
