//! `consulate bench-expiry`: the expiry sweep at scale, run by the server itself.
//!
//! Setup (timed, not a target): a package granting a group membership with a 365-day
//! policy, `--assignments` users, and one delivered assignment each (with its grants), written
//! straight through the store in batches, each committed with one audit event. Then, with
//! that many active assignments, the latency of reading them over HTTP. Then the server's
//! clock moves 366 days ahead and the clock starts: the server's own delivery loop ends every
//! assignment (state, `systemRemove` request, revocation queued, audit event, each exactly
//! once) and delivers the revocations. Measured: until none is active, and until no
//! revocation is left.

use super::data::seed_users;
use super::machine::{Machine, vm_rss_kib};
use super::progress;
use super::stats::Samples;
use crate::cli::ExpiryBenchArgs;
use crate::server::{self, ServerConfig};
use anyhow::{Context as _, bail, ensure};
use consulate_app::{Clock, SystemClock};
use consulate_core::access::Caller;
use consulate_core::audit::{AuditEvent, Category, TargetResource};
use consulate_core::lifecycle::{Assignment, AssignmentState};
use consulate_core::request::Schedule;
use rand::SeedableRng as _;
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};
use uuid::Uuid;

const EM: &str = "/v1.0/identityGovernance/entitlementManagement";
/// Assignments written per transaction during setup.
const BATCH: usize = 5_000;

/// The wall clock plus an offset the benchmark moves.
#[derive(Default)]
struct ShiftedClock {
    offset_us: AtomicI64,
}

impl Clock for ShiftedClock {
    fn now(&self) -> jiff::Timestamp {
        let now = SystemClock.now();
        jiff::Timestamp::from_microsecond(
            now.as_microsecond() + self.offset_us.load(Ordering::SeqCst),
        )
        .unwrap_or(now)
    }
}

struct Run {
    seed: Duration,
    list: Samples,
    count: Samples,
    rss_loaded: Option<u64>,
    ended: Duration,
    rss_end: Option<u64>,
}

/// Runs the benchmark and prints (and optionally writes) its report.
pub async fn run(args: ExpiryBenchArgs) -> anyhow::Result<ExitCode> {
    ensure!(args.assignments >= 1, "--assignments must be at least 1");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let temp = std::env::temp_dir().join(format!("consulate-bench-expiry-{}", Uuid::now_v7()));
    let database = match &args.database {
        Some(db) => db.clone(),
        None => {
            std::fs::create_dir(&temp).with_context(|| format!("creating {}", temp.display()))?;
            temp.join("expiry.db").to_string_lossy().into_owned()
        }
    };
    let postgres = consulate_store::is_postgres_url(&database);
    let result = measure(&args, &database).await;
    let _ = std::fs::remove_dir_all(&temp);
    let report = report(&result?, &args, postgres);
    print!("{report}");
    if let Some(path) = &args.output {
        std::fs::write(path, &report).with_context(|| format!("writing {}", path.display()))?;
        progress(format_args!("report written to {}", path.display()));
    }
    Ok(ExitCode::SUCCESS)
}

