//! Users, groups and group membership.

use crate::{App, ServiceResult, target};
use consulate_core::DomainError;
use consulate_core::access::{Caller, Operation, authorize};
use consulate_core::audit::{Category, ModifiedProperty};
use consulate_core::directory::{self, Group, ObjectIdentity, User, UserType};
use consulate_core::filter::{GroupField, UserField};
use consulate_core::text;
use consulate_store::list::{ListQuery, Page};
use uuid::Uuid;

/// A new user as requested.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub display_name: String,
    pub user_principal_name: String,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub mail: Option<String>,
    pub user_type: Option<UserType>,
    pub account_enabled: Option<bool>,
    pub identities: Vec<ObjectIdentity>,
    pub creation_type: Option<String>,
    pub external_user_state: Option<String>,
}

/// Changes to a user; `None` leaves a field alone, `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub display_name: Option<String>,
    pub user_principal_name: Option<String>,
    pub given_name: Option<Option<String>>,
    pub surname: Option<Option<String>>,
    pub mail: Option<Option<String>>,
    pub user_type: Option<UserType>,
    pub account_enabled: Option<bool>,
    pub identities: Option<Vec<ObjectIdentity>>,
    pub external_user_state: Option<Option<String>>,
}

/// A new group as requested.
#[derive(Debug, Clone, Default)]
pub struct NewGroup {
    pub display_name: String,
    pub description: Option<String>,
    pub mail_nickname: String,
    pub security_enabled: Option<bool>,
    pub mail_enabled: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct GroupPatch {
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub mail_nickname: Option<String>,
    pub security_enabled: Option<bool>,
    pub mail_enabled: Option<bool>,
}

const EXTERNAL_STATES: [&str; 2] = ["PendingAcceptance", "Accepted"];

fn external_state(v: &str) -> Result<String, DomainError> {
    EXTERNAL_STATES
        .iter()
        .find(|s| s.eq_ignore_ascii_case(v))
        .map(|s| (*s).to_owned())
        .ok_or_else(|| {
            DomainError::invalid(
                "externalUserState",
                "externalUserState must be PendingAcceptance or Accepted",
            )
        })
}

fn opt_short(target: &str, v: Option<String>) -> Result<Option<String>, DomainError> {
    v.map(|s| directory::short_name(target, &s)).transpose()
}

fn change(props: &mut Vec<ModifiedProperty>, name: &str, old: String, new: String) {
    if old != new {
        props.push(ModifiedProperty {
            display_name: name.into(),
            old_value: Some(old),
            new_value: Some(new),
        });
    }
}

impl App {
    /// Members must have a user principal name in one of this tenant's verified domains.
    async fn check_member_upn(&self, user_type: UserType, upn: &str) -> ServiceResult<()> {
        if user_type != UserType::Member || upn.contains("#EXT#") {
            return Ok(());
        }
        let domain = upn
            .rsplit_once('@')
            .map(|(_, d)| d.to_ascii_lowercase())
            .unwrap_or_default();
        let tenant = self.tenant().await?;
        if let Some(t) = tenant
            && !t.verified_domains.iter().any(|d| d.as_str() == domain)
        {
            let list: Vec<&str> = t.verified_domains.iter().map(|d| d.as_str()).collect();
            return Err(DomainError::invalid(
                "userPrincipalName",
                format!("the domain portion of the userPrincipalName must be a verified domain of this tenant ({})", list.join(", ")),
            )
            .into());
        }
        Ok(())
    }

    /// This tenant, for `/organization` and `/domains`: readable by directory or
    /// entitlement-management readers.
    pub async fn get_tenant(
        &self,
        caller: &Caller,
    ) -> ServiceResult<Option<consulate_core::directory::Tenant>> {
        authorize(caller, Operation::ReadUsers)
            .or_else(|_| authorize(caller, Operation::ReadConnectedOrganizations))?;
        self.tenant().await
    }

    pub async fn list_users(
        &self,
        caller: &Caller,
        q: &ListQuery<UserField>,
    ) -> ServiceResult<Page<User>> {
        authorize(caller, Operation::ReadUsers)?;
        Ok(self.store.list_users(q).await?)
    }

    pub async fn get_user(&self, caller: &Caller, id: Uuid) -> ServiceResult<User> {
        authorize(caller, Operation::ReadUsers)?;
        Ok(self.store.user(id).await?)
    }

