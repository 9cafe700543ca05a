//! Catalog resources with their roles and scopes, and the resource requests that added or
//! removed them.

use crate::list::{self, ListQuery, ListSource, Page};
use crate::sql::{Arg, Row, Sql, micros};
use crate::{Store, StoreError, StoreResult, WriteTx};
use consulate_core::DomainError;
use consulate_core::error::ObjectKind;
use consulate_core::filter::{ResourceField, ResourceRequestField, ResourceRoleField};
use consulate_core::resource::{
    AccessPackageResource, OriginSystem, ResourceRequest, ResourceRequestType, ResourceRole,
    ResourceScope, RoleType,
};
use consulate_core::text::fold;
use std::collections::HashMap;
use uuid::Uuid;

const COLUMNS: &str = "r.id, r.catalog_id, r.display_name, r.description, r.origin_id, r.origin_system, r.created_at, r.modified_at";
const ROLE_COLUMNS: &str = "rr.id, rr.resource_id, rr.display_name, rr.description, rr.origin_id, rr.origin_system, rr.role_type";

fn corrupt(e: DomainError) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn role_from_row(r: &Row) -> StoreResult<ResourceRole> {
    Ok(ResourceRole {
        id: r.uuid("id")?,
        resource_id: r.uuid("resource_id")?,
        display_name: r.text("display_name")?,
        description: r.text("description")?,
        origin_id: r.text("origin_id")?,
        origin_system: OriginSystem::parse(&r.text("origin_system")?).map_err(corrupt)?,
        role_type: RoleType::parse(&r.text("role_type")?).map_err(corrupt)?,
    })
}

fn scope_from_row(r: &Row) -> StoreResult<ResourceScope> {
    Ok(ResourceScope {
        id: r.uuid("id")?,
        resource_id: r.uuid("resource_id")?,
        display_name: r.text("display_name")?,
        description: r.text("description")?,
        origin_id: r.text("origin_id")?,
        origin_system: OriginSystem::parse(&r.text("origin_system")?).map_err(corrupt)?,
        is_root_scope: r.boolean("is_root_scope")?,
    })
}

fn resource_from_row(
    r: &Row,
    roles: Vec<ResourceRole>,
    scopes: Vec<ResourceScope>,
) -> StoreResult<AccessPackageResource> {
    Ok(AccessPackageResource {
        id: r.uuid("id")?,
        catalog_id: r.uuid("catalog_id")?,
        display_name: r.text("display_name")?,
        description: r.text("description")?,
        origin_id: r.text("origin_id")?,
        origin_system: OriginSystem::parse(&r.text("origin_system")?).map_err(corrupt)?,
        roles,
        scopes,
        created_date_time: r.timestamp("created_at")?,
        modified_date_time: r.timestamp("modified_at")?,
    })
}

fn in_list(sql: &mut Sql, ids: &[Uuid]) {
    let ps: Vec<String> = ids.iter().map(|id| sql.placeholder(*id)).collect();
    sql.push(&ps.join(", "));
    sql.push(")");
}

fn children_queries(ids: &[Uuid]) -> (Sql, Sql) {
    let mut roles = Sql::dynamic(format!(
        "SELECT {ROLE_COLUMNS} FROM access_package_resource_roles rr WHERE rr.resource_id IN ("
    ));
    in_list(&mut roles, ids);
    roles.push(" ORDER BY rr.resource_id, rr.position");
    let mut scopes = Sql::dynamic(
        "SELECT id, resource_id, display_name, description, origin_id, origin_system, is_root_scope FROM access_package_resource_scopes WHERE resource_id IN ("
            .into(),
    );
    in_list(&mut scopes, ids);
    scopes.push(" ORDER BY resource_id, id");
    (roles, scopes)
}

