//! The `catalog`, `package` and `policy` commands: catalogs, their resources, access packages
//! and assignment policies through a server's Graph API.

use crate::cli::{
    CatalogCommand, PackageCommand, PolicyCommand, QuickPolicy, Requestors, ResourceArg, ServerArgs,
};
use crate::client::{GraphClient, enc, print_json, table};
use reqwest::Method;
use serde_json::{Map, Value, json};
use std::process::ExitCode;

const CATALOGS: &str = "/v1.0/identityGovernance/entitlementManagement/catalogs";
const PACKAGES: &str = "/v1.0/identityGovernance/entitlementManagement/accessPackages";
const POLICIES: &str = "/v1.0/identityGovernance/entitlementManagement/assignmentPolicies";
const RESOURCE_REQUESTS: &str = "/v1.0/identityGovernance/entitlementManagement/resourceRequests";

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
        CatalogCommand::Resources { id } => {
            let list = c
                .get_all(&format!("{CATALOGS}/{}/resources?$expand=roles", enc(&id)))
                .await?;
            if server.json {
                print_json(&Value::Array(list))?;
            } else {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .flat_map(|r| {
                        let roles = r["roles"].as_array().cloned().unwrap_or_default();
                        roles.into_iter().map(move |role| {
                            vec![
                                text(r, "displayName"),
                                text(r, "originSystem"),
                                text(&role, "displayName"),
                                text(&role, "id"),
                            ]
                        })
                    })
                    .collect();
                print!(
                    "{}",
                    table(&["RESOURCE", "SYSTEM", "ROLE", "ROLE ID"], &rows)
                );
            }
            return Ok(ExitCode::SUCCESS);
        }
        CatalogCommand::AddResource { id, resource } => {
            resource_request(&c, "adminAdd", &id, &resource).await?
        }
        CatalogCommand::RemoveResource { id, resource } => {
            resource_request(&c, "adminRemove", &id, &resource).await?
        }
    };
    if server.json {
        print_json(&shown)?;
    } else {
        print!("{}", table(&headers, &rows(&[shown])));
    }
    Ok(ExitCode::SUCCESS)
}

async fn resource_request(
    c: &GraphClient,
    request_type: &str,
    catalog: &str,
    r: &ResourceArg,
) -> anyhow::Result<Value> {
    let (system, origin) = match (&r.group, &r.application, &r.directory_role) {
        (Some(g), _, _) => ("AadGroup", g),
        (_, Some(a), _) => ("AadApplication", a),
        (_, _, Some(d)) => ("DirectoryRole", d),
        _ => anyhow::bail!("give --group, --application or --directory-role"),
    };
    c.send(
        Method::POST,
        RESOURCE_REQUESTS,
        Some(json!({"requestType": request_type, "resource": {"originId": origin, "originSystem": system}, "catalog": {"id": catalog}})),
    )
    .await
}

