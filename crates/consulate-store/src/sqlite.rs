//! SQLite through a synchronous binding (rusqlite).
//!
//! A statement runs on the thread that asks for it: a read on a pooled read-only connection,
//! a write on the single writer connection held by its job ([`crate::group_commit`]). In WAL
//! mode a read never waits for the writer, and most statements take microseconds, far less
//! than handing them to a connection thread and waking the caller again. Only the commit,
//! which syncs the WAL, leaves the caller's thread (see `group_commit`).

use crate::sql::{Arg, Sql};
use crate::{SqliteSync, StoreError, StoreResult};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, OpenFlags};
use sha2::Digest as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Prepared statements kept per connection (multi-row writes prepare one per row count).
const STATEMENT_CACHE: usize = 256;

/// How long a statement waits for a lock another process holds.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// True when another connection holds the lock a statement needs.
pub(crate) fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DatabaseBusy)
}

/// Sets what every connection needs: the wait for a lock held by another process, foreign
/// keys, in-memory temporary tables, a 16 MB page cache.
fn configure(conn: &Connection, sync: SqliteSync) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "temp_store", "memory")?;
    conn.pragma_update(None, "cache_size", -16000)?;
    conn.pragma_update(
        None,
        "synchronous",
        match sync {
            SqliteSync::Full => "FULL",
            SqliteSync::Normal => "NORMAL",
        },
    )?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(())
}

/// Opens (creating if missing) the writer connection and puts the database in WAL mode.
pub(crate) fn open_writer(path: &Path, sync: SqliteSync) -> StoreResult<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Config(format!(
            "'{}' cannot use write-ahead logging (journal mode stays {mode})",
            path.display()
        )));
    }
    configure(&conn, sync)?;
    conn.pragma_update(None, "wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)?;
    Ok(conn)
}

/// How long the checkpointer lets frames gather after a checkpoint.
const CHECKPOINT_PAUSE: Duration = Duration::from_millis(50);
/// WAL pages at which the writer checkpoints by itself, should the checkpointer fall behind.
const WRITER_CHECKPOINT_PAGES: i64 = 10_000;

/// Starts the checkpointer: a thread with a connection of its own that copies the WAL into the
/// database file (`PRAGMA wal_checkpoint(PASSIVE)`, which never blocks the writer or a reader)
/// after commits, at most once per [`CHECKPOINT_PAUSE`]. SQLite would otherwise do it inside
/// the commit that crosses its threshold, holding the writer meanwhile. Send `()` after a
/// commit; the thread ends when every sender is gone.
pub(crate) fn start_checkpointer(
    path: &Path,
    sync: SqliteSync,
) -> StoreResult<std::sync::mpsc::SyncSender<()>> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    configure(&conn, sync)?;
    let (wake, woken) = std::sync::mpsc::sync_channel::<()>(1);
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            while woken.recv().is_ok() {
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::warn!(error = %e, "WAL checkpoint failed; the writer will checkpoint");
                }
                std::thread::sleep(CHECKPOINT_PAUSE);
            }
        })
        .map_err(|e| StoreError::Config(format!("cannot start the checkpoint thread: {e}")))?;
    Ok(wake)
}

fn open_reader(path: &Path) -> StoreResult<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    configure(&conn, SqliteSync::Full)?;
    Ok(conn)
}

/// Read-only connections, opened on demand and kept while idle (up to `max_idle`). A
/// connection is held only while one statement runs on the caller's thread, so there are never
/// more open than threads reading at once.
#[derive(Debug)]
pub(crate) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    max_idle: usize,
    open: AtomicUsize,
}

