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
//! 5. bulk create again with one client, into a second fresh database.
//!
//! Every random choice comes from a fixed seed, so runs draw the same data and queries. The
//! exit code is 0 when every target is met and 2 when one is missed.

use crate::cli::BenchArgs;
use crate::server::{self, Running, ServerConfig};
use anyhow::{Context as _, bail, ensure};
use consulate_app::App;
use consulate_core::access::Caller;
use consulate_core::audit::{AuditEvent, Category, TargetResource};
use consulate_core::connected_org::{
    ConnectedOrganization, ConnectedOrganizationState, IdentitySource, normalize_issuer_uri,
    normalize_tenant_id,
};
use consulate_core::directory::{ObjectIdentity, User, UserType};
use consulate_core::domain_name::DomainName;
use consulate_core::matching::{OrganizationEntry, OrganizationIndex, SignInPath};
use consulate_store::SqliteSync;
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom as _, SliceRandom as _};
use rand::{Rng as _, SeedableRng as _};
use serde_json::{Value, json};
use std::fmt;
use std::hint::black_box;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use uuid::Uuid;

const ORGS_PATH: &str = "/v1.0/identityGovernance/entitlementManagement/connectedOrganizations";
const USERS_PATH: &str = "/v1.0/users";
const TENANT_DOMAIN: &str = "consulate.example";
const SEED: u64 = 0x5eed;
/// Rows written per seeding transaction.
const SEED_BATCH: usize = 1_000;
/// Untimed requests before each read query kind.
const WARMUP: usize = 20;
/// Timed `match_principal` calls per probe kind (7 kinds).
const MATCH_CALLS_PER_KIND: usize = 15_000;

const READ_P99_TARGET: Duration = Duration::from_millis(10);
const MATCH_P99_TARGET: Duration = Duration::from_micros(20);
const CREATE_RATE_TARGET: f64 = 2_000.0;

