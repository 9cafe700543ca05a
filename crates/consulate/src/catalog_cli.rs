//! The `catalog` commands: access package catalogs through a server's Graph API.

use crate::cli::{CatalogCommand, ServerArgs};
use crate::client::{GraphClient, enc, print_json, table};
use reqwest::Method;
use serde_json::{Map, Value, json};
use std::process::ExitCode;

const CATALOGS: &str = "/v1.0/identityGovernance/entitlementManagement/catalogs";

fn text(v: &Value, key: &str) -> String {
    match &v[key] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn rows(catalogs: &[Value]) -> Vec<Vec<String>> {
    catalogs
        .iter()
        .map(|c| {
            [
                "id",
                "displayName",
                "catalogType",
                "state",
                "isExternallyVisible",
            ]
            .iter()
            .map(|k| text(c, k))
            .collect()
        })
        .collect()
}

/// Runs a `catalog` command against a server.
pub async fn run(server: ServerArgs, command: CatalogCommand) -> anyhow::Result<ExitCode> {
    let c = GraphClient::new(&server.server, &server.token)?;
    let headers = ["ID", "NAME", "TYPE", "STATE", "EXTERNAL"];
    let shown = match command {
        CatalogCommand::List {
            search,
            filter,
            all,
        } => {
            let mut q = vec!["$orderby=displayName".to_owned()];
            if let Some(s) = search {
                q.push(format!("$search={}", enc(&format!("\"{s}\""))));
            }
            if let Some(f) = filter {
                q.push(format!("$filter={}", enc(&f)));
            }
            let path = format!("{CATALOGS}?{}", q.join("&"));
            let (list, more) = if all {
                (c.get_all(&path).await?, false)
            } else {
                let page = c.send(Method::GET, &path, None).await?;
                (
                    page["value"].as_array().cloned().unwrap_or_default(),
                    page.get("@odata.nextLink").is_some(),
                )
            };
            if server.json {
                print_json(&Value::Array(list))?;
            } else {
                print!("{}", table(&headers, &rows(&list)));
                if more {
                    eprintln!("(more results: use --all)");
                }
            }
            return Ok(ExitCode::SUCCESS);
        }
        CatalogCommand::Show { id } => {
            c.send(Method::GET, &format!("{CATALOGS}/{}", enc(&id)), None)
                .await?
        }
        CatalogCommand::Add {
            name,
            description,
            internal_only,
            unpublished,
        } => {
            let mut body = json!({
                "displayName": name,
                "isExternallyVisible": !internal_only,
                "state": if unpublished { "unpublished" } else { "published" },
            });
            if let Some(d) = description {
                body["description"] = json!(d);
            }
            c.send(Method::POST, CATALOGS, Some(body)).await?
        }
        CatalogCommand::Update {
            id,
            name,
            description,
            state,
            external,
        } => {
            let mut body = Map::new();
            if let Some(n) = name {
                body.insert("displayName".into(), json!(n));
            }
            if let Some(d) = description {
                body.insert("description".into(), json!(d));
            }
            if let Some(s) = state {
                body.insert("state".into(), json!(s));
            }
            if let Some(e) = external {
                body.insert("isExternallyVisible".into(), json!(e));
            }
            if body.is_empty() {
                anyhow::bail!(
                    "nothing to change: give --name, --description, --state or --external"
                );
            }
            let path = format!("{CATALOGS}/{}", enc(&id));
            c.send(Method::PATCH, &path, Some(Value::Object(body)))
                .await?;
            c.send(Method::GET, &path, None).await?
        }
        CatalogCommand::Delete { id } => {
            c.send(Method::DELETE, &format!("{CATALOGS}/{}", enc(&id)), None)
                .await?;
            if !server.json {
                println!("deleted catalog {id}");
            }
            return Ok(ExitCode::SUCCESS);
        }
    };
    if server.json {
        print_json(&shown)?;
    } else {
        print!("{}", table(&headers, &rows(&[shown])));
    }
    Ok(ExitCode::SUCCESS)
}