impl Readers {
    pub(crate) fn new(path: PathBuf, max_idle: usize) -> Self {
        Readers {
            path,
            idle: Mutex::new(Vec::new()),
            max_idle: max_idle.max(1),
            open: AtomicUsize::new(0),
        }
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        // A panic while the list was held cannot leave it inconsistent.
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on an idle connection (or a new one) and keeps the connection for the next.
    pub(crate) fn with<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> StoreResult<T> {
        let pooled = self.idle().pop();
        let conn = match pooled {
            Some(c) => c,
            None => {
                let c = open_reader(&self.path)?;
                self.open.fetch_add(1, Ordering::Relaxed);
                c
            }
        };
        let out = f(&conn);
        let mut idle = self.idle();
        if idle.len() < self.max_idle {
            idle.push(conn);
        } else {
            self.open.fetch_sub(1, Ordering::Relaxed);
        }
        Ok(out?)
    }

    /// (open, idle) connections.
    pub(crate) fn stats(&self) -> (u32, u32) {
        let idle = self.idle().len();
        (
            u32::try_from(self.open.load(Ordering::Relaxed)).unwrap_or(u32::MAX),
            u32::try_from(idle).unwrap_or(u32::MAX),
        )
    }

    /// Closes the idle connections.
    pub(crate) fn close(&self) {
        let closed = std::mem::take(&mut *self.idle());
        self.open.fetch_sub(closed.len(), Ordering::Relaxed);
    }
}

/// A row read from SQLite: its column names (shared by the rows of one statement) and values.
pub struct SqliteRow {
    columns: Arc<[String]>,
    values: Vec<Value>,
}

impl SqliteRow {
    fn value(&self, col: &str) -> StoreResult<&Value> {
        self.columns
            .iter()
            .position(|c| c == col)
            .map(|i| &self.values[i])
            .ok_or_else(|| StoreError::Corrupt(format!("no column '{col}' in the row")))
    }

    pub(crate) fn opt_text(&self, col: &str) -> StoreResult<Option<String>> {
        Ok(match self.value(col)? {
            Value::Null => None,
            Value::Text(s) => Some(s.clone()),
            Value::Integer(i) => Some(i.to_string()),
            Value::Real(f) => Some(f.to_string()),
            Value::Blob(b) => Some(String::from_utf8(b.clone()).map_err(|_| {
                StoreError::Corrupt(format!("column {col} holds bytes that are not UTF-8"))
            })?),
        })
    }

    pub(crate) fn text(&self, col: &str) -> StoreResult<String> {
        self.opt_text(col)?
            .ok_or_else(|| StoreError::Corrupt(format!("column {col} is unexpectedly NULL")))
    }

    pub(crate) fn opt_int(&self, col: &str) -> StoreResult<Option<i64>> {
        match self.value(col)? {
            Value::Null => Ok(None),
            Value::Integer(i) => Ok(Some(*i)),
            Value::Text(s) => s.trim().parse().map(Some).map_err(|_| {
                StoreError::Corrupt(format!("column {col} holds '{s}', not an integer"))
            }),
            Value::Real(_) | Value::Blob(_) => Err(StoreError::Corrupt(format!(
                "column {col} does not hold an integer"
            ))),
        }
    }

    pub(crate) fn int(&self, col: &str) -> StoreResult<i64> {
        self.opt_int(col)?
            .ok_or_else(|| StoreError::Corrupt(format!("column {col} is unexpectedly NULL")))
    }

    pub(crate) fn boolean(&self, col: &str) -> StoreResult<bool> {
        self.int(col).map(|i| i != 0)
    }
}

/// Prepares `sql` (cached per connection, with anonymous parameters: see
/// [`Sql::anonymous`]) and binds its arguments.
fn prepare<'c>(conn: &'c Connection, sql: &Sql) -> rusqlite::Result<rusqlite::CachedStatement<'c>> {
    let (text, order) = sql.anonymous_order();
    let mut stmt = conn.prepare_cached(&text)?;
    let expected = stmt.parameter_count();
    if expected != order.len() {
        return Err(rusqlite::Error::InvalidParameterCount(
            order.len(),
            expected,
        ));
    }
    for (i, &arg) in order.iter().enumerate() {
        let at = i + 1;
        match &sql.args[arg] {
            Arg::Text(s) => stmt.raw_bind_parameter(at, s.as_str())?,
            Arg::OptText(s) => stmt.raw_bind_parameter(at, s.as_deref())?,
            Arg::Int(v) => stmt.raw_bind_parameter(at, v)?,
            Arg::OptInt(v) => stmt.raw_bind_parameter(at, v)?,
            Arg::Bool(b) => stmt.raw_bind_parameter(at, b)?,
        }
    }
    Ok(stmt)
}

