//! `consulate bench-lifecycle`: auto-approved `userAdd` requests from distinct users, over
//! HTTP, measured from submission to delivery (the membership granted and recorded), on a new
//! SQLite file (`synchronous=FULL`) or a PostgreSQL database.
//!
//! Setup (not measured): a catalog holding one group, an access package granting its
//! membership with a policy every member may self-request without approval, and `--requests`
//! users with a delegated token each, written in-process. Then `--clients` keep-alive clients
//! submit one request per user; the clock stops when every assignment is delivered.

use super::machine::{self, Machine};
use super::progress;
use super::stats::Samples;
use crate::cli::LifecycleBenchArgs;
use crate::server::{self, ServerConfig};
use anyhow::{Context as _, bail, ensure};
use consulate_core::access::{Caller, Scope};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const EM: &str = "/v1.0/identityGovernance/entitlementManagement";

/// Runs the benchmark and prints (and optionally writes) its report.
pub async fn run(args: LifecycleBenchArgs) -> anyhow::Result<ExitCode> {
    ensure!(
        args.requests >= 1 && args.clients >= 1,
        "--requests and --clients must be at least 1"
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let temp = std::env::temp_dir().join(format!(
        "consulate-bench-lifecycle-{}",
        uuid::Uuid::now_v7()
    ));
    let database = match &args.database {
        Some(db) => db.clone(),
        None => {
            std::fs::create_dir(&temp).with_context(|| format!("creating {}", temp.display()))?;
            temp.join("lifecycle.db").to_string_lossy().into_owned()
        }
    };
    let postgres = consulate_store::is_postgres_url(&database);
    let result = measure(&args, &database).await;
    let _ = std::fs::remove_dir_all(&temp);
    let run = result?;
    let report = run.report(&args, postgres);
    print!("{report}");
    if let Some(path) = &args.output {
        std::fs::write(path, &report).with_context(|| format!("writing {}", path.display()))?;
        progress(format_args!("report written to {}", path.display()));
    }
    Ok(ExitCode::SUCCESS)
}

struct Run {
    submit: Duration,
    delivered: Duration,
    latency: Samples,
    rss: Option<u64>,
    /// With `--approvals`: how long the decisions took, and their latencies.
    approvals: Option<(Duration, Samples)>,
}

async fn measure(args: &LifecycleBenchArgs, database: &str) -> anyhow::Result<Run> {
    let mut cfg = ServerConfig::new(database, "127.0.0.1:0");
    cfg.max_connections = args.db_max_connections;
    let running = server::start(cfg).await?;
    let admin = running
        .bootstrap
        .as_ref()
        .map(|b| b.secret.clone())
        .context("the database was not new, so there is no bootstrap token")?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()?;
    let base = running.public_url.clone();
    let post = |path: String, body: Value| {
        let (http, base, admin) = (http.clone(), base.clone(), admin.clone());
        async move {
            let resp = http
                .post(format!("{base}{path}"))
                .bearer_auth(&admin)
                .json(&body)
                .send()
                .await?;
            let status = resp.status();
            let v: Value = resp.json().await?;
            if status != StatusCode::CREATED {
                bail!("POST {path}: {status}: {v}");
            }
            Ok(v["id"].as_str().context("an id")?.to_owned())
        }
    };
    progress(format_args!("lifecycle: setting up the package"));
    let (_, package) = super::api::Api::new(&base, &admin)?.group_package().await?;
    // With --approvals, one approver decides every request.
    let approver = if args.approvals {
        let system = Caller::system();
        let u = running
            .app
            .create_user(
                &system,
                consulate_app::directory::NewUser {
                    display_name: "Approver".into(),
                    user_principal_name: "approver@consulate.example".into(),
                    given_name: None,
                    surname: None,
                    mail: None,
                    user_type: None,
                    account_enabled: None,
                    identities: Vec::new(),
                    creation_type: None,
                    external_user_state: None,
                },
            )
            .await?;
        let t = running
            .app
            .create_token(
                &system,
                "approver",
                [Scope::EntitlementManagementReadWriteAll]
                    .into_iter()
                    .collect(),
                Some(u.id),
                None,
            )
            .await?;
        Some((u.id, t.secret))
    } else {
        None
    };
    let approval = match &approver {
        Some((id, _)) => {
            json!({"isApprovalRequiredForAdd": true, "stages": [{"primaryApprovers": [{"@odata.type": "#microsoft.graph.singleUser", "userId": id}]}]})
        }
        None => json!({"isApprovalRequiredForAdd": false, "stages": []}),
    };
    post(
        format!("{EM}/assignmentPolicies"),
        json!({"displayName": "Members", "allowedTargetScope": "allMemberUsers",
        "requestorSettings": {"enableTargetsToSelfAddAccess": true},
        "requestApprovalSettings": approval,
        "accessPackage": {"id": package}}),
    )
    .await?;

    progress(format_args!(
        "lifecycle: {} users and their tokens",
        args.requests
    ));
    let app = running.app.clone();
    let next = Arc::new(AtomicUsize::new(0));
    let tokens = Arc::new(std::sync::Mutex::new(vec![String::new(); args.requests]));
    let mut setup = tokio::task::JoinSet::new();
    for _ in 0..args.clients {
        let (app, next, tokens, n) = (app.clone(), next.clone(), tokens.clone(), args.requests);
        setup.spawn(async move {
            let system = Caller::system();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return anyhow::Ok(());
                }
                let upn = format!("requester{i}@consulate.example");
                let user = app
                    .create_user(
                        &system,
                        consulate_app::directory::NewUser {
                            display_name: format!("Requester {i}"),
                            user_principal_name: upn.clone(),
                            given_name: None,
                            surname: None,
                            mail: None,
                            user_type: None,
                            account_enabled: None,
                            identities: Vec::new(),
                            creation_type: None,
                            external_user_state: None,
                        },
                    )
                    .await?;
                let token = app
                    .create_token(
                        &system,
                        &upn,
                        [Scope::EntitlementManagementReadWriteAll]
                            .into_iter()
                            .collect(),
                        Some(user.id),
                        None,
                    )
                    .await?;
                tokens.lock().expect("tokens")[i] = token.secret;
            }
        });
    }
    while let Some(done) = setup.join_next().await {
        done??;
    }
    let tokens: Arc<[String]> = std::mem::take(&mut *tokens.lock().expect("tokens")).into();

    progress(format_args!(
        "lifecycle: {} requests from {} clients",
        args.requests, args.clients
    ));
    let next = Arc::new(AtomicUsize::new(0));
    let body =
        Arc::new(json!({"requestType": "userAdd", "assignment": {"accessPackageId": package}}));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..args.clients {
        let (http, next, tokens, body) = (http.clone(), next.clone(), tokens.clone(), body.clone());
        let url = format!("{base}{EM}/assignmentRequests");
        workers.spawn(async move {
            let mut times = Vec::new();
            let mut ids = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(token) = tokens.get(i) else {
                    return anyhow::Ok((times, ids));
                };
                let t = Instant::now();
                let resp = http
                    .post(&url)
                    .bearer_auth(token)
                    .json(&*body)
                    .send()
                    .await?;
                let status = resp.status();
                let text = resp.text().await?;
                times.push(t.elapsed());
                if status != StatusCode::CREATED {
                    bail!("request {i}: {status}: {text}");
                }
                let v: Value = serde_json::from_str(&text)?;
                ids.push(v["id"].as_str().context("a request id")?.to_owned());
            }
        });
    }
    let mut times = Vec::with_capacity(args.requests);
    let mut request_ids = Vec::with_capacity(args.requests);
    while let Some(done) = workers.join_next().await {
        let (t, ids) = done??;
        times.extend(t);
        request_ids.extend(ids);
    }
    let submit = started.elapsed();
    // With approvals, deliveries count from the first decision.
    let deciding = Instant::now();
    let approvals = match &approver {
        Some((_, token)) => Some(decide_all(&http, &base, token, request_ids, args.clients).await?),
        None => None,
    };
    let started = if approvals.is_some() {
        deciding
    } else {
        started
    };
    let count_url =
        format!("{base}{EM}/assignments?$filter=state eq 'delivered'&$count=true&$top=1");
    loop {
        let v: Value = http
            .get(&count_url)
            .bearer_auth(&admin)
            .send()
            .await?
            .json()
            .await?;
        if v["@odata.count"].as_u64() == Some(args.requests as u64) {
            break;
        }
        if started.elapsed() > Duration::from_secs(3_600) {
            bail!("not every request was delivered within an hour: {v}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let delivered = started.elapsed();
    let rss = machine::vm_rss_kib();
    running.stop().await?;
    Ok(Run {
        submit,
        delivered,
        latency: Samples::new(times),
        rss,
        approvals,
    })
}

/// Finds each request's stage (not measured), then approves them all from `clients`
/// concurrent clients with the approver's token; returns the time and the latencies.
async fn decide_all(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    requests: Vec<String>,
    clients: usize,
) -> anyhow::Result<(Duration, Samples)> {
    progress(format_args!("lifecycle: finding {} stages", requests.len()));
    let mut stages = Vec::with_capacity(requests.len());
    for r in &requests {
        let v: Value = http
            .get(format!(
                "{base}{EM}/accessPackageAssignmentApprovals/{r}/stages"
            ))
            .bearer_auth(token)
            .send()
            .await?
            .json()
            .await?;
        let stage = v["value"][0]["id"].as_str().context("a stage")?.to_owned();
        stages.push(format!(
            "{base}{EM}/accessPackageAssignmentApprovals/{r}/stages/{stage}"
        ));
    }
    progress(format_args!(
        "lifecycle: {} approvals from {clients} clients",
        stages.len()
    ));
    let stages: Arc<[String]> = stages.into();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let (http, next, stages, token) =
            (http.clone(), next.clone(), stages.clone(), token.to_owned());
        workers.spawn(async move {
            let mut times = Vec::new();
            let body = json!({"reviewResult": "Approve", "justification": "bench"});
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(url) = stages.get(i) else {
                    return anyhow::Ok(times);
                };
                let t = Instant::now();
                let resp = http
                    .patch(url)
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await?;
                let status = resp.status();
                times.push(t.elapsed());
                if status != StatusCode::NO_CONTENT {
                    bail!("approval {i}: {status}: {}", resp.text().await?);
                }
            }
        });
    }
    let mut times = Vec::new();
    while let Some(done) = workers.join_next().await {
        times.extend(done??);
    }
    Ok((started.elapsed(), Samples::new(times)))
}

