//! The targets, whether they were met, and the markdown report: how the run was set up, then
//! one section per measurement with its method and table, then a summary of the targets.

use super::create::CreateRun;
use super::data::SEED_BATCH;
use super::eligibility::EligibilityRun;
use super::machine::{Machine, Memory, Storage};
use super::matching::{MATCH_CALLS_PER_KIND, ProbeTimes};
use super::reads::{ReadResult, WARMUP};
use super::{MainRun, progress};
use crate::cli::BenchArgs;
use anyhow::Context as _;
use std::fmt;
use std::path::Path;
use std::time::Duration;

const READ_P99_TARGET: Duration = Duration::from_millis(10);
const MATCH_P99_TARGET: Duration = Duration::from_micros(20);
const CREATE_RATE_TARGET: f64 = 2_000.0;
const ELIGIBILITY_IN_PROCESS_P99: Duration = Duration::from_millis(2);
const ELIGIBILITY_HTTP_P99: Duration = Duration::from_millis(10);

/// Whether a read query kind met [`READ_P99_TARGET`].
fn read_met(r: &ReadResult) -> bool {
    r.latency.percentile(99.0) < READ_P99_TARGET
}

/// Whether matching met [`MATCH_P99_TARGET`] with every result correct.
fn matching_met(t: &ProbeTimes) -> bool {
    t.all.percentile(99.0) < MATCH_P99_TARGET && t.wrong == 0
}

/// Whether a bulk create met [`CREATE_RATE_TARGET`].
fn create_met(c: &CreateRun) -> bool {
    c.rate() >= CREATE_RATE_TARGET
}

/// Everything the report states.
pub(super) struct Report {
    pub(super) command: String,
    pub(super) date: String,
    pub(super) args: BenchArgs,
    pub(super) machine: Machine,
    pub(super) storage: Storage,
    pub(super) main: MainRun,
    pub(super) single: CreateRun,
    pub(super) eligibility: EligibilityRun,
    pub(super) memory: Memory,
    pub(super) total: Duration,
}

/// One target: what, the goal, the measured value and whether it was met.
struct Check {
    what: String,
    target: String,
    measured: String,
    pass: bool,
}

impl Report {
    /// Prints the report, and writes it to `output` when given.
    pub(super) fn publish(&self, output: Option<&Path>) -> anyhow::Result<()> {
        let markdown = self.to_string();
        print!("{markdown}");
        if let Some(path) = output {
            std::fs::write(path, &markdown)
                .with_context(|| format!("writing the report to {}", path.display()))?;
            progress(format_args!("report written to {}", path.display()));
        }
        Ok(())
    }

    /// How many targets were missed.
    pub(super) fn missed_targets(&self) -> usize {
        self.checks().iter().filter(|c| !c.pass).count()
    }

    fn checks(&self) -> Vec<Check> {
        let mut checks: Vec<Check> = self
            .main
            .reads
            .iter()
            .map(|r| Check {
                what: format!("HTTP {}: p99", r.label),
                target: format!("< {}", ms(READ_P99_TARGET)),
                measured: ms(r.latency.percentile(99.0)),
                pass: read_met(r),
            })
            .collect();
        let m = &self.main.matching.times;
        checks.push(Check {
            what: "match_principal: p99 (and every result correct)".into(),
            target: format!("< {}", us(MATCH_P99_TARGET)),
            measured: format!("{}, {} wrong", us(m.all.percentile(99.0)), m.wrong),
            pass: matching_met(m),
        });
        let c = &self.main.create;
        checks.push(Check {
            what: format!("bulk create, {} clients", c.clients),
            target: format!("≥ {CREATE_RATE_TARGET:.0} orgs/s"),
            measured: format!("{:.0} orgs/s", c.rate()),
            pass: create_met(c),
        });
        let e = &self.eligibility;
        checks.push(Check {
            what: "requestable packages for one guest, in-process: p99".into(),
            target: format!("< {}", ms(ELIGIBILITY_IN_PROCESS_P99)),
            measured: ms(e.in_process.percentile(99.0)),
            pass: e.in_process.percentile(99.0) < ELIGIBILITY_IN_PROCESS_P99,
        });
        checks.push(Check {
            what: "requestable packages for one guest, over HTTP: p99".into(),
            target: format!("< {}", ms(ELIGIBILITY_HTTP_P99)),
            measured: ms(e.http.percentile(99.0)),
            pass: e.http.percentile(99.0) < ELIGIBILITY_HTTP_P99,
        });
        checks
    }