/// Runs the whole benchmark and prints (and optionally writes) the report.
pub async fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    validate(&args)?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let started = Instant::now();
    let files = BenchFiles::prepare(args.database.as_deref())?;
    let machine = Machine::probe();
    let storage = Storage::probe(&files)?;
    let rss_start = vm_rss_kib();
    let mut rng = StdRng::seed_from_u64(SEED);
    let orgs: Arc<[OrgSpec]> = org_plan(args.orgs, &mut rng).into();

    let main = measure_main(&args, &files.main, orgs.clone(), &mut rng).await?;
    progress(format_args!(
        "bulk create: {} organizations with 1 client into a second fresh database",
        orgs.len()
    ));
    let single = create_on_fresh_server(&files.single, orgs, 1).await?;
    let memory = Memory {
        start: rss_start,
        seeded: main.rss_seeded,
        end: vm_rss_kib(),
    };

    let report = Report {
        command: command_line(),
        date: jiff::Timestamp::now()
            .strftime("%Y-%m-%d %H:%M:%S UTC")
            .to_string(),
        args: args.clone(),
        machine,
        storage,
        main,
        single,
        memory,
        total: started.elapsed(),
    };
    publish(&report, args.output.as_deref())?;
    let missed = report.checks().iter().filter(|c| !c.pass).count();
    if missed > 0 {
        eprintln!("bench: {missed} target(s) missed");
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints the report, and writes it to `output` when given.
fn publish(report: &Report, output: Option<&Path>) -> anyhow::Result<()> {
    let markdown = report.to_string();
    print!("{markdown}");
    if let Some(path) = output {
        std::fs::write(path, &markdown)
            .with_context(|| format!("writing the report to {}", path.display()))?;
        progress(format_args!("report written to {}", path.display()));
    }
    Ok(())
}

fn validate(args: &BenchArgs) -> anyhow::Result<()> {
    ensure!(
        args.orgs >= 200,
        "--orgs must be at least 200 (the deep-page query needs two pages)"
    );
    ensure!(args.users >= 1, "--users must be at least 1");
    ensure!(args.clients >= 1, "--clients must be at least 1");
    ensure!(args.samples >= 1, "--samples must be at least 1");
    if let Some(db) = &args.database {
        ensure!(
            !consulate_store::is_postgres_url(&db.to_string_lossy()),
            "the bench runs on SQLite; --database is a file path"
        );
    }
    Ok(())
}

fn progress(message: fmt::Arguments<'_>) {
    eprintln!("bench: {message}");
}

// ---------------------------------------------------------------------------------------------
// The main database: create, seed, read, match.
// ---------------------------------------------------------------------------------------------

/// What was measured on the main database.
struct MainRun {
    create: CreateRun,
    users: SeededUsers,
    rss_seeded: Option<u64>,
    walk: PageWalk,
    reads: Vec<ReadResult>,
    matching: MatchRun,
}

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
    let create = bulk_create(&running.public_url, &token, orgs.clone(), args.clients).await?;
    progress(format_args!("seeding {} users", args.users));
    let users = seed_users(&running.app, args.users, rng).await?;
    let rss_seeded = vm_rss_kib();

    let (walk, reads) = read_benchmarks(&running, &token, &orgs, &users, args.samples, rng).await?;

    progress(format_args!("matching"));
    let matching = matching_benchmark(&running.app, orgs.len() / 10, rng).await?;
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

/// Walks the display-name pages, then times `samples` requests of every read query kind.
async fn read_benchmarks(
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

async fn create_on_fresh_server(
    db: &Path,
    orgs: Arc<[OrgSpec]>,
    clients: usize,
) -> anyhow::Result<CreateRun> {
    let (running, token) = start_server(db).await?;
    let run = bulk_create(&running.public_url, &token, orgs, clients).await?;
    running.stop().await?;
    Ok(run)
}

// ---------------------------------------------------------------------------------------------
// Files, machine and storage.
// ---------------------------------------------------------------------------------------------

/// The two database files; on drop, removes the second one and any temporary directory.
struct BenchFiles {
    main: PathBuf,
    single: PathBuf,
    temp_dir: Option<PathBuf>,
}

impl BenchFiles {
    fn prepare(database: Option<&Path>) -> anyhow::Result<Self> {
        match database {
            Some(main) => {
                let name = main
                    .file_name()
                    .context("--database must name a file")?
                    .to_string_lossy();
                let single = main.with_file_name(format!("{name}-1client"));
                for p in [main, single.as_path()] {
                    ensure!(
                        !p.exists(),
                        "{} exists; the bench needs a new database file",
                        p.display()
                    );
                }
                Ok(BenchFiles {
                    main: main.to_path_buf(),
                    single,
                    temp_dir: None,
                })
            }
            None => {
                let dir = std::env::temp_dir().join(format!("consulate-bench-{}", Uuid::now_v7()));
                std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
                Ok(BenchFiles {
                    main: dir.join("bench.db"),
                    single: dir.join("bench-1client.db"),
                    temp_dir: Some(dir),
                })
            }
        }
    }

    /// The directory the databases are in.
    fn dir(&self) -> PathBuf {
        match self.main.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }
}

impl Drop for BenchFiles {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = self.single.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
        if let Some(dir) = &self.temp_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

struct Machine {
    cpus: usize,
    cpu_model: String,
    kernel: String,
    rustc: String,
    profile: &'static str,
}

impl Machine {
    fn probe() -> Self {
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".into());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| format!("Linux {}", s.trim()))
            .unwrap_or_else(|_| std::env::consts::OS.into());
        let rustc = std::process::Command::new("rustc")
            .arg("--version")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_else(|| "unknown".into());
        Machine {
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model,
            kernel,
            rustc,
            profile: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
        }
    }
}

/// Where the databases are and how long the disk takes to make a write durable.
struct Storage {
    location: String,
    filesystem: String,
    fsync: Samples,
}

impl Storage {
    fn probe(files: &BenchFiles) -> anyhow::Result<Self> {
        let dir = files.dir();
        Ok(Storage {
            location: match &files.temp_dir {
                Some(d) => format!(
                    "a new temporary directory ({}), deleted at the end",
                    d.display()
                ),
                None => format!("{} (kept)", files.main.display()),
            },
            filesystem: filesystem_of(&dir),
            fsync: fsync_latency(&dir)?,
        })
    }
}

/// The type and device of the filesystem holding `dir`, from `/proc/mounts`.
fn filesystem_of(dir: &Path) -> String {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    mounts
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            Some((f.next()?, f.next()?, f.next()?))
        })
        .filter(|(_, mount_point, _)| dir.starts_with(mount_point))
        .max_by_key(|(_, mount_point, _)| mount_point.len())
        .map(|(device, mount_point, fs)| format!("{fs} ({device} on {mount_point})"))
        .unwrap_or_else(|| "unknown".into())
}

/// Times 50 appends of 4 KiB, each followed by `fdatasync`, in `dir`.
fn fsync_latency(dir: &Path) -> anyhow::Result<Samples> {
    let path = dir.join(".consulate-bench-fsync-probe");
    let mut file =
        std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    let block = [0x5a_u8; 4096];
    let mut times = Vec::with_capacity(50);
    for _ in 0..50 {
        let t = Instant::now();
        file.write_all(&block)?;
        file.sync_data()?;
        times.push(t.elapsed());
    }
    drop(file);
    let _ = std::fs::remove_file(&path);
    Ok(Samples::new(times))
}

/// VmRSS of this process in KiB (Linux only).
fn vm_rss_kib() -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn command_line() -> String {
    std::env::args()
        .map(|a| {
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || c == '\'') {
                format!("'{}'", a.replace('\'', r"'\''"))
            } else {
                a
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------------------------------------
// Generated data.
// ---------------------------------------------------------------------------------------------

#[rustfmt::skip]
const ORG_FIRST: [&str; 32] = [
    "Northwind", "Contoso", "Fabrikam", "Tailspin", "Litware", "Proseware", "Adatum", "Woodgrove",
    "Lucerne", "Wingtip", "Alpine", "Coho", "Margie", "Trey", "Fourth", "Humongous", "Yonder",
    "Worldwide", "Graphic", "Southridge", "Relecloud", "Lamna", "Munson", "Datum", "Consolidated",
    "Northridge", "Bellows", "Wingspan", "Contour", "Aurora", "Cascade", "Summit",
];
#[rustfmt::skip]
const ORG_SECOND: [&str; 32] = [
    "Traders", "Systems", "Logistics", "Energy", "Health", "Motors", "Foods", "Airlines", "Bank",
    "Insurance", "Labs", "Media", "Pharma", "Robotics", "Studios", "Textiles", "Travel",
    "Analytics", "Biotech", "Capital", "Chemicals", "Consulting", "Design", "Electric",
    "Engineering", "Finance", "Games", "Hotels", "Imports", "Mining", "Networks", "Publishing",
];
const ORG_FORM: [&str; 10] = [
    "Ltd", "Inc", "GmbH", "SA", "BV", "AB", "Oy", "KK", "Group", "Holdings",
];
#[rustfmt::skip]
const GIVEN_NAMES: [&str; 40] = [
    "Alice", "Bob", "Carol", "David", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy", "Karl",
    "Laura", "Mallory", "Niaj", "Olivia", "Peggy", "Quentin", "Rupert", "Sybil", "Trent", "Ursula",
    "Victor", "Walter", "Xena", "Yusuf", "Zoe", "Amara", "Bruno", "Chen", "Dmitri", "Elena",
    "Farah", "Goran", "Hana", "Ines", "Jonas", "Kenji", "Lucia", "Mateo", "Noor",
];
#[rustfmt::skip]
const SURNAMES: [&str; 40] = [
    "Smith", "Johnson", "Garcia", "Muller", "Rossi", "Dubois", "Silva", "Kowalski", "Novak",
    "Jensen", "Tanaka", "Kim", "Nguyen", "Singh", "Okafor", "Haddad", "Ivanova", "Larsen",
    "Moreau", "Fischer", "Bianchi", "Santos", "Nowak", "Horvat", "Virtanen", "Yilmaz", "Cohen",
    "Murphy", "Walsh", "Berg", "Costa", "Petrov", "Schmidt", "Weber", "Lopez", "Romero", "Sato",
    "Park", "Ali", "Khan",
];

/// One organization to create: a name and the email domain of its one identity source.
struct OrgSpec {
    name: String,
    domain: String,
}

/// `count` organizations named "<first> <second> <form>" (10,240 combinations, so names
/// repeat a little, as real ones do) with unique domains.
fn org_plan(count: usize, rng: &mut StdRng) -> Vec<OrgSpec> {
    (0..count)
        .map(|i| {
            let first = pick(&ORG_FIRST, rng);
            let second = pick(&ORG_SECOND, rng);
            let slug: String = format!("{first}{second}")
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_ascii_lowercase();
            OrgSpec {
                name: format!("{first} {second} {}", pick(&ORG_FORM, rng)),
                domain: format!("{slug}-{i}.example"),
            }
        })
        .collect()
}

fn pick<'a>(words: &[&'a str], rng: &mut StdRng) -> &'a str {
    words.choose(rng).copied().unwrap_or("x")
}

/// The users written during setup.
struct SeededUsers {
    ids: Vec<Uuid>,
    names: Vec<String>,
    elapsed: Duration,
}

/// Writes `count` users straight through the store, [`SEED_BATCH`] per transaction, each
/// transaction committed with one audit event.
async fn seed_users(app: &App, count: usize, rng: &mut StdRng) -> anyhow::Result<SeededUsers> {
    let started = Instant::now();
    let mut ids = Vec::with_capacity(count);
    let mut names = Vec::with_capacity(count);
    for start in (0..count).step_by(SEED_BATCH) {
        let batch: Vec<User> = (start..count.min(start + SEED_BATCH))
            .map(|i| seed_user(app, i, rng))
            .collect();
        insert_users(app, &batch).await?;
        ids.extend(batch.iter().map(|u| u.id));
        names.extend(batch.into_iter().map(|u| u.display_name));
    }
    Ok(SeededUsers {
        ids,
        names,
        elapsed: started.elapsed(),
    })
}

/// Writes `users` in one transaction with one audit event.
async fn insert_users(app: &App, users: &[User]) -> anyhow::Result<()> {
    let mut tx = app.store.begin().await?;
    for user in users {
        tx.insert_user(user).await?;
    }
    let first = users.first().map_or_else(Uuid::nil, |u| u.id);
    let event = seed_event(app, Category::UserManagement, "user", first, users.len());
    tx.commit(&[event]).await?;
    Ok(())
}

/// Member user `i`, or every fourth one a guest from a partner domain with one identity.
fn seed_user(app: &App, i: usize, rng: &mut StdRng) -> User {
    let (given, surname) = (pick(&GIVEN_NAMES, rng), pick(&SURNAMES, rng));
    let local = format!(
        "{}.{}{i}",
        given.to_ascii_lowercase(),
        surname.to_ascii_lowercase()
    );
    let guest = i % 4 == 3;
    let (upn, mail, identities) = if guest {
        let partner = format!("partner{}.example", i % 97);
        let mail = format!("{local}@{partner}");
        let identity = ObjectIdentity {
            sign_in_type: "federated".into(),
            issuer: partner.clone(),
            issuer_assigned_id: mail.clone(),
        };
        (
            format!("{local}_{partner}#EXT#@{TENANT_DOMAIN}"),
            mail,
            vec![identity],
        )
    } else {
        let upn = format!("{local}@{TENANT_DOMAIN}");
        (upn.clone(), upn, Vec::new())
    };
    User {
        id: app.ids.new_id(),
        display_name: format!("{given} {surname}"),
        given_name: Some(given.into()),
        surname: Some(surname.into()),
        mail: Some(mail),
        user_principal_name: upn,
        user_type: if guest {
            UserType::Guest
        } else {
            UserType::Member
        },
        account_enabled: true,
        identities,
        creation_type: guest.then(|| "Invitation".into()),
        external_user_state: guest.then(|| "Accepted".into()),
        created_date_time: app.clock.now(),
    }
}

/// The one audit event a seeding batch commits with; it names the batch's first object.
fn seed_event(app: &App, category: Category, kind: &str, first: Uuid, count: usize) -> AuditEvent {
    AuditEvent::success(
        app.ids.new_id(),
        app.clock.now(),
        &Caller::system(),
        category,
        &format!("Seed {kind} objects (consulate bench)"),
        &format!("{kind}.create"),
        TargetResource {
            id: first.to_string(),
            display_name: Some(format!("first of {count} seeded")),
            kind: kind.into(),
            modified_properties: Vec::new(),
        },
    )
}

// ---------------------------------------------------------------------------------------------
// HTTP.
// ---------------------------------------------------------------------------------------------

/// A keep-alive HTTP client with the bench's token.
struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    fn new(base: &str, token: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .context("building the HTTP client")?;
        Ok(Api {
            http,
            base: base.to_owned(),
            token: token.to_owned(),
        })
    }

    /// GETs an absolute URL; returns the time to the last byte of the body, and the body.
    async fn get(&self, url: &str) -> anyhow::Result<(Duration, Vec<u8>)> {
        let t = Instant::now();
        let resp = self
            .http
            .get(url)
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| format!("GET {url}"))?;
        let status = resp.status();
        let body = resp.bytes().await.with_context(|| format!("GET {url}"))?;
        let elapsed = t.elapsed();
        if !status.is_success() {
            bail!("GET {url}: {status}: {}", String::from_utf8_lossy(&body));
        }
        Ok((elapsed, body.to_vec()))
    }

    /// POSTs one connected organization; returns the time to the end of the response.
    async fn create_org(&self, org: &OrgSpec) -> anyhow::Result<Duration> {
        let body = json!({
            "displayName": org.name,
            "description": format!("Partner organization {}", org.domain),
            "identitySources": [{
                "@odata.type": "#microsoft.graph.domainIdentitySource",
                "domainName": org.domain,
                "displayName": org.domain,
            }],
        });
        let t = Instant::now();
        let resp = self
            .http
            .post(format!("{}{ORGS_PATH}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .context("POST connectedOrganizations")?;
        let status = resp.status();
        let text = resp.bytes().await.context("POST connectedOrganizations")?;
        let elapsed = t.elapsed();
        if status != reqwest::StatusCode::CREATED {
            bail!(
                "POST connectedOrganizations ({}): {status}: {}",
                org.domain,
                String::from_utf8_lossy(&text)
            );
        }
        Ok(elapsed)
    }
}

fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// An OData string literal.
fn odata_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

// ---------------------------------------------------------------------------------------------
// Bulk create.
// ---------------------------------------------------------------------------------------------

struct CreateRun {
    clients: usize,
    orgs: usize,
    elapsed: Duration,
    latency: Samples,
}

impl CreateRun {
    fn rate(&self) -> f64 {
        self.orgs as f64 / self.elapsed.as_secs_f64()
    }
}

/// Creates every organization in `orgs` from `clients` concurrent clients, each taking the
/// next one until none are left; times the whole run and each request.
async fn bulk_create(
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
        latencies.push(api.create_org(org).await?);
    }
    Ok(latencies)
}