    /// A user by id or user principal name (Graph accepts both in `/users/{id | userPrincipalName}`).
    pub async fn get_user_by_key(&self, caller: &Caller, key: &str) -> ServiceResult<User> {
        authorize(caller, Operation::ReadUsers)?;
        if let Ok(id) = Uuid::parse_str(key) {
            return Ok(self.store.user(id).await?);
        }
        let found = if key.contains('@') && key.len() <= 400 {
            self.store.find_user(key).await?
        } else {
            None
        };
        match found {
            Some(u) if u.user_principal_name.eq_ignore_ascii_case(key.trim()) => Ok(u),
            _ => Err(DomainError::not_found(
                consulate_core::error::ObjectKind::User,
                key.chars().take(64).collect::<String>(),
            )
            .into()),
        }
    }

    pub async fn create_user(&self, caller: &Caller, new: NewUser) -> ServiceResult<User> {
        authorize(caller, Operation::WriteUsers)?;
        let user_type = new.user_type.unwrap_or(UserType::Member);
        let upn = directory::user_principal_name(&new.user_principal_name)?;
        self.check_member_upn(user_type, &upn).await?;
        directory::validate_identities(&new.identities)?;
        let user = User {
            id: self.ids.new_id(),
            display_name: text::display_name("displayName", &new.display_name)?,
            given_name: opt_short("givenName", new.given_name)?,
            surname: opt_short("surname", new.surname)?,
            mail: new.mail.map(|m| directory::mail_address(&m)).transpose()?,
            user_principal_name: upn,
            user_type,
            account_enabled: new.account_enabled.unwrap_or(true),
            identities: new.identities,
            creation_type: new
                .creation_type
                .map(|c| text::display_name("creationType", &c))
                .transpose()?,
            external_user_state: new
                .external_user_state
                .map(|s| external_state(&s))
                .transpose()?,
            created_date_time: self.clock.now(),
        };
        let mut tx = self.store.begin().await?;
        tx.insert_user(&user).await?;
        let mut t = target("user", user.id, Some(&user.user_principal_name));
        t.modified_properties.push(ModifiedProperty {
            display_name: "userType".into(),
            old_value: None,
            new_value: Some(user.user_type.as_str().into()),
        });
        let event = self.event(
            caller,
            Category::UserManagement,
            "Add user",
            "user.create",
            t,
        );
        tx.commit(&[event]).await?;
        Ok(user)
    }

    pub async fn update_user(
        &self,
        caller: &Caller,
        id: Uuid,
        patch: UserPatch,
    ) -> ServiceResult<User> {
        authorize(caller, Operation::WriteUsers)?;
        if patch.identities.is_some() {
            self.guard_privileged_credentials(caller, id, "changes the sign-in identities")
                .await?;
        }
        let mut tx = self.store.begin().await?;
        let mut u = tx.user(id).await?;
        let before = u.clone();
        if let Some(v) = patch.display_name {
            u.display_name = text::display_name("displayName", &v)?;
        }
        if let Some(v) = patch.user_principal_name {
            u.user_principal_name = directory::user_principal_name(&v)?;
        }
        if let Some(v) = patch.given_name {
            u.given_name = opt_short("givenName", v)?;
        }
        if let Some(v) = patch.surname {
            u.surname = opt_short("surname", v)?;
        }
        if let Some(v) = patch.mail {
            u.mail = v.map(|m| directory::mail_address(&m)).transpose()?;
        }
        if let Some(v) = patch.user_type {
            u.user_type = v;
        }
        if let Some(v) = patch.account_enabled {
            u.account_enabled = v;
        }
        if let Some(v) = patch.external_user_state {
            u.external_user_state = v.map(|s| external_state(&s)).transpose()?;
        }
        let identities_changed = match patch.identities {
            Some(ids) => {
                directory::validate_identities(&ids)?;
                let changed = ids != u.identities;
                u.identities = ids;
                changed
            }
            None => false,
        };
        if u.user_principal_name != before.user_principal_name || u.user_type != before.user_type {
            self.check_member_upn(u.user_type, &u.user_principal_name)
                .await?;
        }
        let mut props = Vec::new();
        change(
            &mut props,
            "displayName",
            before.display_name.clone(),
            u.display_name.clone(),
        );
        change(
            &mut props,
            "userPrincipalName",
            before.user_principal_name.clone(),
            u.user_principal_name.clone(),
        );
        change(
            &mut props,
            "mail",
            before.mail.clone().unwrap_or_default(),
            u.mail.clone().unwrap_or_default(),
        );
        change(
            &mut props,
            "userType",
            before.user_type.as_str().into(),
            u.user_type.as_str().into(),
        );
        change(
            &mut props,
            "accountEnabled",
            before.account_enabled.to_string(),
            u.account_enabled.to_string(),
        );
        change(
            &mut props,
            "givenName",
            before.given_name.clone().unwrap_or_default(),
            u.given_name.clone().unwrap_or_default(),
        );
        change(
            &mut props,
            "surname",
            before.surname.clone().unwrap_or_default(),
            u.surname.clone().unwrap_or_default(),
        );
        change(
            &mut props,
            "externalUserState",
            before.external_user_state.clone().unwrap_or_default(),
            u.external_user_state.clone().unwrap_or_default(),
        );
        if identities_changed {
            props.push(ModifiedProperty {
                display_name: "identities".into(),
                old_value: None,
                new_value: Some(format!("{} identities", u.identities.len())),
            });
        }
        if props.is_empty() {
            return Ok(u);
        }
        tx.update_user(&u, self.clock.now(), identities_changed)
            .await?;
        let mut t = target("user", u.id, Some(&u.user_principal_name));
        t.modified_properties = props;
        let event = self.event(
            caller,
            Category::UserManagement,
            "Update user",
            "user.update",
            t,
        );
        tx.commit(&[event]).await?;
        Ok(u)
    }