    fn eligibility(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.eligibility;
        writeln!(
            f,
            "## 4. Who may request what, at Entra's tenant maxima
"
        )?;
        writeln!(
            f,
            "Data: a third new database filled over HTTP by {} concurrent clients: {} connected \
             organizations (one domain each), 100 groups, {} catalogs (every other one enabled \
             for external users), {} access packages (one in 20 hidden) and {} assignment \
             policies — one per package, the rest on random packages — with this scope mix:\n",
            e.clients, e.sizes.organizations, e.sizes.catalogs, e.sizes.packages, e.sizes.policies
        )?;
        writeln!(f, "| allowedTargetScope | Policies |\n|---|--:|")?;
        for (scope, n) in &e.scopes {
            writeln!(f, "| `{scope}` | {n} |")?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "| Created over HTTP | Count | Wall time | Rate |\n|---|--:|--:|--:|"
        )?;
        for c in &e.created {
            writeln!(
                f,
                "| {} | {} | {:.1} s | {:.0}/s |",
                c.what,
                c.count,
                c.elapsed.as_secs_f64(),
                c.rate()
            )?;
        }
        writeln!(
            f,
            "\nMethod: the requestor is a guest of one connected organization (matched by its \
             email domain). In-process: `EligibilityIndex::requestable` for that principal, built \
             once ({} from the store), {} timed calls after 20 untimed; it finds {} requestable \
             packages. Over HTTP: `GET …/accessPackages/filterByCurrentUser(on='allowedRequestor')` \
             with the guest's delegated token (first page: {} packages; each call resolves the \
             user, its groups and organization, and reads the page's packages), {} timed requests \
             after 20 untimed.\n",
            ms(e.index_build),
            e.in_process.len(),
            e.requestable,
            e.http_rows,
            e.http.len()
        )?;
        writeln!(
            f,
            "| Measurement | p50 | p99 | max | Target p99 | Result |\n|---|--:|--:|--:|--:|---|"
        )?;
        for (label, samples, target) in [
            ("in-process", &e.in_process, ELIGIBILITY_IN_PROCESS_P99),
            ("over HTTP", &e.http, ELIGIBILITY_HTTP_P99),
        ] {
            writeln!(
                f,
                "| {label} | {} | {} | {} | < {} | {} |",
                ms(samples.percentile(50.0)),
                ms(samples.percentile(99.0)),
                ms(samples.max()),
                ms(target),
                verdict(samples.percentile(99.0) < target)
            )?;
        }
        writeln!(f)
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
            writeln!(
                f,
                "| {} | {} | {} | {} | {} | {} | {} | < {} | {} |",
                r.label,
                r.example,
                r.median_rows,
                ms(r.latency.percentile(50.0)),
                ms(r.latency.percentile(95.0)),
                ms(r.latency.percentile(99.0)),
                ms(r.latency.max()),
                ms(READ_P99_TARGET),
                verdict(read_met(r))
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
        writeln!(
            f,
            "| **all calls** | {} | {} | {} | {} | {} | < {} | {} |\n",
            t.all.len(),
            t.by_kind.iter().map(|(_, _, h)| h).sum::<usize>(),
            us(t.all.percentile(50.0)),
            us(t.all.percentile(99.0)),
            us(t.all.max()),
            us(MATCH_P99_TARGET),
            verdict(matching_met(t))
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
                    verdict(create_met(run)),
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
        writeln!(f, "## 5. Memory\n")?;
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
        self.eligibility(f)?;
        self.memory(f)?;
        self.summary(f)
    }
}

/// The command line the bench was run with, quoted for a POSIX shell where needed.
pub(super) fn command_line() -> String {
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