fn assemble(
    rows: &[Row],
    role_rows: Vec<Row>,
    scope_rows: Vec<Row>,
) -> StoreResult<Vec<AccessPackageResource>> {
    let mut roles: HashMap<Uuid, Vec<ResourceRole>> = HashMap::new();
    for r in &role_rows {
        let role = role_from_row(r)?;
        roles.entry(role.resource_id).or_default().push(role);
    }
    let mut scopes: HashMap<Uuid, Vec<ResourceScope>> = HashMap::new();
    for r in &scope_rows {
        let scope = scope_from_row(r)?;
        scopes.entry(scope.resource_id).or_default().push(scope);
    }
    rows.iter()
        .map(|r| {
            let id = r.uuid("id")?;
            resource_from_row(
                r,
                roles.remove(&id).unwrap_or_default(),
                scopes.remove(&id).unwrap_or_default(),
            )
        })
        .collect()
}

fn request_from_row(r: &Row) -> StoreResult<ResourceRequest> {
    Ok(ResourceRequest {
        id: r.uuid("id")?,
        catalog_id: r.uuid("catalog_id")?,
        resource_id: r.uuid("resource_id")?,
        request_type: ResourceRequestType::parse(&r.text("request_type")?).map_err(corrupt)?,
        state: r.text("state")?,
        origin_id: r.text("origin_id")?,
        origin_system: OriginSystem::parse(&r.text("origin_system")?).map_err(corrupt)?,
        display_name: r.text("display_name")?,
        created_date_time: r.timestamp("created_at")?,
    })
}

impl Store {
    async fn with_children(&self, rows: Vec<Row>) -> StoreResult<Vec<AccessPackageResource>> {
        let ids: Vec<Uuid> = rows
            .iter()
            .map(|r| r.uuid("id"))
            .collect::<StoreResult<_>>()?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let (roles, scopes) = children_queries(&ids);
        let roles = self.fetch_all(&roles).await?;
        let scopes = self.fetch_all(&scopes).await?;
        assemble(&rows, roles, scopes)
    }

    /// A page of a catalog's resources, each with its roles and scopes.
    pub async fn list_catalog_resources(
        &self,
        catalog: Uuid,
        q: &ListQuery<ResourceField>,
    ) -> StoreResult<Page<AccessPackageResource>> {
        let src = ListSource {
            select: COLUMNS,
            from: "access_package_resources r",
            id: "r.id",
            name: "r.display_name_fold",
            table: "access_package_resources",
            scope: Some(("r.catalog_id = $1", vec![Arg::from(catalog)])),
        };
        let (rows, count) = self.fetch_page(&src, q).await?;
        let items = self.with_children(rows).await?;
        Ok(list::finish(
            items,
            q.top,
            q.order,
            |r| (fold(&r.display_name), r.id.to_string()),
            count,
        ))
    }