impl Run {
    fn report(&self, args: &LifecycleBenchArgs, postgres: bool) -> String {
        let m = Machine::probe();
        let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1e3);
        let n = args.requests as f64;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "## Requests to delivered assignments ({})\n",
            if postgres {
                "PostgreSQL"
            } else {
                "SQLite, `synchronous=FULL`"
            }
        );
        let _ = writeln!(
            out,
            "Produced by `consulate bench-lifecycle` ({} build) on {} CPUs ({}):\n",
            m.profile, m.cpus, m.cpu_model
        );
        let _ = writeln!(out, "```sh\n{}\n```\n", super::report::command_line());
        let _ = writeln!(
            out,
            "Method: {} distinct members each submit one auto-approved `userAdd` for a package granting a \
             group membership, from {} concurrent keep-alive clients with their own delegated tokens. \
             Every request is committed with its assignment, audit event and outbox row before its \
             201; the delivery worker grants the membership and marks it delivered. The clock stops \
             when `assignments?$filter=state eq 'delivered'&$count=true` reaches the total.\n",
            args.requests, args.clients
        );
        if self.approvals.is_some() {
            let _ = writeln!(
                out,
                "With `--approvals` each request waits for one approver instead: after all are \
                 submitted, the approver's decisions are sent from the same number of clients and \
                 timed until every one is answered (204); \"delivered\" then counts from the first \
                 decision.\n"
            );
        }
        let _ = writeln!(out, "| Measurement | Value |\n|---|--:|");
        let _ = writeln!(
            out,
            "| submitted (201s) per second | {:.0}/s |",
            n / self.submit.as_secs_f64()
        );
        let _ = writeln!(
            out,
            "| submitted → delivered, per second | {:.0}/s |",
            n / self.delivered.as_secs_f64()
        );
        let _ = writeln!(
            out,
            "| all submitted after | {:.2} s |",
            self.submit.as_secs_f64()
        );
        let _ = writeln!(
            out,
            "| all delivered after | {:.2} s |",
            self.delivered.as_secs_f64()
        );
        let _ = writeln!(
            out,
            "| submit latency p50 / p99 / max | {} / {} / {} |",
            ms(self.latency.percentile(50.0)),
            ms(self.latency.percentile(99.0)),
            ms(self.latency.max())
        );
        if let Some((took, lat)) = &self.approvals {
            let _ = writeln!(
                out,
                "| approvals (`PATCH …/stages/{{id}}`, 204) per second | {:.0}/s |",
                n / took.as_secs_f64()
            );
            let _ = writeln!(
                out,
                "| approval latency p50 / p99 / max | {} / {} / {} |",
                ms(lat.percentile(50.0)),
                ms(lat.percentile(99.0)),
                ms(lat.max())
            );
        }
        let _ = writeln!(
            out,
            "| RSS at the end | {} |",
            self.rss
                .map_or("n/a".into(), |k| format!("{:.0} MiB", k as f64 / 1024.0))
        );
        out
    }
}
