//! Who may request what: for a requestor (a member, a guest, or an external identity matched —
//! or not — to a connected organization), the policies under which each access package may be
//! requested, and why not otherwise.
//!
//! [`evaluate`] is the rule for one policy and is the reference; [`EligibilityIndex`] answers
//! the same questions for a whole tenant without visiting every policy, by bucketing policies
//! by the kind of requestor they admit. Property tests hold the two to the same answers.
//!
//! The rules:
//! - the package's catalog must be published, and enabled for external users when the
//!   requestor is not a member of the directory;
//! - the policy must accept self requests (`enableTargetsToSelfAddAccess`, a target scope
//!   other than `notSpecified`, not an automatic policy);
//! - the requestor must be in the policy's target scope: *proposed* organizations are not in
//!   "all configured connected organizations" but are in scope for policies naming them;
//! - a package incompatible with one the requestor holds (either way round), or with a group
//!   the requestor is a member of, is refused;
//! - hidden packages are requestable (by link) but never listed.

use crate::connected_org::ConnectedOrganizationState;
use crate::policy::{AllowedTargetScope, AssignmentPolicy, SubjectSet};
use std::collections::{BTreeSet, HashMap, HashSet};
use uuid::Uuid;

/// What kind of requestor this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestorKind {
    /// A member user of the directory.
    Member,
    /// A guest user already in the directory.
    Guest,
    /// Someone signed in from outside who has no user in the directory yet.
    External,
}

/// The connected organization a requestor belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestorOrganization {
    pub id: Uuid,
    pub state: ConnectedOrganizationState,
}

/// Everything eligibility depends on about the requestor.
#[derive(Debug, Clone)]
pub struct Requestor {
    pub kind: RequestorKind,
    /// The directory user, for members and guests.
    pub user_id: Option<Uuid>,
    pub groups: HashSet<Uuid>,
    pub organization: Option<RequestorOrganization>,
    /// Access packages the requestor holds an active assignment of.
    pub held_packages: HashSet<Uuid>,
}

/// What eligibility needs to know about an access package.
#[derive(Debug, Clone)]
pub struct PackageFacts {
    pub id: Uuid,
    /// The folded display name: lists of packages are ordered by it, then by id.
    pub name_key: String,
    pub is_hidden: bool,
    pub catalog_published: bool,
    pub catalog_externally_visible: bool,
    /// Packages it is incompatible with, in either direction.
    pub incompatible_packages: BTreeSet<Uuid>,
    pub incompatible_groups: BTreeSet<Uuid>,
}

/// Why a policy does not let the requestor ask for its package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    CatalogNotPublished,
    CatalogNotExternallyVisible,
    /// The policy takes no self requests (direct assignment only, disabled, or automatic).
    PolicyNotRequestable,
    /// The requestor is not among the policy's allowed targets.
    NotInScope,
    /// The requestor holds an incompatible package.
    IncompatiblePackage(Uuid),
    /// The requestor is a member of an incompatible group.
    IncompatibleGroup(Uuid),
}

impl Denial {
    /// A sentence for the requestor.
    pub fn message(&self) -> String {
        match self {
            Self::CatalogNotPublished => "the access package's catalog is not published".into(),
            Self::CatalogNotExternallyVisible => {
                "the access package's catalog is not enabled for users outside the directory".into()
            }
            Self::PolicyNotRequestable => "the policy does not accept requests".into(),
            Self::NotInScope => "you are not among the users this policy lets request".into(),
            Self::IncompatiblePackage(p) => {
                format!("you hold access package {p}, which is incompatible with this one")
            }
            Self::IncompatibleGroup(g) => {
                format!("you are a member of group {g}, which is incompatible with this package")
            }
        }
    }
}

fn is_external(kind: RequestorKind) -> bool {
    kind != RequestorKind::Member
}

/// Whether the requestor is among a policy's allowed targets.
fn in_scope(r: &Requestor, p: &AssignmentPolicy) -> bool {
    let org = r.organization;
    match p.allowed_target_scope {
        AllowedTargetScope::NotSpecified => false,
        AllowedTargetScope::AllMemberUsers => r.kind == RequestorKind::Member,
        AllowedTargetScope::AllDirectoryUsers => r.kind != RequestorKind::External,
        AllowedTargetScope::SpecificDirectoryUsers => {
            r.kind != RequestorKind::External
                && p.specific_allowed_targets.iter().any(|t| match t {
                    SubjectSet::SingleUser { user_id, .. } => r.user_id == Some(*user_id),
                    SubjectSet::GroupMembers { group_id, .. } => r.groups.contains(group_id),
                    _ => false,
                })
        }
        AllowedTargetScope::SpecificConnectedOrganizationUsers => {
            is_external(r.kind)
                && org.is_some_and(|o| {
                    p.specific_allowed_targets.iter().any(|t| {
                        matches!(t, SubjectSet::ConnectedOrganizationMembers { connected_organization_id, .. } if *connected_organization_id == o.id)
                    })
                })
        }
        AllowedTargetScope::AllConfiguredConnectedOrganizationUsers => {
            is_external(r.kind) && org.is_some_and(|o| o.state.in_all_configured_scope())
        }
        AllowedTargetScope::AllExternalUsers => is_external(r.kind),
    }
}

