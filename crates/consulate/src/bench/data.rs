//! The generated data: the organizations the bulk create POSTs, and the users and extra
//! organizations written straight through the store as setup (not measured), one
//! transaction and one audit event per batch. Every choice comes from the caller's seeded
//! random generator.

use super::TENANT_DOMAIN;
use consulate_app::App;
use consulate_core::access::Caller;
use consulate_core::audit::{AuditEvent, Category, TargetResource};
use consulate_core::connected_org::{
    ConnectedOrganization, ConnectedOrganizationState, IdentitySource, normalize_issuer_uri,
    normalize_tenant_id,
};
use consulate_core::directory::{ObjectIdentity, User, UserType};
use consulate_core::domain_name::DomainName;
use consulate_store::{StoreResult, WriteTx};
use rand::Rng as _;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom as _;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Rows written per seeding transaction.
pub(super) const SEED_BATCH: usize = 1_000;

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
pub(super) struct OrgSpec {
    pub(super) name: String,
    pub(super) domain: String,
}

/// `count` organizations named `<first> <second> <form>` (10,240 combinations, so names
/// repeat a little, as real ones do) with unique domains.
pub(super) fn org_plan(count: usize, rng: &mut StdRng) -> Vec<OrgSpec> {
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
pub(super) struct SeededUsers {
    pub(super) ids: Vec<Uuid>,
    pub(super) names: Vec<String>,
    pub(super) elapsed: Duration,
}

/// Writes `count` users straight through the store, [`SEED_BATCH`] per transaction, each
/// transaction committed with one audit event.
pub(super) async fn seed_users(
    app: &App,
    count: usize,
    rng: &mut StdRng,
) -> anyhow::Result<SeededUsers> {
    let started = Instant::now();
    let mut ids = Vec::with_capacity(count);
    let mut names = Vec::with_capacity(count);
    for start in (0..count).step_by(SEED_BATCH) {
        let batch: Vec<User> = (start..count.min(start + SEED_BATCH))
            .map(|i| seed_user(app, i, rng))
            .collect();
        insert_batch(app, &batch).await?;
        ids.extend(batch.iter().map(|u| u.id));
        names.extend(batch.into_iter().map(|u| u.display_name));
    }
    Ok(SeededUsers {
        ids,
        names,
        elapsed: started.elapsed(),
    })
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

/// Writes `count` tenant organizations and `count` federated ones through the store, so that
/// tenant and issuer sign-ins can hit in the matching section.
pub(super) async fn seed_tenant_and_federated_orgs(
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
        insert_batch(app, batch).await?;
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

/// An object the setup writes straight through the store.
trait Seeded {
    /// The audit category of its creation.
    const CATEGORY: Category;
    /// Its resource type, as audit events name it.
    const KIND: &str;
    fn id(&self) -> Uuid;
    async fn insert(&self, tx: &mut WriteTx) -> StoreResult<()>;
}

impl Seeded for User {
    const CATEGORY: Category = Category::UserManagement;
    const KIND: &str = "user";
    fn id(&self) -> Uuid {
        self.id
    }
    async fn insert(&self, tx: &mut WriteTx) -> StoreResult<()> {
        tx.insert_user(self).await
    }
}

impl Seeded for ConnectedOrganization {
    const CATEGORY: Category = Category::EntitlementManagement;
    const KIND: &str = "connectedOrganization";
    fn id(&self) -> Uuid {
        self.id
    }
    async fn insert(&self, tx: &mut WriteTx) -> StoreResult<()> {
        tx.insert_connected_organization(self).await
    }
}

/// Writes `batch` in one transaction, committed with one audit event that names the batch's
/// first object.
async fn insert_batch<T: Seeded>(app: &App, batch: &[T]) -> anyhow::Result<()> {
    let mut tx = app.store.begin().await?;
    for item in batch {
        item.insert(&mut tx).await?;
    }
    let first = batch.first().map_or_else(Uuid::nil, T::id);
    let event = AuditEvent::success(
        app.ids.new_id(),
        app.clock.now(),
        &Caller::system(),
        T::CATEGORY,
        &format!("Seed {} objects (consulate bench)", T::KIND),
        &format!("{}.create", T::KIND),
        TargetResource {
            id: first.to_string(),
            display_name: Some(format!("first of {} seeded", batch.len())),
            kind: T::KIND.into(),
            modified_properties: Vec::new(),
        },
    );
    tx.commit(&[event]).await?;
    Ok(())
}
