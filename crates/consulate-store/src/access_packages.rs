//! Access packages, the resource roles they grant and their incompatibilities.

use crate::list::{self, ListQuery, ListSource, Page};
use crate::sql::{Row, Sql, micros};
use crate::{Backend, Store, StoreError, StoreResult, WriteTx};
use consulate_core::DomainError;
use consulate_core::access_package::{AccessPackage, RoleScope};
use consulate_core::eligibility::PackageFacts;
use consulate_core::error::ObjectKind;
use consulate_core::filter::AccessPackageField;
use consulate_core::resource::OriginSystem;
use consulate_core::text::fold;
use std::collections::{BTreeSet, HashMap};
use uuid::Uuid;

/// A resource role an access package grants, as a grant is made from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantedRole {
    pub role_id: Uuid,
    pub origin_system: OriginSystem,
    pub role_origin_id: String,
    pub resource_origin_id: String,
}

const COLUMNS: &str =
    "p.id, p.catalog_id, p.display_name, p.description, p.is_hidden, p.created_at, p.modified_at";

fn package_from_row(r: &Row) -> StoreResult<AccessPackage> {
    Ok(AccessPackage {
        id: r.uuid("id")?,
        catalog_id: r.uuid("catalog_id")?,
        display_name: r.text("display_name")?,
        description: r.text("description")?,
        is_hidden: r.boolean("is_hidden")?,
        created_date_time: r.timestamp("created_at")?,
        modified_date_time: r.timestamp("modified_at")?,
    })
}

fn role_scope_from_row(r: &Row) -> StoreResult<RoleScope> {
    Ok(RoleScope {
        access_package_id: r.uuid("access_package_id")?,
        role_id: r.uuid("role_id")?,
        scope_id: r.uuid("scope_id")?,
        created_date_time: r.timestamp("created_at")?,
    })
}

fn not_found(id: Uuid) -> StoreError {
    DomainError::not_found(ObjectKind::AccessPackage, id.to_string()).into()
}

fn packages_query(where_clause: &str) -> String {
    format!(
        "SELECT {COLUMNS} FROM access_packages p {where_clause} ORDER BY p.display_name_fold, p.id"
    )
}

impl Store {
    pub async fn access_package(&self, id: Uuid) -> StoreResult<AccessPackage> {
        let row = self
            .fetch_optional(
                &Sql::new("SELECT p.id, p.catalog_id, p.display_name, p.description, p.is_hidden, p.created_at, p.modified_at FROM access_packages p WHERE p.id = $1")
                    .bind(id),
            )
            .await?
            .ok_or_else(|| not_found(id))?;
        package_from_row(&row)
    }

    /// A package and what its assignments grant, in one read: for each resource role scope
    /// (in the order they were added), the role and the origins a grant is made from.
    pub async fn access_package_with_roles(
        &self,
        id: Uuid,
    ) -> StoreResult<(AccessPackage, Vec<GrantedRole>)> {
        let rows = self
            .fetch_all(
                &Sql::new(
                    "SELECT p.id, p.catalog_id, p.display_name, p.description, p.is_hidden, p.created_at, p.modified_at, \
                     s.role_id, rr.origin_system AS role_system, rr.origin_id AS role_origin, r.origin_id AS resource_origin \
                     FROM access_packages p \
                     LEFT JOIN access_package_role_scopes s ON s.access_package_id = p.id \
                     LEFT JOIN access_package_resource_roles rr ON rr.id = s.role_id \
                     LEFT JOIN access_package_resources r ON r.id = rr.resource_id \
                     WHERE p.id = $1 ORDER BY s.created_at, s.role_id",
                )
                .bind(id),
            )
            .await?;
        let first = rows.first().ok_or_else(|| not_found(id))?;
        let package = package_from_row(first)?;
        let mut roles = Vec::new();
        for r in &rows {
            let Some(role_id) = r.opt_text("role_id")? else {
                continue;
            };
            let missing = || StoreError::Corrupt(format!("role {role_id} has no resource"));
            let role_id =
                Uuid::parse_str(&role_id).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            roles.push(GrantedRole {
                role_id,
                origin_system: OriginSystem::parse(
                    &r.opt_text("role_system")?.ok_or_else(missing)?,
                )
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                role_origin_id: r.opt_text("role_origin")?.ok_or_else(missing)?,
                resource_origin_id: r.opt_text("resource_origin")?.ok_or_else(missing)?,
            });
        }
        Ok((package, roles))
    }

