//! What the signed-in user may request: builds the [`EligibilityIndex`] from the store (kept
//! for a few seconds, dropped at once by local changes to catalogs, packages and policies) and
//! the [`Requestor`] for the caller.

use crate::{App, ServiceResult};
use consulate_core::DomainError;
use consulate_core::access::{Caller, CallerIdentity, Operation, authorize};
use consulate_core::access_package::AccessPackage;
use consulate_core::directory::{ObjectIdentity, UserType};
use consulate_core::eligibility::{
    Denial, EligibilityIndex, Requestor, RequestorKind, RequestorOrganization,
};
use consulate_core::error::ObjectKind;
use consulate_core::matching::SignInPath;
use consulate_core::policy::AssignmentPolicy;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How long a built index is trusted, so that other replicas' changes are seen.
const INDEX_MAX_AGE: Duration = Duration::from_secs(5);

/// The built index. It holds packages, catalogs, incompatibilities and policies only, so it is
/// invalidated when those change; requests and assignments do not touch it (what a requestor
/// holds and which groups it is in are read per requestor).
#[derive(Default)]
pub(crate) struct EligibilityCache {
    built: RwLock<Option<(Arc<EligibilityIndex>, Instant)>>,
}

impl EligibilityCache {
    pub(crate) fn invalidate(&self) {
        *self.built.write().expect("eligibility lock") = None;
    }
}

/// The sign-in path a guest's stored identity stands for, to find its connected organization.
fn sign_in_path(identity: &ObjectIdentity) -> Option<SignInPath> {
    match identity.sign_in_type.to_ascii_lowercase().as_str() {
        "emailaddress" => Some(SignInPath::EmailOneTimePasscode {
            email: identity.issuer_assigned_id.clone(),
        }),
        "federated" if identity.issuer.contains(crate::sign_in::TENANT_SEPARATOR) => Some(
            crate::sign_in::external_sign_in_path(&identity.issuer, &identity.issuer_assigned_id),
        ),
        "federated" => {
            let issuer = identity.issuer.trim_end_matches('/');
            // An Entra tenant's issuer names the tenant: https://login.microsoftonline.com/{tid}/v2.0
            let tenant = issuer
                .strip_prefix("https://login.microsoftonline.com/")
                .and_then(|rest| rest.split('/').next())
                .filter(|t| Uuid::parse_str(t).is_ok());
            Some(match tenant {
                Some(t) => SignInPath::Tenant {
                    tenant_id: t.to_owned(),
                    object_id: identity.issuer_assigned_id.clone(),
                },
                None => SignInPath::Federated {
                    issuer: identity.issuer.clone(),
                    subject: identity.issuer_assigned_id.clone(),
                },
            })
        }
        _ => None,
    }
}

/// The requestor a directory user stands for.
fn directory_requestor(
    user_id: Uuid,
    user_type: UserType,
    organization: Option<RequestorOrganization>,
    groups: Vec<Uuid>,
    held: Vec<Uuid>,
) -> Requestor {
    Requestor {
        kind: match user_type {
            UserType::Member => RequestorKind::Member,
            UserType::Guest => RequestorKind::Guest,
        },
        user_id: Some(user_id),
        groups: groups.into_iter().collect(),
        organization,
        held_packages: held.into_iter().collect(),
    }
}

/// One page of the packages a user may request, in name order.
#[derive(Debug, Clone)]
pub struct RequestablePage {
    pub packages: Vec<AccessPackage>,
    /// (folded name, id) of the last package, when more follow.
    pub next: Option<(String, String)>,
}

impl App {
    /// The index, rebuilt when stale.
    pub async fn eligibility_index(&self) -> ServiceResult<Arc<EligibilityIndex>> {
        if let Some((ix, at)) = self
            .eligibility
            .built
            .read()
            .expect("eligibility lock")
            .as_ref()
            && at.elapsed() < INDEX_MAX_AGE
        {
            return Ok(ix.clone());
        }
        let facts = self.store.package_facts().await?;
        let policies = self.store.all_policies().await?;
        let ix = Arc::new(EligibilityIndex::build(facts, policies));
        *self.eligibility.built.write().expect("eligibility lock") =
            Some((ix.clone(), Instant::now()));
        Ok(ix)
    }

