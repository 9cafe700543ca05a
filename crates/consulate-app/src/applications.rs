//! The application registry: applications and the app roles that catalogs can offer.

use crate::{App, ServiceResult, prop, target};
use consulate_core::access::{Caller, Operation, authorize};
use consulate_core::application::{self, AppRole, Application};
use consulate_core::audit::Category;
use consulate_core::filter::ApplicationField;
use consulate_core::resource::OriginSystem;
use consulate_core::{DomainError, text};
use consulate_store::list::{ListQuery, Page};
use uuid::Uuid;

/// A new application as requested.
#[derive(Debug, Clone, Default)]
pub struct NewApplication {
    pub display_name: String,
    pub description: Option<String>,
    pub app_roles: Vec<AppRole>,
}

/// A PATCH of an application; `app_roles` replaces the whole set when given.
#[derive(Debug, Clone, Default)]
pub struct ApplicationPatch {
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub app_roles: Option<Vec<AppRole>>,
}

fn describe_roles(roles: &[AppRole]) -> String {
    roles
        .iter()
        .map(|r| r.value.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl App {
    pub async fn list_applications(
        &self,
        caller: &Caller,
        q: &ListQuery<ApplicationField>,
    ) -> ServiceResult<Page<Application>> {
        authorize(caller, Operation::ReadApplications)?;
        Ok(self.store.list_applications(q).await?)
    }

    pub async fn get_application(&self, caller: &Caller, id: Uuid) -> ServiceResult<Application> {
        authorize(caller, Operation::ReadApplications)?;
        Ok(self.store.application(id).await?)
    }

    pub async fn create_application(
        &self,
        caller: &Caller,
        new: NewApplication,
    ) -> ServiceResult<Application> {
        authorize(caller, Operation::WriteApplications)?;
        let a = Application {
            id: self.ids.new_id(),
            app_id: self.ids.new_id(),
            display_name: text::display_name("displayName", &new.display_name)?,
            description: text::description(
                "description",
                new.description.as_deref().unwrap_or(""),
            )?,
            app_roles: application::validate_app_roles(new.app_roles)?,
            created_date_time: self.clock.now(),
        };
        let mut tx = self.store.begin().await?;
        tx.insert_application(&a).await?;
        let mut t = target("application", a.id, Some(&a.display_name));
        t.modified_properties
            .push(prop("appRoles", None, Some(describe_roles(&a.app_roles))));
        let event = self.event(
            caller,
            Category::ApplicationManagement,
            "Add application",
            "application.create",
            t,
        );
        tx.commit(&[event]).await?;
        Ok(a)
    }

    /// Changes an application. An app role that a catalog offers cannot be removed or
    /// disabled while it is there.
    pub async fn update_application(
        &self,
        caller: &Caller,
        id: Uuid,
        patch: ApplicationPatch,
    ) -> ServiceResult<Application> {
        authorize(caller, Operation::WriteApplications)?;
        let mut tx = self.store.begin().await?;
        let mut a = tx.application(id).await?;
        let before = a.clone();
        if let Some(n) = patch.display_name {
            a.display_name = text::display_name("displayName", &n)?;
        }
        if let Some(d) = patch.description {
            a.description = text::description("description", &d)?;
        }
        if let Some(roles) = patch.app_roles {
            a.app_roles = application::validate_app_roles(roles)?;
            let kept: Vec<Uuid> = a
                .app_roles
                .iter()
                .filter(|r| r.is_enabled)
                .map(|r| r.id)
                .collect();
            let dropped: Vec<&AppRole> = before
                .app_roles
                .iter()
                .filter(|r| r.is_enabled && !kept.contains(&r.id))
                .collect();
            if !dropped.is_empty() {
                let holders = tx
                    .catalogs_holding(OriginSystem::AadApplication, &id.to_string())
                    .await?;
                if !holders.is_empty() {
                    return Err(DomainError::conflict(format!(
                        "App role '{}' is offered by the catalog(s) {}; remove the application from them first",
                        dropped[0].value,
                        holders.join(", ")
                    ))
                    .into());
                }
            }
        }
        if a == before {
            return Ok(a);
        }
        tx.update_application(&a).await?;
        let mut t = target("application", a.id, Some(&a.display_name));
        if a.display_name != before.display_name {
            t.modified_properties.push(prop(
                "displayName",
                Some(before.display_name.clone()),
                Some(a.display_name.clone()),
            ));
        }
        if a.app_roles != before.app_roles {
            t.modified_properties.push(prop(
                "appRoles",
                Some(describe_roles(&before.app_roles)),
                Some(describe_roles(&a.app_roles)),
            ));
        }
        let event = self.event(
            caller,
            Category::ApplicationManagement,
            "Update application",
            "application.update",
            t,
        );
        tx.commit(&[event]).await?;
        Ok(a)
    }

    /// Deletes an application that no catalog offers.
    pub async fn delete_application(&self, caller: &Caller, id: Uuid) -> ServiceResult<()> {
        authorize(caller, Operation::WriteApplications)?;
        let mut tx = self.store.begin().await?;
        let a = tx.application(id).await?;
        let holders = tx
            .catalogs_holding(OriginSystem::AadApplication, &id.to_string())
            .await?;
        if !holders.is_empty() {
            return Err(DomainError::conflict(format!(
                "The application is a resource of the catalog(s) {}; remove it from them first",
                holders.join(", ")
            ))
            .into());
        }
        tx.delete_application(id).await?;
        let event = self.event(
            caller,
            Category::ApplicationManagement,
            "Delete application",
            "application.delete",
            target("application", id, Some(&a.display_name)),
        );
        tx.commit(&[event]).await?;
        Ok(())
    }
}
