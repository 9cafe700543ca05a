//! Entitlement-management role assignments (catalog owner, reader, managers, creator).

use crate::list::{self, ListQuery, ListSource, Page};
use crate::sql::{Row, Sql, micros};
use crate::{Store, StoreError, StoreResult, WriteTx};
use consulate_core::DomainError;
use consulate_core::catalog_roles::{CatalogRole, CatalogRoleGrant, RoleScope};
use consulate_core::error::ObjectKind;
use consulate_core::filter::RoleAssignmentField;
use std::collections::BTreeSet;
use uuid::Uuid;

/// A stored role assignment (`unifiedRoleAssignment`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleAssignment {
    pub id: Uuid,
    pub principal_id: Uuid,
    pub grant: CatalogRoleGrant,
    pub created_at: jiff::Timestamp,
}

fn from_row(r: &Row) -> StoreResult<RoleAssignment> {
    let corrupt = |e: DomainError| StoreError::Corrupt(e.to_string());
    Ok(RoleAssignment {
        id: r.uuid("id")?,
        principal_id: r.uuid("principal_id")?,
        grant: CatalogRoleGrant {
            role: CatalogRole::parse_definition_id(&r.text("role_definition_id")?)
                .map_err(corrupt)?,
            scope: RoleScope::parse(&r.text("app_scope_id")?).map_err(corrupt)?,
        },
        created_at: r.timestamp("created_at")?,
    })
}

impl Store {
    /// The roles a user holds.
    pub async fn catalog_roles_of(&self, user: Uuid) -> StoreResult<BTreeSet<CatalogRoleGrant>> {
        self.fetch_all(
            &Sql::new("SELECT id, principal_id, role_definition_id, app_scope_id, created_at FROM catalog_role_assignments WHERE principal_id = $1")
                .bind(user),
        )
        .await?
        .iter()
        .map(|r| from_row(r).map(|a| a.grant))
        .collect()
    }

    pub async fn role_assignment(&self, id: Uuid) -> StoreResult<RoleAssignment> {
        let row = self
            .fetch_optional(
                &Sql::new("SELECT id, principal_id, role_definition_id, app_scope_id, created_at FROM catalog_role_assignments WHERE id = $1")
                    .bind(id),
            )
            .await?
            .ok_or_else(|| StoreError::from(DomainError::not_found(ObjectKind::RoleAssignment, id.to_string())))?;
        from_row(&row)
    }

    /// A page of role assignments in creation order.
    pub async fn list_role_assignments(
        &self,
        q: &ListQuery<RoleAssignmentField>,
    ) -> StoreResult<Page<RoleAssignment>> {
        let src = ListSource {
            select: "ra.id, ra.principal_id, ra.role_definition_id, ra.app_scope_id, ra.created_at",
            from: "catalog_role_assignments ra",
            id: "ra.id",
            name: "ra.id",
            table: "catalog_role_assignments",
            scope: None,
        };
        let (rows, count) = self.fetch_page(&src, q).await?;
        let items = rows.iter().map(from_row).collect::<StoreResult<Vec<_>>>()?;
        Ok(list::finish(
            items,
            q.top,
            q.order,
            |a| (String::new(), a.id.to_string()),
            count,
        ))
    }
}

impl WriteTx {
    /// Records a role assignment; false when the user already holds that role there.
    pub async fn insert_role_assignment(&mut self, a: &RoleAssignment) -> StoreResult<bool> {
        let catalog = match a.grant.scope {
            RoleScope::Catalog(id) => Some(id.to_string()),
            RoleScope::Tenant => None,
        };
        Ok(self
            .execute(
                &Sql::new(
                    "INSERT INTO catalog_role_assignments (id, principal_id, role_definition_id, app_scope_id, catalog_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                )
                .bind(a.id)
                .bind(a.principal_id)
                .bind(a.grant.role.definition_id())
                .bind(a.grant.scope.app_scope_id())
                .bind(catalog)
                .bind(micros(a.created_at)),
            )
            .await?
            == 1)
    }

    pub async fn role_assignment(&mut self, id: Uuid) -> StoreResult<RoleAssignment> {
        let row = self
            .fetch_optional(
                &Sql::new("SELECT id, principal_id, role_definition_id, app_scope_id, created_at FROM catalog_role_assignments WHERE id = $1")
                    .bind(id),
            )
            .await?
            .ok_or_else(|| StoreError::from(DomainError::not_found(ObjectKind::RoleAssignment, id.to_string())))?;
        from_row(&row)
    }

    pub async fn delete_role_assignment(&mut self, id: Uuid) -> StoreResult<()> {
        if self
            .execute(&Sql::new("DELETE FROM catalog_role_assignments WHERE id = $1").bind(id))
            .await?
            != 1
        {
            return Err(DomainError::not_found(ObjectKind::RoleAssignment, id.to_string()).into());
        }
        Ok(())
    }
}
