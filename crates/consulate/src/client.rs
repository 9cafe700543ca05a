//! A small Graph client over HTTP, table output, and the `connected-org` commands.

use crate::cli::{ConnectedOrgCommand, ServerArgs, SponsorCommand, SponsorSide};
use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use std::process::ExitCode;

const ORGS: &str = "/v1.0/identityGovernance/entitlementManagement/connectedOrganizations";

/// A Graph API client for one server and token.
pub struct GraphClient {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl GraphClient {
    pub fn new(base: &str, token: &str) -> anyhow::Result<Self> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .context("building the HTTP client")?;
        Ok(GraphClient {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
        })
    }

    fn url(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("http://") || path_or_url.starts_with("https://") {
            path_or_url.to_owned()
        } else {
            format!("{}{path_or_url}", self.base)
        }
    }

    /// Sends a request; returns the JSON body (or `Null` for 204), or fails with the Graph
    /// error message.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut req = self
            .http
            .request(method.clone(), self.url(path))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("{method} {path}: is the server at {} running?", self.base))?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        if !status.is_success() {
            let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let code = v["error"]["code"].as_str().unwrap_or("error");
            let message = v["error"]["message"].as_str().unwrap_or(text.as_str());
            bail!("{} {code}: {message}", status.as_u16());
        }
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text)
            .with_context(|| format!("{method} {path}: the response is not JSON"))
    }

    /// Follows `@odata.nextLink` until the end.
    pub async fn get_all(&self, path: &str) -> anyhow::Result<Vec<Value>> {
        let mut out = Vec::new();
        let mut next = Some(path.to_owned());
        while let Some(p) = next {
            let page = self.send(reqwest::Method::GET, &p, None).await?;
            out.extend(page["value"].as_array().cloned().unwrap_or_default());
            next = page["@odata.nextLink"].as_str().map(str::to_owned);
        }
        Ok(out)
    }
}

/// Renders rows as an aligned text table.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| -> String {
        let s: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect();
        s.join("  ").trim_end().to_owned() + "\n"
    };
    let mut out = line(headers.iter().map(|h| h.to_string()).collect());
    for r in rows {
        out.push_str(&line(r.clone()));
    }
    out
}

