//! The eligibility benchmark: a tenant at Entra's documented maxima (catalogs, access
//! packages, policies, connected organizations), created over the API, then "what may this
//! external user request" answered in-process (the index) and over HTTP
//! (`filterByCurrentUser`, first page) for a guest of one connected organization.

use super::api::Api;
use super::progress;
use super::stats::Samples;
use crate::server::Running;
use anyhow::{Context as _, bail};
use consulate_app::App;
use consulate_core::access::{Caller, Scope};
use consulate_core::connected_org::ConnectedOrganizationState;
use consulate_core::eligibility::{Requestor, RequestorKind, RequestorOrganization};
use rand::Rng as _;
use rand::rngs::StdRng;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const EM: &str = "/v1.0/identityGovernance/entitlementManagement";
/// Groups that directory policies name.
const GROUPS: usize = 100;

/// How big the tenant is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sizes {
    pub(crate) catalogs: usize,
    pub(crate) packages: usize,
    pub(crate) policies: usize,
    pub(crate) organizations: usize,
}

/// One kind of object created over HTTP.
pub(super) struct Created {
    pub(super) what: &'static str,
    pub(super) count: usize,
    pub(super) elapsed: Duration,
}

impl Created {
    pub(super) fn rate(&self) -> f64 {
        self.count as f64 / self.elapsed.as_secs_f64()
    }
}

