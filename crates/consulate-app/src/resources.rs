//! Catalog resources: adding and removing them through resource requests, and listing a
//! catalog's resources and their roles.

use crate::{App, ServiceResult, prop, target, within_readable_catalogs};
use consulate_core::DomainError;
use consulate_core::access::CallerIdentity;
use consulate_core::access::{Caller, DirectoryRole, Operation, authorize};
use consulate_core::audit::Category;
use consulate_core::catalog_roles::{CatalogAction, authorize_in_catalog};
use consulate_core::error::ObjectKind;
use consulate_core::filter::{ResourceField, ResourceRequestField, ResourceRoleField};
use consulate_core::resource::{
    self, AccessPackageResource, OriginSystem, ResourceOrigin, ResourceRequest,
    ResourceRequestType, ResourceRole,
};
use consulate_store::list::{ListQuery, Page};
use uuid::Uuid;

/// How a resource request names its resource.
#[derive(Debug, Clone)]
pub enum ResourceRef {
    /// The directory object: `originSystem` and `originId`.
    Origin { system: OriginSystem, id: String },
    /// A resource already in the catalog, by its id (removal).
    Resource(Uuid),
}

/// A resource request as asked for.
#[derive(Debug, Clone)]
pub struct NewResourceRequest {
    pub request_type: ResourceRequestType,
    pub catalog_id: Uuid,
    pub resource: ResourceRef,
}

/// A request with its resource named by origin.
struct Resolved {
    request_type: ResourceRequestType,
    catalog_id: Uuid,
    origin_system: OriginSystem,
    origin_id: String,
}

fn origin_uuid(origin_id: &str, kind: ObjectKind) -> Result<Uuid, DomainError> {
    Uuid::parse_str(origin_id.trim())
        .map_err(|_| DomainError::not_found(kind, origin_id.chars().take(64).collect::<String>()))
}

