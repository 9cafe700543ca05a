//! Connected organizations: list, read, create, update, delete, sponsors, and matching an
//! authenticated principal to its organization.

use crate::{App, ServiceResult, prop, target};
use consulate_core::DomainError;
use consulate_core::access::{Caller, Operation, authorize};
use consulate_core::audit::Category;
use consulate_core::connected_org::{
    self, ConnectedOrganization, ConnectedOrganizationPatch, ConnectedOrganizationState,
    DomainAuthority, IdentitySource, SponsorKind,
};
use consulate_core::directory::{Group, User, UserType};
use consulate_core::domain_name::DomainName;
use consulate_core::error::ObjectKind;
use consulate_core::filter::OrganizationField;
use consulate_core::matching::{OrganizationIndex, OrganizationMatch, SignInPath};
use consulate_store::list::{ListQuery, Page};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How long a built principal→organization index is trusted before it is rebuilt, so that
/// changes made by other replicas are seen. Local changes invalidate it at once.
const INDEX_MAX_AGE: Duration = Duration::from_secs(5);

#[derive(Default)]
pub(crate) struct IndexCache {
    built: RwLock<Option<(Arc<OrganizationIndex>, Instant)>>,
}

impl IndexCache {
    pub(crate) fn invalidate(&self) {
        *self.built.write().expect("index lock") = None;
    }
}

/// A new organization as requested.
#[derive(Debug, Clone)]
pub struct NewConnectedOrganization {
    pub display_name: String,
    pub description: Option<String>,
    pub identity_sources: Vec<IdentitySource>,
    pub state: Option<ConnectedOrganizationState>,
}

/// What kind of object a `$ref` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    User,
    Group,
    /// `/directoryObjects/{id}`: a user or a group.
    DirectoryObject,
}

/// A sponsor: a user or a group.
#[derive(Debug, Clone)]
pub enum Sponsor {
    User(User),
    Group(Group),
}

impl App {
    pub async fn list_connected_organizations(
        &self,
        caller: &Caller,
        q: &ListQuery<OrganizationField>,
    ) -> ServiceResult<Page<ConnectedOrganization>> {
        authorize(caller, Operation::ReadConnectedOrganizations)?;
        Ok(self.store.list_connected_organizations(q).await?)
    }

