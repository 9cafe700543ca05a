//! Group commit for SQLite's single writer.
//!
//! SQLite allows one writer at a time and, with `synchronous=FULL`, syncs the WAL on every
//! commit. When several writers are queued, each gets a `SAVEPOINT` inside one shared
//! transaction instead of a transaction of its own; the batch commits (one sync) when nobody
//! else is waiting, or when it reaches [`MAX_BATCH_JOBS`] jobs or [`MAX_BATCH_AGE`]. A job
//! that fails or is abandoned rolls back to its savepoint, leaving the others intact. No job is
//! acknowledged before the shared `COMMIT` has succeeded, so durability is unchanged: a crash
//! loses only unacknowledged work.

use crate::StoreError;
use sqlx::sqlite::SqlitePool;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, OwnedMutexGuard, oneshot};

/// Most jobs in one batch.
pub const MAX_BATCH_JOBS: usize = 128;
/// Oldest a batch may get before it is committed even with writers queued.
pub const MAX_BATCH_AGE: Duration = Duration::from_millis(25);

/// The open batch, owned by whoever holds the writer mutex.
pub(crate) struct Batch {
    pub(crate) tx: Option<sqlx::Transaction<'static, sqlx::Sqlite>>,
    /// Jobs released into the open batch, waiting for its commit.
    waiters: Vec<oneshot::Sender<Result<(), String>>>,
    /// A job holds the savepoint (set while a job runs; left set if it was abandoned).
    in_job: bool,
    opened_at: Instant,
}

/// The SQLite writer: the pool's single connection behind a mutex, with a count of the
/// writers waiting for it.
#[derive(Clone)]
pub(crate) struct Writer {
    pool: SqlitePool,
    batch: Arc<Mutex<Batch>>,
    waiting: Arc<AtomicUsize>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("waiting", &self.waiting.load(Ordering::Relaxed))
            .finish()
    }
}

/// Counts a writer as waiting until it holds the mutex (also when its future is dropped).
struct Waiting(Arc<AtomicUsize>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A job's exclusive hold on the shared transaction.
pub(crate) struct Job {
    pub(crate) guard: Option<OwnedMutexGuard<Batch>>,
    writer: Writer,
}

async fn exec(batch: &mut Batch, sql: &'static str) -> Result<(), sqlx::Error> {
    let tx = batch.tx.as_mut().expect("an open batch");
    sqlx::query(sql).execute(&mut **tx).await.map(|_| ())
}

impl Writer {
    pub(crate) fn new(pool: SqlitePool) -> Self {
        Writer {
            pool,
            batch: Arc::new(Mutex::new(Batch {
                tx: None,
                waiters: Vec::new(),
                in_job: false,
                opened_at: Instant::now(),
            })),
            waiting: Arc::new(AtomicUsize::new(0)),
        }
    }

    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn acquire(&self) -> OwnedMutexGuard<Batch> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let _waiting = Waiting(self.waiting.clone());
        self.batch.clone().lock_owned().await
    }

    fn others_waiting(&self) -> bool {
        self.waiting.load(Ordering::SeqCst) > 0
    }

    /// Starts a job: joins the open batch or opens one, then sets the job's savepoint.
    pub(crate) async fn begin(&self) -> Result<Job, StoreError> {
        let mut guard = self.acquire().await;
        recover_abandoned(&mut guard).await;
        if guard.tx.is_none() {
            guard.tx = Some(self.pool.begin_with("BEGIN IMMEDIATE").await?);
            guard.opened_at = Instant::now();
        }
        if let Err(e) = exec(&mut guard, "SAVEPOINT job").await {
            fail_batch(&mut guard, &e.to_string());
            return Err(e.into());
        }
        guard.in_job = true;
        Ok(Job {
            guard: Some(guard),
            writer: self.clone(),
        })
    }

    /// Runs one unaudited bookkeeping statement inside the open batch, or on its own.
    pub(crate) async fn run_unaudited(&self, sql: &crate::sql::Sql) -> Result<u64, StoreError> {
        let mut guard = self.acquire().await;
        recover_abandoned(&mut guard).await;
        let n = match guard.tx.as_mut() {
            Some(tx) => crate::sql::query!(sqlx::Sqlite, sql)
                .execute(&mut **tx)
                .await
                .map(|r| r.rows_affected()),
            None => crate::sql::query!(sqlx::Sqlite, sql)
                .execute(&self.pool)
                .await
                .map(|r| r.rows_affected()),
        };
        if guard.tx.is_some() && !self.others_waiting() {
            commit_batch(&mut guard).await;
        }
        Ok(n?)
    }
}

/// Rolls back a job that was abandoned while holding the savepoint.
async fn recover_abandoned(batch: &mut Batch) {
    if !batch.in_job {
        return;
    }
    batch.in_job = false;
    if batch.tx.is_none() {
        return;
    }
    let undone = match exec(batch, "ROLLBACK TO job").await {
        Ok(()) => exec(batch, "RELEASE job").await,
        Err(e) => Err(e),
    };
    if let Err(e) = undone {
        fail_batch(
            batch,
            &format!("could not roll back an abandoned write: {e}"),
        );
    }
}

/// Commits the batch and tells every job in it.
async fn commit_batch(batch: &mut Batch) {
    let Some(tx) = batch.tx.take() else { return };
    let result = tx.commit().await.map_err(|e| e.to_string());
    for w in batch.waiters.drain(..) {
        let _ = w.send(result.clone());
    }
}

/// Abandons the batch (rolled back when the transaction drops) and fails its jobs.
fn fail_batch(batch: &mut Batch, why: &str) {
    batch.tx = None;
    batch.in_job = false;
    for w in batch.waiters.drain(..) {
        let _ = w.send(Err(why.to_owned()));
    }
}

impl Job {
    pub(crate) fn conn(&mut self) -> &mut sqlx::SqliteConnection {
        let batch = self.guard.as_mut().expect("job is running");
        batch.tx.as_mut().expect("an open batch")
    }

    /// Releases the job's savepoint and waits until the batch holding it is committed.
    pub(crate) async fn commit(mut self) -> Result<(), StoreError> {
        let mut guard = self.guard.take().expect("job is running");
        if let Err(e) = exec(&mut guard, "RELEASE job").await {
            guard.in_job = true;
            recover_abandoned(&mut guard).await;
            if !self.writer.others_waiting() {
                commit_batch(&mut guard).await;
            }
            return Err(e.into());
        }
        guard.in_job = false;
        let (tx, rx) = oneshot::channel();
        guard.waiters.push(tx);
        let keep_open = self.writer.others_waiting()
            && guard.waiters.len() < MAX_BATCH_JOBS
            && guard.opened_at.elapsed() < MAX_BATCH_AGE;
        if !keep_open {
            commit_batch(&mut guard).await;
        }
        drop(guard);
        match rx.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(StoreError::Commit(e)),
            Err(_) => Err(StoreError::Commit("the batch was abandoned".into())),
        }
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        // Abandoned (an error, or the request went away): roll back to the savepoint, and
        // commit the jobs before it unless another writer will.
        if let Some(mut guard) = self.guard.take() {
            let writer = self.writer.clone();
            let cleanup = async move {
                recover_abandoned(&mut guard).await;
                if guard.tx.is_some() && !writer.others_waiting() {
                    commit_batch(&mut guard).await;
                }
            };
            match tokio::runtime::Handle::try_current() {
                Ok(h) => {
                    h.spawn(cleanup);
                }
                Err(_) => drop(cleanup),
            }
        }
    }
}