    /// A page of the roles of a catalog's resources, each with its resource (without the
    /// resource's own roles and scopes).
    pub async fn list_catalog_resource_roles(
        &self,
        catalog: Uuid,
        q: &ListQuery<ResourceRoleField>,
    ) -> StoreResult<Page<(ResourceRole, AccessPackageResource)>> {
        let src = ListSource {
            select: ROLE_COLUMNS,
            from: "access_package_resource_roles rr",
            id: "rr.id",
            name: "rr.display_name_fold",
            table: "access_package_resource_roles",
            scope: Some(("rr.catalog_id = $1", vec![Arg::from(catalog)])),
        };
        let (rows, count) = self.fetch_page(&src, q).await?;
        let roles = rows
            .iter()
            .map(role_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let mut ids: Vec<Uuid> = roles.iter().map(|r| r.resource_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut resources: HashMap<Uuid, AccessPackageResource> = HashMap::new();
        if !ids.is_empty() {
            let mut sql = Sql::dynamic(format!(
                "SELECT {COLUMNS} FROM access_package_resources r WHERE r.id IN ("
            ));
            in_list(&mut sql, &ids);
            for r in self.fetch_all(&sql).await? {
                let res = resource_from_row(&r, Vec::new(), Vec::new())?;
                resources.insert(res.id, res);
            }
        }
        let items = roles
            .into_iter()
            .map(|role| {
                let res = resources.get(&role.resource_id).cloned().ok_or_else(|| {
                    StoreError::Corrupt(format!("resource role {} has no resource", role.id))
                })?;
                Ok((role, res))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(list::finish(
            items,
            q.top,
            q.order,
            |(r, _)| (fold(&r.display_name), r.id.to_string()),
            count,
        ))
    }

    /// One resource with its roles and scopes.
    pub async fn resource(&self, id: Uuid) -> StoreResult<AccessPackageResource> {
        let row = self
            .fetch_optional(
                &Sql::new("SELECT r.id, r.catalog_id, r.display_name, r.description, r.origin_id, r.origin_system, r.created_at, r.modified_at FROM access_package_resources r WHERE r.id = $1")
                    .bind(id),
            )
            .await?
            .ok_or_else(|| {
                StoreError::from(DomainError::not_found(
                    ObjectKind::AccessPackageResource,
                    id.to_string(),
                ))
            })?;
        Ok(self.with_children(vec![row]).await?.remove(0))
    }

    /// The resources (with roles and scopes) that the given roles belong to.
    pub async fn resources_of_roles(
        &self,
        roles: &[Uuid],
    ) -> StoreResult<Vec<AccessPackageResource>> {
        if roles.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::dynamic(format!(
            "SELECT {COLUMNS} FROM access_package_resources r WHERE r.id IN (SELECT resource_id FROM access_package_resource_roles WHERE id IN ("
        ));
        in_list(&mut sql, roles);
        sql.push(")");
        let rows = self.fetch_all(&sql).await?;
        self.with_children(rows).await
    }

    /// A page of resource requests, newest last (creation order).
    pub async fn list_resource_requests(
        &self,
        q: &ListQuery<ResourceRequestField>,
    ) -> StoreResult<Page<ResourceRequest>> {
        let src = ListSource {
            select: "q.id, q.catalog_id, q.resource_id, q.request_type, q.state, q.origin_id, q.origin_system, q.display_name, q.created_at",
            from: "access_package_resource_requests q",
            id: "q.id",
            name: "q.display_name_fold",
            table: "access_package_resource_requests",
            scope: None,
        };
        let (rows, count) = self.fetch_page(&src, q).await?;
        let items = rows
            .iter()
            .map(request_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(list::finish(
            items,
            q.top,
            q.order,
            |r| (fold(&r.display_name), r.id.to_string()),
            count,
        ))
    }
}

impl WriteTx {
    /// One resource with its roles and scopes, read inside the transaction.
    pub async fn resource(&mut self, id: Uuid) -> StoreResult<AccessPackageResource> {
        let row = self
            .fetch_optional(
                &Sql::new("SELECT r.id, r.catalog_id, r.display_name, r.description, r.origin_id, r.origin_system, r.created_at, r.modified_at FROM access_package_resources r WHERE r.id = $1")
                    .bind(id),
            )
            .await?
            .ok_or_else(|| {
                StoreError::from(DomainError::not_found(
                    ObjectKind::AccessPackageResource,
                    id.to_string(),
                ))
            })?;
        let (roles, scopes) = children_queries(&[id]);
        let roles = self.fetch_all(&roles).await?;
        let scopes = self.fetch_all(&scopes).await?;
        Ok(assemble(&[row], roles, scopes)?.remove(0))
    }

    /// The resource a resource role belongs to, with its roles and scopes.
    pub async fn resource_of_role(
        &mut self,
        role: Uuid,
    ) -> StoreResult<Option<AccessPackageResource>> {
        let Some(row) = self
            .fetch_optional(
                &Sql::new("SELECT resource_id FROM access_package_resource_roles WHERE id = $1")
                    .bind(role),
            )
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(self.resource(row.uuid("resource_id")?).await?))
    }

    /// The resource for `origin` in `catalog`, if it is there.
    pub async fn catalog_resource_by_origin(
        &mut self,
        catalog: Uuid,
        system: OriginSystem,
        origin_id: &str,
    ) -> StoreResult<Option<AccessPackageResource>> {
        let Some(row) = self
            .fetch_optional(
                &Sql::new("SELECT r.id, r.catalog_id, r.display_name, r.description, r.origin_id, r.origin_system, r.created_at, r.modified_at FROM access_package_resources r \
                           WHERE r.catalog_id = $1 AND r.origin_system = $2 AND r.origin_id = $3")
                    .bind(catalog)
                    .bind(system.as_str())
                    .bind(origin_id),
            )
            .await?
        else {
            return Ok(None);
        };
        let id = row.uuid("id")?;
        let (roles, scopes) = children_queries(&[id]);
        let roles = self.fetch_all(&roles).await?;
        let scopes = self.fetch_all(&scopes).await?;
        Ok(assemble(&[row], roles, scopes)?.pop())
    }

    /// The catalogs holding `origin` as a resource, by name (for refusing to delete it).
    pub async fn catalogs_holding(
        &mut self,
        system: OriginSystem,
        origin_id: &str,
    ) -> StoreResult<Vec<String>> {
        let rows = self
            .fetch_all(
                &Sql::new("SELECT c.display_name FROM access_package_resources r JOIN access_package_catalogs c ON c.id = r.catalog_id \
                           WHERE r.origin_system = $1 AND r.origin_id = $2 ORDER BY c.display_name_fold")
                    .bind(system.as_str())
                    .bind(origin_id),
            )
            .await?;
        rows.iter().map(|r| r.text("display_name")).collect()
    }

    pub async fn insert_resource(&mut self, r: &AccessPackageResource) -> StoreResult<()> {
        self.write(
            Sql::new(
                "INSERT INTO access_package_resources (id, catalog_id, display_name, display_name_fold, description, origin_id, origin_system, created_at, modified_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(r.id)
            .bind(r.catalog_id)
            .bind(r.display_name.as_str())
            .bind(fold(&r.display_name))
            .bind(r.description.as_str())
            .bind(r.origin_id.as_str())
            .bind(r.origin_system.as_str())
            .bind(micros(r.created_date_time))
            .bind(micros(r.modified_date_time)),
        )
        .await?;
        for (pos, role) in r.roles.iter().enumerate() {
            self.write(
                Sql::new(
                    "INSERT INTO access_package_resource_roles (id, resource_id, catalog_id, position, display_name, display_name_fold, description, origin_id, origin_system, role_type) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(role.id)
                .bind(r.id)
                .bind(r.catalog_id)
                .bind(pos as i64)
                .bind(role.display_name.as_str())
                .bind(fold(&role.display_name))
                .bind(role.description.as_str())
                .bind(role.origin_id.as_str())
                .bind(role.origin_system.as_str())
                .bind(role.role_type.as_str()),
            )
            .await?;
        }
        for scope in &r.scopes {
            self.write(
                Sql::new(
                    "INSERT INTO access_package_resource_scopes (id, resource_id, display_name, description, origin_id, origin_system, is_root_scope) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(scope.id)
                .bind(r.id)
                .bind(scope.display_name.as_str())
                .bind(scope.description.as_str())
                .bind(scope.origin_id.as_str())
                .bind(scope.origin_system.as_str())
                .bind(scope.is_root_scope),
            )
            .await?;
        }
        Ok(())
    }

    pub async fn delete_resource(&mut self, id: Uuid) -> StoreResult<()> {
        if self
            .execute(&Sql::new("DELETE FROM access_package_resources WHERE id = $1").bind(id))
            .await?
            != 1
        {
            return Err(
                DomainError::not_found(ObjectKind::AccessPackageResource, id.to_string()).into(),
            );
        }
        Ok(())
    }

    pub async fn insert_resource_request(&mut self, q: &ResourceRequest) -> StoreResult<()> {
        self.write(
            Sql::new(
                "INSERT INTO access_package_resource_requests (id, catalog_id, resource_id, request_type, state, origin_id, origin_system, display_name, display_name_fold, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(q.id)
            .bind(q.catalog_id)
            .bind(q.resource_id)
            .bind(q.request_type.as_str())
            .bind(q.state.as_str())
            .bind(q.origin_id.as_str())
            .bind(q.origin_system.as_str())
            .bind(q.display_name.as_str())
            .bind(fold(&q.display_name))
            .bind(micros(q.created_date_time)),
        )
        .await
    }
}
