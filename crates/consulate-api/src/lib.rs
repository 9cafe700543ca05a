//! Consulate's HTTP adapter: the Microsoft Graph v1.0-compatible API (connected
//! organizations, users, groups, audit logs), Consulate's admin API, health, metrics and the
//! OpenAPI document. Handlers parse input, call one application service and map the result;
//! every error leaves as the Graph error shape ([`error`]).
#![forbid(unsafe_code)]

pub mod bind;
pub mod error;
pub mod extract;
pub mod openapi;
pub mod paging;
pub mod routes;
pub mod session;
pub mod state;
pub mod wire;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use error::ApiError;
use routes::{
    EM, access_packages as ap, admin, applications, approvals, audit, catalogs,
    connected_orgs as co, groups, lifecycle, ops, policies, resources, role_management as rm,
    users,
};
pub use state::ApiState;
use std::time::Instant;

/// Records request count and latency per route template.
async fn track(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_owned();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!("consulate_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("consulate_http_request_duration_seconds", "method" => method, "route" => route).record(start.elapsed().as_secs_f64());
    resp
}

async fn not_found() -> ApiError {
    ApiError::not_found("Resource not found for the segment; this path is not part of the API.")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "methodNotAllowed",
        "The HTTP method is not allowed on this resource.",
    )
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "generalException",
        "An internal error occurred; it has been logged.",
    )
    .into_response()
}

/// The whole HTTP application.
pub fn router(state: ApiState) -> Router {
    router_with(state, Router::new())
}

