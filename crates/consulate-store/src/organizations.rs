//! Connected organizations, their identity sources, uniqueness keys and sponsors.

use crate::list::{self, ListQuery, ListSource, Page};
use crate::sql::{Row, Sql, micros};
use crate::{Store, StoreError, StoreResult, WriteTx};
use consulate_core::DomainError;
use consulate_core::connected_org::{
    ConnectedOrganization, ConnectedOrganizationState, IdentitySource, SocialIdentitySourceType,
    SponsorKind,
};
use consulate_core::domain_name::DomainName;
use consulate_core::error::ObjectKind;
use consulate_core::filter::OrganizationField;
use consulate_core::matching::OrganizationEntry;
use consulate_core::text::fold;
use std::collections::HashMap;
use uuid::Uuid;

const COLUMNS: &str = "o.id, o.display_name, o.description, o.state, o.created_at, o.modified_at";

fn source_from_row(r: &Row) -> StoreResult<IdentitySource> {
    let t = r.text("odata_type")?;
    let display_name = r.text("display_name")?;
    let need = |c: &str| -> StoreResult<String> {
        r.opt_text(c)?
            .ok_or_else(|| StoreError::Corrupt(format!("identity source without {c}")))
    };
    let domain = |c: &str| -> StoreResult<DomainName> {
        DomainName::parse(&need(c)?).map_err(|e| StoreError::Corrupt(e.to_string()))
    };
    Ok(match t.as_str() {
        "#microsoft.graph.azureActiveDirectoryTenant" => {
            IdentitySource::AzureActiveDirectoryTenant {
                tenant_id: need("tenant_id")?,
                display_name,
            }
        }
        "#microsoft.graph.crossCloudAzureActiveDirectoryTenant" => {
            IdentitySource::CrossCloudAzureActiveDirectoryTenant {
                tenant_id: need("tenant_id")?,
                display_name,
                cloud_instance: need("cloud_instance")?,
            }
        }
        "#microsoft.graph.domainIdentitySource" => IdentitySource::DomainIdentitySource {
            domain_name: domain("domain_name")?,
            display_name,
        },
        "#microsoft.graph.externalDomainFederation" => IdentitySource::ExternalDomainFederation {
            domain_name: domain("domain_name")?,
            display_name,
            issuer_uri: need("issuer_uri")?,
        },
        "#microsoft.graph.socialIdentitySource" => IdentitySource::SocialIdentitySource {
            display_name,
            social_identity_source_type: SocialIdentitySourceType::parse(&need("social_type")?)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        },
        other => {
            return Err(StoreError::Corrupt(format!(
                "unknown identity source type {other}"
            )));
        }
    })
}

fn org_from_row(
    r: &Row,
    identity_sources: Vec<IdentitySource>,
) -> StoreResult<ConnectedOrganization> {
    Ok(ConnectedOrganization {
        id: r.uuid("id")?,
        display_name: r.text("display_name")?,
        description: r.text("description")?,
        identity_sources,
        state: ConnectedOrganizationState::parse(&r.text("state")?)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        created_date_time: r.timestamp("created_at")?,
        modified_date_time: r.timestamp("modified_at")?,
    })
}

/// Identity sources of the given organizations, grouped by organization, in position order.
fn group_sources(rows: Vec<Row>) -> StoreResult<HashMap<Uuid, Vec<IdentitySource>>> {
    let mut by_org: HashMap<Uuid, Vec<IdentitySource>> = HashMap::new();
    for r in rows {
        by_org
            .entry(r.uuid("organization_id")?)
            .or_default()
            .push(source_from_row(&r)?);
    }
    Ok(by_org)
}

fn sources_query(ids: &[Uuid]) -> Sql {
    let mut sql = Sql::dynamic(
        "SELECT organization_id, position, odata_type, display_name, tenant_id, domain_name, issuer_uri, cloud_instance, social_type \
         FROM connected_organization_identity_sources WHERE organization_id IN ("
            .into(),
    );
    let ps: Vec<String> = ids.iter().map(|id| sql.placeholder(*id)).collect();
    sql.push(&ps.join(", "));
    sql.push(") ORDER BY organization_id, position");
    sql
}

