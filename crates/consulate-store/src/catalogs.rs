//! Access package catalogs.

use crate::list::{self, ListQuery, ListSource, Page};
use crate::sql::{Row, Sql, micros};
use crate::{Backend, Store, StoreError, StoreResult, WriteTx};
use consulate_core::DomainError;
use consulate_core::catalog::{AccessPackageCatalog, CatalogState, CatalogType};
use consulate_core::error::ObjectKind;
use consulate_core::filter::CatalogField;
use consulate_core::text::fold;
use uuid::Uuid;

const COLUMNS: &str = "c.id, c.display_name, c.description, c.catalog_type, c.state, c.is_externally_visible, c.created_at, c.modified_at";

fn catalog_from_row(r: &Row) -> StoreResult<AccessPackageCatalog> {
    let corrupt = |e: DomainError| StoreError::Corrupt(e.to_string());
    Ok(AccessPackageCatalog {
        id: r.uuid("id")?,
        display_name: r.text("display_name")?,
        description: r.text("description")?,
        catalog_type: CatalogType::parse(&r.text("catalog_type")?).map_err(corrupt)?,
        state: CatalogState::parse(&r.text("state")?).map_err(corrupt)?,
        is_externally_visible: r.boolean("is_externally_visible")?,
        created_date_time: r.timestamp("created_at")?,
        modified_date_time: r.timestamp("modified_at")?,
    })
}

fn not_found(id: Uuid) -> StoreError {
    DomainError::not_found(ObjectKind::AccessPackageCatalog, id.to_string()).into()
}

impl Store {
    /// One catalog, or `NotFound`.
    pub async fn catalog(&self, id: Uuid) -> StoreResult<AccessPackageCatalog> {
        let row = self
            .fetch_optional(
                &Sql::new("SELECT c.id, c.display_name, c.description, c.catalog_type, c.state, c.is_externally_visible, c.created_at, c.modified_at FROM access_package_catalogs c WHERE c.id = $1")
                    .bind(id),
            )
            .await?
            .ok_or_else(|| not_found(id))?;
        catalog_from_row(&row)
    }

    /// A page of catalogs.
    pub async fn list_catalogs(
        &self,
        q: &ListQuery<CatalogField>,
    ) -> StoreResult<Page<AccessPackageCatalog>> {
        let src = ListSource {
            select: COLUMNS,
            from: "access_package_catalogs c",
            id: "c.id",
            name: "c.display_name_fold",
            table: "access_package_catalogs",
            scope: None,
        };
        let (rows, count) = self.fetch_page(&src, q).await?;
        let catalogs = rows
            .iter()
            .map(catalog_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(list::finish(
            catalogs,
            q.top,
            q.order,
            |c| (fold(&c.display_name), c.id.to_string()),
            count,
        ))
    }

    /// The built-in General catalog, if it exists yet.
    pub async fn general_catalog(&self) -> StoreResult<Option<AccessPackageCatalog>> {
        self.fetch_optional(&Sql::new(
            "SELECT c.id, c.display_name, c.description, c.catalog_type, c.state, c.is_externally_visible, c.created_at, c.modified_at FROM access_package_catalogs c WHERE c.catalog_type = 'serviceDefault'",
        ))
        .await?
        .map(|r| catalog_from_row(&r))
        .transpose()
    }
}

impl WriteTx {
    pub async fn insert_catalog(&mut self, c: &AccessPackageCatalog) -> StoreResult<()> {
        self.write(
            Sql::new(
                "INSERT INTO access_package_catalogs (id, display_name, display_name_fold, description, catalog_type, state, is_externally_visible, created_at, modified_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(c.id)
            .bind(c.display_name.as_str())
            .bind(fold(&c.display_name))
            .bind(c.description.as_str())
            .bind(c.catalog_type.as_str())
            .bind(c.state.as_str())
            .bind(c.is_externally_visible)
            .bind(micros(c.created_date_time))
            .bind(micros(c.modified_date_time)),
        )
        .await
    }

    /// Inserts the built-in General catalog unless one exists; true when this call created it.
    pub async fn insert_general_catalog(&mut self, c: &AccessPackageCatalog) -> StoreResult<bool> {
        let n = self
            .execute(
                &Sql::new(
                    "INSERT INTO access_package_catalogs (id, display_name, display_name_fold, description, catalog_type, state, is_externally_visible, created_at, modified_at) \
                     VALUES ($1, $2, $3, $4, 'serviceDefault', $5, $6, $7, $8) \
                     ON CONFLICT (catalog_type) WHERE catalog_type = 'serviceDefault' DO NOTHING",
                )
                .bind(c.id)
                .bind(c.display_name.as_str())
                .bind(fold(&c.display_name))
                .bind(c.description.as_str())
                .bind(c.state.as_str())
                .bind(c.is_externally_visible)
                .bind(micros(c.created_date_time))
                .bind(micros(c.modified_date_time)),
            )
            .await?;
        Ok(n == 1)
    }

    /// The catalog, locked for the rest of the transaction on PostgreSQL.
    pub async fn catalog_for_update(&mut self, id: Uuid) -> StoreResult<AccessPackageCatalog> {
        let sql = match self.backend() {
            Backend::Sqlite => Sql::new(
                "SELECT c.id, c.display_name, c.description, c.catalog_type, c.state, c.is_externally_visible, c.created_at, c.modified_at FROM access_package_catalogs c WHERE c.id = $1",
            ),
            Backend::Postgres => Sql::new(
                "SELECT c.id, c.display_name, c.description, c.catalog_type, c.state, c.is_externally_visible, c.created_at, c.modified_at FROM access_package_catalogs c WHERE c.id = $1 FOR UPDATE",
            ),
        };
        let row = self
            .fetch_optional(&sql.bind(id))
            .await?
            .ok_or_else(|| not_found(id))?;
        catalog_from_row(&row)
    }

    /// Writes the changed catalog; `expected_modified` makes it a conditional write.
    pub async fn update_catalog(
        &mut self,
        c: &AccessPackageCatalog,
        expected_modified: jiff::Timestamp,
    ) -> StoreResult<()> {
        let n = self
            .execute(
                &Sql::new(
                    "UPDATE access_package_catalogs SET display_name = $1, display_name_fold = $2, description = $3, state = $4, is_externally_visible = $5, modified_at = $6 \
                     WHERE id = $7 AND modified_at = $8",
                )
                .bind(c.display_name.as_str())
                .bind(fold(&c.display_name))
                .bind(c.description.as_str())
                .bind(c.state.as_str())
                .bind(c.is_externally_visible)
                .bind(micros(c.modified_date_time))
                .bind(c.id)
                .bind(micros(expected_modified)),
            )
            .await?;
        if n != 1 {
            return Err(
                DomainError::conflict("the catalog was changed by another request; retry").into(),
            );
        }
        Ok(())
    }

    pub async fn delete_catalog(&mut self, id: Uuid) -> StoreResult<()> {
        let n = self
            .execute(&Sql::new("DELETE FROM access_package_catalogs WHERE id = $1").bind(id))
            .await?;
        if n != 1 {
            return Err(not_found(id));
        }
        Ok(())
    }
}
