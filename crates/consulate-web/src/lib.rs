//! Consulate in the browser: the My Access portal. Server-rendered pages (askama), no
//! JavaScript and no external assets. Sign-in by email passcode, at the person's own identity
//! provider, or with a password; the access package link partners receive; requesting;
//! "My access"; the approvals inbox. Every form that changes something carries the session's
//! CSRF token and must come from this origin. Each handler calls one application service.

#![forbid(unsafe_code)]

mod pages;

use askama::Template;
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use consulate_api::session::{read_cookie, session_cookie};
use consulate_api::state::ApiState;
use consulate_core::access::{Caller, CallerIdentity};
use consulate_store::sign_in::SessionRecord;

/// The portal's routes, to be served beside the API.
pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/", get(pages::home))
        .route("/static/consulate.css", get(css))
        .route(
            "/sign-in",
            get(pages::sign_in_page).post(pages::sign_in_submit),
        )
        .route("/sign-in/code", post(pages::code_submit))
        .route("/sign-in/password", post(pages::password_submit))
        .route("/sign-in/second-factor", post(pages::second_factor_submit))
        .route("/sign-out", post(pages::sign_out))
        .route("/access-packages", get(pages::packages))
        .route("/access-packages/{id}", get(pages::package_page))
        .route("/access-packages/{id}/request", post(pages::request_submit))
        .route("/my-access", get(pages::my_access))
        .route(
            "/my-access/requests/{id}/cancel",
            post(pages::cancel_request),
        )
        .route(
            "/my-access/assignments/{id}/extend",
            post(pages::extend_assignment),
        )
        .route(
            "/my-access/assignments/{id}/remove",
            post(pages::remove_assignment),
        )
        .route("/approvals", get(pages::approvals))
        .route("/admin", get(pages::admin_home))
        .route("/admin/organizations", get(pages::organizations))
        .route(
            "/admin/organizations/new",
            get(pages::new_organization).post(pages::new_organization_step),
        )
        .route("/admin/reports", get(pages::reports))
        .route("/admin/organizations/{id}", get(pages::organization))
        .route(
            "/admin/organizations/{id}/state",
            post(pages::organization_state),
        )
        .route(
            "/admin/organizations/{id}/delete",
            post(pages::delete_organization),
        )
        .route(
            "/admin/organizations/{id}/edit",
            post(pages::edit_organization),
        )
        .route(
            "/admin/organizations/{id}/sponsors/{kind}",
            post(pages::add_sponsor),
        )
        .route(
            "/admin/organizations/{id}/sponsors/{kind}/{sponsor}/remove",
            post(pages::remove_sponsor),
        )
        .route("/admin/audit", get(pages::audit))
        .route("/admin/directory", get(pages::directory))
        .route(
            "/admin/directory/users/{id}/revoke",
            post(pages::revoke_user_sessions),
        )
        .route("/admin/sign-in", get(pages::sign_in_admin))
        .route("/admin/sign-in/providers", post(pages::add_provider))
        .route("/admin/sign-in/rules", post(pages::add_rule))
        .route("/admin/sign-in/rules/{id}/delete", post(pages::delete_rule))
        .route("/admin/sign-in/domains", post(pages::set_domains))
        .route(
            "/admin/settings",
            get(pages::settings).post(pages::save_settings),
        )
        .route("/admin/settings/terms", post(pages::save_terms))
        .route(
            "/admin/catalogs",
            get(pages::catalogs).post(pages::create_catalog),
        )
        .route("/admin/catalogs/{id}", get(pages::catalog))
        .route("/admin/catalogs/{id}/resources", post(pages::add_resource))
        .route(
            "/admin/catalogs/{id}/resources/{resource}/remove",
            post(pages::remove_resource),
        )
        .route("/admin/catalogs/{id}/packages", post(pages::create_package))
        .route("/admin/packages/{id}", get(pages::admin_package))
        .route("/admin/packages/{id}/assignments", post(pages::assign))
        .route(
            "/admin/packages/{id}/policies/{policy}",
            get(pages::edit_policy).post(pages::save_policy),
        )
        .route(
            "/admin/packages/{id}/assignments/{assignment}/remove",
            post(pages::unassign),
        )
        .route("/approvals/{request}/{stage}", post(pages::decide))
}

async fn css() -> Response {
    let mut r = include_str!("../static/consulate.css").into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    r
}

/// What every page shows around its content.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    pub signed_in: bool,
    pub who: String,
    pub csrf: String,
    pub error: Option<String>,
    pub notice: Option<String>,
}

/// The signed-in person behind a request, if any.
pub struct Session {
    pub caller: Caller,
    pub record: SessionRecord,
    pub secret: String,
}

impl Session {
    /// The page chrome for this person.
    pub fn chrome(&self) -> Chrome {
        let who = match &self.caller.identity {
            CallerIdentity::User {
                user_principal_name,
                ..
            } => guest_address(user_principal_name),
            CallerIdentity::External { email, subject, .. } => {
                email.clone().unwrap_or_else(|| subject.clone())
            }
            _ => String::new(),
        };
        Chrome {
            signed_in: true,
            who,
            csrf: consulate_app::sign_in::csrf_token_of(&self.secret),
            ..Chrome::default()
        }
    }
}

/// A guest's original address from its user principal name (`ana_partner.example#EXT#@…` →
/// `ana@partner.example`); other names as they are.
fn guest_address(upn: &str) -> String {
    match upn.split_once("#EXT#") {
        Some((local, _)) => match local.rsplit_once('_') {
            Some((name, domain)) if domain.contains('.') => format!("{name}@{domain}"),
            _ => local.to_owned(),
        },
        None => upn.to_owned(),
    }
}

/// The session of this browser, if it has a valid one.
pub async fn session(state: &ApiState, headers: &HeaderMap) -> Option<Session> {
    let secret = read_cookie(headers, session_cookie(state))?;
    let (caller, record) = state.app.session_caller(&secret).await.ok()?;
    Some(Session {
        caller,
        record,
        secret,
    })
}

/// Renders a page with the headers every page carries: no framing, no external anything,
/// no caching of personal pages.
pub fn page(t: &impl Template, status: StatusCode) -> Response {
    let body = match t.render() {
        Ok(b) => b,
        Err(e) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the page could not be rendered: {e}"),
            )
                .into_response();
        }
    };
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'none'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A 303 to a local path.
pub fn see_other(to: &str) -> Response {
    let to = consulate_core::sign_in::safe_redirect(to);
    let mut r = StatusCode::SEE_OTHER.into_response();
    r.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/")),
    );
    r
}

/// A service error as a person should read it.
pub fn explain(e: &consulate_app::ServiceError) -> String {
    match e {
        consulate_app::ServiceError::Domain(d) => d.to_string(),
        consulate_app::ServiceError::Internal(_) => {
            "Something went wrong on our side; nothing was changed. Try again in a moment.".into()
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn guests_are_shown_by_their_address() {
        assert_eq!(
            super::guest_address("ana_partner.example#EXT#@consulate.example"),
            "ana@partner.example"
        );
        assert_eq!(
            super::guest_address("mia@consulate.example"),
            "mia@consulate.example"
        );
    }
}
