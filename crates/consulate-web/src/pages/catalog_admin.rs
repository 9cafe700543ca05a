//! Admin center: catalogs (create, add and remove groups), and an access package's page with the
//! My Access link to send, its policies to edit and its direct assignments. The form that
//! creates a package is in `package_form`.

use super::{Done, checked, field, message, posted_form, signed_in};
use crate::{Chrome, Session, explain, page, see_other};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use consulate_api::state::ApiState;
use consulate_app::resources::{NewResourceRequest, ResourceRef};
use consulate_core::DomainError;
use consulate_core::catalog::NewCatalog;
use consulate_core::resource::{OriginSystem, ResourceRequestType};
use consulate_store::list::ListQuery;
use uuid::Uuid;

#[derive(Template)]
#[template(path = "admin_catalogs.html")]
struct CatalogsPage {
    chrome: Chrome,
    /// (id, name, enabled for external users)
    catalogs: Vec<(String, String, bool)>,
}

#[derive(Template)]
#[template(path = "admin_catalog.html")]
pub(super) struct CatalogPage {
    chrome: Chrome,
    id: String,
    name: String,
    /// (resource id, name)
    resources: Vec<(String, String)>,
    groups: Vec<(String, String)>,
    packages: Vec<(String, String)>,
    pub(super) roles: Vec<(String, String)>,
    pub(super) organizations: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "admin_package.html")]
struct PackagePage {
    chrome: Chrome,
    id: String,
    /// (assignment id, user, state, ends)
    assignments: Vec<(String, String, String, String)>,
    policy_ids: Vec<String>,
    name: String,
    description: String,
    link: String,
    roles: Vec<String>,
    /// (policy id, name, who may request)
    policies: Vec<(String, String, String)>,
}

pub async fn catalogs(State(state): State<ApiState>, headers: HeaderMap) -> Response {
    let s = match signed_in(&state, &headers, "/admin/catalogs").await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let q = ListQuery {
        top: 500,
        ..ListQuery::default()
    };
    match state.app.list_catalogs(&s.caller, &q).await {
        Ok(p) => page(
            &CatalogsPage {
                chrome: s.chrome(),
                catalogs: p
                    .items
                    .into_iter()
                    .map(|c| (c.id.to_string(), c.display_name, c.is_externally_visible))
                    .collect(),
            },
            StatusCode::OK,
        ),
        Err(e) => message(s.chrome(), StatusCode::FORBIDDEN, "Catalogs", explain(&e)),
    }
}

pub async fn create_catalog(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let s = match signed_in(&state, &headers, "/admin/catalogs").await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Some(refused) = checked(&state, &headers, &s, &field(&fields, "csrf")) {
        return refused;
    }
    let new = NewCatalog {
        display_name: field(&fields, "name"),
        description: Some(field(&fields, "description")),
        state: None,
        is_externally_visible: Some(field(&fields, "external") == "on"),
    };
    match state.app.create_catalog(&s.caller, new).await {
        Ok(c) => see_other(&format!("/admin/catalogs/{}", c.id)),
        Err(e) => message(
            s.chrome(),
            StatusCode::BAD_REQUEST,
            "Not created",
            explain(&e),
        ),
    }
}

pub async fn catalog(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    let s = match signed_in(&state, &headers, &format!("/admin/catalogs/{id}")).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Ok(id) = Uuid::parse_str(&id) else {
        return see_other("/admin/catalogs");
    };
    match catalog_page(&state, &s, id).await {
        Ok(mut p) => {
            if done.done.as_deref() == Some("removed") {
                p.chrome.notice = Some("The resource was removed from the catalog.".into());
            }
            page(&p, StatusCode::OK)
        }
        Err(e) => message(s.chrome(), StatusCode::NOT_FOUND, "Catalog", explain(&e)),
    }
}

pub(super) async fn catalog_page(
    state: &ApiState,
    s: &Session,
    id: Uuid,
) -> Result<CatalogPage, consulate_app::ServiceError> {
    let app = &state.app;
    let c = app.get_catalog(&s.caller, id).await?;
    let resources = app
        .list_catalog_resources(&s.caller, id, &ListQuery::default())
        .await?;
    let roles = app
        .list_catalog_resource_roles(&s.caller, id, &ListQuery::default())
        .await?;
    let groups = app
        .list_groups(
            &s.caller,
            &ListQuery {
                top: 500,
                ..ListQuery::default()
            },
        )
        .await
        .map(|p| p.items)
        .unwrap_or_default();
    let packages = app.access_packages_in_catalogs(&s.caller, &[id]).await?;
    let organizations = app
        .list_connected_organizations(
            &s.caller,
            &ListQuery {
                top: 500,
                ..ListQuery::default()
            },
        )
        .await
        .map(|p| p.items)
        .unwrap_or_default();
    Ok(CatalogPage {
        chrome: s.chrome(),
        id: id.to_string(),
        name: c.display_name,
        resources: resources
            .items
            .iter()
            .map(|r| (r.id.to_string(), r.display_name.clone()))
            .collect(),
        groups: groups
            .into_iter()
            .map(|g| (g.id.to_string(), g.display_name))
            .collect(),
        packages: packages
            .into_iter()
            .map(|p| (p.id.to_string(), p.display_name))
            .collect(),
        roles: roles
            .items
            .iter()
            .map(|(role, res)| {
                (
                    role.id.to_string(),
                    format!("{} of {}", role.display_name, res.display_name),
                )
            })
            .collect(),
        organizations: organizations
            .into_iter()
            .map(|o| (o.id.to_string(), o.display_name))
            .collect(),
    })
}

