//! Consulate's persistence: one [`Store`] over SQLite (the embedded default) or PostgreSQL.
//!
//! - Statements are written once with `$n` placeholders ([`sql`]); the few places where the
//!   dialects differ branch on [`Backend`].
//! - Migrations are embedded per backend and run at start; on PostgreSQL they take an advisory
//!   lock, so replicas starting together migrate once.
//! - SQLite runs in WAL mode with `synchronous=FULL` by default, through a synchronous binding
//!   ([`sqlite`]): statements run on the caller's thread. Writes go through one writer
//!   connection with group commit ([`group_commit`]: concurrent writers share one transaction
//!   through savepoints and one sync) under `BEGIN IMMEDIATE`; reads use read-only connections.
//! - Every write happens in a [`WriteTx`] that commits together with its audit events, which
//!   are hash-chained ([`audit`]).
#![forbid(unsafe_code)]

pub mod access_packages;
pub mod applications;
pub mod approvals;
pub mod audit;
pub mod batch;
pub mod catalog_roles;
pub mod catalogs;
pub mod directory;
pub mod external_mfa;
pub mod filter_sql;
mod group_commit;
pub mod identity_providers;
pub mod lifecycle;
pub mod list;
pub mod local_accounts;
pub mod oidc;
pub mod organizations;
pub mod policies;
pub mod provisioning;
pub mod reports;
pub mod resources;
pub mod settings;
pub mod sign_in;
pub mod sign_in_rules;
pub mod sql;
mod sqlite;
pub mod subjects;
pub mod tenant;
pub mod terms;
pub mod tokens;
pub mod user_relations;

use consulate_core::DomainError;
use consulate_core::audit::{AuditEvent, chain_hash};
use sql::{Row, Sql, query};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection as _};
use std::borrow::Cow;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A rule of the domain refused the change (also unique-key conflicts found in the store).
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Stored data that does not decode: a bug or tampering.
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// The commit of a (group-committed) transaction failed; nothing of it was applied.
    #[error("commit failed: {0}")]
    Commit(String),
    #[error("invalid database configuration: {0}")]
    Config(String),
}

impl StoreError {
    /// True for a unique-constraint violation.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(e)) => e.is_unique_violation(),
            StoreError::Sqlite(e) => sqlite::is_unique_violation(e),
            _ => false,
        }
    }
    /// True for a foreign-key violation.
    pub fn is_foreign_key_violation(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(e)) => e.is_foreign_key_violation(),
            StoreError::Sqlite(e) => sqlite::is_foreign_key_violation(e),
            _ => false,
        }
    }
    /// The constraint a violation names (PostgreSQL) or the database's message (SQLite names
    /// the columns there).
    fn violation_names(&self, constraint: &str, columns: &str) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(d)) => {
                d.constraint() == Some(constraint) || d.message().contains(columns)
            }
            StoreError::Sqlite(e) => sqlite::message(e).is_some_and(|m| m.contains(columns)),
            _ => false,
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// SQLite durability: `full` (default) syncs the WAL on every commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SqliteSync {
    #[default]
    Full,
    Normal,
}

/// How to open a store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// `postgres://…`, `sqlite://path`, `sqlite:path` or a plain file path.
    pub url: String,
    pub sqlite_sync: SqliteSync,
    /// Maximum pooled connections (PostgreSQL; SQLite readers).
    pub max_connections: u32,
    /// PostgreSQL schema to use (`search_path`); created if missing. For isolated tests.
    pub pg_schema: Option<String>,
}

impl StoreOptions {
    pub fn new(url: impl Into<String>) -> Self {
        StoreOptions {
            url: url.into(),
            sqlite_sync: SqliteSync::Full,
            max_connections: 8,
            pg_schema: None,
        }
    }
}

#[derive(Clone, Debug)]
enum Pools {
    Sqlite {
        writer: group_commit::Writer,
        readers: Arc<sqlite::Readers>,
    },
    Postgres(PgPool),
}

/// The database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pools: Pools,
}