    pub async fn list_access_packages(
        &self,
        q: &ListQuery<AccessPackageField>,
    ) -> StoreResult<Page<AccessPackage>> {
        let src = ListSource {
            select: COLUMNS,
            from: "access_packages p",
            id: "p.id",
            name: "p.display_name_fold",
            table: "access_packages",
            scope: None,
        };
        let (rows, count) = self.fetch_page(&src, q).await?;
        let items = rows
            .iter()
            .map(package_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(list::finish(
            items,
            q.top,
            q.order,
            |p| (fold(&p.display_name), p.id.to_string()),
            count,
        ))
    }

    /// The packages of the given catalogs (for `$expand=accessPackages`), by name.
    pub async fn access_packages_in_catalogs(
        &self,
        catalogs: &[Uuid],
    ) -> StoreResult<Vec<AccessPackage>> {
        if catalogs.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::dynamic(String::new());
        let ps: Vec<String> = catalogs.iter().map(|c| sql.placeholder(*c)).collect();
        sql.push(&packages_query(&format!(
            "WHERE p.catalog_id IN ({})",
            ps.join(", ")
        )));
        self.fetch_all(&sql)
            .await?
            .iter()
            .map(package_from_row)
            .collect()
    }

    /// The resource roles a package grants, in the order they were added.
    pub async fn role_scopes(&self, package: Uuid) -> StoreResult<Vec<RoleScope>> {
        self.fetch_all(
            &Sql::new("SELECT access_package_id, role_id, scope_id, created_at FROM access_package_role_scopes WHERE access_package_id = $1 ORDER BY created_at, role_id")
                .bind(package),
        )
        .await?
        .iter()
        .map(role_scope_from_row)
        .collect()
    }

    /// Packages this one is incompatible with.
    pub async fn incompatible_packages(&self, package: Uuid) -> StoreResult<Vec<AccessPackage>> {
        self.fetch_all(
            &Sql::dynamic(packages_query(
                "WHERE p.id IN (SELECT incompatible_id FROM access_package_incompatible_packages WHERE access_package_id = $1)",
            ))
            .bind(package),
        )
        .await?
        .iter()
        .map(package_from_row)
        .collect()
    }

    /// Packages that name this one as incompatible.
    pub async fn packages_incompatible_with(
        &self,
        package: Uuid,
    ) -> StoreResult<Vec<AccessPackage>> {
        self.fetch_all(
            &Sql::dynamic(packages_query(
                "WHERE p.id IN (SELECT access_package_id FROM access_package_incompatible_packages WHERE incompatible_id = $1)",
            ))
            .bind(package),
        )
        .await?
        .iter()
        .map(package_from_row)
        .collect()
    }

    /// Ids of the groups whose members may not request this package.
    pub async fn incompatible_group_ids(&self, package: Uuid) -> StoreResult<Vec<Uuid>> {
        self.fetch_all(
            &Sql::new("SELECT group_id FROM access_package_incompatible_groups WHERE access_package_id = $1 ORDER BY created_at, group_id")
                .bind(package),
        )
        .await?
        .iter()
        .map(|r| r.uuid("group_id"))
        .collect()
    }
}

impl Store {
    /// What eligibility needs about every access package: its catalog's state and
    /// visibility, and its incompatibilities (packages in both directions, groups).
    pub async fn package_facts(&self) -> StoreResult<Vec<PackageFacts>> {
        let rows = self
            .fetch_all(&Sql::new(
                "SELECT p.id, p.display_name_fold, p.is_hidden, c.state, c.is_externally_visible FROM access_packages p \
                 JOIN access_package_catalogs c ON c.id = p.catalog_id",
            ))
            .await?;
        let mut facts: HashMap<Uuid, PackageFacts> = HashMap::with_capacity(rows.len());
        for r in &rows {
            let id = r.uuid("id")?;
            facts.insert(
                id,
                PackageFacts {
                    id,
                    name_key: r.text("display_name_fold")?,
                    is_hidden: r.boolean("is_hidden")?,
                    catalog_published: r.text("state")? == "published",
                    catalog_externally_visible: r.boolean("is_externally_visible")?,
                    incompatible_packages: BTreeSet::new(),
                    incompatible_groups: BTreeSet::new(),
                },
            );
        }
        for r in self
            .fetch_all(&Sql::new(
                "SELECT access_package_id, incompatible_id FROM access_package_incompatible_packages",
            ))
            .await?
        {
            let (a, b) = (r.uuid("access_package_id")?, r.uuid("incompatible_id")?);
            if let Some(f) = facts.get_mut(&a) {
                f.incompatible_packages.insert(b);
            }
            if let Some(f) = facts.get_mut(&b) {
                f.incompatible_packages.insert(a);
            }
        }
        for r in self
            .fetch_all(&Sql::new(
                "SELECT access_package_id, group_id FROM access_package_incompatible_groups",
            ))
            .await?
        {
            if let Some(f) = facts.get_mut(&r.uuid("access_package_id")?) {
                f.incompatible_groups.insert(r.uuid("group_id")?);
            }
        }
        Ok(facts.into_values().collect())
    }