async fn attach_sources(
    rows: Vec<Row>,
    sources: impl AsyncFnOnce(&[Uuid]) -> StoreResult<Vec<Row>>,
) -> StoreResult<Vec<ConnectedOrganization>> {
    let ids: Vec<Uuid> = rows
        .iter()
        .map(|r| r.uuid("id"))
        .collect::<StoreResult<_>>()?;
    let mut by_org = if ids.is_empty() {
        HashMap::new()
    } else {
        group_sources(sources(&ids).await?)?
    };
    rows.iter()
        .map(|r| org_from_row(r, by_org.remove(&r.uuid("id")?).unwrap_or_default()))
        .collect()
}

impl Store {
    /// One organization, or `NotFound`.
    pub async fn connected_organization(&self, id: Uuid) -> StoreResult<ConnectedOrganization> {
        let row = self
            .fetch_optional(&Sql::new("SELECT o.id, o.display_name, o.description, o.state, o.created_at, o.modified_at FROM connected_organizations o WHERE o.id = $1").bind(id))
            .await?
            .ok_or_else(|| DomainError::not_found(ObjectKind::ConnectedOrganization, id.to_string()))?;
        let mut orgs = attach_sources(vec![row], async |ids: &[Uuid]| {
            self.fetch_all(&sources_query(ids)).await
        })
        .await?;
        Ok(orgs.remove(0))
    }

    /// A page of organizations.
    pub async fn list_connected_organizations(
        &self,
        q: &ListQuery<OrganizationField>,
    ) -> StoreResult<Page<ConnectedOrganization>> {
        let src = ListSource {
            select: COLUMNS,
            from: "connected_organizations o",
            id: "o.id",
            name: "o.display_name_fold",
            table: "connected_organizations",
            scope: None,
        };
        let (rows, count) = self.fetch_page(&src, q).await?;
        let orgs = attach_sources(rows, async |ids: &[Uuid]| {
            self.fetch_all(&sources_query(ids)).await
        })
        .await?;
        Ok(list::finish(
            orgs,
            q.top,
            q.order,
            |o| (fold(&o.display_name), o.id.to_string()),
            count,
        ))
    }

    /// Every organization's id, state and sources: the input of the principal matcher.
    pub async fn organization_entries(&self) -> StoreResult<Vec<OrganizationEntry>> {
        let orgs = self
            .fetch_all(&Sql::new("SELECT id, state FROM connected_organizations"))
            .await?;
        let sources = self
            .fetch_all(&Sql::new(
                "SELECT organization_id, position, odata_type, display_name, tenant_id, domain_name, issuer_uri, cloud_instance, social_type \
                 FROM connected_organization_identity_sources ORDER BY organization_id, position",
            ))
            .await?;
        let mut by_org = group_sources(sources)?;
        orgs.iter()
            .map(|r| {
                let id = r.uuid("id")?;
                Ok(OrganizationEntry {
                    id,
                    state: ConnectedOrganizationState::parse(&r.text("state")?)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    identity_sources: by_org.remove(&id).unwrap_or_default(),
                })
            })
            .collect()
    }

    /// Refuses, naming the owner, when one of the keys `sources` claim belongs to an
    /// organization other than `org`. Reads committed data: the unique key still decides a race.
    pub async fn check_sources_unclaimed(
        &self,
        org: Uuid,
        sources: &[IdentitySource],
    ) -> StoreResult<()> {
        let keys: Vec<String> = sources.iter().flat_map(|s| s.keys()).map(|k| k.0).collect();
        if keys.is_empty() {
            return Ok(());
        }
        let mut sql = Sql::dynamic(
            "SELECT k.source_key, o.id, o.display_name FROM connected_organization_source_keys k \
             JOIN connected_organizations o ON o.id = k.organization_id WHERE k.source_key IN ("
                .into(),
        );
        let ps: Vec<String> = keys.iter().map(|k| sql.placeholder(k.as_str())).collect();
        sql.push(&ps.join(", "));
        let p = sql.placeholder(org);
        sql.push(&format!(") AND k.organization_id <> {p}"));
        let taken = self.fetch_all(&sql).await?;
        // Report the first key in the order the sources list them.
        let Some(row) = keys.iter().find_map(|k| {
            taken
                .iter()
                .find(|r| r.text("source_key").is_ok_and(|t| &t == k))
        }) else {
            return Ok(());
        };
        let key = row.text("source_key")?;
        let (what, value) = key.split_once(':').unwrap_or(("source", &key));
        let owner = format!(
            "connected organization '{}' ({})",
            row.text("display_name")?,
            row.text("id")?
        );
        Err(DomainError::conflict(format!("The {what} '{value}' already belongs to {owner}; a {what} may belong to one connected organization only")).into())
    }