    /// Deletes a user; it disappears from groups and sponsor lists, and its tokens stop working.
    pub async fn delete_user(&self, caller: &Caller, id: Uuid) -> ServiceResult<()> {
        authorize(caller, Operation::WriteUsers)?;
        let mut tx = self.store.begin().await?;
        let u = tx.user(id).await?;
        // Its sessions end with it (they would otherwise stand for someone from outside).
        let now = self.clock.now();
        tx.revoke_sessions_of(consulate_core::sign_in::LOCAL_ISSUER, &id.to_string(), now)
            .await?;
        for i in &u.identities {
            tx.revoke_sessions_of(&i.issuer, &i.issuer_assigned_id, now)
                .await?;
        }
        tx.delete_user(id).await?;
        let event = self.event(
            caller,
            Category::UserManagement,
            "Delete user",
            "user.delete",
            target("user", id, Some(&u.user_principal_name)),
        );
        tx.commit(&[event]).await?;
        Ok(())
    }

    pub async fn list_groups(
        &self,
        caller: &Caller,
        q: &ListQuery<GroupField>,
    ) -> ServiceResult<Page<Group>> {
        authorize(caller, Operation::ReadGroups)?;
        Ok(self.store.list_groups(q).await?)
    }

    pub async fn get_group(&self, caller: &Caller, id: Uuid) -> ServiceResult<Group> {
        authorize(caller, Operation::ReadGroups)?;
        Ok(self.store.group(id).await?)
    }

    pub async fn create_group(&self, caller: &Caller, new: NewGroup) -> ServiceResult<Group> {
        authorize(caller, Operation::WriteGroups)?;
        let group = Group {
            id: self.ids.new_id(),
            display_name: text::display_name("displayName", &new.display_name)?,
            description: text::description(
                "description",
                new.description.as_deref().unwrap_or(""),
            )?,
            mail_nickname: directory::mail_nickname(&new.mail_nickname)?,
            security_enabled: new.security_enabled.unwrap_or(true),
            mail_enabled: new.mail_enabled.unwrap_or(false),
            created_date_time: self.clock.now(),
        };
        let mut tx = self.store.begin().await?;
        tx.insert_group(&group).await?;
        let event = self.event(
            caller,
            Category::GroupManagement,
            "Add group",
            "group.create",
            target("group", group.id, Some(&group.display_name)),
        );
        tx.commit(&[event]).await?;
        Ok(group)
    }