fn owned(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(f) => Value::Real(f),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

/// Runs a statement and returns its rows.
pub(crate) fn fetch(conn: &Connection, sql: &Sql) -> rusqlite::Result<Vec<SqliteRow>> {
    let mut stmt = prepare(conn, sql)?;
    let columns: Arc<[String]> = stmt.column_names().into_iter().map(String::from).collect();
    let n = columns.len();
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let mut values = Vec::with_capacity(n);
        for i in 0..n {
            values.push(owned(r.get_ref(i)?));
        }
        out.push(SqliteRow {
            columns: columns.clone(),
            values,
        });
    }
    Ok(out)
}

/// Runs a statement and returns how many rows it changed. Rows it returns (`RETURNING`) are
/// stepped through and dropped.
pub(crate) fn execute(conn: &Connection, sql: &Sql) -> rusqlite::Result<u64> {
    let mut stmt = prepare(conn, sql)?;
    let mut rows = stmt.raw_query();
    while rows.next()?.is_some() {}
    drop(rows);
    Ok(conn.changes())
}

/// Runs a fixed statement without arguments (a savepoint, say), prepared once per connection.
pub(crate) fn run(conn: &Connection, sql: &'static str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// True for a unique or primary-key violation.
pub(crate) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

/// True for a foreign-key violation.
pub(crate) fn is_foreign_key_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY)
}

/// The message SQLite gave with a failure (it names the constraint's columns).
pub(crate) fn message(e: &rusqlite::Error) -> Option<&str> {
    match e {
        rusqlite::Error::SqliteFailure(_, Some(m)) => Some(m),
        _ => None,
    }
}

/// A migration as the binary carries it.
pub(crate) struct Migration<'a> {
    pub(crate) version: i64,
    pub(crate) description: &'a str,
    pub(crate) sql: &'a str,
}