/// The reference rule: may `r` request `package` under `policy`?
pub fn evaluate(
    r: &Requestor,
    policy: &AssignmentPolicy,
    package: &PackageFacts,
) -> Result<(), Denial> {
    if !package.catalog_published {
        return Err(Denial::CatalogNotPublished);
    }
    if !policy.accepts_self_requests() {
        return Err(Denial::PolicyNotRequestable);
    }
    if !in_scope(r, policy) {
        return Err(Denial::NotInScope);
    }
    if is_external(r.kind) && !package.catalog_externally_visible {
        return Err(Denial::CatalogNotExternallyVisible);
    }
    if let Some(p) = package
        .incompatible_packages
        .iter()
        .find(|p| r.held_packages.contains(p))
    {
        return Err(Denial::IncompatiblePackage(*p));
    }
    if let Some(g) = package
        .incompatible_groups
        .iter()
        .find(|g| r.groups.contains(g))
    {
        return Err(Denial::IncompatibleGroup(*g));
    }
    Ok(())
}

/// A tenant's policies, bucketed by whom they admit. Policies that accept no self requests,
/// or whose catalog is unpublished, are left out: they can never admit anyone.
#[derive(Debug, Default)]
pub struct EligibilityIndex {
    policies: Vec<AssignmentPolicy>,
    packages: HashMap<Uuid, PackageFacts>,
    by_package: HashMap<Uuid, Vec<usize>>,
    all_members: Vec<usize>,
    all_directory: Vec<usize>,
    all_configured: Vec<usize>,
    all_external: Vec<usize>,
    by_user: HashMap<Uuid, Vec<usize>>,
    by_group: HashMap<Uuid, Vec<usize>>,
    by_organization: HashMap<Uuid, Vec<usize>>,
}

/// One requestable package and the policies that admit the requestor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requestable {
    pub package_id: Uuid,
    pub policy_ids: Vec<Uuid>,
}

impl EligibilityIndex {
    pub fn build(
        packages: impl IntoIterator<Item = PackageFacts>,
        policies: impl IntoIterator<Item = AssignmentPolicy>,
    ) -> Self {
        let mut ix = EligibilityIndex {
            packages: packages.into_iter().map(|p| (p.id, p)).collect(),
            ..Default::default()
        };
        for p in policies {
            let Some(pkg) = ix.packages.get(&p.access_package_id) else {
                continue;
            };
            let i = ix.policies.len();
            ix.by_package
                .entry(p.access_package_id)
                .or_default()
                .push(i);
            if pkg.catalog_published && p.accepts_self_requests() {
                match p.allowed_target_scope {
                    AllowedTargetScope::NotSpecified => {}
                    AllowedTargetScope::AllMemberUsers => ix.all_members.push(i),
                    AllowedTargetScope::AllDirectoryUsers => ix.all_directory.push(i),
                    AllowedTargetScope::AllConfiguredConnectedOrganizationUsers => {
                        ix.all_configured.push(i)
                    }
                    AllowedTargetScope::AllExternalUsers => ix.all_external.push(i),
                    AllowedTargetScope::SpecificDirectoryUsers
                    | AllowedTargetScope::SpecificConnectedOrganizationUsers => {
                        for t in &p.specific_allowed_targets {
                            let (map, key) = match t {
                                SubjectSet::SingleUser { user_id, .. } => {
                                    (&mut ix.by_user, *user_id)
                                }
                                SubjectSet::GroupMembers { group_id, .. } => {
                                    (&mut ix.by_group, *group_id)
                                }
                                SubjectSet::ConnectedOrganizationMembers {
                                    connected_organization_id,
                                    ..
                                } => (&mut ix.by_organization, *connected_organization_id),
                                _ => continue,
                            };
                            let list = map.entry(key).or_default();
                            if list.last() != Some(&i) {
                                list.push(i);
                            }
                        }
                    }
                }
            }
            ix.policies.push(p);
        }
        ix
    }