    pub async fn update_group(
        &self,
        caller: &Caller,
        id: Uuid,
        patch: GroupPatch,
    ) -> ServiceResult<Group> {
        authorize(caller, Operation::WriteGroups)?;
        let mut tx = self.store.begin().await?;
        let mut g = tx.group(id).await?;
        let before = g.clone();
        if let Some(v) = patch.display_name {
            g.display_name = text::display_name("displayName", &v)?;
        }
        if let Some(v) = patch.description {
            g.description = text::description("description", &v)?;
        }
        if let Some(v) = patch.mail_nickname {
            g.mail_nickname = directory::mail_nickname(&v)?;
        }
        if let Some(v) = patch.security_enabled {
            g.security_enabled = v;
        }
        if let Some(v) = patch.mail_enabled {
            g.mail_enabled = v;
        }
        let mut props = Vec::new();
        change(
            &mut props,
            "displayName",
            before.display_name.clone(),
            g.display_name.clone(),
        );
        change(
            &mut props,
            "description",
            before.description.clone(),
            g.description.clone(),
        );
        change(
            &mut props,
            "mailNickname",
            before.mail_nickname.clone(),
            g.mail_nickname.clone(),
        );
        change(
            &mut props,
            "securityEnabled",
            before.security_enabled.to_string(),
            g.security_enabled.to_string(),
        );
        change(
            &mut props,
            "mailEnabled",
            before.mail_enabled.to_string(),
            g.mail_enabled.to_string(),
        );
        if props.is_empty() {
            return Ok(g);
        }
        tx.update_group(&g, self.clock.now()).await?;
        let mut t = target("group", g.id, Some(&g.display_name));
        t.modified_properties = props;
        let event = self.event(
            caller,
            Category::GroupManagement,
            "Update group",
            "group.update",
            t,
        );
        tx.commit(&[event]).await?;
        Ok(g)
    }

    pub async fn delete_group(&self, caller: &Caller, id: Uuid) -> ServiceResult<()> {
        authorize(caller, Operation::WriteGroups)?;
        let mut tx = self.store.begin().await?;
        let g = tx.group(id).await?;
        let holders = tx
            .catalogs_holding(
                consulate_core::resource::OriginSystem::AadGroup,
                &id.to_string(),
            )
            .await?;
        if !holders.is_empty() {
            return Err(DomainError::conflict(format!(
                "The group is a resource of the catalog(s) {}; remove it from them first",
                holders.join(", ")
            ))
            .into());
        }
        let policies = tx
            .policies_referencing(consulate_store::policies::ReferenceKind::Group, id)
            .await?;
        if !policies.is_empty() {
            return Err(DomainError::conflict(format!(
                "The group is named by the assignment polic(ies) {}; change them first",
                policies.join(", ")
            ))
            .into());
        }
        tx.delete_group(id).await?;
        let event = self.event(
            caller,
            Category::GroupManagement,
            "Delete group",
            "group.delete",
            target("group", id, Some(&g.display_name)),
        );
        tx.commit(&[event]).await?;
        Ok(())
    }

    pub async fn list_group_members(
        &self,
        caller: &Caller,
        group: Uuid,
        q: &ListQuery<UserField>,
    ) -> ServiceResult<Page<User>> {
        authorize(caller, Operation::ReadGroups)?;
        self.store.group(group).await?;
        Ok(self.store.group_members(group, q).await?)
    }

    /// Adds a user to a group. Graph answers 400 when the member is already there.
    pub async fn add_group_member(
        &self,
        caller: &Caller,
        group: Uuid,
        user: Uuid,
    ) -> ServiceResult<()> {
        authorize(caller, Operation::WriteGroups)?;
        let mut tx = self.store.begin().await?;
        let g = tx.group(group).await?;
        let u = tx.user(user).await?;
        if !tx.add_group_member(group, user, self.clock.now()).await? {
            return Err(DomainError::invalid("members", "One or more added object references already exist for the following modified properties: 'members'.").into());
        }
        let mut event = self.event(
            caller,
            Category::GroupManagement,
            "Add member to group",
            "group.members.add",
            target("group", group, Some(&g.display_name)),
        );
        event
            .target_resources
            .push(target("user", user, Some(&u.user_principal_name)));
        tx.commit(&[event]).await?;
        Ok(())
    }

    pub async fn remove_group_member(
        &self,
        caller: &Caller,
        group: Uuid,
        user: Uuid,
    ) -> ServiceResult<()> {
        authorize(caller, Operation::WriteGroups)?;
        let mut tx = self.store.begin().await?;
        let g = tx.group(group).await?;
        if !tx.remove_group_member(group, user).await? {
            return Err(DomainError::not_found(
                consulate_core::error::ObjectKind::DirectoryObject,
                format!("{user} in members of group {group}"),
            )
            .into());
        }
        let mut event = self.event(
            caller,
            Category::GroupManagement,
            "Remove member from group",
            "group.members.remove",
            target("group", group, Some(&g.display_name)),
        );
        event.target_resources.push(target("user", user, None));
        tx.commit(&[event]).await?;
        Ok(())
    }
}
