//! The `identity-provider` command: the registry of known partner tenants and federated
//! identity providers (`/admin/v1/identityProviders`), and Consulate's client registration
//! at a provider, through a server's administration API.

use crate::cli::{ClientSecretArg, IdentityProviderCommand, ProviderAuthority, ServerArgs};
use crate::client::{GraphClient, enc, print_json, table};
use anyhow::{Context as _, bail};
use reqwest::Method;
use serde_json::{Value, json};
use std::process::ExitCode;

const PROVIDERS: &str = "/admin/v1/identityProviders";

fn text(v: &Value, key: &str) -> String {
    match &v[key] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The tenant id of a tenant, the issuer of a federation.
fn authority(p: &Value) -> String {
    match p["tenantId"].as_str() {
        Some(t) => t.to_owned(),
        None => text(p, "issuerUri"),
    }
}

fn domain_list(p: &Value) -> String {
    p["domains"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

fn rows(list: &[Value]) -> Vec<Vec<String>> {
    list.iter()
        .map(|p| {
            vec![
                text(p, "id"),
                text(p, "displayName"),
                text(p, "kind"),
                authority(p),
                domain_list(p),
                // Servers without social providers do not send the field.
                p["isSocial"].as_bool().unwrap_or(false).to_string(),
            ]
        })
        .collect()
}

/// The client secret, from a file (or standard input) or an environment variable; one line,
/// its line ending removed. Error messages never contain it.
fn client_secret(arg: &ClientSecretArg) -> anyhow::Result<String> {
    let (raw, source) = match (&arg.client_secret_file, &arg.client_secret_env) {
        (Some(path), None) if path.as_os_str() == "-" => (
            std::io::read_to_string(std::io::stdin())
                .context("reading the client secret from standard input")?,
            "standard input".to_owned(),
        ),
        (Some(path), None) => (
            std::fs::read_to_string(path)
                .with_context(|| format!("reading the client secret from {}", path.display()))?,
            format!("the file {}", path.display()),
        ),
        (None, Some(var)) => match std::env::var(var) {
            Ok(v) => (v, format!("the environment variable {var}")),
            Err(std::env::VarError::NotPresent) => {
                bail!("the environment variable {var} is not set")
            }
            Err(std::env::VarError::NotUnicode(_)) => {
                bail!("the environment variable {var} is not valid UTF-8")
            }
        },
        _ => bail!("give one of --client-secret-file or --client-secret-env"),
    };
    let secret = raw.trim_end_matches(['\r', '\n']);
    if secret.is_empty() {
        bail!("{source} holds no client secret");
    }
    if secret.chars().any(char::is_control) {
        bail!("{source}: the client secret must be one line without control characters");
    }
    Ok(secret.to_owned())
}

/// Runs an `identity-provider` command against a server.
pub async fn run(server: ServerArgs, command: IdentityProviderCommand) -> anyhow::Result<ExitCode> {
    let c = GraphClient::new(&server.server, &server.token)?;
    match command {
        IdentityProviderCommand::List => {
            let list = c.send(Method::GET, PROVIDERS, None).await?["value"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if server.json {
                print_json(&Value::Array(list))?;
            } else {
                print!(
                    "{}",
                    table(
                        &["ID", "NAME", "KIND", "TENANT / ISSUER", "DOMAINS", "SOCIAL"],
                        &rows(&list)
                    )
                );
            }
        }
        IdentityProviderCommand::Add {
            name,
            authority: ProviderAuthority { tenant_id, issuer },
            domains,
            social,
        } => {
            let mut body = json!({"displayName": name, "domains": domains});
            match (tenant_id, issuer) {
                (Some(t), None) => {
                    body["kind"] = json!("tenant");
                    body["tenantId"] = json!(t);
                }
                (None, Some(i)) => {
                    body["kind"] = json!("federation");
                    body["issuerUri"] = json!(i);
                }
                _ => bail!("give one of --tenant-id or --issuer"),
            }
            // Only when asked: servers that do not know the property refuse it.
            if social {
                body["isSocial"] = json!(true);
            }
            let p = c.send(Method::POST, PROVIDERS, Some(body)).await?;
            if server.json {
                print_json(&p)?;
            } else {
                eprintln!(
                    "added identity provider '{}' ({} {}) for {}",
                    text(&p, "displayName"),
                    text(&p, "kind"),
                    authority(&p),
                    domain_list(&p)
                );
                println!("{}", text(&p, "id"));
            }
        }
        IdentityProviderCommand::SignIn {
            id,
            client_id,
            secret,
            allowed_tenants,
        } => {
            let client_secret = client_secret(&secret)?;
            c.send(
                Method::PUT,
                &format!("{PROVIDERS}/{}/signIn", enc(&id)),
                Some(json!({
                    "clientId": client_id,
                    "clientSecret": client_secret,
                    "allowedTenantIds": allowed_tenants,
                })),
            )
            .await?;
            if !server.json {
                println!("sign-in configured for identity provider {id} (client id {client_id})");
            }
        }
        IdentityProviderCommand::Remove { id } => {
            c.send(Method::DELETE, &format!("{PROVIDERS}/{}", enc(&id)), None)
                .await?;
            if !server.json {
                println!("removed identity provider {id}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