struct EmbeddedMigration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[EmbeddedMigration] = &[
    EmbeddedMigration {
        version: 1,
        name: "foundation",
        sqlite: include_str!("../../../migrations/sqlite/0001_foundation.sql"),
        postgres: include_str!("../../../migrations/postgres/0001_foundation.sql"),
    },
    EmbeddedMigration {
        version: 2,
        name: "catalogs",
        sqlite: include_str!("../../../migrations/sqlite/0002_catalogs.sql"),
        postgres: include_str!("../../../migrations/postgres/0002_catalogs.sql"),
    },
    EmbeddedMigration {
        version: 3,
        name: "resources",
        sqlite: include_str!("../../../migrations/sqlite/0003_resources.sql"),
        postgres: include_str!("../../../migrations/postgres/0003_resources.sql"),
    },
    EmbeddedMigration {
        version: 4,
        name: "access_packages",
        sqlite: include_str!("../../../migrations/sqlite/0004_access_packages.sql"),
        postgres: include_str!("../../../migrations/postgres/0004_access_packages.sql"),
    },
    EmbeddedMigration {
        version: 5,
        name: "assignment_policies",
        sqlite: include_str!("../../../migrations/sqlite/0005_assignment_policies.sql"),
        postgres: include_str!("../../../migrations/postgres/0005_assignment_policies.sql"),
    },
    EmbeddedMigration {
        version: 6,
        name: "catalog_roles",
        sqlite: include_str!("../../../migrations/sqlite/0006_catalog_roles.sql"),
        postgres: include_str!("../../../migrations/postgres/0006_catalog_roles.sql"),
    },
    EmbeddedMigration {
        version: 7,
        name: "requests_assignments",
        sqlite: include_str!("../../../migrations/sqlite/0007_requests_assignments.sql"),
        postgres: include_str!("../../../migrations/postgres/0007_requests_assignments.sql"),
    },
    EmbeddedMigration {
        version: 8,
        name: "approvals",
        sqlite: include_str!("../../../migrations/sqlite/0008_approvals.sql"),
        postgres: include_str!("../../../migrations/postgres/0008_approvals.sql"),
    },
    EmbeddedMigration {
        version: 9,
        name: "settings",
        sqlite: include_str!("../../../migrations/sqlite/0009_settings.sql"),
        postgres: include_str!("../../../migrations/postgres/0009_settings.sql"),
    },
    EmbeddedMigration {
        version: 10,
        name: "subjects",
        sqlite: include_str!("../../../migrations/sqlite/0010_subjects.sql"),
        postgres: include_str!("../../../migrations/postgres/0010_subjects.sql"),
    },
    EmbeddedMigration {
        version: 11,
        name: "managers_sponsors",
        sqlite: include_str!("../../../migrations/sqlite/0011_managers_sponsors.sql"),
        postgres: include_str!("../../../migrations/postgres/0011_managers_sponsors.sql"),
    },
    EmbeddedMigration {
        version: 12,
        name: "sign_in",
        sqlite: include_str!("../../../migrations/sqlite/0012_sign_in.sql"),
        postgres: include_str!("../../../migrations/postgres/0012_sign_in.sql"),
    },
    EmbeddedMigration {
        version: 13,
        name: "local_accounts",
        sqlite: include_str!("../../../migrations/sqlite/0013_local_accounts.sql"),
        postgres: include_str!("../../../migrations/postgres/0013_local_accounts.sql"),
    },
    EmbeddedMigration {
        version: 14,
        name: "oidc",
        sqlite: include_str!("../../../migrations/sqlite/0014_oidc.sql"),
        postgres: include_str!("../../../migrations/postgres/0014_oidc.sql"),
    },
    EmbeddedMigration {
        version: 15,
        name: "sign_in_rules",
        sqlite: include_str!("../../../migrations/sqlite/0015_sign_in_rules.sql"),
        postgres: include_str!("../../../migrations/postgres/0015_sign_in_rules.sql"),
    },
    EmbeddedMigration {
        version: 16,
        name: "external_authenticators",
        sqlite: include_str!("../../../migrations/sqlite/0016_external_authenticators.sql"),
        postgres: include_str!("../../../migrations/postgres/0016_external_authenticators.sql"),
    },
    EmbeddedMigration {
        version: 17,
        name: "social_identity_providers",
        sqlite: include_str!("../../../migrations/sqlite/0017_social_identity_providers.sql"),
        postgres: include_str!("../../../migrations/postgres/0017_social_identity_providers.sql"),
    },
    EmbeddedMigration {
        version: 18,
        name: "terms_of_use",
        sqlite: include_str!("../../../migrations/sqlite/0018_terms_of_use.sql"),
        postgres: include_str!("../../../migrations/postgres/0018_terms_of_use.sql"),
    },
];