fn package_rows(list: &[Value]) -> Vec<Vec<String>> {
    list.iter()
        .map(|p| {
            vec![
                text(p, "id"),
                text(p, "displayName"),
                text(p, "isHidden"),
                p["catalog"]["displayName"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
            ]
        })
        .collect()
}

/// Runs a `package` command against a server.
pub async fn package(server: ServerArgs, command: PackageCommand) -> anyhow::Result<ExitCode> {
    let c = GraphClient::new(&server.server, &server.token)?;
    let headers = ["ID", "NAME", "HIDDEN", "CATALOG"];
    let shown = match command {
        PackageCommand::List { catalog, search, all } => {
            let mut q = vec!["$orderby=displayName".to_owned(), "$expand=catalog".to_owned()];
            if let Some(cat) = catalog {
                q.push(format!("$filter={}", enc(&format!("catalog/id eq '{cat}'"))));
            }
            if let Some(s) = search {
                q.push(format!("$search={}", enc(&format!("\"{s}\""))));
            }
            let path = format!("{PACKAGES}?{}", q.join("&"));
            let list = if all {
                c.get_all(&path).await?
            } else {
                c.send(Method::GET, &path, None).await?["value"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            };
            if server.json {
                print_json(&Value::Array(list))?;
            } else {
                print!("{}", table(&headers, &package_rows(&list)));
            }
            return Ok(ExitCode::SUCCESS);
        }
        PackageCommand::Show { id } => {
            let p = c
                .send(
                    Method::GET,
                    &format!(
                        "{PACKAGES}/{}?$expand=catalog,assignmentPolicies,resourceRoleScopes($expand=role,scope)",
                        enc(&id)
                    ),
                    None,
                )
                .await?;
            if server.json {
                print_json(&p)?;
            } else {
                print!("{}", table(&headers, &package_rows(std::slice::from_ref(&p))));
                let roles: Vec<Vec<String>> = p["resourceRoleScopes"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .map(|rs| {
                        vec![
                            text(rs, "id"),
                            rs["role"]["resource"]["displayName"].as_str().unwrap_or("").to_owned(),
                            rs["role"]["displayName"].as_str().unwrap_or("").to_owned(),
                        ]
                    })
                    .collect();
                println!();
                print!("{}", table(&["ROLE SCOPE", "RESOURCE", "ROLE"], &roles));
                let policies: Vec<Vec<String>> = p["assignmentPolicies"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .map(|x| vec![text(x, "id"), text(x, "displayName"), text(x, "allowedTargetScope")])
                    .collect();
                println!();
                print!("{}", table(&["POLICY", "NAME", "WHO MAY REQUEST"], &policies));
            }
            return Ok(ExitCode::SUCCESS);
        }
        PackageCommand::Add {
            catalog,
            name,
            description,
            hidden,
        } => {
            c.send(
                Method::POST,
                PACKAGES,
                Some(json!({"displayName": name, "description": description.unwrap_or_default(), "isHidden": hidden, "catalog": {"id": catalog}})),
            )
            .await?
        }
        PackageCommand::Update {
            id,
            name,
            description,
            hidden,
        } => {
            let mut body = Map::new();
            if let Some(n) = name {
                body.insert("displayName".into(), json!(n));
            }
            if let Some(d) = description {
                body.insert("description".into(), json!(d));
            }
            if let Some(h) = hidden {
                body.insert("isHidden".into(), json!(h));
            }
            if body.is_empty() {
                anyhow::bail!("nothing to change: give --name, --description or --hidden");
            }
            let path = format!("{PACKAGES}/{}", enc(&id));
            c.send(Method::PATCH, &path, Some(Value::Object(body))).await?;
            c.send(Method::GET, &path, None).await?
        }
        PackageCommand::Delete { id } => {
            c.send(Method::DELETE, &format!("{PACKAGES}/{}", enc(&id)), None).await?;
            if !server.json {
                println!("deleted access package {id}");
            }
            return Ok(ExitCode::SUCCESS);
        }
        PackageCommand::AddRole { id, role } => {
            let rs = c
                .send(
                    Method::POST,
                    &format!("{PACKAGES}/{}/resourceRoleScopes", enc(&id)),
                    Some(json!({"role": {"id": role}})),
                )
                .await?;
            if server.json {
                print_json(&rs)?;
            } else {
                println!(
                    "{} now grants {} of {} ({})",
                    id,
                    rs["role"]["displayName"].as_str().unwrap_or(""),
                    rs["role"]["resource"]["displayName"].as_str().unwrap_or(""),
                    text(&rs, "id")
                );
            }
            return Ok(ExitCode::SUCCESS);
        }
        PackageCommand::RemoveRole { id, role_scope } => {
            c.send(
                Method::DELETE,
                &format!("{PACKAGES}/{}/resourceRoleScopes/{}", enc(&id), enc(&role_scope)),
                None,
            )
            .await?;
            if !server.json {
                println!("{id} no longer grants {role_scope}");
            }
            return Ok(ExitCode::SUCCESS);
        }
    };
    if server.json {
        print_json(&shown)?;
    } else {
        print!("{}", table(&headers, &package_rows(&[shown])));
    }
    Ok(ExitCode::SUCCESS)
}

fn read_body(file: &str) -> anyhow::Result<Value> {
    use anyhow::Context as _;
    let raw = if file == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading standard input")?
    } else {
        std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?
    };
    serde_json::from_str(&raw).with_context(|| format!("{file} is not JSON"))
}

/// The Graph body of `policy add`.
fn quick_policy(q: &QuickPolicy) -> anyhow::Result<Value> {
    let QuickPolicy {
        package,
        name,
        requestors,
        orgs,
        days,
        approvers,
        sponsors,
        justification,
    } = q;
    let requestors = *requestors;
    let (scope, targets) = match requestors {
        Requestors::Members => ("allMemberUsers", json!([])),
        Requestors::Directory => ("allDirectoryUsers", json!([])),
        Requestors::ConfiguredOrgs => ("allConfiguredConnectedOrganizationUsers", json!([])),
        Requestors::Anyone => ("allExternalUsers", json!([])),
        Requestors::AdminOnly => ("notSpecified", json!([])),
        Requestors::Orgs => {
            if orgs.is_empty() {
                anyhow::bail!("--requestors orgs needs at least one --org");
            }
            (
                "specificConnectedOrganizationUsers",
                Value::Array(
                    orgs.iter()
                        .map(|o| json!({"@odata.type": "#microsoft.graph.connectedOrganizationMembers", "connectedOrganizationId": o}))
                        .collect(),
                ),
            )
        }
    };
    let mut primary: Vec<Value> = approvers
        .iter()
        .map(|u| json!({"@odata.type": "#microsoft.graph.singleUser", "userId": u}))
        .collect();
    if *sponsors {
        primary.push(json!({"@odata.type": "#microsoft.graph.internalSponsors"}));
    }
    let approval = !primary.is_empty();
    Ok(json!({
        "displayName": name,
        "allowedTargetScope": scope,
        "specificAllowedTargets": targets,
        "expiration": match days {
            Some(d) => json!({"type": "afterDuration", "duration": format!("P{d}D")}),
            None => json!({"type": "noExpiration"}),
        },
        "requestorSettings": {"enableTargetsToSelfAddAccess": requestors != Requestors::AdminOnly, "enableTargetsToSelfRemoveAccess": true},
        "requestApprovalSettings": {
            "isApprovalRequiredForAdd": approval,
            "isRequestorJustificationRequired": justification,
            "stages": if approval { json!([{"durationBeforeAutomaticDenial": "P14D", "primaryApprovers": primary}]) } else { json!([]) },
        },
        "accessPackage": {"id": package},
    }))
}

/// Runs a `policy` command against a server.
pub async fn policy(server: ServerArgs, command: PolicyCommand) -> anyhow::Result<ExitCode> {
    let c = GraphClient::new(&server.server, &server.token)?;
    let headers = ["ID", "NAME", "WHO MAY REQUEST", "APPROVAL", "EXPIRATION"];
    let rows = |list: &[Value]| -> Vec<Vec<String>> {
        list.iter()
            .map(|p| {
                let stages = p["requestApprovalSettings"]["stages"]
                    .as_array()
                    .map_or(0, Vec::len);
                let e = &p["expiration"];
                vec![
                    text(p, "id"),
                    text(p, "displayName"),
                    text(p, "allowedTargetScope"),
                    if stages == 0 {
                        "none".to_owned()
                    } else {
                        format!("{stages} stage(s)")
                    },
                    match e["type"].as_str() {
                        Some("afterDuration") => text(e, "duration"),
                        Some("afterDateTime") => text(e, "endDateTime"),
                        other => other.unwrap_or("").to_owned(),
                    },
                ]
            })
            .collect()
    };
    let shown = match command {
        PolicyCommand::List { package } => {
            let path = match package {
                Some(p) => format!(
                    "{POLICIES}?$filter={}",
                    enc(&format!("accessPackage/id eq '{p}'"))
                ),
                None => POLICIES.to_owned(),
            };
            let list = c.get_all(&path).await?;
            if server.json {
                print_json(&Value::Array(list))?;
            } else {
                print!("{}", table(&headers, &rows(&list)));
            }
            return Ok(ExitCode::SUCCESS);
        }
        PolicyCommand::Show { id } => {
            print_json(
                &c.send(Method::GET, &format!("{POLICIES}/{}", enc(&id)), None)
                    .await?,
            )?;
            return Ok(ExitCode::SUCCESS);
        }
        PolicyCommand::Create { file } => {
            c.send(Method::POST, POLICIES, Some(read_body(&file)?))
                .await?
        }
        PolicyCommand::Replace { id, file } => {
            c.send(
                Method::PUT,
                &format!("{POLICIES}/{}", enc(&id)),
                Some(read_body(&file)?),
            )
            .await?
        }
        PolicyCommand::Add(q) => {
            c.send(Method::POST, POLICIES, Some(quick_policy(&q)?))
                .await?
        }
        PolicyCommand::Delete { id } => {
            c.send(Method::DELETE, &format!("{POLICIES}/{}", enc(&id)), None)
                .await?;
            if !server.json {
                println!("deleted assignment policy {id}");
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