    /// The requestor behind a signed-in user.
    pub async fn requestor_for_user(&self, user_id: Uuid) -> ServiceResult<Requestor> {
        Ok(self.requestor_with_subject(user_id).await?.0)
    }

    /// The requestor behind a directory user, and whether the user has an
    /// `accessPackageSubject` record: one read for a member, three for a guest (whose stored
    /// identities find its connected organization).
    pub(crate) async fn requestor_with_subject(
        &self,
        user_id: Uuid,
    ) -> ServiceResult<(Requestor, bool)> {
        let facts = self
            .store
            .requestor_facts(user_id)
            .await?
            .ok_or_else(|| DomainError::not_found(ObjectKind::User, user_id.to_string()))?;
        let organization = match facts.user_type {
            UserType::Member => None,
            UserType::Guest => {
                self.organization_of_guest(&self.store.user(user_id).await?)
                    .await?
            }
        };
        let requestor = directory_requestor(
            user_id,
            facts.user_type,
            organization,
            facts.groups,
            facts.held_packages,
        );
        Ok((requestor, facts.has_subject))
    }

    /// The requestors behind several users at once (three reads of the store however many
    /// there are); users that do not exist are left out.
    pub async fn requestors_for_users(
        &self,
        users: &[Uuid],
    ) -> ServiceResult<std::collections::HashMap<Uuid, Requestor>> {
        let mut groups: std::collections::HashMap<Uuid, Vec<Uuid>> = Default::default();
        for (user, group) in self.store.group_ids_of_users(users).await? {
            groups.entry(user).or_default().push(group);
        }
        let mut held: std::collections::HashMap<Uuid, Vec<Uuid>> = Default::default();
        for (user, package) in self.store.held_packages_of(users).await? {
            held.entry(user).or_default().push(package);
        }
        let mut requestors = std::collections::HashMap::new();
        for user in self.store.users_by_ids(users).await? {
            let r = self
                .requestor_from(
                    &user,
                    groups.remove(&user.id).unwrap_or_default(),
                    held.remove(&user.id).unwrap_or_default(),
                )
                .await?;
            requestors.insert(user.id, r);
        }
        Ok(requestors)
    }

    /// The requestor a directory user stands for, given its groups and held packages: a guest
    /// is matched to its connected organization by its stored sign-in identities.
    async fn requestor_from(
        &self,
        user: &consulate_core::directory::User,
        groups: Vec<Uuid>,
        held: Vec<Uuid>,
    ) -> ServiceResult<Requestor> {
        let organization = match user.user_type {
            UserType::Member => None,
            UserType::Guest => self.organization_of_guest(user).await?,
        };
        Ok(directory_requestor(
            user.id,
            user.user_type,
            organization,
            groups,
            held,
        ))
    }

    /// The connected organization a guest belongs to, found by its stored sign-in identities.
    async fn organization_of_guest(
        &self,
        user: &consulate_core::directory::User,
    ) -> ServiceResult<Option<RequestorOrganization>> {
        for identity in &user.identities {
            if let Some(path) = sign_in_path(identity)
                && let Some(m) = self.match_principal(&path).await?
            {
                return Ok(Some(RequestorOrganization {
                    id: m.organization_id,
                    state: m.state,
                }));
            }
        }
        Ok(None)
    }

    /// The eligibility view of the caller: a directory user, or someone signed in from
    /// outside with no user yet.
    async fn requestor_for_caller(&self, caller: &Caller) -> ServiceResult<Requestor> {
        match &caller.identity {
            CallerIdentity::User { user_id, .. } => self.requestor_for_user(*user_id).await,
            CallerIdentity::External {
                issuer, subject, ..
            } => self.external_requestor(issuer, subject).await,
            _ => Err(DomainError::invalid(
                "caller",
                "this function answers for a signed-in user; application permissions are not supported",
            )
            .into()),
        }
    }