    pub async fn get_connected_organization(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> ServiceResult<ConnectedOrganization> {
        authorize(caller, Operation::ReadConnectedOrganizations)?;
        Ok(self.store.connected_organization(id).await?)
    }

    /// Resolves plain domains that a known tenant or IdP is authoritative for, and refuses
    /// sources that name this tenant itself.
    async fn resolve_sources(
        &self,
        sources: Vec<IdentitySource>,
    ) -> ServiceResult<Vec<IdentitySource>> {
        let tenant = self.tenant().await?;
        let own_domains: Vec<DomainName> = tenant
            .as_ref()
            .map(|t| t.verified_domains.clone())
            .unwrap_or_default();
        let mut authorities: HashMap<DomainName, DomainAuthority> = HashMap::new();
        for s in &sources {
            if let Some(d) = s.domain_name() {
                if own_domains.contains(d) {
                    return Err(DomainError::invalid("identitySources", format!("'{d}' is a verified domain of this tenant; its users are members, not a connected organization")).into());
                }
                if let IdentitySource::DomainIdentitySource { .. } = s
                    && let Some(p) = self.store.domain_provider(d).await?
                {
                    match p.authority() {
                        Some(a) => {
                            authorities.insert(d.clone(), a);
                        }
                        None => {
                            return Err(DomainError::invalid("identitySources", format!("'{d}' is where the social provider '{}' signs people in; they are individuals, not an organization, so no connected organization is defined by it", p.display_name)).into());
                        }
                    }
                }
            }
            if let (Some(tid), Some(t)) = (s.tenant_id(), &tenant)
                && tid == t.id.to_string()
            {
                return Err(DomainError::invalid(
                    "identitySources",
                    "a connected organization cannot be this tenant itself",
                )
                .into());
            }
        }
        let resolved: Vec<IdentitySource> = sources
            .into_iter()
            .map(|s| connected_org::resolve_domain_source(s, &authorities))
            .collect();
        connected_org::validate_sources(&resolved)?;
        Ok(resolved)
    }

    pub async fn create_connected_organization(
        &self,
        caller: &Caller,
        new: NewConnectedOrganization,
    ) -> ServiceResult<ConnectedOrganization> {
        authorize(caller, Operation::WriteConnectedOrganizations)?;
        let (display_name, description) = connected_org::validate_new(
            &new.display_name,
            new.description.as_deref().unwrap_or(""),
            &new.identity_sources,
        )?;
        let identity_sources = self.resolve_sources(new.identity_sources).await?;
        let now = self.clock.now();
        let org = ConnectedOrganization {
            id: self.ids.new_id(),
            display_name,
            description,
            identity_sources,
            state: new.state.unwrap_or(ConnectedOrganizationState::Configured),
            created_date_time: now,
            modified_date_time: now,
        };
        self.store
            .check_sources_unclaimed(org.id, &org.identity_sources)
            .await?;
        let mut tx = self.store.begin().await?;
        tx.insert_connected_organization(&org).await?;
        let mut t = target("connectedOrganization", org.id, Some(&org.display_name));
        t.modified_properties = vec![
            prop("displayName", None, Some(org.display_name.clone())),
            prop("state", None, Some(org.state.as_str().into())),
            prop(
                "identitySources",
                None,
                Some(describe_sources(&org.identity_sources)),
            ),
        ];
        let event = self.event(
            caller,
            Category::EntitlementManagement,
            "Create connected organization",
            "connectedOrganization.create",
            t,
        );
        tx.commit(&[event]).await?;
        self.org_index.invalidate();
        Ok(org)
    }

    pub async fn update_connected_organization(
        &self,
        caller: &Caller,
        id: Uuid,
        mut patch: ConnectedOrganizationPatch,
    ) -> ServiceResult<ConnectedOrganization> {
        authorize(caller, Operation::WriteConnectedOrganizations)?;
        if let Some(sources) = patch.identity_sources.take() {
            connected_org::validate_sources(&sources)?;
            let sources = self.resolve_sources(sources).await?;
            self.store.check_sources_unclaimed(id, &sources).await?;
            patch.identity_sources = Some(sources);
        }
        let mut tx = self.store.begin().await?;
        let mut org = tx.connected_organization_for_update(id).await?;
        let before = org.clone();
        let changed = connected_org::apply_patch(&mut org, patch, self.clock.now())?;
        if changed.is_empty() {
            return Ok(org);
        }
        tx.update_connected_organization(
            &org,
            before.modified_date_time,
            changed.contains(&"identitySources"),
        )
        .await?;
        let mut t = target("connectedOrganization", org.id, Some(&org.display_name));
        for name in &changed {
            let (old, new) = match *name {
                "displayName" => (before.display_name.clone(), org.display_name.clone()),
                "description" => (before.description.clone(), org.description.clone()),
                "state" => (before.state.as_str().into(), org.state.as_str().into()),
                _ => (
                    describe_sources(&before.identity_sources),
                    describe_sources(&org.identity_sources),
                ),
            };
            t.modified_properties.push(prop(name, Some(old), Some(new)));
        }
        let event = self.event(
            caller,
            Category::EntitlementManagement,
            "Update connected organization",
            "connectedOrganization.update",
            t,
        );
        tx.commit(&[event]).await?;
        self.org_index.invalidate();
        Ok(org)
    }

    pub async fn delete_connected_organization(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> ServiceResult<()> {
        authorize(caller, Operation::WriteConnectedOrganizations)?;
        let mut tx = self.store.begin().await?;
        let org = tx.connected_organization_for_update(id).await?;
        let policies = tx
            .policies_referencing(
                consulate_store::policies::ReferenceKind::ConnectedOrganization,
                id,
            )
            .await?;
        if !policies.is_empty() {
            return Err(DomainError::conflict(format!(
                "The connected organization '{}' is named by the assignment polic(ies) {}; change them first",
                org.display_name,
                policies.join(", ")
            ))
            .into());
        }
        tx.delete_connected_organization(id).await?;
        let mut t = target("connectedOrganization", id, Some(&org.display_name));
        t.modified_properties.push(prop(
            "identitySources",
            Some(describe_sources(&org.identity_sources)),
            None,
        ));
        let event = self.event(
            caller,
            Category::EntitlementManagement,
            "Delete connected organization",
            "connectedOrganization.delete",
            t,
        );
        tx.commit(&[event]).await?;
        self.org_index.invalidate();
        Ok(())
    }

    /// A page of sponsors; the second value is the id to continue after, if any.
    pub async fn list_sponsors(
        &self,
        caller: &Caller,
        org: Uuid,
        kind: SponsorKind,
        top: u32,
        after: Option<&str>,
    ) -> ServiceResult<(Vec<Sponsor>, Option<String>)> {
        authorize(caller, Operation::ReadConnectedOrganizations)?;
        self.store.connected_organization(org).await?;
        let top = top.clamp(1, consulate_store::list::MAX_PAGE_SIZE);
        let (ids, more) = self.store.sponsors(org, kind, top, after).await?;
        let user_ids: Vec<Uuid> = ids.iter().filter(|(_, g)| !g).map(|(id, _)| *id).collect();
        let group_ids: Vec<Uuid> = ids.iter().filter(|(_, g)| *g).map(|(id, _)| *id).collect();
        let mut users: HashMap<Uuid, User> = self
            .store
            .users_by_ids(&user_ids)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        let mut groups: HashMap<Uuid, Group> = self
            .store
            .groups_by_ids(&group_ids)
            .await?
            .into_iter()
            .map(|g| (g.id, g))
            .collect();
        let next = if more {
            ids.last().map(|(id, _)| id.to_string())
        } else {
            None
        };
        let sponsors = ids
            .iter()
            .filter_map(|(id, is_group)| {
                if *is_group {
                    groups.remove(id).map(Sponsor::Group)
                } else {
                    users.remove(id).map(Sponsor::User)
                }
            })
            .collect();
        Ok((sponsors, next))
    }

    /// Adds a sponsor. Internal sponsors must be member users (or groups), external sponsors
    /// guest users (or groups). Adding an existing sponsor again is a no-op.
    pub async fn add_sponsor(
        &self,
        caller: &Caller,
        org: Uuid,
        kind: SponsorKind,
        ref_kind: RefKind,
        sponsor: Uuid,
    ) -> ServiceResult<()> {
        authorize(caller, Operation::WriteConnectedOrganizations)?;
        let mut tx = self.store.begin().await?;
        let organization = tx.connected_organization_for_update(org).await?;
        let (is_group, name) = match ref_kind {
            RefKind::User => (false, sponsor_user(&mut tx, kind, sponsor).await?),
            RefKind::Group => (true, tx.group(sponsor).await?.display_name),
            RefKind::DirectoryObject => match tx.user(sponsor).await {
                Ok(_) => (false, sponsor_user(&mut tx, kind, sponsor).await?),
                Err(consulate_store::StoreError::Domain(DomainError::NotFound { .. })) => match tx
                    .group(sponsor)
                    .await
                {
                    Ok(g) => (true, g.display_name),
                    Err(consulate_store::StoreError::Domain(DomainError::NotFound { .. })) => {
                        return Err(DomainError::not_found(
                            ObjectKind::DirectoryObject,
                            sponsor.to_string(),
                        )
                        .into());
                    }
                    Err(e) => return Err(e.into()),
                },
                Err(e) => return Err(e.into()),
            },
        };
        let now = self.clock.now();
        if !tx.add_sponsor(org, kind, sponsor, is_group, now).await? {
            return Ok(());
        }
        tx.touch_connected_organization(org, now).await?;
        let mut t = target(
            "connectedOrganization",
            org,
            Some(&organization.display_name),
        );
        t.modified_properties.push(prop(
            kind.property(),
            None,
            Some(format!("{sponsor} ({name})")),
        ));
        let activity = format!("Add {} sponsor to connected organization", kind.as_str());
        let mut event = self.event(
            caller,
            Category::EntitlementManagement,
            &activity,
            &format!("connectedOrganization.{}.add", kind.property()),
            t,
        );
        event.target_resources.push(target(
            if is_group { "group" } else { "user" },
            sponsor,
            Some(&name),
        ));
        tx.commit(&[event]).await?;
        Ok(())
    }

    pub async fn remove_sponsor(
        &self,
        caller: &Caller,
        org: Uuid,
        kind: SponsorKind,
        sponsor: Uuid,
    ) -> ServiceResult<()> {
        authorize(caller, Operation::WriteConnectedOrganizations)?;
        let mut tx = self.store.begin().await?;
        let organization = tx.connected_organization_for_update(org).await?;
        if !tx.remove_sponsor(org, kind, sponsor).await? {
            return Err(DomainError::not_found(
                ObjectKind::DirectoryObject,
                format!(
                    "{sponsor} in {} of connected organization {org}",
                    kind.property()
                ),
            )
            .into());
        }
        let now = self.clock.now();
        tx.touch_connected_organization(org, now).await?;
        let mut t = target(
            "connectedOrganization",
            org,
            Some(&organization.display_name),
        );
        t.modified_properties
            .push(prop(kind.property(), Some(sponsor.to_string()), None));
        let activity = format!(
            "Remove {} sponsor from connected organization",
            kind.as_str()
        );
        let event = self.event(
            caller,
            Category::EntitlementManagement,
            &activity,
            &format!("connectedOrganization.{}.remove", kind.property()),
            t,
        );
        tx.commit(&[event]).await?;
        Ok(())
    }

    /// The principal→organization index, rebuilt when stale.
    pub async fn organization_index(&self) -> ServiceResult<Arc<OrganizationIndex>> {
        if let Some((index, at)) = self.org_index.built.read().expect("index lock").as_ref()
            && at.elapsed() < INDEX_MAX_AGE
        {
            return Ok(index.clone());
        }
        let entries = self.store.organization_entries().await?;
        let mut domains = self.store.authoritative_domains().await?;
        if let Some(t) = self.tenant().await? {
            domains.extend(t.verified_domains);
        }
        let index = Arc::new(OrganizationIndex::build(entries, domains));
        *self.org_index.built.write().expect("index lock") = Some((index.clone(), Instant::now()));
        Ok(index)
    }

    /// Which connected organization an authenticated principal belongs to.
    pub async fn match_principal(
        &self,
        principal: &SignInPath,
    ) -> ServiceResult<Option<OrganizationMatch>> {
        Ok(self.organization_index().await?.match_principal(principal))
    }
}

async fn sponsor_user(
    tx: &mut consulate_store::WriteTx,
    kind: SponsorKind,
    id: Uuid,
) -> ServiceResult<String> {
    let user = tx.user(id).await?;
    match (kind, user.user_type) {
        (SponsorKind::Internal, UserType::Member) | (SponsorKind::External, UserType::Guest) => {
            Ok(user.display_name)
        }
        (SponsorKind::Internal, UserType::Guest) => Err(DomainError::invalid(
            "internalSponsors",
            format!("user {id} is a guest; internal sponsors must be members of this directory"),
        )
        .into()),
        (SponsorKind::External, UserType::Member) => Err(DomainError::invalid(
            "externalSponsors",
            format!(
                "user {id} is a member; external sponsors must be guest users from the partner"
            ),
        )
        .into()),
    }
}

/// A readable one-line summary of identity sources for audit records.
pub fn describe_sources(sources: &[IdentitySource]) -> String {
    sources
        .iter()
        .map(|s| match s {
            IdentitySource::AzureActiveDirectoryTenant { tenant_id, .. } => {
                format!("tenant {tenant_id}")
            }
            IdentitySource::CrossCloudAzureActiveDirectoryTenant {
                tenant_id,
                cloud_instance,
                ..
            } => format!("tenant {tenant_id} ({cloud_instance})"),
            IdentitySource::DomainIdentitySource { domain_name, .. } => {
                format!("domain {domain_name}")
            }
            IdentitySource::ExternalDomainFederation {
                domain_name,
                issuer_uri,
                ..
            } => format!("federation {domain_name} via {issuer_uri}"),
            IdentitySource::SocialIdentitySource {
                display_name,
                social_identity_source_type,
            } => format!(
                "social {} {display_name}",
                social_identity_source_type.as_str()
            ),
        })
        .collect::<Vec<_>>()
        .join("; ")
}
