//! The OpenAPI document, generated from the handlers' annotations. A committed copy lives in
//! `openapi/openapi.json`; a test fails when the two differ.

use crate::routes;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A Consulate API token (csl_…)"))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Consulate", description = "Self-hosted entitlement management speaking the Microsoft Graph v1.0 entitlement-management API.", license(name = "Apache-2.0")),
    security(("bearer" = [])),
    modifiers(&BearerAuth),
    paths(
        routes::connected_orgs::list, routes::connected_orgs::count, routes::connected_orgs::create, routes::connected_orgs::get,
        routes::connected_orgs::update, routes::connected_orgs::delete, routes::connected_orgs::list_sponsors, routes::connected_orgs::list_sponsor_refs,
        routes::connected_orgs::add_sponsor, routes::connected_orgs::remove_sponsor, routes::connected_orgs::remove_sponsor_by_ref,
        routes::catalogs::list, routes::catalogs::count, routes::catalogs::create, routes::catalogs::get, routes::catalogs::update,
        routes::catalogs::delete,
        routes::access_packages::list, routes::access_packages::count, routes::access_packages::create, routes::access_packages::get,
        routes::access_packages::update, routes::access_packages::delete, routes::access_packages::list_role_scopes,
        routes::access_packages::add_role_scope, routes::access_packages::remove_role_scope, routes::access_packages::list_related,
        routes::access_packages::add_reference, routes::access_packages::remove_reference,
        routes::access_packages::filter_by_current_user_openapi, routes::access_packages::action,
        routes::policies::list, routes::policies::create, routes::policies::get, routes::policies::replace, routes::policies::delete,
        routes::role_management::list_definitions, routes::role_management::get_definition, routes::role_management::list_assignments,
        routes::role_management::create_assignment, routes::role_management::get_assignment, routes::role_management::delete_assignment,
        routes::approvals::get, routes::approvals::stages, routes::approvals::stage, routes::approvals::decide,
        routes::lifecycle::create_request, routes::lifecycle::list_requests, routes::lifecycle::get_request,
        routes::lifecycle::cancel_request, routes::lifecycle::delete_request, routes::lifecycle::reprocess_assignment, routes::lifecycle::reprocess_request, routes::subjects::get_subject, routes::subjects::update_subject, routes::sign_in::discovery, routes::sign_in::start_email_otp, routes::sign_in::verify_email_otp, routes::sign_in::current, routes::sign_in::sign_out, routes::local_sign_in::password, routes::local_sign_in::second_factor, routes::local_sign_in::enroll, routes::local_sign_in::confirm, routes::local_sign_in::set_password, routes::local_sign_in::reset_external_authenticator, routes::terms::get_terms, routes::terms::set_terms, routes::terms::my_terms, routes::terms::accept, routes::oidc::configure, routes::oidc::start, routes::oidc::callback, routes::sign_in_rules::list, routes::sign_in_rules::create, routes::sign_in_rules::delete, routes::sign_in_rules::get_domains, routes::sign_in_rules::set_domains, routes::personal_tokens::create, routes::personal_tokens::list, routes::personal_tokens::revoke, routes::personal_tokens::revoke_sign_in_sessions, routes::reports::partner_access, routes::reports::expiring,
        routes::lifecycle::list_assignments, routes::lifecycle::get_assignment,
        routes::lifecycle::get_settings, routes::lifecycle::update_settings, routes::lifecycle::sweep_preview,
        routes::resources::list_requests, routes::resources::create_request, routes::resources::list_resources, routes::resources::list_resource_roles,
        routes::applications::list, routes::applications::create, routes::applications::get, routes::applications::update, routes::applications::delete,
        routes::users::list, routes::users::count, routes::users::create, routes::users::get, routes::users::update, routes::users::delete,
        routes::users::manager, routes::users::set_manager, routes::users::remove_manager, routes::users::sponsors, routes::users::add_sponsor, routes::users::remove_sponsor,
        routes::groups::list, routes::groups::count, routes::groups::create, routes::groups::get, routes::groups::update, routes::groups::delete,
        routes::groups::members, routes::groups::add_member, routes::groups::remove_member,
        routes::audit::list, routes::audit::get,
        routes::admin::list_providers, routes::admin::create_provider, routes::admin::delete_provider, routes::admin::domain_lookup,
        routes::admin::organization, routes::admin::domains,
    )
)]
struct ApiDoc;

/// The document as pretty JSON with a trailing newline (the committed form).
pub fn document_json() -> String {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    let mut s = doc
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    s.push('\n');
    s
}
