//! Terms of use for people from outside: the current text and version, and acceptances.

use crate::sql::{Sql, micros};
use crate::{Store, StoreResult, WriteTx};

/// The current terms: (text, version).
pub type StoredTerms = (String, String);

impl Store {
    pub async fn terms_of_use(&self) -> StoreResult<Option<StoredTerms>> {
        self.fetch_optional(&Sql::new(
            "SELECT text, version FROM terms_of_use WHERE id = 1",
        ))
        .await?
        .map(|r| Ok((r.text("text")?, r.text("version")?)))
        .transpose()
    }

    /// Whether (issuer, subject) accepted this version.
    pub async fn terms_accepted(
        &self,
        issuer: &str,
        subject: &str,
        version: &str,
    ) -> StoreResult<bool> {
        Ok(self
            .fetch_optional(
                &Sql::new("SELECT 1 AS one FROM terms_acceptances WHERE issuer = $1 AND subject = $2 AND version = $3")
                    .bind(issuer)
                    .bind(subject)
                    .bind(version),
            )
            .await?
            .is_some())
    }
}

impl WriteTx {
    /// The current terms, read in this transaction.
    pub async fn terms_of_use(&mut self) -> StoreResult<Option<StoredTerms>> {
        self.fetch_optional(&Sql::new(
            "SELECT text, version FROM terms_of_use WHERE id = 1",
        ))
        .await?
        .map(|r| Ok((r.text("text")?, r.text("version")?)))
        .transpose()
    }

    /// Replaces the terms (None removes them).
    pub async fn set_terms_of_use(
        &mut self,
        terms: Option<(&str, &str)>,
        at: jiff::Timestamp,
    ) -> StoreResult<()> {
        match terms {
            None => {
                self.execute(&Sql::new("DELETE FROM terms_of_use WHERE id = 1"))
                    .await?;
            }
            Some((text, version)) => {
                self.execute(
                    &Sql::new(
                        "INSERT INTO terms_of_use (id, text, version, modified_at) VALUES (1, $1, $2, $3) \
                         ON CONFLICT (id) DO UPDATE SET text = excluded.text, version = excluded.version, modified_at = excluded.modified_at",
                    )
                    .bind(text)
                    .bind(version)
                    .bind(micros(at)),
                )
                .await?;
            }
        }
        Ok(())
    }

    /// Records an acceptance; false when it was recorded already.
    pub async fn accept_terms(
        &mut self,
        (issuer, subject): (&str, &str),
        version: &str,
        at: jiff::Timestamp,
    ) -> StoreResult<bool> {
        Ok(self
            .execute(
                &Sql::new(
                    "INSERT INTO terms_acceptances (issuer, subject, version, accepted_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                )
                .bind(issuer)
                .bind(subject)
                .bind(version)
                .bind(micros(at)),
            )
            .await?
            == 1)
    }
}