/// The API router with more routes beside it (the browser pages), sharing its state, limits,
/// metrics and error handling.
pub fn router_with(state: ApiState, extra: Router<ApiState>) -> Router {
    let orgs = format!("{EM}/connectedOrganizations");
    extra
        .route(&orgs, get(co::list).post(co::create))
        .route(&format!("{orgs}/$count"), get(co::count))
        .route(
            &format!("{orgs}/{{id}}"),
            get(co::get).patch(co::update).delete(co::delete),
        )
        .route(
            &format!("{orgs}/{{id}}/{{sponsors}}"),
            get(co::list_sponsors),
        )
        .route(
            &format!("{orgs}/{{id}}/{{sponsors}}/$ref"),
            get(co::list_sponsor_refs)
                .post(co::add_sponsor)
                .delete(co::remove_sponsor_by_ref),
        )
        .route(
            &format!("{orgs}/{{id}}/{{sponsors}}/{{sponsor}}/$ref"),
            axum::routing::delete(co::remove_sponsor),
        )
        .route(
            &format!("{EM}/catalogs"),
            get(catalogs::list).post(catalogs::create),
        )
        .route(&format!("{EM}/catalogs/$count"), get(catalogs::count))
        .route(
            &format!("{EM}/catalogs/{{id}}"),
            get(catalogs::get)
                .patch(catalogs::update)
                .delete(catalogs::delete),
        )
        .route(
            &format!("{EM}/catalogs/{{id}}/resources"),
            get(resources::list_resources),
        )
        .route(
            &format!("{EM}/catalogs/{{id}}/resourceRoles"),
            get(resources::list_resource_roles),
        )
        .route(
            &format!("{EM}/accessPackages"),
            get(ap::list).post(ap::create),
        )
        .route(&format!("{EM}/accessPackages/$count"), get(ap::count))
        .route(
            &format!("{EM}/accessPackages/{{id}}"),
            get(ap::get).patch(ap::update).delete(ap::delete),
        )
        .route(
            &format!("{EM}/accessPackages/{{id}}/resourceRoleScopes"),
            get(ap::list_role_scopes).post(ap::add_role_scope),
        )
        .route(
            &format!("{EM}/accessPackages/{{id}}/resourceRoleScopes/{{rs}}"),
            axum::routing::delete(ap::remove_role_scope),
        )
        .route(
            &format!("{EM}/accessPackages/{{id}}/{{relation}}"),
            get(ap::list_related).post(ap::action),
        )
        .route(
            &format!("{EM}/accessPackages/{{id}}/{{relation}}/$ref"),
            axum::routing::post(ap::add_reference),
        )
        .route(
            &format!("{EM}/accessPackages/{{id}}/{{relation}}/{{other}}/$ref"),
            axum::routing::delete(ap::remove_reference),
        )
        .route(
            &format!("{EM}/assignmentPolicies"),
            get(policies::list).post(policies::create),
        )
        .route(
            &format!("{EM}/assignmentPolicies/{{id}}"),
            get(policies::get)
                .put(policies::replace)
                .delete(policies::delete),
        )
        .route(
            &format!("{EM}/assignmentRequests"),
            get(lifecycle::list_requests).post(lifecycle::create_request),
        )
        .route(
            &format!("{EM}/assignmentRequests/{{id}}"),
            get(lifecycle::get_request).delete(lifecycle::delete_request),
        )
        .route(
            &format!("{EM}/assignmentRequests/{{id}}/cancel"),
            post(lifecycle::cancel_request),
        )
        .route(
            &format!("{EM}/assignmentRequests/{{id}}/reprocess"),
            post(lifecycle::reprocess_request),
        )
        .route(
            &format!("{EM}/assignments/{{id}}/reprocess"),
            post(lifecycle::reprocess_assignment),
        )
        .route(
            &format!("{EM}/accessPackageAssignmentApprovals/{{id}}"),
            get(approvals::get),
        )
        .route(
            &format!("{EM}/accessPackageAssignmentApprovals/{{id}}/stages"),
            get(approvals::stages),
        )
        .route(
            &format!("{EM}/accessPackageAssignmentApprovals/{{id}}/stages/{{stage}}"),
            get(approvals::stage).patch(approvals::decide),
        )
        .route(
            &format!("{EM}/settings"),
            get(lifecycle::get_settings).patch(lifecycle::update_settings),
        )
        .route("/admin/v1/lifecycle/preview", get(lifecycle::sweep_preview))
        .route("/auth/v1/discovery", post(routes::sign_in::discovery))
        .route("/auth/v1/email-otp", post(routes::sign_in::start_email_otp))
        .route(
            "/auth/v1/email-otp/verify",
            post(routes::sign_in::verify_email_otp),
        )
        .route("/auth/v1/session", get(routes::sign_in::current))
        .route(
            "/admin/v1/reports/partnerAccess",
            get(routes::reports::partner_access),
        )
        .route("/admin/v1/reports/expiring", get(routes::reports::expiring))
        .route(
            "/auth/v1/tokens",
            get(routes::personal_tokens::list).post(routes::personal_tokens::create),
        )
        .route(
            "/auth/v1/tokens/{id}",
            axum::routing::delete(routes::personal_tokens::revoke),
        )
        .route(
            "/v1.0/users/{id}/revokeSignInSessions",
            post(routes::personal_tokens::revoke_sign_in_sessions),
        )
        .route(
            "/admin/v1/signInRules",
            get(routes::sign_in_rules::list).post(routes::sign_in_rules::create),
        )
        .route(
            "/admin/v1/signInRules/{id}",
            axum::routing::delete(routes::sign_in_rules::delete),
        )
        .route(
            "/admin/v1/collaborationDomains",
            get(routes::sign_in_rules::get_domains).put(routes::sign_in_rules::set_domains),
        )
        .route("/auth/v1/oidc/{id}/start", get(routes::oidc::start))
        .route("/auth/v1/oidc/callback", get(routes::oidc::callback))
        .route(
            "/admin/v1/identityProviders/{id}/signIn",
            axum::routing::put(routes::oidc::configure),
        )
        .route("/auth/v1/password", post(routes::local_sign_in::password))
        .route(
            "/auth/v1/second-factor",
            post(routes::local_sign_in::second_factor),
        )
        .route(
            "/auth/v1/authenticator",
            post(routes::local_sign_in::enroll),
        )
        .route(
            "/auth/v1/authenticator/confirm",
            post(routes::local_sign_in::confirm),
        )
        .route(
            "/admin/v1/users/{id}/password",
            axum::routing::put(routes::local_sign_in::set_password),
        )
        .route(
            "/admin/v1/termsOfUse",
            get(routes::terms::get_terms).put(routes::terms::set_terms),
        )
        .route("/auth/v1/terms", get(routes::terms::my_terms))
        .route("/auth/v1/terms/accept", post(routes::terms::accept))
        .route(
            "/admin/v1/externalAuthenticators/{email}",
            axum::routing::delete(routes::local_sign_in::reset_external_authenticator),
        )
        .route("/auth/v1/sign-out", post(routes::sign_in::sign_out))
        .route(
            &routes::subjects::path(),
            get(routes::subjects::get_subject).patch(routes::subjects::update_subject),
        )
        .route(
            &format!("{EM}/assignments"),
            get(lifecycle::list_assignments),
        )
        .route(
            &format!("{EM}/assignments/{{id}}"),
            get(lifecycle::get_assignment),
        )
        .route(
            &format!("{EM}/resourceRequests"),
            get(resources::list_requests).post(resources::create_request),
        )
        .route(
            "/v1.0/roleManagement/entitlementManagement/roleDefinitions",
            get(rm::list_definitions),
        )
        .route(
            "/v1.0/roleManagement/entitlementManagement/roleDefinitions/{id}",
            get(rm::get_definition),
        )
        .route(
            "/v1.0/roleManagement/entitlementManagement/roleAssignments",
            get(rm::list_assignments).post(rm::create_assignment),
        )
        .route(
            "/v1.0/roleManagement/entitlementManagement/roleAssignments/{id}",
            get(rm::get_assignment).delete(rm::delete_assignment),
        )
        .route(
            "/v1.0/applications",
            get(applications::list).post(applications::create),
        )
        .route(
            "/v1.0/applications/{id}",
            get(applications::get)
                .patch(applications::update)
                .delete(applications::delete),
        )
        .route("/v1.0/users", get(users::list).post(users::create))
        .route("/v1.0/users/$count", get(users::count))
        .route(
            "/v1.0/users/{id}",
            get(users::get).patch(users::update).delete(users::delete),
        )
        .route("/v1.0/users/{id}/manager", get(users::manager))
        .route(
            "/v1.0/users/{id}/manager/$ref",
            axum::routing::put(users::set_manager).delete(users::remove_manager),
        )
        .route("/v1.0/users/{id}/sponsors", get(users::sponsors))
        .route(
            "/v1.0/users/{id}/sponsors/$ref",
            axum::routing::post(users::add_sponsor),
        )
        .route(
            "/v1.0/users/{id}/sponsors/{sponsor}/$ref",
            axum::routing::delete(users::remove_sponsor),
        )
        .route("/v1.0/groups", get(groups::list).post(groups::create))
        .route("/v1.0/groups/$count", get(groups::count))
        .route(
            "/v1.0/groups/{id}",
            get(groups::get)
                .patch(groups::update)
                .delete(groups::delete),
        )
        .route("/v1.0/groups/{id}/members", get(groups::members))
        .route(
            "/v1.0/groups/{id}/members/$ref",
            axum::routing::post(groups::add_member),
        )
        .route(
            "/v1.0/groups/{id}/members/{member}/$ref",
            axum::routing::delete(groups::remove_member),
        )
        .route("/v1.0/auditLogs/directoryAudits", get(audit::list))
        .route("/v1.0/auditLogs/directoryAudits/{id}", get(audit::get))
        .route("/v1.0/organization", get(admin::organization))
        .route("/v1.0/domains", get(admin::domains))
        .route(
            "/admin/v1/identityProviders",
            get(admin::list_providers).post(admin::create_provider),
        )
        .route(
            "/admin/v1/identityProviders/{id}",
            axum::routing::delete(admin::delete_provider),
        )
        .route("/admin/v1/domainLookup", get(admin::domain_lookup))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .route_layer(middleware::from_fn(track))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(extract::MAX_BODY_BYTES))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            panic_response,
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}