// ---------------------------------------------------------------------------------------------
// Reads.
// ---------------------------------------------------------------------------------------------

/// The `@odata.nextLink`s met walking every `$orderby=displayName` page.
struct PageWalk {
    /// `next_links[k]` fetches page `k + 2`.
    next_links: Vec<String>,
    elapsed: Duration,
}

impl PageWalk {
    fn pages(&self) -> usize {
        self.next_links.len() + 1
    }
    /// The first page counted as deep: the middle one.
    fn first_deep_page(&self) -> usize {
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

struct ReadResult {
    label: &'static str,
    example: String,
    latency: Samples,
    median_rows: usize,
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

// ---------------------------------------------------------------------------------------------
// Principal matching.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProbeKind {
    OtpHit,
    OtpMiss,
    OtpFederatedDomain,
    TenantHit,
    TenantMiss,
    IssuerHit,
    IssuerMiss,
}

impl ProbeKind {
    /// In declaration order, so that `kind as usize` indexes it.
    const ALL: [ProbeKind; 7] = [
        ProbeKind::OtpHit,
        ProbeKind::OtpMiss,
        ProbeKind::OtpFederatedDomain,
        ProbeKind::TenantHit,
        ProbeKind::TenantMiss,
        ProbeKind::IssuerHit,
        ProbeKind::IssuerMiss,
    ];

    fn describe(self) -> &'static str {
        match self {
            ProbeKind::OtpHit => "email OTP, domain of an organization (¼ in upper case)",
            ProbeKind::OtpMiss => "email OTP, unknown domain",
            ProbeKind::OtpFederatedDomain => {
                "email OTP, domain of a federated organization (refused)"
            }
            ProbeKind::TenantHit => "tenant id of an organization (¼ in upper case)",
            ProbeKind::TenantMiss => "unknown tenant id",
            ProbeKind::IssuerHit => "federated issuer of an organization",
            ProbeKind::IssuerMiss => "unknown federated issuer",
        }
    }
}

/// One principal to match and the organization it must match (from the store's data).
struct Probe {
    kind: ProbeKind,
    principal: SignInPath,
    expect: Option<Uuid>,
}

struct MatchRun {
    added_orgs: usize,
    indexed_orgs: usize,
    authoritative_domains: usize,
    build: Duration,
    timer_overhead: Duration,
    times: ProbeTimes,
}

/// Adds `per_kind` tenant and `per_kind` federated organizations (so that those sign-in
/// paths can hit), builds the index from the store and times every probe.
async fn matching_benchmark(
    app: &App,
    per_kind: usize,
    rng: &mut StdRng,
) -> anyhow::Result<MatchRun> {
    let per_kind = per_kind.max(1);
    seed_tenant_and_federated_orgs(app, per_kind, rng).await?;
    let entries = app.store.organization_entries().await?;
    let mut domains = app.store.authoritative_domains().await?;
    if let Some(tenant) = app.store.tenant().await? {
        domains.extend(tenant.verified_domains);
    }
    let probes = KnownSources::of(&entries)?.probes(rng);
    let (indexed_orgs, authoritative_domains) = (entries.len(), domains.len());
    let t = Instant::now();
    let index = OrganizationIndex::build(entries, domains);
    let build = t.elapsed();
    let times = tokio::task::spawn_blocking(move || time_probes(&index, &probes))
        .await
        .context("the matching benchmark panicked")?;
    Ok(MatchRun {
        added_orgs: 2 * per_kind,
        indexed_orgs,
        authoritative_domains,
        build,
        timer_overhead: timer_overhead(),
        times,
    })
}

/// Writes `count` tenant organizations and `count` federated ones through the store.
async fn seed_tenant_and_federated_orgs(
    app: &App,
    count: usize,
    rng: &mut StdRng,
) -> anyhow::Result<()> {
    let mut orgs = Vec::with_capacity(2 * count);
    for i in 0..count {
        let tenant_id = normalize_tenant_id(&Uuid::from_u128(rng.random()).to_string())?;
        orgs.push(seed_org(
            app,
            format!("Partner Tenant {i}"),
            IdentitySource::AzureActiveDirectoryTenant {
                tenant_id,
                display_name: format!("Partner Tenant {i}"),
            },
        ));
        let domain = DomainName::parse(&format!("fed-{i}.example"))?;
        orgs.push(seed_org(
            app,
            format!("Federated Partner {i}"),
            IdentitySource::ExternalDomainFederation {
                issuer_uri: normalize_issuer_uri(&format!("https://idp.{domain}/"))?,
                display_name: format!("Federated Partner {i}"),
                domain_name: domain,
            },
        ));
    }
    for batch in orgs.chunks(SEED_BATCH) {
        let mut tx = app.store.begin().await?;
        for org in batch {
            tx.insert_connected_organization(org).await?;
        }
        let first = batch.first().map_or_else(Uuid::nil, |o| o.id);
        let event = seed_event(
            app,
            Category::EntitlementManagement,
            "connectedOrganization",
            first,
            batch.len(),
        );
        tx.commit(&[event]).await?;
    }
    Ok(())
}

fn seed_org(app: &App, name: String, source: IdentitySource) -> ConnectedOrganization {
    let now = app.clock.now();
    ConnectedOrganization {
        id: app.ids.new_id(),
        display_name: name,
        description: String::new(),
        identity_sources: vec![source],
        state: ConnectedOrganizationState::Configured,
        created_date_time: now,
        modified_date_time: now,
    }
}

/// The sign-in values of the stored organizations, with the organization each belongs to.
struct KnownSources {
    otp_domains: Vec<(String, Uuid)>,
    tenants: Vec<(String, Uuid)>,
    /// (issuer, domain, organization)
    federations: Vec<(String, String, Uuid)>,
}

impl KnownSources {
    fn of(entries: &[OrganizationEntry]) -> anyhow::Result<Self> {
        let mut known = KnownSources {
            otp_domains: Vec::new(),
            tenants: Vec::new(),
            federations: Vec::new(),
        };
        for e in entries {
            for s in &e.identity_sources {
                match s {
                    IdentitySource::DomainIdentitySource { domain_name, .. } => {
                        known.otp_domains.push((domain_name.to_string(), e.id));
                    }
                    IdentitySource::AzureActiveDirectoryTenant { tenant_id, .. } => {
                        known.tenants.push((tenant_id.clone(), e.id));
                    }
                    IdentitySource::ExternalDomainFederation {
                        issuer_uri,
                        domain_name,
                        ..
                    } => {
                        let f = (issuer_uri.clone(), domain_name.to_string(), e.id);
                        known.federations.push(f);
                    }
                    _ => {}
                }
            }
        }
        ensure!(
            !known.otp_domains.is_empty()
                && !known.tenants.is_empty()
                && !known.federations.is_empty(),
            "the store holds no organizations of some identity-source kind"
        );
        Ok(known)
    }

