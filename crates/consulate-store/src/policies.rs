//! Assignment policies: the document, its versions, and the objects it names.

use crate::list::{self, ListQuery, ListSource, Page};
use crate::sql::{Row, Sql, micros};
use crate::{Store, StoreError, StoreResult, WriteTx};
use consulate_core::DomainError;
use consulate_core::error::ObjectKind;
use consulate_core::filter::PolicyField;
use consulate_core::policy::AssignmentPolicy;
use consulate_core::text::fold;
use uuid::Uuid;

/// What kind of object a policy names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceKind {
    User,
    Group,
    ConnectedOrganization,
}

impl ReferenceKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Group => "group",
            Self::ConnectedOrganization => "connectedOrganization",
        }
    }
}

fn policy_from_row(r: &Row) -> StoreResult<AssignmentPolicy> {
    serde_json::from_str(&r.text("document")?)
        .map_err(|e| StoreError::Corrupt(format!("assignment policy document: {e}")))
}

fn document(p: &AssignmentPolicy) -> StoreResult<String> {
    serde_json::to_string(p).map_err(|e| StoreError::Corrupt(format!("policy document: {e}")))
}

fn not_found(id: Uuid) -> StoreError {
    DomainError::not_found(ObjectKind::AssignmentPolicy, id.to_string()).into()
}

impl Store {
    pub async fn policy(&self, id: Uuid) -> StoreResult<AssignmentPolicy> {
        let row = self
            .fetch_optional(
                &Sql::new("SELECT document FROM assignment_policies WHERE id = $1").bind(id),
            )
            .await?
            .ok_or_else(|| not_found(id))?;
        policy_from_row(&row)
    }

    /// A policy as it was at `version`.
    pub async fn policy_version(&self, id: Uuid, version: i64) -> StoreResult<AssignmentPolicy> {
        let row = self
            .fetch_optional(
                &Sql::new("SELECT document FROM assignment_policy_versions WHERE policy_id = $1 AND version = $2")
                    .bind(id)
                    .bind(version),
            )
            .await?
            .ok_or_else(|| not_found(id))?;
        policy_from_row(&row)
    }

    pub async fn list_policies(
        &self,
        q: &ListQuery<PolicyField>,
    ) -> StoreResult<Page<AssignmentPolicy>> {
        let src = ListSource {
            select: "a.id, a.document",
            from: "assignment_policies a",
            id: "a.id",
            name: "a.display_name_fold",
            table: "assignment_policies",
            scope: None,
        };
        let (rows, count) = self.fetch_page(&src, q).await?;
        let items = rows
            .iter()
            .map(policy_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(list::finish(
            items,
            q.top,
            q.order,
            |p| (fold(&p.display_name), p.id.to_string()),
            count,
        ))
    }

    /// The policies of the given packages, by package then creation.
    pub async fn policies_of_packages(
        &self,
        packages: &[Uuid],
    ) -> StoreResult<Vec<AssignmentPolicy>> {
        if packages.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::dynamic(
            "SELECT document FROM assignment_policies WHERE access_package_id IN (".into(),
        );
        let ps: Vec<String> = packages.iter().map(|p| sql.placeholder(*p)).collect();
        sql.push(&ps.join(", "));
        sql.push(") ORDER BY access_package_id, id");
        self.fetch_all(&sql)
            .await?
            .iter()
            .map(policy_from_row)
            .collect()
    }

    /// Every policy (the input of the eligibility index).
    pub async fn all_policies(&self) -> StoreResult<Vec<AssignmentPolicy>> {
        self.fetch_all(&Sql::new(
            "SELECT document FROM assignment_policies ORDER BY id",
        ))
        .await?
        .iter()
        .map(policy_from_row)
        .collect()
    }
}

impl WriteTx {
    async fn write_references(&mut self, p: &AssignmentPolicy) -> StoreResult<()> {
        let r = p.referenced();
        let all = r
            .users
            .iter()
            .map(|id| (ReferenceKind::User, id))
            .chain(r.groups.iter().map(|id| (ReferenceKind::Group, id)))
            .chain(
                r.connected_organizations
                    .iter()
                    .map(|id| (ReferenceKind::ConnectedOrganization, id)),
            );
        for (kind, id) in all {
            self.write(
                Sql::new("INSERT INTO assignment_policy_references (policy_id, kind, object_id) VALUES ($1, $2, $3)")
                    .bind(p.id)
                    .bind(kind.as_str())
                    .bind(*id),
            )
            .await?;
        }
        Ok(())
    }

    async fn write_version(&mut self, p: &AssignmentPolicy, doc: &str) -> StoreResult<()> {
        self.write(
            Sql::new("INSERT INTO assignment_policy_versions (policy_id, version, document, created_at) VALUES ($1, $2, $3, $4)")
                .bind(p.id)
                .bind(p.version)
                .bind(doc)
                .bind(micros(p.modified_date_time)),
        )
        .await
    }