    pub fn policy_count(&self) -> usize {
        self.policies.len()
    }

    /// What the index knows about one package.
    pub fn package(&self, id: Uuid) -> Option<&PackageFacts> {
        self.packages.get(&id)
    }

    /// The policies that might admit `r`: every bucket that matches its kind.
    fn candidates(&self, r: &Requestor) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::new();
        let mut add = |v: Option<&Vec<usize>>| {
            if let Some(v) = v {
                out.extend_from_slice(v);
            }
        };
        if r.kind == RequestorKind::Member {
            add(Some(&self.all_members));
        }
        if r.kind != RequestorKind::External {
            add(Some(&self.all_directory));
            if let Some(u) = r.user_id {
                add(self.by_user.get(&u));
            }
            for g in &r.groups {
                add(self.by_group.get(g));
            }
        }
        if is_external(r.kind) {
            add(Some(&self.all_external));
            if let Some(o) = r.organization {
                add(self.by_organization.get(&o.id));
                if o.state.in_all_configured_scope() {
                    add(Some(&self.all_configured));
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The packages `r` may request, each with the policies that admit it. Hidden packages
    /// are left out unless `include_hidden`.
    pub fn requestable(&self, r: &Requestor, include_hidden: bool) -> Vec<Requestable> {
        let mut by_package: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for i in self.candidates(r) {
            let p = &self.policies[i];
            let pkg = &self.packages[&p.access_package_id];
            if (include_hidden || !pkg.is_hidden) && evaluate(r, p, pkg).is_ok() {
                by_package.entry(pkg.id).or_default().push(p.id);
            }
        }
        let mut out: Vec<Requestable> = by_package
            .into_iter()
            .map(|(package_id, policy_ids)| Requestable {
                package_id,
                policy_ids,
            })
            .collect();
        out.sort_by_key(|r| r.package_id);
        out
    }

    /// Every policy of one package with the verdict for `r` (`None` for an unknown package).
    pub fn explain(
        &self,
        r: &Requestor,
        package: Uuid,
    ) -> Option<Vec<(&AssignmentPolicy, Result<(), Denial>)>> {
        let pkg = self.packages.get(&package)?;
        Some(
            self.by_package
                .get(&package)
                .map(|v| {
                    v.iter()
                        .map(|&i| (&self.policies[i], evaluate(r, &self.policies[i], pkg)))
                        .collect()
                })
                .unwrap_or_default(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Timestamp;
    use crate::policy::{ApprovalSettings, Expiration, RequestorSettings};

    /// A small deterministic generator (xorshift), so the property test needs no crates.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn chance(&mut self, percent: u64) -> bool {
            self.next() % 100 < percent
        }
        fn pick<T: Copy>(&mut self, v: &[T]) -> T {
            v[self.below(v.len())]
        }
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn policy(
        package: Uuid,
        scope: AllowedTargetScope,
        targets: Vec<SubjectSet>,
    ) -> AssignmentPolicy {
        AssignmentPolicy {
            id: Uuid::now_v7(),
            access_package_id: package,
            catalog_id: Uuid::nil(),
            display_name: "p".into(),
            description: String::new(),
            allowed_target_scope: scope,
            specific_allowed_targets: targets,
            expiration: Expiration::NoExpiration,
            requestor_settings: RequestorSettings {
                enable_targets_to_self_add_access: true,
                ..Default::default()
            },
            approval_settings: ApprovalSettings::default(),
            review_settings: None,
            automatic_request_settings: None,
            is_assignment_notification_disabled: false,
            questions: Vec::new(),
            created_date_time: Timestamp::UNIX_EPOCH,
            modified_date_time: Timestamp::UNIX_EPOCH,
            version: 1,
        }
    }

    fn package(n: u128) -> PackageFacts {
        PackageFacts {
            id: id(n),
            name_key: format!("p{n}"),
            is_hidden: false,
            catalog_published: true,
            catalog_externally_visible: true,
            incompatible_packages: BTreeSet::new(),
            incompatible_groups: BTreeSet::new(),
        }
    }

    fn external(org: Option<(u128, ConnectedOrganizationState)>) -> Requestor {
        Requestor {
            kind: RequestorKind::External,
            user_id: None,
            groups: HashSet::new(),
            organization: org.map(|(n, state)| RequestorOrganization { id: id(n), state }),
            held_packages: HashSet::new(),
        }
    }

    #[test]
    fn proposed_organizations_only_where_named() {
        use ConnectedOrganizationState::*;
        let all = policy(
            id(1),
            AllowedTargetScope::AllConfiguredConnectedOrganizationUsers,
            vec![],
        );
        let named = policy(
            id(2),
            AllowedTargetScope::SpecificConnectedOrganizationUsers,
            vec![SubjectSet::ConnectedOrganizationMembers {
                connected_organization_id: id(50),
                description: String::new(),
            }],
        );
        let anyone = policy(id(3), AllowedTargetScope::AllExternalUsers, vec![]);
        let ix =
            EligibilityIndex::build([package(1), package(2), package(3)], [all, named, anyone]);
        let pkgs = |r: &Requestor| -> Vec<Uuid> {
            ix.requestable(r, false)
                .into_iter()
                .map(|x| x.package_id)
                .collect()
        };
        assert_eq!(
            pkgs(&external(Some((50, Configured)))),
            vec![id(1), id(2), id(3)]
        );
        assert_eq!(pkgs(&external(Some((50, Proposed)))), vec![id(2), id(3)]);
        assert_eq!(pkgs(&external(Some((51, Configured)))), vec![id(1), id(3)]);
        assert_eq!(
            pkgs(&external(None)),
            vec![id(3)],
            "unknown: anyone policies only"
        );
        let member = Requestor {
            kind: RequestorKind::Member,
            ..external(None)
        };
        assert!(pkgs(&member).is_empty(), "members are not external users");
    }

    #[test]
    fn hidden_disabled_unpublished_and_incompatible() {
        let mut hidden = package(1);
        hidden.is_hidden = true;
        let mut closed = package(2);
        closed.catalog_externally_visible = false;
        let mut unpublished = package(3);
        unpublished.catalog_published = false;
        let mut incompatible = package(4);
        incompatible.incompatible_packages.insert(id(99));
        let mut disabled = policy(id(5), AllowedTargetScope::AllExternalUsers, vec![]);
        disabled
            .requestor_settings
            .enable_targets_to_self_add_access = false;
        let ix = EligibilityIndex::build(
            [hidden, closed, unpublished, incompatible, package(5)],
            (1..=4)
                .map(|n| policy(id(n), AllowedTargetScope::AllExternalUsers, vec![]))
                .chain([disabled]),
        );
        let mut r = external(None);
        r.held_packages.insert(id(99));
        let listed: Vec<Uuid> = ix
            .requestable(&r, false)
            .into_iter()
            .map(|x| x.package_id)
            .collect();
        assert!(listed.is_empty(), "{listed:?}");
        let by_link: Vec<Uuid> = ix
            .requestable(&r, true)
            .into_iter()
            .map(|x| x.package_id)
            .collect();
        assert_eq!(
            by_link,
            vec![id(1)],
            "hidden packages are requestable by link"
        );
        let why = |n| ix.explain(&r, id(n)).unwrap()[0].1.clone();
        assert_eq!(why(2), Err(Denial::CatalogNotExternallyVisible));
        assert_eq!(why(3), Err(Denial::CatalogNotPublished));
        assert_eq!(why(4), Err(Denial::IncompatiblePackage(id(99))));
        assert_eq!(why(5), Err(Denial::PolicyNotRequestable));
        assert!(ix.explain(&r, id(77)).is_none());
    }

    #[test]
    fn directory_scopes() {
        let single = policy(
            id(1),
            AllowedTargetScope::SpecificDirectoryUsers,
            vec![SubjectSet::SingleUser {
                user_id: id(500),
                description: String::new(),
            }],
        );
        let group = policy(
            id(2),
            AllowedTargetScope::SpecificDirectoryUsers,
            vec![SubjectSet::GroupMembers {
                group_id: id(600),
                description: String::new(),
            }],
        );
        let members = policy(id(3), AllowedTargetScope::AllMemberUsers, vec![]);
        let everyone = policy(id(4), AllowedTargetScope::AllDirectoryUsers, vec![]);
        let ix = EligibilityIndex::build((1..=4).map(package), [single, group, members, everyone]);
        let guest = Requestor {
            kind: RequestorKind::Guest,
            user_id: Some(id(500)),
            groups: [id(600)].into_iter().collect(),
            organization: None,
            held_packages: HashSet::new(),
        };
        let pkgs: Vec<Uuid> = ix
            .requestable(&guest, false)
            .into_iter()
            .map(|x| x.package_id)
            .collect();
        assert_eq!(pkgs, vec![id(1), id(2), id(4)]);
        let stranger = Requestor {
            kind: RequestorKind::Member,
            user_id: Some(id(501)),
            groups: HashSet::new(),
            organization: None,
            held_packages: HashSet::new(),
        };
        let pkgs: Vec<Uuid> = ix
            .requestable(&stranger, false)
            .into_iter()
            .map(|x| x.package_id)
            .collect();
        assert_eq!(pkgs, vec![id(3), id(4)]);
    }

    /// The index agrees with evaluating every policy, over random tenants and requestors.
    #[test]
    fn index_agrees_with_the_reference() {
        use ConnectedOrganizationState::*;
        let scopes = AllowedTargetScope::ALL;
        for seed in 1..=200u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
            let n_packages = 1 + rng.below(12);
            let users: Vec<Uuid> = (0..6).map(|n| id(1000 + n)).collect();
            let groups: Vec<Uuid> = (0..4).map(|n| id(2000 + n)).collect();
            let orgs: Vec<Uuid> = (0..4).map(|n| id(3000 + n)).collect();
            let packages: Vec<PackageFacts> = (0..n_packages)
                .map(|n| {
                    let mut p = package(n as u128 + 1);
                    p.is_hidden = rng.chance(15);
                    p.catalog_published = rng.chance(85);
                    p.catalog_externally_visible = rng.chance(70);
                    if rng.chance(20) {
                        p.incompatible_packages
                            .insert(id(rng.below(n_packages) as u128 + 1));
                    }
                    if rng.chance(20) {
                        p.incompatible_groups.insert(rng.pick(&groups));
                    }
                    p
                })
                .collect();
            let policies: Vec<AssignmentPolicy> = (0..rng.below(30))
                .map(|_| {
                    let scope = rng.pick(&scopes);
                    let targets = match scope {
                        AllowedTargetScope::SpecificDirectoryUsers => (0..1 + rng.below(3))
                            .map(|_| {
                                if rng.chance(50) {
                                    SubjectSet::SingleUser {
                                        user_id: rng.pick(&users),
                                        description: String::new(),
                                    }
                                } else {
                                    SubjectSet::GroupMembers {
                                        group_id: rng.pick(&groups),
                                        description: String::new(),
                                    }
                                }
                            })
                            .collect(),
                        AllowedTargetScope::SpecificConnectedOrganizationUsers => (0..1 + rng
                            .below(3))
                            .map(|_| SubjectSet::ConnectedOrganizationMembers {
                                connected_organization_id: rng.pick(&orgs),
                                description: String::new(),
                            })
                            .collect(),
                        _ => Vec::new(),
                    };
                    let mut p = policy(id(rng.below(n_packages) as u128 + 1), scope, targets);
                    p.requestor_settings.enable_targets_to_self_add_access = rng.chance(85);
                    if rng.chance(5) {
                        p.automatic_request_settings = Some(serde_json::json!({}));
                    }
                    p
                })
                .collect();
            let ix = EligibilityIndex::build(packages.clone(), policies.clone());
            for _ in 0..20 {
                let kind = rng.pick(&[
                    RequestorKind::Member,
                    RequestorKind::Guest,
                    RequestorKind::External,
                ]);
                let r = Requestor {
                    kind,
                    user_id: (kind != RequestorKind::External).then(|| rng.pick(&users)),
                    groups: groups
                        .iter()
                        .copied()
                        .filter(|_| kind != RequestorKind::External && rng.chance(30))
                        .collect(),
                    organization: (kind != RequestorKind::Member && rng.chance(70)).then(|| {
                        RequestorOrganization {
                            id: rng.pick(&orgs),
                            state: if rng.chance(70) { Configured } else { Proposed },
                        }
                    }),
                    held_packages: packages
                        .iter()
                        .map(|p| p.id)
                        .filter(|_| rng.chance(15))
                        .collect(),
                };
                for include_hidden in [false, true] {
                    let mut expected: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
                    for p in &policies {
                        let pkg = packages
                            .iter()
                            .find(|x| x.id == p.access_package_id)
                            .unwrap();
                        if (include_hidden || !pkg.is_hidden) && evaluate(&r, p, pkg).is_ok() {
                            expected.entry(pkg.id).or_default().push(p.id);
                        }
                    }
                    let mut expected: Vec<Requestable> = expected
                        .into_iter()
                        .map(|(package_id, mut policy_ids)| {
                            policy_ids.sort();
                            Requestable {
                                package_id,
                                policy_ids,
                            }
                        })
                        .collect();
                    expected.sort_by_key(|x| x.package_id);
                    let mut got = ix.requestable(&r, include_hidden);
                    for g in &mut got {
                        g.policy_ids.sort();
                    }
                    assert_eq!(got, expected, "seed {seed}, requestor {r:?}");
                }
            }
        }
    }
}