    /// [`MATCH_CALLS_PER_KIND`] probes of every kind, shuffled.
    fn probes(&self, rng: &mut StdRng) -> Vec<Probe> {
        let mut probes = Vec::with_capacity(ProbeKind::ALL.len() * MATCH_CALLS_PER_KIND);
        for n in 0..MATCH_CALLS_PER_KIND {
            probes.extend(self.probe_set(n, rng));
        }
        probes.shuffle(rng);
        probes
    }

    /// Probe number `n` of each kind; every fourth hit is written in upper case.
    fn probe_set(&self, n: usize, rng: &mut StdRng) -> [Probe; 7] {
        let case = |s: &str| {
            if n.is_multiple_of(4) {
                s.to_ascii_uppercase()
            } else {
                s.to_owned()
            }
        };
        let otp = |domain: &str| SignInPath::EmailOneTimePasscode {
            email: format!("user{n}@{domain}"),
        };
        let tenant = |tenant_id: String| SignInPath::Tenant {
            tenant_id,
            object_id: format!("object-{n}"),
        };
        let federated = |issuer: String| SignInPath::Federated {
            issuer,
            subject: format!("subject-{n}"),
        };
        let (domain, domain_org) = &self.otp_domains[rng.random_range(0..self.otp_domains.len())];
        let (tenant_id, tenant_org) = &self.tenants[rng.random_range(0..self.tenants.len())];
        let (issuer, fed_domain, fed_org) =
            &self.federations[rng.random_range(0..self.federations.len())];
        let unknown_tenant = Uuid::from_u128(rng.random()).to_string();
        [
            probe(ProbeKind::OtpHit, otp(&case(domain)), Some(*domain_org)),
            probe(
                ProbeKind::OtpMiss,
                otp(&format!("unknown-{n}.example")),
                None,
            ),
            probe(ProbeKind::OtpFederatedDomain, otp(fed_domain), None),
            probe(
                ProbeKind::TenantHit,
                tenant(case(tenant_id)),
                Some(*tenant_org),
            ),
            probe(ProbeKind::TenantMiss, tenant(unknown_tenant), None),
            probe(
                ProbeKind::IssuerHit,
                federated(issuer.clone()),
                Some(*fed_org),
            ),
            probe(
                ProbeKind::IssuerMiss,
                federated(format!("https://login.unknown-{n}.example/")),
                None,
            ),
        ]
    }
}

fn probe(kind: ProbeKind, principal: SignInPath, expect: Option<Uuid>) -> Probe {
    Probe {
        kind,
        principal,
        expect,
    }
}

/// Per-call times of every probe, overall and by kind (with the number matched).
struct ProbeTimes {
    wrong: usize,
    all: Samples,
    by_kind: Vec<(ProbeKind, Samples, usize)>,
}

/// One untimed pass to warm caches, then one call per probe, each timed on its own.
fn time_probes(index: &OrganizationIndex, probes: &[Probe]) -> ProbeTimes {
    for p in probes {
        black_box(index.match_principal(black_box(&p.principal)));
    }
    let mut all = Vec::with_capacity(probes.len());
    let mut by_kind: Vec<(Vec<Duration>, usize)> = vec![(Vec::new(), 0); ProbeKind::ALL.len()];
    let mut wrong = 0;
    for p in probes {
        let t = Instant::now();
        let found = index.match_principal(black_box(&p.principal));
        let elapsed = t.elapsed();
        let found = black_box(found).map(|m| m.organization_id);
        wrong += usize::from(found != p.expect);
        all.push(elapsed);
        let slot = &mut by_kind[p.kind as usize];
        slot.0.push(elapsed);
        slot.1 += usize::from(found.is_some());
    }
    ProbeTimes {
        wrong,
        all: Samples::new(all),
        by_kind: ProbeKind::ALL
            .into_iter()
            .zip(by_kind)
            .map(|(kind, (times, hits))| (kind, Samples::new(times), hits))
            .collect(),
    }
}

/// The median cost of reading the clock twice, which every per-call time includes.
fn timer_overhead() -> Duration {
    let times = (0..10_000)
        .map(|_| {
            let t = Instant::now();
            t.elapsed()
        })
        .collect();
    Samples::new(times).percentile(50.0)
}

// ---------------------------------------------------------------------------------------------
// Statistics.
// ---------------------------------------------------------------------------------------------

/// Durations, sorted.
struct Samples(Vec<Duration>);

impl Samples {
    fn new(mut times: Vec<Duration>) -> Self {
        times.sort_unstable();
        Samples(times)
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    /// Nearest-rank percentile.
    fn percentile(&self, p: f64) -> Duration {
        let n = self.0.len();
        if n == 0 {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * n as f64).ceil() as usize;
        self.0[rank.clamp(1, n) - 1]
    }

    fn max(&self) -> Duration {
        self.0.last().copied().unwrap_or_default()
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn us(d: Duration) -> String {
    format!("{:.2} µs", d.as_secs_f64() * 1e6)
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(|| "n/a".into(), |k| format!("{:.0} MiB", k as f64 / 1024.0))
}

fn verdict(pass: bool) -> &'static str {
    if pass { "PASS" } else { "FAIL" }
}

// ---------------------------------------------------------------------------------------------
// The report.
// ---------------------------------------------------------------------------------------------

struct Memory {
    start: Option<u64>,
    seeded: Option<u64>,
    end: Option<u64>,
}

struct Report {
    command: String,
    date: String,
    args: BenchArgs,
    machine: Machine,
    storage: Storage,
    main: MainRun,
    single: CreateRun,
    memory: Memory,
    total: Duration,
}

/// One target: what, the goal, the measured value and whether it was met.
struct Check {
    what: String,
    target: String,
    measured: String,
    pass: bool,
}

impl Report {
    fn checks(&self) -> Vec<Check> {
        let mut checks: Vec<Check> = self
            .main
            .reads
            .iter()
            .map(|r| Check {
                what: format!("HTTP {}: p99", r.label),
                target: format!("< {}", ms(READ_P99_TARGET)),
                measured: ms(r.latency.percentile(99.0)),
                pass: r.latency.percentile(99.0) < READ_P99_TARGET,
            })
            .collect();
        let m = &self.main.matching.times;
        checks.push(Check {
            what: "match_principal: p99 (and every result correct)".into(),
            target: format!("< {}", us(MATCH_P99_TARGET)),
            measured: format!("{}, {} wrong", us(m.all.percentile(99.0)), m.wrong),
            pass: m.all.percentile(99.0) < MATCH_P99_TARGET && m.wrong == 0,
        });
        let c = &self.main.create;
        checks.push(Check {
            what: format!("bulk create, {} clients", c.clients),
            target: format!("≥ {CREATE_RATE_TARGET:.0} orgs/s"),
            measured: format!("{:.0} orgs/s", c.rate()),
            pass: c.rate() >= CREATE_RATE_TARGET,
        });
        checks
    }

    fn header(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = &self.machine;
        let s = &self.storage;
        writeln!(f, "# Benchmarks\n")?;
        writeln!(f, "Produced by `consulate bench` ({} build):\n", m.profile)?;
        writeln!(f, "```sh\n{}\n```\n", self.command)?;
        writeln!(f, "| | |\n|---|---|")?;
        writeln!(f, "| Date | {} |", self.date)?;
        writeln!(
            f,
            "| Machine | {} CPUs (`nproc`), {}, {} |",
            m.cpus, m.cpu_model, m.kernel
        )?;
        writeln!(f, "| Toolchain | {} (on `PATH` at run time) |", m.rustc)?;
        writeln!(
            f,
            "| Build | `cargo build --release -p consulate` (profile `{}`) |",
            m.profile
        )?;
        writeln!(
            f,
            "| Database | SQLite, WAL, `synchronous=FULL`, in {}; filesystem {} |",
            s.location, s.filesystem
        )?;
        writeln!(
            f,
            "| Disk | 4 KiB append + `fdatasync`: p50 {}, p99 {} ({} samples) |",
            ms(s.fsync.percentile(50.0)),
            ms(s.fsync.percentile(99.0)),
            s.fsync.len()
        )?;
        writeln!(f, "| Whole run | {:.0} s |\n", self.total.as_secs_f64())?;
        writeln!(
            f,
            "The server runs in the bench's own process (`server::start` on 127.0.0.1, an \
             ephemeral port) and shares its Tokio runtime ({} worker threads) with the HTTP \
             clients, which talk to it over real loopback TCP with keep-alive connections and \
             the bootstrap bearer token. Data and queries come from a fixed random seed.\n",
            m.cpus
        )?;
        writeln!(f, "## Data\n")?;
        writeln!(
            f,
            "- {} connected organizations, each with one `#microsoft.graph.domainIdentitySource` \
             (unique domain) and a name `<word> <word> <legal form>` from 10,240 combinations, \
             created over HTTP by the concurrent bulk create below.",
            self.main.create.orgs
        )?;
        writeln!(
            f,
            "- {} users (¾ members, ¼ guests with one identity; 1,600 distinct display names), \
             seeded as setup, not measured: written straight through the store, {} users per \
             transaction (`store.begin()`, `tx.insert_user` per user, `tx.commit` with one audit \
             event per batch), in {:.1} s.",
            self.main.users.ids.len(),
            SEED_BATCH,
            self.main.users.elapsed.as_secs_f64()
        )?;
        writeln!(
            f,
            "- Only for the matching section, after the HTTP reads: {} more organizations (half \
             `azureActiveDirectoryTenant`, half `externalDomainFederation`) written through the \
             store the same way, so that tenant and issuer sign-ins can hit.\n",
            self.main.matching.added_orgs
        )
    }

    fn reads(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "## 1. List, filter and search over HTTP\n")?;
        writeln!(
            f,
            "Method: one client sends one request at a time (no other load); {} untimed warm-up \
             requests, then {} timed ones per kind, each timed from sending the request to \
             the last byte of the body, with its parameter drawn at random from the seeded data \
             (prefixes of 3–12 characters of a real name, fragments of a word of a real name, \
             real domains and ids). `…` is `/v1.0/identityGovernance/entitlementManagement`. \
             Rows is the median number of objects returned. The deep pages are pages {}–{} of \
             the {} met by following `@odata.nextLink` from `?$orderby=displayName&$top=100` \
             (a walk that took {:.1} s).\n",
            WARMUP,
            self.args.samples,
            self.main.walk.first_deep_page(),
            self.main.walk.pages(),
            self.main.walk.pages(),
            self.main.walk.elapsed.as_secs_f64()
        )?;
        writeln!(
            f,
            "| Query | Example | Rows | p50 | p95 | p99 | max | Target p99 | Result |"
        )?;
        writeln!(f, "|---|---|--:|--:|--:|--:|--:|--:|---|")?;
        for r in &self.main.reads {
            let p99 = r.latency.percentile(99.0);
            writeln!(
                f,
                "| {} | {} | {} | {} | {} | {} | {} | < {} | {} |",
                r.label,
                r.example,
                r.median_rows,
                ms(r.latency.percentile(50.0)),
                ms(r.latency.percentile(95.0)),
                ms(p99),
                ms(r.latency.max()),
                ms(READ_P99_TARGET),
                verdict(p99 < READ_P99_TARGET)
            )?;
        }
        writeln!(f)
    }

    fn matching(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = &self.main.matching;
        let t = &m.times;
        writeln!(f, "## 2. Principal → connected organization, in-process\n")?;
        writeln!(
            f,
            "Method: the index is built with `OrganizationIndex::build` from \
             `store.organization_entries()` ({} organizations) and \
             `store.authoritative_domains()` plus the tenant's verified domains (authoritative \
             domains: {}), which took {}. Then {} `match_principal` calls, {} of each \
             kind below in shuffled order after one untimed pass, are each timed on their own \
             with `std::time::Instant` (reading the clock twice costs {} here, included). The \
             expected result of every call comes from the store's rows, not from the index; {} \
             calls returned something else. The maximum includes the thread being preempted.\n",
            m.indexed_orgs,
            m.authoritative_domains,
            ms(m.build),
            t.all.len(),
            MATCH_CALLS_PER_KIND,
            us(m.timer_overhead),
            t.wrong
        )?;
        writeln!(
            f,
            "| Sign-in path | Calls | Matched | p50 | p99 | max | Target p99 | Result |"
        )?;
        writeln!(f, "|---|--:|--:|--:|--:|--:|--:|---|")?;
        for (kind, times, hits) in &t.by_kind {
            writeln!(
                f,
                "| {} | {} | {} | {} | {} | {} | | |",
                kind.describe(),
                times.len(),
                hits,
                us(times.percentile(50.0)),
                us(times.percentile(99.0)),
                us(times.max())
            )?;
        }
        let p99 = t.all.percentile(99.0);
        writeln!(
            f,
            "| **all calls** | {} | {} | {} | {} | {} | < {} | {} |\n",
            t.all.len(),
            t.by_kind.iter().map(|(_, _, h)| h).sum::<usize>(),
            us(t.all.percentile(50.0)),
            us(p99),
            us(t.all.max()),
            us(MATCH_P99_TARGET),
            verdict(p99 < MATCH_P99_TARGET && t.wrong == 0)
        )
    }

    fn creates(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "## 3. Bulk create over HTTP (SQLite, `synchronous=FULL`)\n"
        )?;
        writeln!(
            f,
            "Method: `POST …/connectedOrganizations` with one \
             `#microsoft.graph.domainIdentitySource` (unique domain) per organization, from N \
             concurrent clients (one `reqwest` keep-alive client each) that each take the next \
             organization until all are created; every response must be 201. Rate = \
             organizations ÷ wall time from the first request to the last response. The \
             N = {} run fills the main database (which starts with only the bootstrap data); \
             the 1-client run creates the same organizations in a second new database beside \
             it.\n",
            self.main.create.clients
        )?;
        writeln!(
            f,
            "| Clients | Organizations | Wall time | Rate | Request p50 | Request p99 | Target | Result |"
        )?;
        writeln!(f, "|--:|--:|--:|--:|--:|--:|--:|---|")?;
        for (run, judged) in [(&self.main.create, true), (&self.single, false)] {
            let (target, result) = if judged {
                (
                    format!("≥ {CREATE_RATE_TARGET:.0}/s"),
                    verdict(run.rate() >= CREATE_RATE_TARGET),
                )
            } else {
                ("(reference)".to_owned(), "")
            };
            writeln!(
                f,
                "| {} | {} | {:.1} s | {:.0}/s | {} | {} | {} | {} |",
                run.clients,
                run.orgs,
                run.elapsed.as_secs_f64(),
                run.rate(),
                ms(run.latency.percentile(50.0)),
                ms(run.latency.percentile(99.0)),
                target,
                result
            )?;
        }
        writeln!(f)
    }