async fn measure(args: &ExpiryBenchArgs, database: &str) -> anyhow::Result<Run> {
    let clock = Arc::new(ShiftedClock::default());
    let mut cfg = ServerConfig::new(database, "127.0.0.1:0");
    cfg.max_connections = args.db_max_connections;
    let running = server::start_with_clock(cfg, clock.clone()).await?;
    let app = running.app.clone();
    let admin = running
        .bootstrap
        .as_ref()
        .map(|b| b.secret.clone())
        .context("the database was not new, so there is no bootstrap token")?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()?;
    let base = running.public_url.clone();
    let call = |method: reqwest::Method, path: String, body: Option<Value>| {
        let (http, base, admin) = (http.clone(), base.clone(), admin.clone());
        async move {
            let mut req = http
                .request(method.clone(), format!("{base}{path}"))
                .bearer_auth(&admin);
            if let Some(b) = body {
                req = req.json(&b);
            }
            let resp = req.send().await?;
            let status = resp.status();
            let v: Value = resp.json().await?;
            if !status.is_success() {
                bail!("{method} {path}: {status}: {v}");
            }
            Ok::<Value, anyhow::Error>(v)
        }
    };
    let post = |path: String, body: Value| async move {
        let v = call(reqwest::Method::POST, path, Some(body)).await?;
        Ok::<String, anyhow::Error>(v["id"].as_str().context("an id")?.to_owned())
    };
    progress(format_args!("expiry: setting up the package"));
    let (cat, package) = super::api::Api::new(&base, &admin)?.group_package().await?;
    let policy = post(
        format!("{EM}/assignmentPolicies"),
        json!({"displayName": "Members, a year", "allowedTargetScope": "allMemberUsers",
               "expiration": {"type": "afterDuration", "duration": "P365D"},
               "requestorSettings": {"enableTargetsToSelfAddAccess": true},
               "requestApprovalSettings": {"isApprovalRequiredForAdd": false, "stages": []},
               "accessPackage": {"id": package}}),
    )
    .await?;
    let (cat, package, policy) = (
        Uuid::parse_str(&cat)?,
        Uuid::parse_str(&package)?,
        Uuid::parse_str(&policy)?,
    );

    let n = args.assignments;
    let started = Instant::now();
    progress(format_args!("expiry: seeding {n} users"));
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let users = seed_users(&app, n, &mut rng).await?;
    progress(format_args!("expiry: seeding {n} delivered assignments"));
    let grants = app
        .package_grants(package)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let now = app.clock.now();
    let end = now + jiff::SignedDuration::from_hours(24 * 365);
    for (i, chunk) in users.ids.chunks(BATCH).enumerate() {
        let mut tx = app.store.begin().await?;
        for user in chunk {
            let a = Assignment {
                id: app.ids.new_id(),
                access_package_id: package,
                policy_id: policy,
                catalog_id: cat,
                target_id: *user,
                state: AssignmentState::Delivered,
                schedule: Schedule {
                    start: now,
                    end: Some(end),
                },
                created_date_time: now,
                modified_date_time: now,
                expired_date_time: None,
            };
            tx.insert_assignment(&a, &grants).await?;
        }
        let event = AuditEvent::success(
            app.ids.new_id(),
            now,
            &Caller::system(),
            Category::EntitlementManagement,
            "Seed access package assignments (consulate bench)",
            "assignment.create",
            TargetResource {
                id: package.to_string(),
                display_name: Some(format!("{} seeded", chunk.len())),
                kind: "accessPackage".into(),
                modified_properties: Vec::new(),
            },
        );
        tx.commit(&[event]).await?;
        if (i + 1) % 20 == 0 {
            progress(format_args!("expiry: {} assignments", (i + 1) * BATCH));
        }
    }
    let seed = started.elapsed();

    progress(format_args!("expiry: reading at {n} active assignments"));
    let count_active = || async move {
        let v = call(
            reqwest::Method::GET,
            format!("{EM}/assignments?$filter=state eq 'delivered'&$count=true&$top=1"),
            None,
        )
        .await?;
        v["@odata.count"]
            .as_u64()
            .context("a count of delivered assignments")
    };
    ensure!(
        count_active().await? == n as u64,
        "the seeded assignments are not all visible"
    );
    let mut list = Vec::new();
    let mut count = Vec::new();
    for _ in 0..args.samples {
        let t = Instant::now();
        call(
            reqwest::Method::GET,
            format!("{EM}/assignments?$top=100&$filter=state eq 'delivered'"),
            None,
        )
        .await?;
        list.push(t.elapsed());
        let t = Instant::now();
        count_active().await?;
        count.push(t.elapsed());
    }
    let rss_loaded = vm_rss_kib();

    progress(format_args!("expiry: moving the clock 366 days ahead"));
    clock
        .offset_us
        .store(366 * 86_400 * 1_000_000, Ordering::SeqCst);
    let started = Instant::now();
    app.wake_delivery();
    let ended = loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if count_active().await? == 0 {
            break started.elapsed();
        }
        if started.elapsed() > Duration::from_secs(args.timeout_seconds) {
            bail!("the sweep did not finish within {} s", args.timeout_seconds);
        }
    };
    progress(format_args!(
        "expiry: all ended after {:.1} s",
        ended.as_secs_f64()
    ));
    // Ending revokes in the same transaction: no user is left in the group.
    for user in users.ids.iter().step_by((n / 1000).max(1)) {
        ensure!(
            app.store.group_ids_of_user(*user).await?.is_empty(),
            "user {user} is still in the package's group after its assignment ended"
        );
    }
    let expired = call(
        reqwest::Method::GET,
        format!("{EM}/assignments?$filter=state eq 'expired'&$count=true&$top=1"),
        None,
    )
    .await?;
    ensure!(
        expired["@odata.count"].as_u64() == Some(n as u64),
        "expected {n} expired assignments: {expired}"
    );
    Ok(Run {
        seed,
        list: Samples::new(list),
        count: Samples::new(count),
        rss_loaded,
        ended,
        rss_end: vm_rss_kib(),
    })
}

