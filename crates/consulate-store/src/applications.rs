//! Registered applications and their app roles.

use crate::list::{self, ListQuery, ListSource, Page};
use crate::sql::{Row, Sql, micros};
use crate::{Store, StoreError, StoreResult, WriteTx};
use consulate_core::DomainError;
use consulate_core::application::{AppRole, Application};
use consulate_core::error::ObjectKind;
use consulate_core::filter::ApplicationField;
use consulate_core::text::fold;
use std::collections::HashMap;
use uuid::Uuid;

const COLUMNS: &str = "a.id, a.app_id, a.display_name, a.description, a.created_at";

fn not_found(id: Uuid) -> StoreError {
    DomainError::not_found(ObjectKind::Application, id.to_string()).into()
}

fn roles_query(ids: &[Uuid]) -> Sql {
    let mut sql = Sql::dynamic(
        "SELECT application_id, id, display_name, description, value, is_enabled FROM application_app_roles WHERE application_id IN ("
            .into(),
    );
    let ps: Vec<String> = ids.iter().map(|id| sql.placeholder(*id)).collect();
    sql.push(&ps.join(", "));
    sql.push(") ORDER BY application_id, position");
    sql
}

fn assemble(rows: &[Row], role_rows: Vec<Row>) -> StoreResult<Vec<Application>> {
    let mut roles: HashMap<Uuid, Vec<AppRole>> = HashMap::new();
    for r in role_rows {
        roles
            .entry(r.uuid("application_id")?)
            .or_default()
            .push(AppRole {
                id: r.uuid("id")?,
                display_name: r.text("display_name")?,
                description: r.text("description")?,
                value: r.text("value")?,
                is_enabled: r.boolean("is_enabled")?,
            });
    }
    rows.iter()
        .map(|r| {
            let id = r.uuid("id")?;
            Ok(Application {
                id,
                app_id: r.uuid("app_id")?,
                display_name: r.text("display_name")?,
                description: r.text("description")?,
                app_roles: roles.remove(&id).unwrap_or_default(),
                created_date_time: r.timestamp("created_at")?,
            })
        })
        .collect()
}

impl Store {
    pub async fn application(&self, id: Uuid) -> StoreResult<Application> {
        let row = self
            .fetch_optional(
                &Sql::new("SELECT a.id, a.app_id, a.display_name, a.description, a.created_at FROM applications a WHERE a.id = $1")
                    .bind(id),
            )
            .await?
            .ok_or_else(|| not_found(id))?;
        let roles = self.fetch_all(&roles_query(&[id])).await?;
        Ok(assemble(&[row], roles)?.remove(0))
    }

    pub async fn list_applications(
        &self,
        q: &ListQuery<ApplicationField>,
    ) -> StoreResult<Page<Application>> {
        let src = ListSource {
            select: COLUMNS,
            from: "applications a",
            id: "a.id",
            name: "a.display_name_fold",
            table: "applications",
            scope: None,
        };
        let (rows, count) = self.fetch_page(&src, q).await?;
        let ids: Vec<Uuid> = rows
            .iter()
            .map(|r| r.uuid("id"))
            .collect::<StoreResult<_>>()?;
        let roles = if ids.is_empty() {
            Vec::new()
        } else {
            self.fetch_all(&roles_query(&ids)).await?
        };
        Ok(list::finish(
            assemble(&rows, roles)?,
            q.top,
            q.order,
            |a| (fold(&a.display_name), a.id.to_string()),
            count,
        ))
    }
}

impl WriteTx {
    pub async fn application(&mut self, id: Uuid) -> StoreResult<Application> {
        let row = self
            .fetch_optional(
                &Sql::new("SELECT a.id, a.app_id, a.display_name, a.description, a.created_at FROM applications a WHERE a.id = $1")
                    .bind(id),
            )
            .await?
            .ok_or_else(|| not_found(id))?;
        let roles = self.fetch_all(&roles_query(&[id])).await?;
        Ok(assemble(&[row], roles)?.remove(0))
    }

    async fn write_app_roles(&mut self, a: &Application) -> StoreResult<()> {
        for (pos, r) in a.app_roles.iter().enumerate() {
            self.write(
                Sql::new(
                    "INSERT INTO application_app_roles (application_id, id, position, display_name, description, value, is_enabled) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(a.id)
                .bind(r.id)
                .bind(pos as i64)
                .bind(r.display_name.as_str())
                .bind(r.description.as_str())
                .bind(r.value.as_str())
                .bind(r.is_enabled),
            )
            .await?;
        }
        Ok(())
    }

    pub async fn insert_application(&mut self, a: &Application) -> StoreResult<()> {
        self.write(
            Sql::new(
                "INSERT INTO applications (id, app_id, display_name, display_name_fold, description, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(a.id)
            .bind(a.app_id)
            .bind(a.display_name.as_str())
            .bind(fold(&a.display_name))
            .bind(a.description.as_str())
            .bind(micros(a.created_date_time)),
        )
        .await?;
        self.write_app_roles(a).await
    }

    /// Rewrites name, description and app roles. Assignments of roles that are gone are
    /// removed with them.
    pub async fn update_application(&mut self, a: &Application) -> StoreResult<()> {
        let n = self
            .execute(
                &Sql::new("UPDATE applications SET display_name = $1, display_name_fold = $2, description = $3 WHERE id = $4")
                    .bind(a.display_name.as_str())
                    .bind(fold(&a.display_name))
                    .bind(a.description.as_str())
                    .bind(a.id),
            )
            .await?;
        if n != 1 {
            return Err(not_found(a.id));
        }
        self.execute(
            &Sql::new("DELETE FROM application_app_roles WHERE application_id = $1").bind(a.id),
        )
        .await?;
        self.write_app_roles(a).await?;
        let mut keep =
            Sql::dynamic("DELETE FROM app_role_assignments WHERE application_id = $1".into());
        keep.args.push(a.id.into());
        if !a.app_roles.is_empty() {
            let ps: Vec<String> = a.app_roles.iter().map(|r| keep.placeholder(r.id)).collect();
            keep.push(&format!(" AND app_role_id NOT IN ({})", ps.join(", ")));
        }
        self.execute(&keep).await?;
        Ok(())
    }

    pub async fn delete_application(&mut self, id: Uuid) -> StoreResult<()> {
        if self
            .execute(&Sql::new("DELETE FROM applications WHERE id = $1").bind(id))
            .await?
            != 1
        {
            return Err(not_found(id));
        }
        Ok(())
    }
}