    pub async fn insert_policy(&mut self, p: &AssignmentPolicy) -> StoreResult<()> {
        let doc = document(p)?;
        self.write(
            Sql::new(
                "INSERT INTO assignment_policies (id, access_package_id, catalog_id, display_name, display_name_fold, allowed_target_scope, version, document, created_at, modified_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(p.id)
            .bind(p.access_package_id)
            .bind(p.catalog_id)
            .bind(p.display_name.as_str())
            .bind(fold(&p.display_name))
            .bind(p.allowed_target_scope.as_str())
            .bind(p.version)
            .bind(doc.as_str())
            .bind(micros(p.created_date_time))
            .bind(micros(p.modified_date_time)),
        )
        .await?;
        self.write_version(p, &doc).await?;
        self.write_references(p).await
    }

    pub async fn policy_for_update(&mut self, id: Uuid) -> StoreResult<AssignmentPolicy> {
        let sql = match self.backend() {
            crate::Backend::Sqlite => {
                Sql::new("SELECT document FROM assignment_policies WHERE id = $1")
            }
            crate::Backend::Postgres => {
                Sql::new("SELECT document FROM assignment_policies WHERE id = $1 FOR UPDATE")
            }
        };
        let row = self
            .fetch_optional(&sql.bind(id))
            .await?
            .ok_or_else(|| not_found(id))?;
        policy_from_row(&row)
    }

    /// Replaces a policy whose stored version is `p.version - 1` (a conditional write).
    pub async fn replace_policy(&mut self, p: &AssignmentPolicy) -> StoreResult<()> {
        let doc = document(p)?;
        let n = self
            .execute(
                &Sql::new(
                    "UPDATE assignment_policies SET display_name = $1, display_name_fold = $2, allowed_target_scope = $3, version = $4, document = $5, modified_at = $6 \
                     WHERE id = $7 AND version = $8",
                )
                .bind(p.display_name.as_str())
                .bind(fold(&p.display_name))
                .bind(p.allowed_target_scope.as_str())
                .bind(p.version)
                .bind(doc.as_str())
                .bind(micros(p.modified_date_time))
                .bind(p.id)
                .bind(p.version - 1),
            )
            .await?;
        if n != 1 {
            return Err(DomainError::conflict(
                "the assignment policy was changed by another request; retry",
            )
            .into());
        }
        self.execute(
            &Sql::new("DELETE FROM assignment_policy_references WHERE policy_id = $1").bind(p.id),
        )
        .await?;
        self.write_version(p, &doc).await?;
        self.write_references(p).await
    }

    pub async fn delete_policy(&mut self, id: Uuid) -> StoreResult<()> {
        if self
            .execute(&Sql::new("DELETE FROM assignment_policies WHERE id = $1").bind(id))
            .await?
            != 1
        {
            return Err(not_found(id));
        }
        Ok(())
    }

    /// How many policies an access package has.
    pub async fn count_policies(&mut self, package: Uuid) -> StoreResult<u64> {
        let row = self
            .fetch_optional(
                &Sql::new(
                    "SELECT COUNT(*) AS n FROM assignment_policies WHERE access_package_id = $1",
                )
                .bind(package),
            )
            .await?;
        Ok(row.map(|r| r.int("n")).transpose()?.unwrap_or(0) as u64)
    }

    /// Names of a catalog's policies that admit users from outside the directory.
    pub async fn external_policies_in_catalog(
        &mut self,
        catalog: Uuid,
    ) -> StoreResult<Vec<String>> {
        let rows = self
            .fetch_all(
                &Sql::new(
                    "SELECT display_name FROM assignment_policies WHERE catalog_id = $1 AND allowed_target_scope IN \
                     ('specificConnectedOrganizationUsers', 'allConfiguredConnectedOrganizationUsers', 'allExternalUsers') ORDER BY display_name_fold",
                )
                .bind(catalog),
            )
            .await?;
        rows.iter()
            .map(|r| Ok(format!("'{}'", r.text("display_name")?)))
            .collect()
    }

    /// Names of the policies that name `object` (with their package), for refusals.
    pub async fn policies_referencing(
        &mut self,
        kind: ReferenceKind,
        object: Uuid,
    ) -> StoreResult<Vec<String>> {
        let rows = self
            .fetch_all(
                &Sql::new(
                    "SELECT a.display_name, p.display_name AS package FROM assignment_policy_references r \
                     JOIN assignment_policies a ON a.id = r.policy_id JOIN access_packages p ON p.id = a.access_package_id \
                     WHERE r.kind = $1 AND r.object_id = $2 ORDER BY p.display_name_fold, a.display_name_fold",
                )
                .bind(kind.as_str())
                .bind(object),
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(format!(
                    "'{}' of '{}'",
                    r.text("display_name")?,
                    r.text("package")?
                ))
            })
            .collect()
    }
}