    /// `accessPackages/filterByCurrentUser(on='allowedRequestor')`: a page of the packages the
    /// caller may request (hidden ones are not listed), in name order after `after`. Only the
    /// page's packages are read from the store.
    pub async fn requestable_packages(
        &self,
        caller: &Caller,
        after: Option<(String, String)>,
        top: usize,
    ) -> ServiceResult<RequestablePage> {
        authorize(caller, Operation::ReadOwnAccess)?;
        let requestor = self.requestor_for_caller(caller).await?;
        let ix = self.eligibility_index().await?;
        let mut keys: Vec<(String, String, Uuid)> = ix
            .requestable(&requestor, false)
            .into_iter()
            .filter_map(|r| {
                ix.package(r.package_id)
                    .map(|p| (p.name_key.clone(), p.id.to_string(), p.id))
            })
            .collect();
        keys.sort_unstable();
        if let Some((k, id)) = &after {
            keys.retain(|(name, pid, _)| (name, pid) > (k, id));
        }
        let next = (keys.len() > top).then(|| (keys[top - 1].0.clone(), keys[top - 1].1.clone()));
        keys.truncate(top);
        let ids: Vec<Uuid> = keys.iter().map(|k| k.2).collect();
        let mut packages = self.store.access_packages_by_ids(&ids).await?;
        packages.sort_by_key(|p| ids.iter().position(|i| *i == p.id));
        Ok(RequestablePage { packages, next })
    }

    /// `accessPackages/{id}/getApplicablePolicyRequirements`: the policies of one package
    /// (hidden or not) under which the caller may request it, and why the others refuse.
    pub async fn applicable_policies(
        &self,
        caller: &Caller,
        package: Uuid,
    ) -> ServiceResult<(Vec<AssignmentPolicy>, Vec<(AssignmentPolicy, Denial)>)> {
        authorize(caller, Operation::ReadOwnAccess)?;
        self.store.access_package(package).await?;
        let requestor = self.requestor_for_caller(caller).await?;
        let ix = self.eligibility_index().await?;
        let verdicts = ix.explain(&requestor, package).unwrap_or_default();
        let mut allowed = Vec::new();
        let mut refused = Vec::new();
        for (p, v) in verdicts {
            match v {
                Ok(()) => allowed.push(p.clone()),
                Err(d) => refused.push((p.clone(), d)),
            }
        }
        Ok((allowed, refused))
    }
}

/// An access package as its link shows it to someone who may want it.
#[derive(Debug, Clone)]
pub struct PackageForRequestor {
    pub package: AccessPackage,
    /// Policies the caller may request under.
    pub allowed: Vec<AssignmentPolicy>,
    /// Why the others refuse, in plain words.
    pub refusals: Vec<String>,
    /// Whether the caller holds it already.
    pub held: bool,
}

impl App {
    /// The package behind a link (`/access-packages/{id}`), hidden or not, with what the
    /// caller may do about it.
    pub async fn package_for_requestor(
        &self,
        caller: &Caller,
        package: Uuid,
    ) -> ServiceResult<PackageForRequestor> {
        let (mut allowed, refused) = self.applicable_policies(caller, package).await?;
        let p = self.store.access_package(package).await?;
        let requestor = self.requestor_for_caller(caller).await?;
        let mut refusals: Vec<String> = refused.iter().map(|(_, d)| d.message()).collect();
        // A sign-in rule for this package refuses before any policy could help.
        match self.judge_request(caller, package, false).await {
            Ok(()) => {}
            Err(crate::ServiceError::Domain(e)) => {
                allowed.clear();
                refusals.insert(0, e.to_string());
            }
            Err(e) => return Err(e),
        }
        Ok(PackageForRequestor {
            held: requestor.held_packages.contains(&package),
            package: p,
            allowed,
            refusals,
        })
    }
}