/// Applies the migrations a database has not applied yet, each in its own transaction with
/// its record. The records are kept in `_sqlx_migrations`, in the layout (and with the SHA-384
/// checksums) that earlier releases wrote, so databases created by them carry on.
pub(crate) fn migrate(conn: &mut Connection, migrations: &[Migration<'_>]) -> StoreResult<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
            version BIGINT PRIMARY KEY,
            description TEXT NOT NULL,
            installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
            success BOOLEAN NOT NULL,
            checksum BLOB NOT NULL,
            execution_time BIGINT NOT NULL
        )",
    )?;
    for m in migrations {
        let started = Instant::now();
        let checksum = sha2::Sha384::digest(m.sql.as_bytes()).to_vec();
        // `BEGIN IMMEDIATE` first: another process starting on the same file waits here and
        // then sees this one's records.
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let applied: Option<(bool, Vec<u8>)> = match tx.query_row(
            "SELECT success, checksum FROM _sqlx_migrations WHERE version = ?1",
            [m.version],
            |r| Ok((r.get(0)?, r.get(1)?)),
        ) {
            Ok(v) => Some(v),
            Err(rusqlite::Error::QueryReturnedNoRows) => None,
            Err(e) => return Err(e.into()),
        };
        match applied {
            Some((false, _)) => {
                return Err(StoreError::Config(format!(
                    "migration {} was left partly applied; restore the database from a backup",
                    m.version
                )));
            }
            Some((true, stored)) if stored != checksum => {
                return Err(StoreError::Config(format!(
                    "migration {} was applied with different contents than this release carries",
                    m.version
                )));
            }
            Some(_) => continue,
            None => {}
        }
        tx.execute_batch(m.sql)
            .map_err(|e| StoreError::Config(format!("migration {} failed: {e}", m.version)))?;
        tx.execute(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (?1, ?2, TRUE, ?3, ?4)",
            rusqlite::params![
                m.version,
                m.description,
                checksum,
                i64::try_from(started.elapsed().as_nanos()).unwrap_or(i64::MAX)
            ],
        )?;
        tx.commit()?;
    }
    let known = migrations.iter().map(|m| m.version).max().unwrap_or(0);
    let newest: Option<i64> =
        conn.query_row("SELECT MAX(version) FROM _sqlx_migrations", [], |r| {
            r.get(0)
        })?;
    if let Some(v) = newest.filter(|v| *v > known) {
        return Err(StoreError::Config(format!(
            "the database has migration {v} applied, newer than this release knows ({known})"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_db() -> PathBuf {
        std::env::temp_dir().join(format!("consulate-sqlite-{}.db", uuid::Uuid::now_v7()))
    }

    const FIRST: Migration<'static> = Migration {
        version: 1,
        description: "first",
        sql: "CREATE TABLE t (a TEXT, b INTEGER, c BOOLEAN); CREATE INDEX t_a ON t (a);",
    };

    fn applied(conn: &Connection) -> i64 {
        conn.query_row("SELECT COUNT(*) FROM _sqlx_migrations", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn migrations_apply_once_and_refuse_changes() {
        let path = temp_db();
        let mut conn = open_writer(&path, SqliteSync::Full).unwrap();
        migrate(&mut conn, &[FIRST]).unwrap();
        migrate(&mut conn, &[FIRST]).unwrap();
        assert_eq!(applied(&conn), 1);
        // The record is the one sqlx kept: the SHA-384 of the text.
        let sum: Vec<u8> = conn
            .query_row(
                "SELECT checksum FROM _sqlx_migrations WHERE version = 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(sum, sha2::Sha384::digest(FIRST.sql.as_bytes()).to_vec());

        let second = Migration {
            version: 2,
            description: "second",
            sql: "ALTER TABLE t ADD COLUMN d TEXT;",
        };
        migrate(&mut conn, &[FIRST, second]).unwrap();
        assert_eq!(applied(&conn), 2);

        // Edited after it was applied: the start stops, nothing changes.
        let edited = Migration {
            sql: "CREATE TABLE t (a TEXT);",
            ..FIRST
        };
        let e = migrate(&mut conn, &[edited]).unwrap_err();
        assert!(e.to_string().contains("different contents"), "{e}");
        // A database migrated by a newer release.
        let e = migrate(&mut conn, &[FIRST]).unwrap_err();
        assert!(e.to_string().contains("newer than this release"), "{e}");
        // A failing migration leaves no record and no partial change.
        let broken = Migration {
            version: 3,
            description: "broken",
            sql: "CREATE TABLE u (x TEXT); CREATE TABLE t (a TEXT);",
        };
        let e = migrate(
            &mut conn,
            &[
                FIRST,
                Migration {
                    version: 2,
                    description: "second",
                    sql: "ALTER TABLE t ADD COLUMN d TEXT;",
                },
                broken,
            ],
        )
        .unwrap_err();
        assert!(e.to_string().contains("migration 3 failed"), "{e}");
        assert_eq!(applied(&conn), 2);
        let u: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'u'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(u, 0);
        drop(conn);
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn rows_decode_and_readers_are_reused() {
        let path = temp_db();
        let mut conn = open_writer(&path, SqliteSync::Normal).unwrap();
        migrate(&mut conn, &[FIRST]).unwrap();
        let insert = Sql::new("INSERT INTO t (a, b, c) VALUES ($1, $2, $3), ($4, $2, $5)")
            .bind("x")
            .bind(7i64)
            .bind(true)
            .bind(Option::<String>::None)
            .bind(false);
        assert_eq!(execute(&conn, &insert).unwrap(), 2);
        // A statement short of arguments is refused, not run with NULLs.
        let short = Sql::new("INSERT INTO t (a, b) VALUES ($1, $2)").bind("y");
        assert!(execute(&conn, &short).is_err());

        let readers = Readers::new(path.clone(), 2);
        let read = Sql::new("SELECT a, b, c, b * 2 AS twice FROM t ORDER BY a IS NULL");
        for _ in 0..3 {
            let rows = readers.with(|c| fetch(c, &read)).unwrap();
            assert_eq!(rows.len(), 2);
            assert_eq!(rows[0].text("a").unwrap(), "x");
            assert_eq!(rows[0].int("twice").unwrap(), 14);
            assert!(rows[0].boolean("c").unwrap());
            assert_eq!(rows[1].opt_text("a").unwrap(), None);
            assert!(!rows[1].boolean("c").unwrap());
            assert!(rows[1].text("a").is_err());
            assert!(rows[0].int("a").is_err());
            assert!(rows[0].text("missing").is_err());
        }
        // One connection served every read, one after another.
        assert_eq!(readers.stats(), (1, 1));
        // Read-only connections refuse writes.
        assert!(readers.with(|c| execute(c, &insert)).is_err());
        readers.close();
        assert_eq!(readers.stats(), (0, 0));
        drop(conn);
        let _ = std::fs::remove_file(&path);
    }
}
