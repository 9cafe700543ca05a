//! What each subcommand does.

use crate::cli::{
    AdminCommand, AuditCommand, Cli, Command, LogFormat, ServeArgs, SqliteSyncArg, TokenCommand,
};
use crate::server::{self, ServerConfig};
use anyhow::Context as _;
use consulate_app::App;
use consulate_core::access::{Caller, Scope};
use consulate_store::audit::ChainStatus;
use consulate_store::{SqliteSync, Store, StoreOptions};
use std::process::ExitCode;

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Migrate(db) => {
            init_logs(LogFormat::Text);
            let store = Store::open(&StoreOptions::new(&db.database)).await?;
            store.close().await;
            println!("database {} is migrated", server::redact(&db.database));
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin {
            command: AdminCommand::Token { command },
        } => token(command).await,
        Command::Admin {
            command: AdminCommand::Password { db, user },
        } => set_password(&db.database, &user).await,
        Command::Audit {
            command: AuditCommand::Verify { db },
        } => audit_verify(&db.database).await,
        Command::ConnectedOrg { server, command } => {
            crate::client::connected_org(server, command).await
        }
        Command::Catalog { server, command } => crate::catalog_cli::run(server, command).await,
        Command::Package { server, command } => crate::catalog_cli::package(server, command).await,
        Command::Policy { server, command } => crate::catalog_cli::policy(server, command).await,
        Command::IdentityProvider { server, command } => crate::idp_cli::run(server, command).await,
        Command::Openapi => {
            print!("{}", consulate_api::openapi::document_json());
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(args) => crate::bench::run(args).await,
        Command::BenchLifecycle(args) => crate::bench::lifecycle::run(args).await,
        Command::BenchExpiry(args) => crate::bench::expiry::run(args).await,
    }
}

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    init_logs(args.log_format);
    let cfg = ServerConfig {
        database: args.db.database.clone(),
        listen: args.listen.clone(),
        public_url: args.public_url.clone(),
        tenant_domain: args.tenant_domain.clone(),
        tenant_name: args.tenant_name.clone(),
        sqlite_sync: match args.sqlite_synchronous {
            SqliteSyncArg::Full => SqliteSync::Full,
            SqliteSyncArg::Normal => SqliteSync::Normal,
        },
        max_connections: args.db_max_connections,
        pg_schema: None,
        smtp_url: args.smtp_url.clone(),
        mail_from: args.mail_from.clone(),
        mail_dir: args.mail_dir.clone(),
        otp: consulate_core::sign_in::OtpSettings {
            digits: args.otp_digits,
            validity: std::time::Duration::from_secs(args.otp_minutes.saturating_mul(60)),
        },
    };
    let running = server::start(cfg).await?;
    if let Some(b) = &running.bootstrap {
        tracing::warn!(
            tenant = %b.tenant.display_name,
            domain = %b.tenant.verified_domains[0],
            admin = %b.admin.user_principal_name,
            "first start: created the tenant. A one-time bootstrap API token with every permission follows; store it now, it is not shown again. \
             Create your own tokens with `consulate admin token create` and revoke this one with `consulate admin token revoke {}`",
            b.token.id
        );
        tracing::warn!(token = %b.secret, "bootstrap API token");
    }
    tracing::info!(listen = %running.addr, public_url = %running.public_url, database = %server::redact(&args.db.database), "consulate is serving");
    server::shutdown_signal().await;
    tracing::info!("shutting down: draining in-flight requests");
    running.stop().await?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

async fn open_app(database: &str) -> anyhow::Result<App> {
    let store = Store::open(&StoreOptions::new(database))
        .await
        .with_context(|| format!("opening {}", server::redact(database)))?;
    Ok(App::with_system_clock(store))
}

