//! A user's manager and sponsors: set by administrators, read by anyone who reads users, and
//! used as approvers (`requestorManager`, `targetUserSponsors`).

use crate::{App, ServiceResult, prop, target};
use consulate_core::DomainError;
use consulate_core::access::{Caller, Operation, authorize};
use consulate_core::audit::Category;
use consulate_core::directory::User;
use consulate_core::error::ObjectKind;
use uuid::Uuid;

impl App {
    pub async fn manager(&self, caller: &Caller, user: Uuid) -> ServiceResult<User> {
        authorize(caller, Operation::ReadUsers)?;
        self.store.user(user).await?;
        self.store.manager_of(user).await?.ok_or_else(|| {
            DomainError::not_found(ObjectKind::DirectoryObject, format!("manager of {user}")).into()
        })
    }

    /// Sets a user's manager (replacing the previous one).
    pub async fn set_manager(
        &self,
        caller: &Caller,
        user: Uuid,
        manager: Uuid,
    ) -> ServiceResult<()> {
        authorize(caller, Operation::WriteUsers)?;
        if user == manager {
            return Err(DomainError::invalid("manager", "a user cannot be its own manager").into());
        }
        let mut tx = self.store.begin().await?;
        let u = tx.user(user).await?;
        let m = tx.user(manager).await.map_err(|_| {
            DomainError::invalid("@odata.id", format!("user {manager} does not exist"))
        })?;
        let before = tx.set_manager(user, manager, self.clock.now()).await?;
        let mut t = target("user", user, Some(&u.user_principal_name));
        t.modified_properties.push(prop(
            "manager",
            before.map(|b| b.to_string()),
            Some(m.user_principal_name.clone()),
        ));
        let event = self.event(
            caller,
            Category::UserManagement,
            "Set user manager",
            "user.manager.set",
            t,
        );
        tx.commit(&[event]).await?;
        Ok(())
    }

    pub async fn remove_manager(&self, caller: &Caller, user: Uuid) -> ServiceResult<()> {
        authorize(caller, Operation::WriteUsers)?;
        let mut tx = self.store.begin().await?;
        let u = tx.user(user).await?;
        if !tx.remove_manager(user).await? {
            return Err(DomainError::not_found(
                ObjectKind::DirectoryObject,
                format!("manager of {user}"),
            )
            .into());
        }
        let event = self.event(
            caller,
            Category::UserManagement,
            "Remove user manager",
            "user.manager.remove",
            target("user", user, Some(&u.user_principal_name)),
        );
        tx.commit(&[event]).await?;
        Ok(())
    }

    pub async fn user_sponsors(&self, caller: &Caller, user: Uuid) -> ServiceResult<Vec<User>> {
        authorize(caller, Operation::ReadUsers)?;
        self.store.user(user).await?;
        Ok(self.store.sponsors_of(user).await?)
    }

    pub async fn add_user_sponsor(
        &self,
        caller: &Caller,
        user: Uuid,
        sponsor: Uuid,
    ) -> ServiceResult<()> {
        authorize(caller, Operation::WriteUsers)?;
        if user == sponsor {
            return Err(DomainError::invalid("sponsors", "a user cannot sponsor itself").into());
        }
        let mut tx = self.store.begin().await?;
        let u = tx.user(user).await?;
        let s = tx.user(sponsor).await.map_err(|_| {
            DomainError::invalid("@odata.id", format!("user {sponsor} does not exist"))
        })?;
        if !tx.add_user_sponsor(user, sponsor, self.clock.now()).await? {
            return Err(DomainError::invalid(
                "sponsors",
                "One or more added object references already exist for the following modified properties: 'sponsors'.",
            )
            .into());
        }
        let mut t = target("user", user, Some(&u.user_principal_name));
        t.modified_properties
            .push(prop("sponsors", None, Some(s.user_principal_name.clone())));
        let event = self.event(
            caller,
            Category::UserManagement,
            "Add user sponsor",
            "user.sponsors.add",
            t,
        );
        tx.commit(&[event]).await?;
        Ok(())
    }

    pub async fn remove_user_sponsor(
        &self,
        caller: &Caller,
        user: Uuid,
        sponsor: Uuid,
    ) -> ServiceResult<()> {
        authorize(caller, Operation::WriteUsers)?;
        let mut tx = self.store.begin().await?;
        let u = tx.user(user).await?;
        if !tx.remove_user_sponsor(user, sponsor).await? {
            return Err(DomainError::not_found(
                ObjectKind::DirectoryObject,
                format!("{sponsor} in sponsors of user {user}"),
            )
            .into());
        }
        let mut t = target("user", user, Some(&u.user_principal_name));
        t.modified_properties
            .push(prop("sponsors", Some(sponsor.to_string()), None));
        let event = self.event(
            caller,
            Category::UserManagement,
            "Remove user sponsor",
            "user.sponsors.remove",
            t,
        );
        tx.commit(&[event]).await?;
        Ok(())
    }
}