pub async fn add_resource(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let (s, catalog) = match posted_form(
        &state,
        &headers,
        "/admin/catalogs",
        &id,
        &field(&fields, "csrf"),
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let new = NewResourceRequest {
        request_type: ResourceRequestType::AdminAdd,
        catalog_id: catalog,
        resource: ResourceRef::Origin {
            system: OriginSystem::AadGroup,
            id: field(&fields, "group"),
        },
    };
    match state.app.request_resource(&s.caller, new).await {
        Ok(_) => see_other(&format!("/admin/catalogs/{catalog}")),
        Err(e) => message(
            s.chrome(),
            StatusCode::BAD_REQUEST,
            "Not added",
            explain(&e),
        ),
    }
}

/// Removes a resource from the catalog (`adminRemove`). When the removal is refused — an
/// access package still grants one of the resource's roles — the catalog page says why, and
/// the resource stays.
pub async fn remove_resource(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path((id, resource)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let (s, catalog) = match posted_form(
        &state,
        &headers,
        "/admin/catalogs",
        &id,
        &field(&fields, "csrf"),
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let Ok(resource) = Uuid::parse_str(&resource) else {
        return see_other(&format!("/admin/catalogs/{catalog}"));
    };
    let new = NewResourceRequest {
        request_type: ResourceRequestType::AdminRemove,
        catalog_id: catalog,
        resource: ResourceRef::Resource(resource),
    };
    let Err(e) = state.app.request_resource(&s.caller, new).await else {
        return see_other(&format!("/admin/catalogs/{catalog}?done=removed"));
    };
    let status = status_of(&e);
    match catalog_page(&state, &s, catalog).await {
        Ok(mut p) => {
            let name = p
                .resources
                .iter()
                .find(|(r, _)| *r == resource.to_string())
                .map(|(_, name)| name.clone());
            let why = match (&e, name) {
                (consulate_app::ServiceError::Domain(DomainError::Conflict { .. }), Some(name)) => {
                    still_granted(&state, &s, catalog, resource, &name)
                        .await
                        .unwrap_or_else(|| explain(&e))
                }
                _ => explain(&e),
            };
            p.chrome.error = Some(why);
            page(&p, status)
        }
        Err(_) => message(s.chrome(), status, "Not removed", explain(&e)),
    }
}

/// The status of a page that shows a refusal.
pub(super) fn status_of(e: &consulate_app::ServiceError) -> StatusCode {
    use consulate_app::ServiceError::{Domain, Internal};
    match e {
        Domain(DomainError::NotFound { .. }) => StatusCode::NOT_FOUND,
        Domain(DomainError::Forbidden { .. }) => StatusCode::FORBIDDEN,
        Domain(DomainError::Conflict { .. }) => StatusCode::CONFLICT,
        Domain(_) => StatusCode::BAD_REQUEST,
        Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Why a resource cannot leave its catalog, in plain words: which access packages grant
/// which of its roles. `None` when no package of the catalog grants one (any more).
async fn still_granted(
    state: &ApiState,
    s: &Session,
    catalog: Uuid,
    resource: Uuid,
    name: &str,
) -> Option<String> {
    let app = &state.app;
    let packages = app
        .access_packages_in_catalogs(&s.caller, &[catalog])
        .await
        .ok()?;
    let mut grants = Vec::new();
    for p in packages {
        let Ok(scopes) = app.role_scopes(&s.caller, p.id).await else {
            continue;
        };
        let mut roles: Vec<String> = scopes
            .into_iter()
            .filter(|r| r.resource.id == resource)
            .map(|r| r.role.display_name)
            .collect();
        roles.dedup();
        if !roles.is_empty() {
            grants.push((p.display_name, roles));
        }
    }
    let (packages, roles) = match grants.as_slice() {
        [] => return None,
        [(_, roles)] if roles.len() == 1 => ("access package", "role"),
        [_] => ("access package", "roles"),
        _ => ("access packages", "roles"),
    };
    let granted = grants
        .iter()
        .map(|(p, roles)| format!("“{p}” grants {}", roles.join(" and ")))
        .collect::<Vec<_>>()
        .join("; ");
    Some(format!(
        "“{name}” was not removed from the catalog, because the {packages} using it still \
         grant its {roles} ({granted}). Remove the {roles} from the {packages} first, then \
         remove the resource."
    ))
}

pub async fn package(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    let s = match signed_in(&state, &headers, &format!("/admin/packages/{id}")).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Ok(id) = Uuid::parse_str(&id) else {
        return see_other("/admin/catalogs");
    };
    let app = &state.app;
    let shown = async {
        let p = app.get_access_package(&s.caller, id).await?;
        let roles = app.role_scopes(&s.caller, id).await?;
        let policies = app
            .policies_of_packages(&s.caller, std::slice::from_ref(&p))
            .await?;
        let q = ListQuery {
            filter: Some(consulate_core::filter::Filter::Compare {
                field: consulate_core::filter::AssignmentField::AccessPackageId,
                op: consulate_core::filter::Compare::Eq,
                value: consulate_core::filter::Value::String(id.to_string()),
            }),
            top: 500,
            ..ListQuery::default()
        };
        let assignments = app.list_assignments(&s.caller, false, &q).await?.items;
        let ids: Vec<Uuid> = assignments.iter().map(|a| a.target_id).collect();
        let users = app.store.users_by_ids(&ids).await.unwrap_or_default();
        let rows = assignments
            .iter()
            .filter(|a| a.state.is_active())
            .map(|a| {
                let who = users
                    .iter()
                    .find(|u| u.id == a.target_id)
                    .map(|u| {
                        u.mail
                            .clone()
                            .unwrap_or_else(|| u.user_principal_name.clone())
                    })
                    .unwrap_or_default();
                (
                    a.id.to_string(),
                    who,
                    a.state.as_str().to_owned(),
                    a.schedule
                        .end
                        .map(|e| e.strftime("%Y-%m-%d").to_string())
                        .unwrap_or_else(|| "never".into()),
                )
            })
            .collect::<Vec<_>>();
        Ok::<_, consulate_app::ServiceError>((p, roles, policies, rows))
    }
    .await;
    match shown {
        Ok((p, roles, policies, rows)) => page(
            &PackagePage {
                chrome: Chrome {
                    notice: (done.done.as_deref() == Some("policy"))
                        .then(|| "The policy was saved.".to_owned()),
                    ..s.chrome()
                },
                id: id.to_string(),
                assignments: rows,
                policy_ids: policies.iter().map(|p| p.id.to_string()).collect(),
                link: format!("{}/access-packages/{}", state.public_url, p.id),
                name: p.display_name,
                description: p.description,
                roles: roles
                    .iter()
                    .map(|r| format!("{} of {}", r.role.display_name, r.resource.display_name))
                    .collect(),
                policies: policies
                    .iter()
                    .map(|p| {
                        (
                            p.id.to_string(),
                            p.display_name.clone(),
                            p.allowed_target_scope.as_str().to_owned(),
                        )
                    })
                    .collect(),
            },
            StatusCode::OK,
        ),
        Err(e) => message(
            s.chrome(),
            StatusCode::NOT_FOUND,
            "Access package",
            explain(&e),
        ),
    }
}

/// Assigns the package directly to a user (`adminAdd` under the package's policy).
pub async fn assign(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let s = match signed_in(&state, &headers, &format!("/admin/packages/{id}")).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Some(refused) = checked(&state, &headers, &s, &field(&fields, "csrf")) {
        return refused;
    }
    let (Ok(package), Ok(policy)) = (
        Uuid::parse_str(&id),
        Uuid::parse_str(&field(&fields, "policy")),
    ) else {
        return see_other("/admin/catalogs");
    };
    let address = field(&fields, "user");
    let user = match state.app.store.find_user(&address).await {
        Ok(Some(u)) => u,
        _ => {
            return message(
                s.chrome(),
                StatusCode::BAD_REQUEST,
                "Not assigned",
                format!("{address}: no such user"),
            );
        }
    };
    let new = consulate_app::lifecycle::NewRequest {
        request_type: consulate_core::request::RequestType::AdminAdd,
        access_package_id: Some(package),
        policy_id: Some(policy),
        target_id: Some(user.id),
        assignment_id: None,
        justification: Some("Assigned in the admin center".into()),
        answers: Vec::new(),
        schedule: None,
    };
    match state.app.submit_request(&s.caller, new, None).await {
        Ok(_) => see_other(&format!("/admin/packages/{package}")),
        Err(e) => message(
            s.chrome(),
            StatusCode::BAD_REQUEST,
            "Not assigned",
            explain(&e),
        ),
    }
}

/// Removes an assignment (`adminRemove`).
pub async fn unassign(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path((id, assignment)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let s = match signed_in(&state, &headers, &format!("/admin/packages/{id}")).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Some(refused) = checked(&state, &headers, &s, &field(&fields, "csrf")) {
        return refused;
    }
    let Ok(assignment) = Uuid::parse_str(&assignment) else {
        return see_other(&format!("/admin/packages/{id}"));
    };
    let new = consulate_app::lifecycle::NewRequest {
        request_type: consulate_core::request::RequestType::AdminRemove,
        access_package_id: None,
        policy_id: None,
        target_id: None,
        assignment_id: Some(assignment),
        justification: Some("Removed in the admin center".into()),
        answers: Vec::new(),
        schedule: None,
    };
    match state.app.submit_request(&s.caller, new, None).await {
        Ok(_) => see_other(&format!("/admin/packages/{id}")),
        Err(e) => message(
            s.chrome(),
            StatusCode::BAD_REQUEST,
            "Not removed",
            explain(&e),
        ),
    }
}
