//! Principal matching, in-process: after adding tenant and federated organizations, builds
//! the principal → connected-organization index from the store and times every
//! `match_principal` call on its own, checking each result against the store's rows.

use super::data::seed_tenant_and_federated_orgs;
use super::stats::Samples;
use anyhow::{Context as _, ensure};
use consulate_app::App;
use consulate_core::connected_org::IdentitySource;
use consulate_core::matching::{OrganizationEntry, OrganizationIndex, SignInPath};
use rand::Rng as _;
use rand::rngs::StdRng;
use rand::seq::SliceRandom as _;
use std::hint::black_box;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Timed `match_principal` calls per probe kind (7 kinds).
pub(super) const MATCH_CALLS_PER_KIND: usize = 15_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ProbeKind {
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

    pub(super) fn describe(self) -> &'static str {
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

pub(super) struct MatchRun {
    pub(super) added_orgs: usize,
    pub(super) indexed_orgs: usize,
    pub(super) authoritative_domains: usize,
    pub(super) build: Duration,
    pub(super) timer_overhead: Duration,
    pub(super) times: ProbeTimes,
}

/// Adds `per_kind` tenant and `per_kind` federated organizations (so that those sign-in
/// paths can hit), builds the index from the store and times every probe.
pub(super) async fn measure(
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
pub(super) struct ProbeTimes {
    pub(super) wrong: usize,
    pub(super) all: Samples,
    pub(super) by_kind: Vec<(ProbeKind, Samples, usize)>,
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