    fn memory(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "## 4. Memory\n")?;
        writeln!(
            f,
            "Method: `VmRSS` from `/proc/self/status`. The server runs inside the bench process, \
             so this is server **and** clients (HTTP clients, generated data, the matching \
             index and its probes); the server alone uses less. No target.\n"
        )?;
        writeln!(f, "| When | VmRSS |\n|---|--:|")?;
        writeln!(f, "| At start | {} |", mib(self.memory.start))?;
        writeln!(
            f,
            "| After seeding ({} organizations, {} users) | {} |",
            self.main.create.orgs,
            self.main.users.ids.len(),
            mib(self.memory.seeded)
        )?;
        writeln!(f, "| At the end | {} |\n", mib(self.memory.end))
    }

    fn summary(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "## Summary\n")?;
        writeln!(
            f,
            "| Target | Goal | Measured | Result |\n|---|--:|--:|---|"
        )?;
        for c in self.checks() {
            writeln!(
                f,
                "| {} | {} | {} | {} |",
                c.what,
                c.target,
                c.measured,
                verdict(c.pass)
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.header(f)?;
        self.reads(f)?;
        self.matching(f)?;
        self.creates(f)?;
        self.memory(f)?;
        self.summary(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let s = Samples::new((1..=100).rev().map(Duration::from_millis).collect());
        assert_eq!(s.percentile(50.0), Duration::from_millis(50));
        assert_eq!(s.percentile(99.0), Duration::from_millis(99));
        assert_eq!(s.percentile(100.0), Duration::from_millis(100));
        assert_eq!(s.max(), Duration::from_millis(100));
        assert_eq!(Samples::new(Vec::new()).percentile(99.0), Duration::ZERO);
    }

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