    /// Access packages by id (any order; unknown ids are skipped).
    pub async fn access_packages_by_ids(&self, ids: &[Uuid]) -> StoreResult<Vec<AccessPackage>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let mut sql = Sql::dynamic(String::new());
            let ps: Vec<String> = chunk.iter().map(|id| sql.placeholder(*id)).collect();
            sql.push(&packages_query(&format!(
                "WHERE p.id IN ({})",
                ps.join(", ")
            )));
            for r in self.fetch_all(&sql).await? {
                out.push(package_from_row(&r)?);
            }
        }
        Ok(out)
    }
}

impl WriteTx {
    pub async fn insert_access_package(&mut self, p: &AccessPackage) -> StoreResult<()> {
        self.write(
            Sql::new(
                "INSERT INTO access_packages (id, catalog_id, display_name, display_name_fold, description, is_hidden, created_at, modified_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(p.id)
            .bind(p.catalog_id)
            .bind(p.display_name.as_str())
            .bind(fold(&p.display_name))
            .bind(p.description.as_str())
            .bind(p.is_hidden)
            .bind(micros(p.created_date_time))
            .bind(micros(p.modified_date_time)),
        )
        .await
    }

    /// The package, locked for the rest of the transaction on PostgreSQL.
    pub async fn access_package_for_update(&mut self, id: Uuid) -> StoreResult<AccessPackage> {
        let sql = match self.backend() {
            Backend::Sqlite => Sql::new(
                "SELECT p.id, p.catalog_id, p.display_name, p.description, p.is_hidden, p.created_at, p.modified_at FROM access_packages p WHERE p.id = $1",
            ),
            Backend::Postgres => Sql::new(
                "SELECT p.id, p.catalog_id, p.display_name, p.description, p.is_hidden, p.created_at, p.modified_at FROM access_packages p WHERE p.id = $1 FOR UPDATE",
            ),
        };
        let row = self
            .fetch_optional(&sql.bind(id))
            .await?
            .ok_or_else(|| not_found(id))?;
        package_from_row(&row)
    }

    pub async fn update_access_package(
        &mut self,
        p: &AccessPackage,
        expected_modified: jiff::Timestamp,
    ) -> StoreResult<()> {
        let n = self
            .execute(
                &Sql::new(
                    "UPDATE access_packages SET display_name = $1, display_name_fold = $2, description = $3, is_hidden = $4, modified_at = $5 \
                     WHERE id = $6 AND modified_at = $7",
                )
                .bind(p.display_name.as_str())
                .bind(fold(&p.display_name))
                .bind(p.description.as_str())
                .bind(p.is_hidden)
                .bind(micros(p.modified_date_time))
                .bind(p.id)
                .bind(micros(expected_modified)),
            )
            .await?;
        if n != 1 {
            return Err(DomainError::conflict(
                "the access package was changed by another request; retry",
            )
            .into());
        }
        Ok(())
    }

    pub async fn delete_access_package(&mut self, id: Uuid) -> StoreResult<()> {
        if self
            .execute(&Sql::new("DELETE FROM access_packages WHERE id = $1").bind(id))
            .await?
            != 1
        {
            return Err(not_found(id));
        }
        Ok(())
    }

    /// How many access packages a catalog holds.
    pub async fn count_access_packages(&mut self, catalog: Uuid) -> StoreResult<u64> {
        let row = self
            .fetch_optional(
                &Sql::new("SELECT COUNT(*) AS n FROM access_packages WHERE catalog_id = $1")
                    .bind(catalog),
            )
            .await?;
        Ok(row.map(|r| r.int("n")).transpose()?.unwrap_or(0) as u64)
    }

    /// Names of the packages granting a role of `resource`.
    pub async fn packages_using_resource(&mut self, resource: Uuid) -> StoreResult<Vec<String>> {
        let rows = self
            .fetch_all(
                &Sql::new(
                    "SELECT DISTINCT p.display_name FROM access_package_role_scopes rs \
                     JOIN access_package_resource_roles rr ON rr.id = rs.role_id \
                     JOIN access_packages p ON p.id = rs.access_package_id \
                     WHERE rr.resource_id = $1 ORDER BY p.display_name",
                )
                .bind(resource),
            )
            .await?;
        rows.iter().map(|r| r.text("display_name")).collect()
    }

    /// Adds a role at a scope to a package; false when it was there already.
    pub async fn add_role_scope(&mut self, rs: &RoleScope) -> StoreResult<bool> {
        Ok(self
            .execute(
                &Sql::new(
                    "INSERT INTO access_package_role_scopes (access_package_id, role_id, scope_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                )
                .bind(rs.access_package_id)
                .bind(rs.role_id)
                .bind(rs.scope_id)
                .bind(micros(rs.created_date_time)),
            )
            .await?
            == 1)
    }

    pub async fn remove_role_scope(
        &mut self,
        package: Uuid,
        role: Uuid,
        scope: Uuid,
    ) -> StoreResult<bool> {
        Ok(self
            .execute(
                &Sql::new("DELETE FROM access_package_role_scopes WHERE access_package_id = $1 AND role_id = $2 AND scope_id = $3")
                    .bind(package)
                    .bind(role)
                    .bind(scope),
            )
            .await?
            == 1)
    }

    /// Marks `other` incompatible with `package`; false when it was already.
    pub async fn add_incompatible_package(
        &mut self,
        package: Uuid,
        other: Uuid,
        at: jiff::Timestamp,
    ) -> StoreResult<bool> {
        Ok(self
            .execute(
                &Sql::new("INSERT INTO access_package_incompatible_packages (access_package_id, incompatible_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                    .bind(package)
                    .bind(other)
                    .bind(micros(at)),
            )
            .await?
            == 1)
    }

    pub async fn remove_incompatible_package(
        &mut self,
        package: Uuid,
        other: Uuid,
    ) -> StoreResult<bool> {
        Ok(self
            .execute(
                &Sql::new("DELETE FROM access_package_incompatible_packages WHERE access_package_id = $1 AND incompatible_id = $2")
                    .bind(package)
                    .bind(other),
            )
            .await?
            == 1)
    }

    pub async fn add_incompatible_group(
        &mut self,
        package: Uuid,
        group: Uuid,
        at: jiff::Timestamp,
    ) -> StoreResult<bool> {
        Ok(self
            .execute(
                &Sql::new("INSERT INTO access_package_incompatible_groups (access_package_id, group_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                    .bind(package)
                    .bind(group)
                    .bind(micros(at)),
            )
            .await?
            == 1)
    }

    pub async fn remove_incompatible_group(
        &mut self,
        package: Uuid,
        group: Uuid,
    ) -> StoreResult<bool> {
        Ok(self
            .execute(
                &Sql::new("DELETE FROM access_package_incompatible_groups WHERE access_package_id = $1 AND group_id = $2")
                    .bind(package)
                    .bind(group),
            )
            .await?
            == 1)
    }
}
