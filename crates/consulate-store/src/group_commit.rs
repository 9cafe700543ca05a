//! Group commit for SQLite's single writer.
//!
//! SQLite allows one writer at a time and, with `synchronous=FULL`, syncs the WAL on every
//! commit. When several writers are queued, each gets a `SAVEPOINT` inside one shared
//! transaction instead of a transaction of its own; the batch commits (one sync) when nobody
//! else is waiting, or when it reaches [`MAX_BATCH_JOBS`] jobs or [`MAX_BATCH_AGE`]. A job
//! that fails or is abandoned rolls back to its savepoint, leaving the others intact. No job is
//! acknowledged before the shared `COMMIT` has succeeded, so durability is unchanged: a crash
//! loses only unacknowledged work.
//!
//! A job's statements run on its own thread while it holds the writer (they take
//! microseconds); the `COMMIT`, which waits for the disk, runs on a blocking thread that owns
//! the writer until it is done, so a cancelled caller can never leave a commit half-made.

use crate::sql::Sql;
use crate::{StoreError, sqlite};
use rusqlite::Connection;
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

/// The writer connection and its open batch, owned by whoever holds the writer mutex.
pub(crate) struct Batch {
    conn: Connection,
    /// A transaction (`BEGIN IMMEDIATE`) is open.
    open: bool,
    /// The chain head as the open transaction sees it, once a job has read or moved it. Only
    /// kept while the transaction is open: `BEGIN IMMEDIATE` holds SQLite's write lock, so no
    /// other connection (another process included) can move the head meanwhile.
    chain_head: Option<ChainHead>,
    /// Jobs released into the open batch, waiting for its commit.
    waiters: Vec<oneshot::Sender<Result<(), String>>>,
    /// A job holds the savepoint (from its first write until its release; left set if the job
    /// was abandoned).
    in_job: bool,
    opened_at: Instant,
    /// Wakes the checkpointer after a commit.
    checkpoint: std::sync::mpsc::SyncSender<()>,
}

/// The SQLite writer: its one connection behind a mutex, with a count of the writers waiting
/// for it.
#[derive(Clone)]
pub(crate) struct Writer {
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
    guard: Option<OwnedMutexGuard<Batch>>,
    writer: Writer,
}

impl Writer {
    pub(crate) fn new(conn: Connection, checkpoint: std::sync::mpsc::SyncSender<()>) -> Self {
        Writer {
            batch: Arc::new(Mutex::new(Batch {
                conn,
                open: false,
                chain_head: None,
                waiters: Vec::new(),
                in_job: false,
                opened_at: Instant::now(),
                checkpoint,
            })),
            waiting: Arc::new(AtomicUsize::new(0)),
        }
    }

    async fn acquire(&self) -> OwnedMutexGuard<Batch> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let _waiting = Waiting(self.waiting.clone());
        self.batch.clone().lock_owned().await
    }

    fn others_waiting(&self) -> bool {
        self.waiting.load(Ordering::SeqCst) > 0
    }

    /// Whether the writer is free right now (for pool statistics).
    pub(crate) fn is_idle(&self) -> bool {
        self.batch.try_lock().is_ok()
    }

    /// Runs `f` on the writer connection outside any batch (migrations, at start).
    pub(crate) async fn with_connection<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut guard = self.acquire().await;
        recover_abandoned(&mut guard);
        commit_batch(&mut guard);
        f(&mut guard.conn)
    }

    /// Starts a job: joins the open batch or opens one. The job's savepoint is set by its
    /// first write ([`Job::savepoint`]).
    pub(crate) async fn begin(&self) -> Result<Job, StoreError> {
        let mut guard = self.acquire().await;
        recover_abandoned(&mut guard);
        let guard = open_batch(guard).await?;
        Ok(Job {
            guard: Some(guard),
            writer: self.clone(),
        })
    }

    /// Runs one unaudited bookkeeping statement inside the open batch, or in one of its own.
    pub(crate) async fn run_unaudited(&self, sql: &Sql) -> Result<u64, StoreError> {
        let mut guard = self.acquire().await;
        recover_abandoned(&mut guard);
        let guard = open_batch(guard).await?;
        let n = sqlite::execute(&guard.conn, sql);
        if !self.others_waiting() {
            commit_in_background(guard).await;
        }
        Ok(n?)
    }

    /// Commits what is open (at shutdown).
    pub(crate) async fn close(&self) {
        let mut guard = self.acquire().await;
        recover_abandoned(&mut guard);
        commit_batch(&mut guard);
    }
}

/// Opens the batch's transaction unless it is open. Without contention `BEGIN IMMEDIATE` takes
/// microseconds and runs here; when another process holds the write lock, the wait for it runs
/// on a blocking thread, never on a runtime worker (which may be the one the holder of the lock
/// needs to finish).
async fn open_batch(
    mut guard: OwnedMutexGuard<Batch>,
) -> Result<OwnedMutexGuard<Batch>, StoreError> {
    if guard.open {
        return Ok(guard);
    }
    match begin_immediate(&mut guard, std::time::Duration::ZERO) {
        Err(e) if sqlite::is_busy(&e) => {}
        done => return done.map(|()| guard).map_err(Into::into),
    }
    let mut opening = Opening(Some(guard));
    let (mut opening, began) = tokio::task::spawn_blocking(move || {
        let began = begin_immediate(
            opening.0.as_mut().expect("held while opening"),
            sqlite::BUSY_TIMEOUT,
        );
        (opening, began)
    })
    .await
    .map_err(|e| StoreError::Commit(format!("opening a transaction was cut short: {e}")))?;
    began?;
    Ok(opening.0.take().expect("held while opening"))
}