    /// The sponsors of an organization as (id, is_group), in the order they were added.
    pub async fn sponsors(
        &self,
        org: Uuid,
        kind: SponsorKind,
        top: u32,
        after: Option<&str>,
    ) -> StoreResult<(Vec<(Uuid, bool)>, bool)> {
        let rows = self
            .fetch_all(
                &Sql::new(
                    "SELECT sponsor_id, group_id FROM connected_organization_sponsors WHERE organization_id = $1 AND kind = $2 AND sponsor_id > $3 \
                     ORDER BY sponsor_id LIMIT $4",
                )
                .bind(org)
                .bind(kind.as_str())
                .bind(after.unwrap_or(""))
                .bind(i64::from(top) + 1),
            )
            .await?;
        let mut out: Vec<(Uuid, bool)> = rows
            .iter()
            .map(|r| Ok((r.uuid("sponsor_id")?, r.opt_text("group_id")?.is_some())))
            .collect::<StoreResult<_>>()?;
        let more = out.len() > top as usize;
        out.truncate(top as usize);
        Ok((out, more))
    }
}

impl WriteTx {
    /// The organization, read inside the transaction (locked on PostgreSQL).
    pub async fn connected_organization_for_update(
        &mut self,
        id: Uuid,
    ) -> StoreResult<ConnectedOrganization> {
        let sql = match self.backend() {
            crate::Backend::Sqlite => Sql::new(
                "SELECT id, display_name, description, state, created_at, modified_at FROM connected_organizations WHERE id = $1",
            ),
            crate::Backend::Postgres => Sql::new(
                "SELECT id, display_name, description, state, created_at, modified_at FROM connected_organizations WHERE id = $1 FOR UPDATE",
            ),
        };
        let row = self.fetch_optional(&sql.bind(id)).await?.ok_or_else(|| {
            DomainError::not_found(ObjectKind::ConnectedOrganization, id.to_string())
        })?;
        let sources = self.fetch_all(&sources_query(&[id])).await?;
        let mut by_org = group_sources(sources)?;
        org_from_row(&row, by_org.remove(&id).unwrap_or_default())
    }

