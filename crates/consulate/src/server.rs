//! Server start-up and shutdown: open (and migrate) the store, bootstrap the tenant on first
//! start, bind, serve until SIGTERM/SIGINT, then drain in-flight requests and close the
//! database.

use anyhow::Context as _;
use consulate_api::ApiState;
use consulate_app::App;
use consulate_app::bootstrap::Bootstrapped;
use consulate_store::{SqliteSync, Store, StoreOptions};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::net::SocketAddr;
use std::sync::OnceLock;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Everything needed to start a server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub database: String,
    pub listen: String,
    pub public_url: Option<String>,
    pub tenant_domain: String,
    pub tenant_name: String,
    pub sqlite_sync: SqliteSync,
    pub max_connections: u32,
    /// PostgreSQL schema (tests isolate themselves this way).
    pub pg_schema: Option<String>,
    /// SMTP relay URL; without one, mail is written to `mail_dir`.
    pub smtp_url: Option<String>,
    /// Sender of the mail Consulate sends (default `Consulate <no-reply@tenant-domain>`).
    pub mail_from: Option<String>,
    /// Folder for mail when no SMTP relay is set (default: beside the SQLite file).
    pub mail_dir: Option<std::path::PathBuf>,
    pub otp: consulate_core::sign_in::OtpSettings,
}

impl ServerConfig {
    /// Defaults for a database and a listen address.
    pub fn new(database: impl Into<String>, listen: impl Into<String>) -> Self {
        ServerConfig {
            database: database.into(),
            listen: listen.into(),
            public_url: None,
            tenant_domain: "consulate.example".into(),
            tenant_name: "Consulate".into(),
            sqlite_sync: SqliteSync::Full,
            max_connections: 8,
            pg_schema: None,
            smtp_url: None,
            mail_from: None,
            mail_dir: None,
            otp: consulate_core::sign_in::OtpSettings::default(),
        }
    }

    fn mailer(&self) -> anyhow::Result<consulate_app::mail::Mailer> {
        use consulate_app::mail::{Mailer, default_folder};
        let from = self
            .mail_from
            .clone()
            .unwrap_or_else(|| format!("Consulate <no-reply@{}>", self.tenant_domain));
        Ok(match &self.smtp_url {
            Some(url) => Mailer::smtp(url, &from)?,
            None => {
                let dir = self
                    .mail_dir
                    .clone()
                    .unwrap_or_else(|| default_folder(&self.database));
                Mailer::folder(&dir, &from)?
            }
        })
    }

    pub fn store_options(&self) -> StoreOptions {
        StoreOptions {
            url: self.database.clone(),
            sqlite_sync: self.sqlite_sync,
            max_connections: self.max_connections,
            pg_schema: self.pg_schema.clone(),
        }
    }
}

/// A server running in this process.
pub struct Running {
    pub addr: SocketAddr,
    pub public_url: String,
    pub app: App,
    /// What the first start created (with the one-time bootstrap token), if this start did.
    pub bootstrap: Option<Bootstrapped>,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
    /// Stops the delivery worker.
    worker_stop: tokio::sync::watch::Sender<bool>,
    worker: JoinHandle<()>,
}

impl Running {
    /// Stops accepting connections, lets in-flight requests finish, closes the database.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(());
        self.task.await.context("server task")?.context("server")?;
        let _ = self.worker_stop.send(true);
        self.worker.await.context("delivery worker")?;
        self.app.store.close().await;
        Ok(())
    }
}

/// The process-wide Prometheus recorder (installed once).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let buckets = [
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ];
            let recorder = PrometheusBuilder::new()
                .set_buckets(&buckets)
                .expect("static buckets are valid")
                .build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed");
            }
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(std::time::Duration::from_secs(5));
                        upkeep.run_upkeep();
                    }
                })
                .expect("spawn metrics upkeep thread");
            handle
        })
        .clone()
}

/// Opens the store, bootstraps, binds and starts serving in the background.
pub async fn start(cfg: ServerConfig) -> anyhow::Result<Running> {
    start_with_clock(cfg, std::sync::Arc::new(consulate_app::SystemClock)).await
}

/// [`start`] on another clock (benchmarks move time forward).
pub async fn start_with_clock(
    cfg: ServerConfig,
    clock: std::sync::Arc<dyn consulate_app::Clock>,
) -> anyhow::Result<Running> {
    let store = Store::open(&cfg.store_options())
        .await
        .with_context(|| format!("opening the database {}", redact(&cfg.database)))?;
    let app = App::new(store, clock, std::sync::Arc::new(consulate_app::UuidV7))
        .with_mail(cfg.mailer()?, cfg.otp)
        .map_err(|e| anyhow::anyhow!("mail settings: {e}"))?;
    tracing::info!(destination = %app.mail_destination(), "mail is sent to this destination");
    let bootstrap = app
        .bootstrap(&cfg.tenant_name, &cfg.tenant_domain)
        .await
        .map_err(|e| anyhow::anyhow!("first-start bootstrap failed: {e}"))?;
    app.ensure_general_catalog()
        .await
        .map_err(|e| anyhow::anyhow!("creating the built-in General catalog failed: {e}"))?;
    let listener = tokio::net::TcpListener::bind(&cfg.listen)
        .await
        .with_context(|| format!("binding {}", cfg.listen))?;
    let addr = listener.local_addr()?;
    let public_url = cfg
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"))
        .trim_end_matches('/')
        .to_owned();
    let state = ApiState {
        app: app.clone(),
        public_url: public_url.clone(),
        metrics: Some(metrics_handle()),
    };
    let router = consulate_api::router_with(state, consulate_web::routes());
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await
    });
    // Delivers approved assignments (and revokes removed ones) from the outbox.
    let (worker_stop, stop_rx) = tokio::sync::watch::channel(false);
    let worker_app = app.clone();
    let worker = tokio::spawn(async move {
        worker_app
            .run_delivery(std::time::Duration::from_millis(500), stop_rx)
            .await
    });
    Ok(Running {
        addr,
        public_url,
        app,
        bootstrap,
        shutdown: tx,
        task,
        worker_stop,
        worker,
    })
}

/// Hides a PostgreSQL password in log lines.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Resolves when SIGTERM or SIGINT arrives.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact("consulate.db"), "consulate.db");
    }
}