/// `BEGIN IMMEDIATE`, waiting at most `wait` for another process's write lock.
fn begin_immediate(batch: &mut Batch, wait: std::time::Duration) -> rusqlite::Result<()> {
    batch.conn.busy_timeout(wait)?;
    let began = sqlite::run(&batch.conn, "BEGIN IMMEDIATE");
    batch.conn.busy_timeout(sqlite::BUSY_TIMEOUT)?;
    began?;
    batch.open = true;
    batch.chain_head = None;
    batch.opened_at = Instant::now();
    Ok(())
}

/// The writer while its transaction is being opened on a blocking thread. Dropped with the
/// writer still in it (the caller went away), a transaction it opened and nobody used is
/// rolled back, so the write lock is not kept for nothing.
struct Opening(Option<OwnedMutexGuard<Batch>>);

impl Drop for Opening {
    fn drop(&mut self) {
        if let Some(batch) = self.0.as_mut()
            && batch.open
            && !batch.in_job
            && batch.waiters.is_empty()
        {
            let _ = batch.conn.execute_batch("ROLLBACK");
            batch.open = false;
            batch.chain_head = None;
        }
    }
}

/// Rolls back a job that was abandoned while holding the savepoint.
fn recover_abandoned(batch: &mut Batch) {
    if !batch.in_job {
        return;
    }
    batch.in_job = false;
    if !batch.open {
        return;
    }
    let undone = sqlite::run(&batch.conn, "ROLLBACK TO job")
        .and_then(|()| sqlite::run(&batch.conn, "RELEASE job"));
    if let Err(e) = undone {
        fail_batch(
            batch,
            &format!("could not roll back an abandoned write: {e}"),
        );
    }
}

/// Commits the batch and tells every job in it.
fn commit_batch(batch: &mut Batch) {
    batch.chain_head = None;
    if !batch.open {
        return;
    }
    batch.open = false;
    let result = sqlite::run(&batch.conn, "COMMIT").map_err(|e| e.to_string());
    if result.is_err() && !batch.conn.is_autocommit() {
        // Whatever the failure left open is undone; none of the batch is acknowledged.
        let _ = batch.conn.execute_batch("ROLLBACK");
    }
    if result.is_ok() {
        // Full means a wake-up is pending already.
        let _ = batch.checkpoint.try_send(());
    }
    for w in batch.waiters.drain(..) {
        let _ = w.send(result.clone());
    }
}

/// Commits on a blocking thread that owns the writer until the commit is done; returns once it
/// is (or at once if the caller is cancelled: the commit still completes).
async fn commit_in_background(mut guard: OwnedMutexGuard<Batch>) {
    let done = tokio::task::spawn_blocking(move || commit_batch(&mut guard));
    let _ = done.await;
}

/// Abandons the batch (rolled back) and fails its jobs.
fn fail_batch(batch: &mut Batch, why: &str) {
    if batch.open && !batch.conn.is_autocommit() {
        let _ = batch.conn.execute_batch("ROLLBACK");
    }
    batch.open = false;
    batch.chain_head = None;
    batch.in_job = false;
    for w in batch.waiters.drain(..) {
        let _ = w.send(Err(why.to_owned()));
    }
}

impl Job {
    pub(crate) fn conn(&self) -> &Connection {
        &self.guard.as_ref().expect("job is running").conn
    }

    /// Sets the job's savepoint before its first write; from then on an abandoned job is
    /// rolled back to it.
    pub(crate) fn savepoint(&mut self) -> Result<(), StoreError> {
        let batch = self.guard.as_mut().expect("job is running");
        if !batch.in_job {
            sqlite::run(&batch.conn, "SAVEPOINT job")?;
            batch.in_job = true;
        }
        Ok(())
    }

    /// The audit chain head as this job sees it, if the batch knows it already.
    pub(crate) fn chain_head(&self) -> Option<ChainHead> {
        self.guard.as_ref().and_then(|b| b.chain_head.clone())
    }

    /// Runs `last` (the job's audit writes) and releases its savepoint, then waits until the
    /// batch holding it is committed. `head` is the chain head once `last` has run. A failing
    /// statement rolls the job back and is returned as it is.
    pub(crate) async fn commit(
        mut self,
        last: Vec<Sql>,
        head: ChainHead,
    ) -> Result<(), StoreError> {
        self.savepoint()?;
        let mut guard = self.guard.take().expect("job is running");
        let ran = last
            .iter()
            .try_for_each(|s| sqlite::execute(&guard.conn, s).map(|_| ()))
            .and_then(|()| sqlite::run(&guard.conn, "RELEASE job"));
        if let Err(e) = ran {
            recover_abandoned(&mut guard);
            if !self.writer.others_waiting() {
                commit_in_background(guard).await;
            }
            return Err(e.into());
        }
        guard.in_job = false;
        guard.chain_head = Some(head);
        if !self.writer.others_waiting() {
            // Let the tasks that are ready run first: those about to write queue up and join
            // this batch, sharing its sync. The job is whole again meanwhile (cancelled here,
            // its drop commits the batch).
            self.guard = Some(guard);
            tokio::task::yield_now().await;
            guard = self.guard.take().expect("job is running");
        }
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
            drop(guard);
            tokio::spawn(async move {
                tokio::time::sleep(MAX_BATCH_AGE).await;
                let batch = writer.batch.clone().lock_owned().await;
                if batch.open && !batch.in_job && batch.opened_at == opened {
                    commit_in_background(batch).await;
                }
            });
        } else {
            commit_in_background(guard).await;
        }
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
            recover_abandoned(&mut guard);
            if guard.open && !self.writer.others_waiting() {
                match tokio::runtime::Handle::try_current() {
                    Ok(h) => {
                        h.spawn_blocking(move || commit_batch(&mut guard));
                    }
                    Err(_) => commit_batch(&mut guard),
                }
            }
        }
    }
}
