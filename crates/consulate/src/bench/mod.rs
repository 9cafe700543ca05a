//! `consulate bench`: runs the server in-process on a fresh SQLite database, measures it
//! against its latency and throughput targets and reports the results as markdown.
//!
//! Phases, in order:
//!
//! 1. bulk create: `--orgs` connected organizations POSTed by `--clients` concurrent
//!    keep-alive HTTP clients; they are also the data set of the reads;
//! 2. setup (not measured): `--users` users written straight through the store, one
//!    transaction and one audit event per batch;
//! 3. reads: `--samples` timed requests per list, filter, search and get query kind;
//! 4. matching: the principal → connected-organization index, timed per call in-process;
//! 5. bulk create again with one client, into a second fresh database;
//! 6. eligibility: a third database filled over the API to Entra's tenant maxima (catalogs,
//!    access packages, policies, connected organizations), then what one guest may request,
//!    in-process and over HTTP.
//!
//! Every random choice comes from a fixed seed, so runs draw the same data and queries. The
//! exit code is 0 when every target is met and 2 when one is missed.
//!
//! This module runs the phases; each part lives in its own submodule:
//!
//! - `files`: the database files and their clean-up;
//! - `machine`: the machine, the disk under the databases and the process's memory;
//! - `data`: the seeded organizations and users, and the store writes of the setup;
//! - `api`: the keep-alive HTTP client the bench talks to the server with;
//! - `create`: the bulk create (phases 1 and 5);
//! - `reads`: list, filter, search and get latency (phase 3);
//! - `matching`: principal matching (phase 4);
//! - `stats`: sorted timings and their percentiles;
//! - `report`: the targets and the markdown report.

mod api;
mod create;
mod data;
mod eligibility;
pub mod expiry;
mod files;
pub mod lifecycle;
mod machine;
mod matching;
mod reads;
mod report;
mod stats;

use crate::cli::BenchArgs;
use crate::server::{self, Running, ServerConfig};
use anyhow::{Context as _, ensure};
use consulate_store::SqliteSync;
use create::CreateRun;
use data::{OrgSpec, SeededUsers};
use files::BenchFiles;
use machine::{Machine, Memory, Storage};
use matching::MatchRun;
use rand::SeedableRng as _;
use rand::rngs::StdRng;
use reads::{PageWalk, ReadResult};
use report::Report;
use std::fmt;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

/// The tenant's domain: the server's `tenant_domain` and the seeded members' UPN suffix.
const TENANT_DOMAIN: &str = "consulate.example";
/// The seed of every random choice.
const SEED: u64 = 0x5eed;