pub(crate) fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn sources(org: &Value) -> String {
    org["identitySources"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| {
                    let t = s["@odata.type"]
                        .as_str()
                        .unwrap_or("")
                        .trim_start_matches("#microsoft.graph.");
                    match t {
                        "azureActiveDirectoryTenant" | "crossCloudAzureActiveDirectoryTenant" => {
                            format!("tenant {}", s["tenantId"].as_str().unwrap_or(""))
                        }
                        "domainIdentitySource" => {
                            format!("otp {}", s["domainName"].as_str().unwrap_or(""))
                        }
                        "externalDomainFederation" => {
                            format!("federation {}", s["domainName"].as_str().unwrap_or(""))
                        }
                        "socialIdentitySource" => {
                            format!("social {}", s["displayName"].as_str().unwrap_or(""))
                        }
                        other => other.to_owned(),
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

fn org_rows(orgs: &[Value]) -> Vec<Vec<String>> {
    orgs.iter()
        .map(|o| {
            vec![
                o["id"].as_str().unwrap_or("").to_owned(),
                o["displayName"].as_str().unwrap_or("").to_owned(),
                o["state"].as_str().unwrap_or("").to_owned(),
                sources(o),
                o["createdDateTime"].as_str().unwrap_or("").to_owned(),
            ]
        })
        .collect()
}

fn side_path(side: SponsorSide) -> &'static str {
    match side {
        SponsorSide::Internal => "internalSponsors",
        SponsorSide::External => "externalSponsors",
    }
}

pub(crate) fn print_json(v: &Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// Runs a `connected-org` command against a server.
pub async fn connected_org(
    server: ServerArgs,
    command: ConnectedOrgCommand,
) -> anyhow::Result<ExitCode> {
    let c = GraphClient::new(&server.server, &server.token)?;
    let headers = ["ID", "NAME", "STATE", "IDENTITY SOURCES", "CREATED"];
    match command {
        ConnectedOrgCommand::List {
            search,
            filter,
            all,
            top,
        } => {
            let mut q = vec![format!("$top={top}"), "$orderby=displayName".to_owned()];
            if let Some(s) = search {
                q.push(format!("$search={}", enc(&format!("\"{s}\""))));
            }
            if let Some(f) = filter {
                q.push(format!("$filter={}", enc(&f)));
            }
            let path = format!("{ORGS}?{}", q.join("&"));
            let (orgs, more) = if all {
                (c.get_all(&path).await?, false)
            } else {
                let page = c.send(reqwest::Method::GET, &path, None).await?;
                (
                    page["value"].as_array().cloned().unwrap_or_default(),
                    page.get("@odata.nextLink").is_some(),
                )
            };
            if server.json {
                print_json(&Value::Array(orgs))?;
            } else {
                print!("{}", table(&headers, &org_rows(&orgs)));
                if more {
                    eprintln!("(more results: use --all)");
                }
            }
        }
        ConnectedOrgCommand::Show { id } => {
            let org = c
                .send(reqwest::Method::GET, &format!("{ORGS}/{}", enc(&id)), None)
                .await?;
            let internal = c
                .get_all(&format!("{ORGS}/{}/internalSponsors", enc(&id)))
                .await?;
            let external = c
                .get_all(&format!("{ORGS}/{}/externalSponsors", enc(&id)))
                .await?;
            if server.json {
                let mut v = org.clone();
                v["internalSponsors"] = Value::Array(internal);
                v["externalSponsors"] = Value::Array(external);
                print_json(&v)?;
            } else {
                let who = |list: &[Value]| {
                    list.iter()
                        .map(|s| {
                            format!(
                                "{} ({})",
                                s["displayName"].as_str().unwrap_or(""),
                                s["id"].as_str().unwrap_or("")
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let rows = vec![
                    vec!["id".into(), org["id"].as_str().unwrap_or("").into()],
                    vec![
                        "displayName".into(),
                        org["displayName"].as_str().unwrap_or("").into(),
                    ],
                    vec![
                        "description".into(),
                        org["description"].as_str().unwrap_or("").into(),
                    ],
                    vec!["state".into(), org["state"].as_str().unwrap_or("").into()],
                    vec!["identitySources".into(), sources(&org)],
                    vec!["internalSponsors".into(), who(&internal)],
                    vec!["externalSponsors".into(), who(&external)],
                    vec![
                        "createdDateTime".into(),
                        org["createdDateTime"].as_str().unwrap_or("").into(),
                    ],
                    vec![
                        "modifiedDateTime".into(),
                        org["modifiedDateTime"].as_str().unwrap_or("").into(),
                    ],
                ];
                print!("{}", table(&["PROPERTY", "VALUE"], &rows));
            }
        }
        ConnectedOrgCommand::Add {
            name,
            description,
            domain,
            tenant_id,
            issuer,
            social,
            state,
        } => {
            let source = match (domain, tenant_id, issuer, social) {
                (Some(d), None, None, None) => {
                    json!({"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": d, "displayName": d})
                }
                (Some(d), None, Some(iss), None) => {
                    json!({"@odata.type": "#microsoft.graph.externalDomainFederation", "domainName": d, "displayName": d, "issuerUri": iss})
                }
                (None, Some(t), None, None) => {
                    json!({"@odata.type": "#microsoft.graph.azureActiveDirectoryTenant", "tenantId": t})
                }
                (None, None, None, Some(s)) => {
                    json!({"@odata.type": "#microsoft.graph.socialIdentitySource", "displayName": s, "socialIdentitySourceType": "facebook"})
                }
                _ => bail!(
                    "give exactly one of --domain (optionally with --issuer), --tenant-id or --social"
                ),
            };
            let mut body = json!({ "displayName": name, "identitySources": [source] });
            if let Some(d) = description {
                body["description"] = json!(d);
            }
            if let Some(s) = state {
                body["state"] = json!(s);
            }
            let org = c.send(reqwest::Method::POST, ORGS, Some(body)).await?;
            if server.json {
                print_json(&org)?;
            } else {
                print!("{}", table(&headers, &org_rows(std::slice::from_ref(&org))));
            }
        }
        ConnectedOrgCommand::Update {
            id,
            name,
            description,
            state,
        } => {
            let mut body = json!({});
            if let Some(n) = name {
                body["displayName"] = json!(n);
            }
            if let Some(d) = description {
                body["description"] = json!(d);
            }
            if let Some(s) = state {
                body["state"] = json!(s);
            }
            if body.as_object().is_some_and(|o| o.is_empty()) {
                bail!("nothing to change: give --name, --description or --state");
            }
            let org = c
                .send(
                    reqwest::Method::PATCH,
                    &format!("{ORGS}/{}", enc(&id)),
                    Some(body),
                )
                .await?;
            if server.json {
                print_json(&org)?;
            } else {
                print!("{}", table(&headers, &org_rows(std::slice::from_ref(&org))));
            }
        }
        ConnectedOrgCommand::Delete { id } => {
            c.send(
                reqwest::Method::DELETE,
                &format!("{ORGS}/{}", enc(&id)),
                None,
            )
            .await?;
            if server.json {
                print_json(&json!({ "deleted": id }))?;
            } else {
                println!("deleted connected organization {id}");
            }
        }
        ConnectedOrgCommand::Sponsor { command } => match command {
            SponsorCommand::List { id, side } => {
                let list = c
                    .get_all(&format!("{ORGS}/{}/{}", enc(&id), side_path(side)))
                    .await?;
                if server.json {
                    print_json(&Value::Array(list))?;
                } else {
                    let rows: Vec<Vec<String>> = list
                        .iter()
                        .map(|s| {
                            vec![
                                s["id"].as_str().unwrap_or("").into(),
                                s["@odata.type"]
                                    .as_str()
                                    .unwrap_or("")
                                    .trim_start_matches("#microsoft.graph.")
                                    .into(),
                                s["displayName"].as_str().unwrap_or("").into(),
                                s["userPrincipalName"].as_str().unwrap_or("").into(),
                            ]
                        })
                        .collect();
                    print!(
                        "{}",
                        table(&["ID", "TYPE", "NAME", "USER PRINCIPAL NAME"], &rows)
                    );
                }
            }
            SponsorCommand::Add {
                id,
                side,
                user,
                group,
            } => {
                let kind = if group { "groups" } else { "users" };
                let body = json!({ "@odata.id": format!("{}/v1.0/{kind}/{user}", c.base) });
                c.send(
                    reqwest::Method::POST,
                    &format!("{ORGS}/{}/{}/$ref", enc(&id), side_path(side)),
                    Some(body),
                )
                .await?;
                println!("added {user} to the {} of {id}", side_path(side));
            }
            SponsorCommand::Remove { id, side, user } => {
                c.send(
                    reqwest::Method::DELETE,
                    &format!(
                        "{ORGS}/{}/{}/{}/$ref",
                        enc(&id),
                        side_path(side),
                        enc(&user)
                    ),
                    None,
                )
                .await?;
                println!("removed {user} from the {} of {id}", side_path(side));
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}
