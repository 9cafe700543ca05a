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
use crate::sql::Sql;
use sqlx::sqlite::SqlitePool;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, OwnedMutexGuard, oneshot};

/// Most jobs in one batch.
pub const MAX_BATCH_JOBS: usize = 128;
/// Oldest a batch may get before it is committed even with writers queued.
pub const MAX_BATCH_AGE: Duration = Duration::from_millis(25);

/// The audit chain's head: the last event's sequence and hash.
pub(crate) type ChainHead = (i64, String);

/// The open batch, owned by whoever holds the writer mutex.
pub(crate) struct Batch {
    pub(crate) tx: Option<sqlx::Transaction<'static, sqlx::Sqlite>>,
    /// The chain head as the open transaction sees it, once a job has read or moved it. Only
    /// kept while the transaction is open: `BEGIN IMMEDIATE` holds SQLite's write lock, so no
    /// other connection (another process included) can move the head meanwhile.
    chain_head: Option<ChainHead>,
    /// Jobs released into the open batch, waiting for its commit.
    waiters: Vec<oneshot::Sender<Result<(), String>>>,
    /// A job holds the savepoint (from its first statement until its release; left set if
    /// the job was abandoned).
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
                chain_head: None,
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

    /// Starts a job: joins the open batch or opens one. The job's savepoint is set by its
    /// first statement ([`Job::statement`]), in the same execution.
    pub(crate) async fn begin(&self) -> Result<Job, StoreError> {
        let mut guard = self.acquire().await;
        recover_abandoned(&mut guard).await;
        if guard.tx.is_none() {
            guard.tx = Some(self.pool.begin_with("BEGIN IMMEDIATE").await?);
            guard.chain_head = None;
            guard.opened_at = Instant::now();
        }
        Ok(Job {
            guard: Some(guard),
            writer: self.clone(),
        })
    }

    /// Runs one unaudited bookkeeping statement inside the open batch, or on its own.
    pub(crate) async fn run_unaudited(&self, sql: &Sql) -> Result<u64, StoreError> {
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
    batch.chain_head = None;
    let Some(tx) = batch.tx.take() else { return };
    let result = tx.commit().await.map_err(|e| e.to_string());
    for w in batch.waiters.drain(..) {
        let _ = w.send(result.clone());
    }
}

/// Abandons the batch (rolled back when the transaction drops) and fails its jobs.
fn fail_batch(batch: &mut Batch, why: &str) {
    batch.tx = None;
    batch.chain_head = None;
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

    /// True until the job's first statement has set its savepoint.
    pub(crate) fn needs_savepoint(&self) -> bool {
        !self.guard.as_ref().expect("job is running").in_job
    }

    /// `statements` as one text to run on [`Job::conn`], led by the job's `SAVEPOINT` if this
    /// is its first execution. From then on an abandoned job is rolled back to it.
    pub(crate) fn statement(&mut self, statements: Vec<Sql>) -> Sql {
        let batch = self.guard.as_mut().expect("job is running");
        if batch.in_job {
            return Sql::join(statements);
        }
        batch.in_job = true;
        Sql::join(std::iter::once(Sql::new("SAVEPOINT job")).chain(statements))
    }

    /// The audit chain head as this job sees it, if the batch knows it already.
    pub(crate) fn chain_head(&self) -> Option<ChainHead> {
        self.guard.as_ref().and_then(|b| b.chain_head.clone())
    }

    /// Runs `last` (the job's final statements: its deferred writes and audit events) and the
    /// release of its savepoint in one execution on the writer's thread, then waits until the
    /// batch holding it is committed. `head` is the chain head once `last` has run.
    pub(crate) async fn commit(
        mut self,
        last: Vec<Sql>,
        head: ChainHead,
    ) -> Result<(), StoreError> {
        let run = self.statement(last.into_iter().chain([Sql::new("RELEASE job")]).collect());
        let mut guard = self.guard.take().expect("job is running");
        let tx = guard.tx.as_mut().expect("an open batch");
        if let Err(e) = crate::sql::query!(sqlx::Sqlite, &run)
            .execute(&mut **tx)
            .await
        {
            recover_abandoned(&mut guard).await;
            if !self.writer.others_waiting() {
                commit_batch(&mut guard).await;
            }
            return Err(e.into());
        }
        guard.in_job = false;
        guard.chain_head = Some(head);
        let (tx, rx) = oneshot::channel();
        guard.waiters.push(tx);
        let keep_open = self.writer.others_waiting()
            && guard.waiters.len() < MAX_BATCH_JOBS
            && guard.opened_at.elapsed() < MAX_BATCH_AGE;
        if keep_open {
            // The writer that was waiting may give up (its request dropped) before it joins:
            // commit the batch anyway once it is old enough, so nobody waits for nothing.
            let writer = self.writer.clone();
            let opened = guard.opened_at;
            tokio::spawn(async move {
                tokio::time::sleep(MAX_BATCH_AGE).await;
                let mut batch = writer.batch.clone().lock_owned().await;
                if batch.tx.is_some() && !batch.in_job && batch.opened_at == opened {
                    commit_batch(&mut batch).await;
                }
            });
        } else {
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