impl App {
    /// Checks the caller may manage the catalog and, for the kind of resource, may manage it
    /// too: a directory role or permission for it, or (for a group) owning it.
    async fn authorize_resource(
        &self,
        caller: &Caller,
        catalog: Uuid,
        system: OriginSystem,
        origin_id: &str,
    ) -> ServiceResult<()> {
        authorize_in_catalog(
            caller,
            Operation::WriteCatalogs,
            CatalogAction::ManageCatalog,
            catalog,
        )?;
        let op = match system {
            OriginSystem::AadGroup => Operation::WriteGroups,
            OriginSystem::AadApplication => Operation::WriteApplications,
            OriginSystem::DirectoryRole => Operation::WriteDirectoryRoles,
        };
        let refused = match authorize(caller, op) {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        if let (CallerIdentity::User { user_id, .. }, OriginSystem::AadGroup) =
            (&caller.identity, system)
            && let Ok(group) = Uuid::parse_str(origin_id.trim())
            && self.store.is_group_owner(group, *user_id).await?
        {
            return Ok(());
        }
        Err(refused.into())
    }

    /// Adds a resource to a catalog or removes it. Resources of this directory are added or
    /// removed at once, so the request comes back `delivered`.
    pub async fn request_resource(
        &self,
        caller: &Caller,
        new: NewResourceRequest,
    ) -> ServiceResult<ResourceRequest> {
        authorize_in_catalog(
            caller,
            Operation::WriteCatalogs,
            CatalogAction::ManageCatalog,
            new.catalog_id,
        )?;
        let (origin_system, origin_id) = match new.resource {
            ResourceRef::Origin { system, id } => (system, id),
            ResourceRef::Resource(id) => {
                let r = self.store.resource(id).await?;
                if r.catalog_id != new.catalog_id {
                    return Err(DomainError::not_found(
                        ObjectKind::AccessPackageResource,
                        id.to_string(),
                    )
                    .into());
                }
                (r.origin_system, r.origin_id)
            }
        };
        let new = Resolved {
            request_type: new.request_type,
            catalog_id: new.catalog_id,
            origin_system,
            origin_id,
        };
        self.authorize_resource(caller, new.catalog_id, new.origin_system, &new.origin_id)
            .await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        // The directory object behind the resource, read in the writing transaction so that
        // a concurrent delete cannot slip between the check and the write.
        let origin = match (new.request_type, new.origin_system) {
            (ResourceRequestType::AdminRemove, _) => None,
            (_, OriginSystem::AadGroup) => Some(ResourceOrigin::Group(
                tx.group(origin_uuid(&new.origin_id, ObjectKind::Group)?)
                    .await?,
            )),
            (_, OriginSystem::AadApplication) => Some(ResourceOrigin::Application(
                tx.application(origin_uuid(&new.origin_id, ObjectKind::Application)?)
                    .await?,
            )),
            (_, OriginSystem::DirectoryRole) => Some(ResourceOrigin::DirectoryRole(
                DirectoryRole::parse(&new.origin_id).map_err(|_| {
                    DomainError::invalid(
                        "resource.originId",
                        format!(
                            "'{}' is not a directory role template id Consulate knows",
                            new.origin_id
                        ),
                    )
                })?,
            )),
        };
        let catalog = tx.catalog_for_update(new.catalog_id).await?;
        let (resource, activity, operation) = match origin {
            Some(origin) => {
                let r = resource::resource_for(&origin, catalog.id, now, || self.ids.new_id())?;
                if tx
                    .catalog_resource_by_origin(catalog.id, r.origin_system, &r.origin_id)
                    .await?
                    .is_some()
                {
                    return Err(DomainError::conflict(format!(
                        "'{}' is already a resource of the catalog '{}'",
                        r.display_name, catalog.display_name
                    ))
                    .into());
                }
                tx.insert_resource(&r).await?;
                (r, "Add resource to catalog", "accessPackageResource.add")
            }
            None => {
                let origin_id = match new.origin_system {
                    OriginSystem::DirectoryRole => DirectoryRole::parse(&new.origin_id)
                        .map(|r| r.template_id().to_owned())
                        .unwrap_or_else(|_| new.origin_id.clone()),
                    _ => new.origin_id.trim().to_ascii_lowercase(),
                };
                let r = tx
                    .catalog_resource_by_origin(catalog.id, new.origin_system, &origin_id)
                    .await?
                    .ok_or_else(|| {
                        DomainError::not_found(ObjectKind::AccessPackageResource, origin_id.clone())
                    })?;
                let users = tx.packages_using_resource(r.id).await?;
                if !users.is_empty() {
                    return Err(DomainError::conflict(format!(
                        "'{}' is granted by the access package(s) {}; remove it from them first",
                        r.display_name,
                        users.join(", ")
                    ))
                    .into());
                }
                tx.delete_resource(r.id).await?;
                (
                    r,
                    "Remove resource from catalog",
                    "accessPackageResource.remove",
                )
            }
        };
        let request = ResourceRequest {
            id: self.ids.new_id(),
            catalog_id: catalog.id,
            resource_id: resource.id,
            request_type: new.request_type,
            state: "delivered".into(),
            origin_id: resource.origin_id.clone(),
            origin_system: resource.origin_system,
            display_name: resource.display_name.clone(),
            created_date_time: now,
        };
        tx.insert_resource_request(&request).await?;
        let mut t = target(
            "accessPackageResource",
            resource.id,
            Some(&resource.display_name),
        );
        t.modified_properties.push(prop(
            "catalog",
            None,
            Some(format!("{} ({})", catalog.display_name, catalog.id)),
        ));
        t.modified_properties.push(prop(
            "origin",
            None,
            Some(format!(
                "{} {}",
                resource.origin_system.as_str(),
                resource.origin_id
            )),
        ));
        let mut c = target(
            "accessPackageCatalog",
            catalog.id,
            Some(&catalog.display_name),
        );
        c.modified_properties.clear();
        let mut event = self.event(
            caller,
            Category::EntitlementManagement,
            activity,
            operation,
            t,
        );
        event.target_resources.push(c);
        tx.commit(&[event]).await?;
        Ok(request)
    }

    pub async fn list_resource_requests(
        &self,
        caller: &Caller,
        q: &ListQuery<ResourceRequestField>,
    ) -> ServiceResult<Page<ResourceRequest>> {
        let mut q = q.clone();
        q.filter = within_readable_catalogs(
            caller,
            Operation::ReadCatalogs,
            ResourceRequestField::CatalogId,
            q.filter,
        )?;
        Ok(self.store.list_resource_requests(&q).await?)
    }

    pub async fn list_catalog_resources(
        &self,
        caller: &Caller,
        catalog: Uuid,
        q: &ListQuery<ResourceField>,
    ) -> ServiceResult<Page<AccessPackageResource>> {
        authorize_in_catalog(
            caller,
            Operation::ReadCatalogs,
            CatalogAction::Read,
            catalog,
        )?;
        self.store.catalog(catalog).await?;
        Ok(self.store.list_catalog_resources(catalog, q).await?)
    }

    pub async fn list_catalog_resource_roles(
        &self,
        caller: &Caller,
        catalog: Uuid,
        q: &ListQuery<ResourceRoleField>,
    ) -> ServiceResult<Page<(ResourceRole, AccessPackageResource)>> {
        authorize_in_catalog(
            caller,
            Operation::ReadCatalogs,
            CatalogAction::Read,
            catalog,
        )?;
        self.store.catalog(catalog).await?;
        Ok(self.store.list_catalog_resource_roles(catalog, q).await?)
    }
}