/// How many migrations the binary carries (and a migrated database has applied).
pub const MIGRATION_COUNT: usize = MIGRATIONS.len();

/// The PostgreSQL migrator (SQLite's runner is [`sqlite::migrate`], keeping the same records).
fn postgres_migrator() -> Migrator {
    let migrations = MIGRATIONS
        .iter()
        .map(|m| {
            Migration::new(
                m.version,
                Cow::Borrowed(m.name),
                MigrationType::Simple,
                sqlx::SqlSafeStr::into_sql_str(m.postgres),
                false,
            )
        })
        .collect();
    let mut migrator = Migrator::with_migrations(migrations);
    migrator.set_locking(true);
    migrator
}

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl Store {
    /// Opens the database (creating a SQLite file if missing) and applies pending migrations.
    pub async fn open(options: &StoreOptions) -> StoreResult<Store> {
        let store = if is_postgres_url(&options.url) {
            Self::open_postgres(options).await?
        } else {
            Self::open_sqlite(options).await?
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn open_sqlite(options: &StoreOptions) -> StoreResult<Store> {
        let path = options
            .url
            .strip_prefix("sqlite://")
            .or_else(|| options.url.strip_prefix("sqlite:"))
            .unwrap_or(&options.url);
        if path.is_empty() || path.contains('?') || path == ":memory:" {
            return Err(StoreError::Config(format!(
                "'{}' is not a SQLite database file path",
                options.url
            )));
        }
        let path = std::path::PathBuf::from(path);
        let writer = sqlite::open_writer(&path, options.sqlite_sync)?;
        let checkpoint = sqlite::start_checkpointer(&path, options.sqlite_sync)?;
        let max_idle = usize::try_from(options.max_connections).unwrap_or(8);
        Ok(Store {
            pools: Pools::Sqlite {
                writer: group_commit::Writer::new(writer, checkpoint),
                readers: Arc::new(sqlite::Readers::new(path, max_idle)),
            },
        })
    }

    async fn open_postgres(options: &StoreOptions) -> StoreResult<Store> {
        let mut opts = PgConnectOptions::from_str(&options.url)?;
        // One direct connection first: a wrong address or credential fails at once with the
        // server's own error, instead of after the pool's acquire timeout.
        let mut conn = sqlx::PgConnection::connect_with(&opts).await?;
        if let Some(schema) = &options.pg_schema {
            if !schema
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                || schema.is_empty()
            {
                return Err(StoreError::Config(format!(
                    "'{schema}' is not a valid schema name"
                )));
            }
            // Concurrent `CREATE SCHEMA IF NOT EXISTS` can still collide inside PostgreSQL;
            // the loser's duplicate-key error means the schema exists, which is all we need.
            let created = sqlx::query(AssertSqlSafe(format!(
                "CREATE SCHEMA IF NOT EXISTS {schema}"
            )))
            .execute(&mut conn)
            .await;
            if let Err(e) = created {
                let duplicate = matches!(&e, sqlx::Error::Database(d) if d.is_unique_violation());
                if !duplicate {
                    return Err(e.into());
                }
            }
            opts = opts.options([("search_path", schema.as_str())]);
        }
        conn.close().await?;
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(2))
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts)
            .await?;
        Ok(Store {
            pools: Pools::Postgres(pool),
        })
    }

    /// Applies pending migrations (idempotent; safe with concurrent replicas).
    pub async fn migrate(&self) -> StoreResult<()> {
        match &self.pools {
            Pools::Sqlite { writer, .. } => {
                let migrations: Vec<_> = MIGRATIONS
                    .iter()
                    .map(|m| sqlite::Migration {
                        version: m.version,
                        description: m.name,
                        sql: m.sqlite,
                    })
                    .collect();
                writer
                    .with_connection(|conn| sqlite::migrate(conn, &migrations))
                    .await?
            }
            Pools::Postgres(pool) => postgres_migrator().run(pool).await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self.pools {
            Pools::Sqlite { .. } => Backend::Sqlite,
            Pools::Postgres(_) => Backend::Postgres,
        }
    }

    /// Checks the database answers (for readiness probes).
    pub async fn ping(&self) -> StoreResult<()> {
        self.fetch_all(&Sql::new("SELECT 1 AS one"))
            .await
            .map(|_| ())
    }

    /// (open connections, idle connections) across the store's pools.
    pub fn pool_stats(&self) -> (u32, u32) {
        match &self.pools {
            Pools::Sqlite { writer, readers } => {
                let (open, idle) = readers.stats();
                (open + 1, idle + u32::from(writer.is_idle()))
            }
            Pools::Postgres(p) => (p.size(), p.num_idle() as u32),
        }
    }

    /// Closes every pool, waiting for connections to be returned.
    pub async fn close(&self) {
        match &self.pools {
            Pools::Sqlite { writer, readers } => {
                readers.close();
                writer.close().await;
            }
            Pools::Postgres(p) => p.close().await,
        }
    }

    /// Runs a read statement on the read pool.
    pub async fn fetch_all(&self, sql: &Sql) -> StoreResult<Vec<Row>> {
        Ok(match &self.pools {
            Pools::Sqlite { readers, .. } => readers
                .with(|c| sqlite::fetch(c, sql))?
                .into_iter()
                .map(Row::Sqlite)
                .collect(),
            Pools::Postgres(p) => query!(sqlx::Postgres, sql)
                .fetch_all(p)
                .await?
                .into_iter()
                .map(Row::Postgres)
                .collect(),
        })
    }

    pub async fn fetch_optional(&self, sql: &Sql) -> StoreResult<Option<Row>> {
        Ok(match &self.pools {
            Pools::Sqlite { readers, .. } => readers
                .with(|c| sqlite::fetch(c, sql))?
                .into_iter()
                .next()
                .map(Row::Sqlite),
            Pools::Postgres(p) => query!(sqlx::Postgres, sql)
                .fetch_optional(p)
                .await?
                .map(Row::Postgres),
        })
    }

    /// Runs a read that may scan many rows (a count, a report). On SQLite it runs on a blocking
    /// thread, so a long scan never holds one of the runtime's workers (a statement otherwise
    /// runs on the caller's thread).
    pub async fn fetch_all_long(&self, sql: &Sql) -> StoreResult<Vec<Row>> {
        match &self.pools {
            Pools::Sqlite { readers, .. } => {
                let (readers, sql) = (readers.clone(), sql.clone());
                let rows =
                    tokio::task::spawn_blocking(move || readers.with(|c| sqlite::fetch(c, &sql)))
                        .await
                        .map_err(|e| StoreError::Corrupt(format!("a read was cut short: {e}")))??;
                Ok(rows.into_iter().map(Row::Sqlite).collect())
            }
            Pools::Postgres(_) => self.fetch_all(sql).await,
        }
    }

    /// Runs a single unaudited bookkeeping write (e.g. a token's last-use time) outside any
    /// transaction. Never use this for a state change.
    pub async fn execute_bookkeeping(&self, sql: &Sql) -> StoreResult<u64> {
        Ok(match &self.pools {
            Pools::Sqlite { writer, .. } => writer.run_unaudited(sql).await?,
            Pools::Postgres(p) => query!(sqlx::Postgres, sql)
                .execute(p)
                .await?
                .rows_affected(),
        })
    }

    /// Starts a writing transaction (`BEGIN IMMEDIATE` on SQLite).
    pub async fn begin(&self) -> StoreResult<WriteTx> {
        Ok(WriteTx {
            inner: match &self.pools {
                Pools::Sqlite { writer, .. } => TxInner::Sqlite(writer.begin().await?),
                Pools::Postgres(p) => TxInner::Postgres(p.begin().await?),
            },
        })
    }
}

enum TxInner {
    /// A job in SQLite's group-committed writer transaction.
    Sqlite(group_commit::Job),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// A writing transaction. It ends either with [`WriteTx::commit`], which appends the audit
/// events to the chain in the same transaction, or by being dropped (rolled back).
pub struct WriteTx {
    inner: TxInner,
}

impl WriteTx {
    pub fn backend(&self) -> Backend {
        match self.inner {
            TxInner::Sqlite(_) => Backend::Sqlite,
            TxInner::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn fetch_all(&mut self, sql: &Sql) -> StoreResult<Vec<Row>> {
        Ok(match &mut self.inner {
            TxInner::Sqlite(job) => sqlite::fetch(job.conn(), sql)
                .map_err(|e| map_write_error(e.into()))?
                .into_iter()
                .map(Row::Sqlite)
                .collect(),
            TxInner::Postgres(t) => query!(sqlx::Postgres, sql)
                .fetch_all(&mut **t)
                .await?
                .into_iter()
                .map(Row::Postgres)
                .collect(),
        })
    }

    pub async fn fetch_optional(&mut self, sql: &Sql) -> StoreResult<Option<Row>> {
        Ok(match &mut self.inner {
            TxInner::Sqlite(job) => sqlite::fetch(job.conn(), sql)
                .map_err(|e| map_write_error(e.into()))?
                .into_iter()
                .next()
                .map(Row::Sqlite),
            TxInner::Postgres(t) => query!(sqlx::Postgres, sql)
                .fetch_optional(&mut **t)
                .await?
                .map(Row::Postgres),
        })
    }

    /// Executes a statement; returns the number of rows it affected.
    pub async fn execute(&mut self, sql: &Sql) -> StoreResult<u64> {
        Ok(match &mut self.inner {
            TxInner::Sqlite(job) => {
                job.savepoint()?;
                sqlite::execute(job.conn(), sql).map_err(|e| map_write_error(e.into()))?
            }
            TxInner::Postgres(t) => query!(sqlx::Postgres, sql)
                .execute(&mut **t)
                .await
                .map_err(|e| map_write_error(e.into()))?
                .rows_affected(),
        })
    }

    /// A write whose outcome the caller does not need (an insert of new rows, say); its error
    /// (a unique key taken, say) is returned.
    pub async fn write(&mut self, sql: Sql) -> StoreResult<()> {
        self.execute(&sql).await.map(|_| ())
    }

    /// Appends `events` to the audit chain and commits. At least one event is required: every
    /// state change is audited. The chain head is locked last, so writers never deadlock on it.
    pub async fn commit(mut self, events: &[AuditEvent]) -> StoreResult<()> {
        if events.is_empty() {
            return Err(StoreError::Corrupt(
                "a state change must commit with at least one audit event".into(),
            ));
        }
        let cached = match &self.inner {
            TxInner::Sqlite(job) => job.chain_head(),
            TxInner::Postgres(_) => None,
        };
        let head = match cached {
            Some(head) => head,
            None => self.read_chain_head().await?,
        };
        let (statements, head) = audit_statements(events, head);
        match self.inner {
            TxInner::Sqlite(job) => job
                .commit(statements, head)
                .await
                .map_err(map_write_error)?,
            TxInner::Postgres(mut t) => {
                for s in &statements {
                    query!(sqlx::Postgres, s).execute(&mut *t).await?;
                }
                t.commit().await?
            }
        }
        Ok(())
    }

    /// The chain head (locked on PostgreSQL; SQLite's writer holds the only write lock).
    async fn read_chain_head(&mut self) -> StoreResult<(i64, String)> {
        let head_sql = match self.backend() {
            Backend::Sqlite => Sql::new("SELECT sequence, hash FROM audit_chain_head WHERE id = 1"),
            Backend::Postgres => {
                Sql::new("SELECT sequence, hash FROM audit_chain_head WHERE id = 1 FOR UPDATE")
            }
        };
        let head = self
            .fetch_optional(&head_sql)
            .await?
            .ok_or_else(|| StoreError::Corrupt("audit chain head is missing".into()))?;
        Ok((head.int("sequence")?, head.text("hash")?))
    }
}

/// A failed write as the store reports it: a unique key the domain knows becomes its
/// conflict; anything else stays a database error.
fn map_write_error(e: StoreError) -> StoreError {
    if e.is_unique_violation()
        && e.violation_names(
            "connected_organization_source_keys_pkey",
            "connected_organization_source_keys.",
        )
    {
        return DomainError::conflict(
            "An identity source already belongs to another connected organization; a domain, \
             tenant, issuer or social provider may belong to one connected organization only",
        )
        .into();
    }
    if e.is_unique_violation()
        && e.violation_names(
            "assignments_one_active",
            "assignments.access_package_id, assignments.target_id",
        )
    {
        return DomainError::conflict("the user already has this access package").into();
    }
    e
}

/// Events per multi-row audit insert (12 bound values each).
const AUDIT_CHUNK: usize = 200;

/// The statements that append `events` to the chain after `head`, and the new head: one
/// multi-row insert per [`AUDIT_CHUNK`] events and one for their targets, then the head.
fn audit_statements(events: &[AuditEvent], head: (i64, String)) -> (Vec<Sql>, (i64, String)) {
    let (mut seq, mut prev) = head;
    let mut statements = Vec::with_capacity(events.len().div_ceil(AUDIT_CHUNK) * 2 + 1);
    for chunk in events.chunks(AUDIT_CHUNK) {
        let mut insert = Sql::new(
            "INSERT INTO audit_events (sequence, id, activity_at, category, activity, operation, initiator_kind, initiator_id, result, canonical, prev_hash, hash) VALUES ",
        );
        let mut targets_insert =
            Sql::new("INSERT INTO audit_event_targets (sequence, target_id) VALUES ");
        let mut any_target = false;
        let mut full_targets = Vec::new();
        for (i, e) in chunk.iter().enumerate() {
            let canonical = e.canonical();
            let hash = chain_hash(&prev, &canonical);
            seq += 1;
            let values: [sql::Arg; 12] = [
                seq.into(),
                e.id.into(),
                sql::micros(e.activity_date_time).into(),
                e.category.as_str().into(),
                e.activity_display_name.as_str().into(),
                e.operation_type.as_str().into(),
                e.initiated_by.kind.as_str().into(),
                e.initiated_by.id.clone().into(),
                e.result.as_str().into(),
                canonical.into(),
                prev.as_str().into(),
                hash.as_str().into(),
            ];
            insert.push(if i > 0 { ", (" } else { "(" });
            for (j, v) in values.into_iter().enumerate() {
                if j > 0 {
                    insert.push(", ");
                }
                let p = insert.placeholder(v);
                insert.push(&p);
            }
            insert.push(")");
            let mut targets: Vec<&str> = e.target_resources.iter().map(|t| t.id.as_str()).collect();
            targets.sort_unstable();
            targets.dedup();
            for t in targets {
                if targets_insert.args_len() >= 2 * 5_000 {
                    // Bounded like every multi-row statement: a new one past 5,000 rows.
                    full_targets.push(std::mem::replace(
                        &mut targets_insert,
                        Sql::new("INSERT INTO audit_event_targets (sequence, target_id) VALUES "),
                    ));
                    any_target = false;
                }
                targets_insert.push(if any_target { ", (" } else { "(" });
                any_target = true;
                let s = targets_insert.placeholder(seq);
                targets_insert.push(&s);
                targets_insert.push(", ");
                let t = targets_insert.placeholder(t);
                targets_insert.push(&t);
                targets_insert.push(")");
            }
            prev = hash;
        }
        statements.push(insert);
        statements.extend(full_targets);
        if any_target {
            statements.push(targets_insert);
        }
    }
    statements.push(
        Sql::new("UPDATE audit_chain_head SET sequence = $1, hash = $2 WHERE id = 1")
            .bind(seq)
            .bind(prev.as_str()),
    );
    (statements, (seq, prev))
}
