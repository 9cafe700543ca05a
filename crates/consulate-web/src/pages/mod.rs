//! The portal's pages and form handlers: sign-in ([`sign_in`]), access packages and "My
//! access" ([`access`]), the approvals inbox ([`approvals`]); shared helpers here.

mod access;
mod admin;
mod approvals;
mod audit_settings;
mod catalog_admin;
mod org_admin;
mod package_form;
mod policy_admin;
mod sign_in;
mod sign_in_admin;

pub use access::{
    cancel_request, extend_assignment, my_access, package_page, packages, remove_assignment,
    request_submit,
};
pub use admin::{
    directory, home as admin_home, new_organization, new_organization_step, organizations, reports,
    revoke_user_sessions,
};
pub use approvals::{approvals, decide};
pub use audit_settings::{audit, save_settings, save_terms, settings};
pub use catalog_admin::{
    add_resource, assign, catalog, catalogs, create_catalog, package as admin_package,
    remove_resource, unassign,
};
pub use org_admin::{
    add_sponsor, delete_organization, edit_organization, organization, organization_state,
    remove_sponsor,
};
pub use package_form::create_package;
pub use policy_admin::{edit_policy, save_policy};
pub use sign_in::{
    code_submit, home, password_submit, second_factor_submit, sign_in_page, sign_in_submit,
    sign_out,
};
pub use sign_in_admin::{
    add_provider, add_rule, delete_rule, overview as sign_in_admin, set_domains,
};

use crate::{Chrome, Session, page, see_other};
use askama::Template;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use consulate_api::session::check_origin_and_token;
use consulate_api::state::ApiState;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    chrome: Chrome,
    heading: String,
    text: String,
}

fn day(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d").to_string()
}

fn sign_in_redirect(path: &str) -> Response {
    see_other(&format!("/sign-in?return_to={}", url_encode(path)))
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A sign-in step posted from another site.
fn cross_site(_: consulate_api::error::ApiError) -> Response {
    message(
        Chrome::default(),
        StatusCode::FORBIDDEN,
        "Not sent from this site",
        "Sign-in forms work only from this site's own pages.".into(),
    )
}

/// A message page (not found, not allowed, …).
fn message(chrome: Chrome, status: StatusCode, heading: &str, text: String) -> Response {
    page(
        &MessagePage {
            chrome,
            heading: heading.into(),
            text,
        },
        status,
    )
}

/// The start of a form posted on the page of an object listed at `list` (its page is
/// `{list}/{id}`): the signed-in administrator (sent to sign in first, then back to that page),
/// the form's CSRF token checked, and the object's id (one that is not an id goes back to
/// the list).
async fn posted_form(
    state: &ApiState,
    headers: &HeaderMap,
    list: &str,
    id: &str,
    csrf: &str,
) -> Result<(Session, uuid::Uuid), Box<Response>> {
    let s = signed_in(state, headers, &format!("{list}/{id}"))
        .await
        .map_err(Box::new)?;
    if let Some(refused) = checked(state, headers, &s, csrf) {
        return Err(Box::new(refused));
    }
    let object = uuid::Uuid::parse_str(id).map_err(|_| Box::new(see_other(list)))?;
    Ok((s, object))
}

/// Refuses a form that did not come from this origin with the session's token.
fn checked(state: &ApiState, headers: &HeaderMap, s: &Session, token: &str) -> Option<Response> {
    check_origin_and_token(state, headers, &s.record, token)
        .err()
        .map(|_| {
            message(
                s.chrome(),
                StatusCode::FORBIDDEN,
                "Not sent from this page",
                "The form was not sent from this site's own page, so nothing was done. Reload the page and try again."
                    .into(),
            )
        })
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

#[derive(Debug, Deserialize)]
pub struct Done {
    #[serde(default)]
    done: Option<String>,
}

fn notice(done: Option<&str>) -> Option<String> {
    match done? {
        "requested" => Some("Your request was sent. You can follow it here.".into()),
        "canceled" => Some("The request was canceled.".into()),
        "removed" => Some("Your access is being removed.".into()),
        "extended" => Some("Your extension was requested. You can follow it here.".into()),
        "decided" => Some("Your decision was recorded.".into()),
        _ => None,
    }
}

/// The admin center's session check: the signed-in person, or a redirect to sign in and
/// come back to `path`.
async fn signed_in(state: &ApiState, headers: &HeaderMap, path: &str) -> Result<Session, Response> {
    crate::session(state, headers)
        .await
        .ok_or_else(|| sign_in_redirect(path))
}

/// The value of a form field (the first one of that name), trimmed.
fn field(fields: &[(String, String)], name: &str) -> String {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default()
}