/// Runs the whole benchmark and prints (and optionally writes) the report.
pub async fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    validate(&args)?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let started = Instant::now();
    let files = BenchFiles::prepare(args.database.as_deref())?;
    let machine = Machine::probe();
    let storage = Storage::probe(&files)?;
    let rss_start = machine::vm_rss_kib();
    let mut rng = StdRng::seed_from_u64(SEED);
    let orgs: Arc<[OrgSpec]> = data::org_plan(args.orgs, &mut rng).into();

    let main = measure_main(&args, &files.main, orgs.clone(), &mut rng).await?;
    progress(format_args!(
        "bulk create: {} organizations with 1 client into a second fresh database",
        orgs.len()
    ));
    let single = create_on_fresh_server(&files.single, orgs, 1).await?;
    let eligibility = {
        let (running, token) = start_server(&files.eligibility).await?;
        let sizes = eligibility::Sizes {
            catalogs: args.catalogs,
            packages: args.packages,
            policies: args.policies,
            organizations: args.partner_orgs,
        };
        let run = eligibility::measure(
            &running,
            &token,
            sizes,
            args.clients,
            args.samples,
            &mut rng,
        )
        .await?;
        running.stop().await?;
        run
    };
    let memory = Memory {
        start: rss_start,
        seeded: main.rss_seeded,
        end: machine::vm_rss_kib(),
    };

    let report = Report {
        command: report::command_line(),
        date: jiff::Timestamp::now()
            .strftime("%Y-%m-%d %H:%M:%S UTC")
            .to_string(),
        args: args.clone(),
        machine,
        storage,
        main,
        single,
        eligibility,
        memory,
        total: started.elapsed(),
    };
    report.publish(args.output.as_deref())?;
    let missed = report.missed_targets();
    if missed > 0 {
        eprintln!("bench: {missed} target(s) missed");
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

fn validate(args: &BenchArgs) -> anyhow::Result<()> {
    ensure!(
        args.orgs >= 200,
        "--orgs must be at least 200 (the deep-page query needs two pages)"
    );
    ensure!(args.users >= 1, "--users must be at least 1");
    ensure!(args.clients >= 1, "--clients must be at least 1");
    ensure!(args.samples >= 1, "--samples must be at least 1");
    ensure!(
        args.catalogs >= 2 && args.packages >= 1 && args.policies >= 1 && args.partner_orgs >= 1,
        "--catalogs must be at least 2, and --packages, --policies and --partner-orgs at least 1"
    );
    if let Some(db) = &args.database {
        ensure!(
            !consulate_store::is_postgres_url(&db.to_string_lossy()),
            "the bench runs on SQLite; --database is a file path"
        );
    }
    Ok(())
}

/// Tells the user, on stderr, what the bench is doing.
fn progress(message: fmt::Arguments<'_>) {
    eprintln!("bench: {message}");
}

/// What was measured on the main database.
struct MainRun {
    create: CreateRun,
    users: SeededUsers,
    rss_seeded: Option<u64>,
    walk: PageWalk,
    reads: Vec<ReadResult>,
    matching: MatchRun,
}

/// Phases 1 to 4, on the main database: create, seed, read, match.
async fn measure_main(
    args: &BenchArgs,
    db: &Path,
    orgs: Arc<[OrgSpec]>,
    rng: &mut StdRng,
) -> anyhow::Result<MainRun> {
    let (running, token) = start_server(db).await?;
    progress(format_args!(
        "bulk create: {} organizations with {} clients",
        orgs.len(),
        args.clients
    ));
    let create =
        create::bulk_create(&running.public_url, &token, orgs.clone(), args.clients).await?;
    progress(format_args!("seeding {} users", args.users));
    let users = data::seed_users(&running.app, args.users, rng).await?;
    let rss_seeded = machine::vm_rss_kib();

    let (walk, reads) = reads::measure(&running, &token, &orgs, &users, args.samples, rng).await?;

    progress(format_args!("matching"));
    let matching = matching::measure(&running.app, orgs.len() / 10, rng).await?;
    running.stop().await?;
    Ok(MainRun {
        create,
        users,
        rss_seeded,
        walk,
        reads,
        matching,
    })
}

/// Starts a server on a new database; returns it with its bootstrap token.
async fn start_server(db: &Path) -> anyhow::Result<(Running, String)> {
    let path = db
        .to_str()
        .context("the database path is not valid UTF-8")?;
    let mut cfg = ServerConfig::new(path, "127.0.0.1:0");
    cfg.sqlite_sync = SqliteSync::Full;
    cfg.tenant_domain = TENANT_DOMAIN.into();
    let running = server::start(cfg).await?;
    let token = running
        .bootstrap
        .as_ref()
        .map(|b| b.secret.clone())
        .context("the database was not new, so there is no bootstrap token")?;
    Ok((running, token))
}

/// Phase 5: the bulk create with `clients` clients on a server of its own.
async fn create_on_fresh_server(
    db: &Path,
    orgs: Arc<[OrgSpec]>,
    clients: usize,
) -> anyhow::Result<CreateRun> {
    let (running, token) = start_server(db).await?;
    let run = create::bulk_create(&running.public_url, &token, orgs, clients).await?;
    running.stop().await?;
    Ok(run)
}