fn report(r: &Run, args: &ExpiryBenchArgs, postgres: bool) -> String {
    let m = Machine::probe();
    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1e3);
    let mib = |k: Option<u64>| k.map_or("n/a".into(), |k| format!("{:.0} MiB", k as f64 / 1024.0));
    let n = args.assignments as f64;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## Expiry sweep of {} assignments ({})\n",
        args.assignments,
        if postgres {
            "PostgreSQL"
        } else {
            "SQLite, `synchronous=FULL`"
        }
    );
    let _ = writeln!(
        out,
        "Produced by `consulate bench-expiry` ({} build) on {} CPUs ({}):\n",
        m.profile, m.cpus, m.cpu_model
    );
    let _ = writeln!(out, "```sh\n{}\n```\n", super::report::command_line());
    let _ = writeln!(
        out,
        "Method: {} users each hold one delivered assignment of a package granting a group \
         membership (written through the store in batches of {BATCH}, each with one audit event). \
         With all of them active, {} reads of the first page of 100 delivered assignments and of their count of \
         delivered ones are timed over HTTP. Then the server's clock moves 366 days ahead and its \
         own delivery loop (as in production: up to 1,000 per transaction) ends each assignment \
         exactly once — state, group membership revoked, completed `systemRemove` request and \
         audit event in one transaction. The clock stops when no assignment is delivered any \
         more (polled every 250 ms); then one user in a thousand is checked to be out of the group.\n",
        args.assignments, args.samples
    );
    let _ = writeln!(out, "| Measurement | Value |\n|---|--:|");
    let _ = writeln!(
        out,
        "| setup: users and assignments written | {:.1} s |",
        r.seed.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "| first page of 100 delivered assignments p50 / p99 (at {} active) | {} / {} |",
        args.assignments,
        ms(r.list.percentile(50.0)),
        ms(r.list.percentile(99.0))
    );
    let _ = writeln!(
        out,
        "| `$count` of delivered assignments p50 / p99 | {} / {} |",
        ms(r.count.percentile(50.0)),
        ms(r.count.percentile(99.0))
    );
    let _ = writeln!(out, "| RSS with all active | {} |", mib(r.rss_loaded));
    let _ = writeln!(
        out,
        "| all ended and revoked after | {:.1} s ({:.0}/s) |",
        r.ended.as_secs_f64(),
        n / r.ended.as_secs_f64()
    );
    let _ = writeln!(out, "| RSS at the end | {} |", mib(r.rss_end));
    out
}