async fn set_password(database: &str, key: &str) -> anyhow::Result<ExitCode> {
    let password = match std::env::var("CONSULATE_NEW_PASSWORD") {
        Ok(p) => p,
        Err(_) => {
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .context("reading the password from standard input")?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    let app = open_app(database).await?;
    let user = app
        .store
        .find_user(key)
        .await?
        .with_context(|| format!("no user with id, userPrincipalName or mail '{key}'"))?;
    let result = app
        .set_password(&Caller::system(), user.id, &password)
        .await;
    app.store.close().await;
    result.map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!("password set for {}", user.user_principal_name);
    Ok(ExitCode::SUCCESS)
}

async fn token(command: TokenCommand) -> anyhow::Result<ExitCode> {
    match command {
        TokenCommand::Create {
            db,
            name,
            scopes,
            as_user,
            expires_in_days,
        } => {
            let scopes = Scope::parse_list(&scopes).map_err(|e| anyhow::anyhow!("{e}"))?;
            let app = open_app(&db.database).await?;
            let user = match as_user {
                Some(key) => Some(
                    app.store
                        .find_user(&key)
                        .await?
                        .with_context(|| {
                            format!("no user with id, userPrincipalName or mail '{key}'")
                        })?
                        .id,
                ),
                None => None,
            };
            let expires = expires_in_days
                .map(|d| app.clock.now() + jiff::SignedDuration::from_hours(24 * i64::from(d)));
            let t = app
                .create_token(&Caller::system(), &name, scopes, user, expires)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            app.store.close().await;
            eprintln!(
                "token {} created for '{}'; the secret is shown once:",
                t.token.id, t.token.name
            );
            println!("{}", t.secret);
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::List { db, json } => {
            let app = open_app(&db.database).await?;
            let tokens = app
                .list_tokens()
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            app.store.close().await;
            if json {
                let v: Vec<serde_json::Value> = tokens
                    .iter()
                    .map(|t| {
                        serde_json::json!({
                            "id": t.id, "name": t.name, "scopes": t.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
                            "userId": t.user_id, "createdDateTime": t.created_at.to_string(),
                            "expiresDateTime": t.expires_at.map(|x| x.to_string()), "revokedDateTime": t.revoked_at.map(|x| x.to_string()),
                            "lastUsedDateTime": t.last_used_at.map(|x| x.to_string()),
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                let rows: Vec<Vec<String>> = tokens
                    .iter()
                    .map(|t| {
                        vec![
                            t.id.to_string(),
                            t.name.clone(),
                            if t.revoked_at.is_some() {
                                "revoked".into()
                            } else {
                                "active".into()
                            },
                            t.user_id
                                .map(|u| u.to_string())
                                .unwrap_or_else(|| "application".into()),
                            t.scopes
                                .iter()
                                .map(|s| s.as_str())
                                .collect::<Vec<_>>()
                                .join(","),
                            t.last_used_at
                                .map(|x| x.to_string())
                                .unwrap_or_else(|| "never".into()),
                        ]
                    })
                    .collect();
                print!(
                    "{}",
                    crate::client::table(
                        &["ID", "NAME", "STATUS", "ACTS AS", "SCOPES", "LAST USED"],
                        &rows
                    )
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::Revoke { db, id } => {
            let id = uuid::Uuid::parse_str(&id)
                .context("the token id is a UUID (see `consulate admin token list`)")?;
            let app = open_app(&db.database).await?;
            let t = app
                .revoke_token(&Caller::system(), id)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            app.store.close().await;
            println!("token {} ('{}') revoked", t.id, t.name);
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn audit_verify(database: &str) -> anyhow::Result<ExitCode> {
    let app = open_app(database).await?;
    let status = app
        .verify_audit_chain()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    app.store.close().await;
    match status {
        ChainStatus::Intact { events, head_hash } => {
            println!("audit chain intact: {events} events, head {head_hash}");
            Ok(ExitCode::SUCCESS)
        }
        ChainStatus::Broken(e) => {
            println!("audit chain BROKEN: {e}");
            Ok(ExitCode::from(2))
        }
        ChainStatus::HeadMismatch {
            chain_end,
            head_sequence,
        } => {
            println!(
                "audit chain BROKEN: the chain ends at event {chain_end} but the recorded head is event {head_sequence} (events were removed from the end)"
            );
            Ok(ExitCode::from(2))
        }
    }
}