    /// Writes an organization's identity sources and the uniqueness keys they claim. A key
    /// that another organization holds fails the write (or, on SQLite, the transaction's next
    /// statement or commit) with a conflict; [`Store::check_sources_unclaimed`] names the
    /// owner beforehand in the ordinary case.
    async fn write_sources(&mut self, org: Uuid, sources: &[IdentitySource]) -> StoreResult<()> {
        for (pos, s) in sources.iter().enumerate() {
            let (cloud, social) = match s {
                IdentitySource::CrossCloudAzureActiveDirectoryTenant { cloud_instance, .. } => {
                    (Some(cloud_instance.clone()), None)
                }
                IdentitySource::SocialIdentitySource {
                    social_identity_source_type,
                    ..
                } => (None, Some(social_identity_source_type.as_str().to_owned())),
                _ => (None, None),
            };
            self.write(
                Sql::new(
                    "INSERT INTO connected_organization_identity_sources \
                     (organization_id, position, odata_type, display_name, display_name_fold, tenant_id, domain_name, issuer_uri, cloud_instance, social_type) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(org)
                .bind(pos as i64)
                .bind(s.odata_type())
                .bind(s.display_name())
                .bind(fold(s.display_name()))
                .bind(s.tenant_id().map(str::to_owned))
                .bind(s.domain_name().map(|d| d.as_str().to_owned()))
                .bind(s.issuer_uri().map(str::to_owned))
                .bind(cloud)
                .bind(social),
            )
            .await?;
            for key in s.keys() {
                self.write(
                    Sql::new("INSERT INTO connected_organization_source_keys (source_key, organization_id) VALUES ($1, $2)")
                        .bind(key.0)
                        .bind(org),
                )
                .await?;
            }
        }
        Ok(())
    }

    pub async fn insert_connected_organization(
        &mut self,
        org: &ConnectedOrganization,
    ) -> StoreResult<()> {
        self.write(
            Sql::new(
                "INSERT INTO connected_organizations (id, display_name, display_name_fold, description, state, created_at, modified_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(org.id)
            .bind(org.display_name.as_str())
            .bind(fold(&org.display_name))
            .bind(org.description.as_str())
            .bind(org.state.as_str())
            .bind(micros(org.created_date_time))
            .bind(micros(org.modified_date_time)),
        )
        .await?;
        self.write_sources(org.id, &org.identity_sources).await
    }

    /// Writes the changed organization; `expected_modified` makes it a conditional write.
    pub async fn update_connected_organization(
        &mut self,
        org: &ConnectedOrganization,
        expected_modified: jiff::Timestamp,
        sources_changed: bool,
    ) -> StoreResult<()> {
        let n = self
            .execute(
                &Sql::new(
                    "UPDATE connected_organizations SET display_name = $1, display_name_fold = $2, description = $3, state = $4, modified_at = $5 \
                     WHERE id = $6 AND modified_at = $7",
                )
                .bind(org.display_name.as_str())
                .bind(fold(&org.display_name))
                .bind(org.description.as_str())
                .bind(org.state.as_str())
                .bind(micros(org.modified_date_time))
                .bind(org.id)
                .bind(micros(expected_modified)),
            )
            .await?;
        if n != 1 {
            return Err(DomainError::conflict(
                "the connected organization was changed by another request; retry",
            )
            .into());
        }
        if sources_changed {
            self.execute(&Sql::new("DELETE FROM connected_organization_identity_sources WHERE organization_id = $1").bind(org.id)).await?;
            self.execute(
                &Sql::new(
                    "DELETE FROM connected_organization_source_keys WHERE organization_id = $1",
                )
                .bind(org.id),
            )
            .await?;
            self.write_sources(org.id, &org.identity_sources).await?;
        }
        Ok(())
    }

    pub async fn delete_connected_organization(&mut self, id: Uuid) -> StoreResult<()> {
        let n = self
            .execute(&Sql::new("DELETE FROM connected_organizations WHERE id = $1").bind(id))
            .await?;
        if n != 1 {
            return Err(
                DomainError::not_found(ObjectKind::ConnectedOrganization, id.to_string()).into(),
            );
        }
        Ok(())
    }

    /// Adds a sponsor; returns false when it was already one (idempotent).
    pub async fn add_sponsor(
        &mut self,
        org: Uuid,
        kind: SponsorKind,
        sponsor: Uuid,
        is_group: bool,
        at: jiff::Timestamp,
    ) -> StoreResult<bool> {
        let exists = self
            .fetch_optional(
                &Sql::new("SELECT 1 AS one FROM connected_organization_sponsors WHERE organization_id = $1 AND kind = $2 AND sponsor_id = $3")
                    .bind(org)
                    .bind(kind.as_str())
                    .bind(sponsor),
            )
            .await?;
        if exists.is_some() {
            return Ok(false);
        }
        let (user_id, group_id) = if is_group {
            (None, Some(sponsor.to_string()))
        } else {
            (Some(sponsor.to_string()), None)
        };
        self.execute(
            &Sql::new("INSERT INTO connected_organization_sponsors (organization_id, kind, sponsor_id, user_id, group_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(org)
                .bind(kind.as_str())
                .bind(sponsor)
                .bind(user_id)
                .bind(group_id)
                .bind(micros(at)),
        )
        .await?;
        Ok(true)
    }

    /// Removes a sponsor; false when it was not one.
    pub async fn remove_sponsor(
        &mut self,
        org: Uuid,
        kind: SponsorKind,
        sponsor: Uuid,
    ) -> StoreResult<bool> {
        let n = self
            .execute(
                &Sql::new("DELETE FROM connected_organization_sponsors WHERE organization_id = $1 AND kind = $2 AND sponsor_id = $3")
                    .bind(org)
                    .bind(kind.as_str())
                    .bind(sponsor),
            )
            .await?;
        Ok(n == 1)
    }

    /// Touches the organization's modified time (sponsor changes count as modifications).
    pub async fn touch_connected_organization(
        &mut self,
        org: Uuid,
        at: jiff::Timestamp,
    ) -> StoreResult<()> {
        self.execute(
            &Sql::new("UPDATE connected_organizations SET modified_at = $1 WHERE id = $2")
                .bind(micros(at))
                .bind(org),
        )
        .await?;
        Ok(())
    }
}