/// What the eligibility benchmark measured.
pub(super) struct EligibilityRun {
    pub(super) sizes: Sizes,
    pub(super) clients: usize,
    pub(super) created: Vec<Created>,
    /// Policies by allowed target scope, as generated.
    pub(super) scopes: Vec<(&'static str, usize)>,
    pub(super) index_build: Duration,
    pub(super) requestable: usize,
    pub(super) in_process: Samples,
    pub(super) http: Samples,
    pub(super) http_rows: usize,
}

/// POSTs every body from `clients` concurrent clients; returns the created ids in order.
async fn post_all(
    apis: &[Arc<Api>],
    path: &str,
    what: &'static str,
    bodies: Vec<Value>,
) -> anyhow::Result<(Vec<String>, Created)> {
    let bodies: Arc<[Value]> = bodies.into();
    let ids: Arc<std::sync::Mutex<Vec<Option<String>>>> =
        Arc::new(std::sync::Mutex::new(vec![None; bodies.len()]));
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for api in apis {
        let (api, bodies, ids, next, path) = (
            api.clone(),
            bodies.clone(),
            ids.clone(),
            next.clone(),
            format!("{}{path}", api.base),
        );
        workers.spawn(async move {
            loop {
                let at = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(at) else { break };
                let (_, resp) = api
                    .send(
                        || format!("POST {path}"),
                        |s| s == StatusCode::CREATED,
                        |http| http.post(&path).json(body),
                    )
                    .await?;
                let v: Value = serde_json::from_slice(resp.as_ref()).context("a 201 body")?;
                let id = v["id"]
                    .as_str()
                    .context("an id in the 201 body")?
                    .to_owned();
                ids.lock().expect("ids lock")[at] = Some(id);
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = workers.join_next().await {
        done.context("a create worker panicked")??;
    }
    let elapsed = started.elapsed();
    let ids: Vec<String> = std::mem::take(&mut *ids.lock().expect("ids lock"))
        .into_iter()
        .map(|i| i.context("every body was created"))
        .collect::<anyhow::Result<_>>()?;
    let count = ids.len();
    Ok((
        ids,
        Created {
            what,
            count,
            elapsed,
        },
    ))
}

/// The scope mix of generated policies (per thousand).
const SCOPE_MIX: [(&str, usize); 6] = [
    ("allMemberUsers", 500),
    ("specificDirectoryUsers", 150),
    ("specificConnectedOrganizationUsers", 200),
    ("allConfiguredConnectedOrganizationUsers", 40),
    ("allExternalUsers", 10),
    ("notSpecified", 100),
];

fn pick_scope(rng: &mut StdRng) -> &'static str {
    let mut roll = rng.random_range(0..1000);
    for (scope, weight) in SCOPE_MIX {
        if roll < weight {
            return scope;
        }
        roll -= weight;
    }
    "allMemberUsers"
}

/// Builds the tenant over HTTP and measures.
pub(super) async fn measure(
    running: &Running,
    token: &str,
    sizes: Sizes,
    clients: usize,
    samples: usize,
    rng: &mut StdRng,
) -> anyhow::Result<EligibilityRun> {
    let apis: Vec<Arc<Api>> = (0..clients)
        .map(|_| Api::new(&running.public_url, token).map(Arc::new))
        .collect::<anyhow::Result<_>>()?;
    let mut created = Vec::new();

    progress(format_args!(
        "eligibility: {} connected organizations",
        sizes.organizations
    ));
    let orgs: Vec<Value> = (0..sizes.organizations)
        .map(|i| json!({"displayName": format!("Partner {i}"), "identitySources": [{"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": format!("partner-{i}.example")}]}))
        .collect();
    let (org_ids, c) = post_all(
        &apis,
        &format!("{EM}/connectedOrganizations"),
        "connected organizations",
        orgs,
    )
    .await?;
    created.push(c);

    progress(format_args!("eligibility: {GROUPS} groups"));
    let groups: Vec<Value> = (0..GROUPS)
        .map(|i| json!({"displayName": format!("Team {i}"), "mailNickname": format!("team{i}")}))
        .collect();
    let (group_ids, c) = post_all(&apis, "/v1.0/groups", "groups", groups).await?;
    created.push(c);

    progress(format_args!("eligibility: {} catalogs", sizes.catalogs));
    // Even catalogs are enabled for external users, odd ones are not.
    let catalogs: Vec<Value> = (0..sizes.catalogs)
        .map(|i| json!({"displayName": format!("Catalog {i}"), "isExternallyVisible": i % 2 == 0}))
        .collect();
    let (catalog_ids, c) = post_all(&apis, &format!("{EM}/catalogs"), "catalogs", catalogs).await?;
    created.push(c);

    progress(format_args!(
        "eligibility: {} access packages",
        sizes.packages
    ));
    let packages: Vec<Value> = (0..sizes.packages)
        .map(|i| json!({"displayName": format!("Package {i}"), "isHidden": i % 20 == 0, "catalog": {"id": catalog_ids[i % catalog_ids.len()]}}))
        .collect();
    let (package_ids, c) = post_all(
        &apis,
        &format!("{EM}/accessPackages"),
        "access packages",
        packages,
    )
    .await?;
    created.push(c);

    progress(format_args!(
        "eligibility: {} assignment policies",
        sizes.policies
    ));
    let mut scopes: Vec<(&'static str, usize)> = SCOPE_MIX.iter().map(|(s, _)| (*s, 0)).collect();
    let policies: Vec<Value> = (0..sizes.policies)
        .map(|i| {
            let scope = pick_scope(rng);
            if let Some(s) = scopes.iter_mut().find(|(n, _)| *n == scope) {
                s.1 += 1;
            }
            let external = scope.contains("Connected") || scope == "allExternalUsers";
            // One policy per package first, then more on random packages; external policies
            // go to packages of externally visible (even) catalogs.
            let mut p = if i < package_ids.len() { i } else { rng.random_range(0..package_ids.len()) };
            if external && (p % catalog_ids.len()) % 2 == 1 {
                p = (p + 1) % package_ids.len();
                if (p % catalog_ids.len()) % 2 == 1 {
                    p = 0;
                }
            }
            let targets = match scope {
                "specificDirectoryUsers" => json!([{"@odata.type": "#microsoft.graph.groupMembers", "groupId": group_ids[rng.random_range(0..group_ids.len())]}]),
                "specificConnectedOrganizationUsers" => {
                    let n = rng.random_range(1..=2);
                    Value::Array((0..n).map(|_| json!({"@odata.type": "#microsoft.graph.connectedOrganizationMembers", "connectedOrganizationId": org_ids[rng.random_range(0..org_ids.len())]})).collect())
                }
                _ => json!([]),
            };
            json!({
                "displayName": format!("Policy {i}"),
                "allowedTargetScope": scope,
                "specificAllowedTargets": targets,
                "expiration": {"type": "afterDuration", "duration": "P90D"},
                "requestorSettings": {"enableTargetsToSelfAddAccess": scope != "notSpecified"},
                "requestApprovalSettings": {"isApprovalRequiredForAdd": false, "stages": []},
                "accessPackage": {"id": package_ids[p]},
            })
        })
        .collect();
    let (_, c) = post_all(
        &apis,
        &format!("{EM}/assignmentPolicies"),
        "assignment policies",
        policies,
    )
    .await?;
    created.push(c);

    // The requestor: a guest of one connected organization (email one-time passcode).
    let org = rng.random_range(0..org_ids.len());
    let app: &App = &running.app;
    let org_id: uuid::Uuid = org_ids[org].parse()?;
    let requestor = Requestor {
        kind: RequestorKind::External,
        user_id: None,
        groups: HashSet::new(),
        organization: Some(RequestorOrganization {
            id: org_id,
            state: ConnectedOrganizationState::Configured,
        }),
        held_packages: HashSet::new(),
    };
    progress(format_args!("eligibility: in-process, {samples} calls"));
    let t = Instant::now();
    let index = app.eligibility_index().await?;
    let index_build = t.elapsed();
    let requestable = index.requestable(&requestor, false).len();
    for _ in 0..20 {
        std::hint::black_box(index.requestable(&requestor, false));
    }
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let t = Instant::now();
        std::hint::black_box(index.requestable(&requestor, false));
        times.push(t.elapsed());
    }
    let in_process = Samples::new(times);

    progress(format_args!("eligibility: over HTTP, {samples} requests"));
    let guest = Api::new(&running.public_url, &guest_token(app, org).await?)?;
    let url = format!(
        "{}{EM}/accessPackages/filterByCurrentUser(on='allowedRequestor')",
        running.public_url
    );
    let (_, body) = guest.get(&url).await?;
    let first: Value = serde_json::from_slice(&body)?;
    let http_rows = first["value"].as_array().map_or(0, Vec::len);
    if http_rows != requestable.min(100) {
        bail!(
            "the guest's first page holds {http_rows} packages, but the index finds {requestable} requestable"
        );
    }
    for _ in 0..20 {
        guest.get(&url).await?;
    }
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        times.push(guest.get(&url).await?.0);
    }
    Ok(EligibilityRun {
        sizes,
        clients,
        created,
        scopes,
        index_build,
        requestable,
        in_process,
        http: Samples::new(times),
        http_rows,
    })
}

/// A guest of partner `org` (matched by its email domain) and a delegated token for it.
async fn guest_token(app: &App, org: usize) -> anyhow::Result<String> {
    let system = Caller::system();
    let email = format!("guest@partner-{org}.example");
    let user = app
        .create_user(
            &system,
            consulate_app::directory::NewUser {
                display_name: "Bench guest".into(),
                user_principal_name: format!("guest_partner-{org}.example#EXT#@consulate.example"),
                given_name: None,
                surname: None,
                mail: Some(email.clone()),
                user_type: Some(consulate_core::directory::UserType::Guest),
                account_enabled: None,
                identities: vec![consulate_core::directory::ObjectIdentity::validated(
                    "emailAddress",
                    "consulate.example",
                    &email,
                )?],
                creation_type: None,
                external_user_state: None,
            },
        )
        .await?;
    let token = app
        .create_token(
            &system,
            "bench guest",
            [Scope::EntitlementManagementReadAll].into_iter().collect(),
            Some(user.id),
            None,
        )
        .await?;
    Ok(token.secret)
}
