//! The authorization matrix: every route of the OpenAPI document × every kind of caller →
//! allowed or denied. A route missing from the table fails the test, so new routes get an
//! entry. Denied means no success (and 401 for anonymous and blocked callers); allowed means
//! neither 401 nor 403 (ids are random, bodies empty, so 400 and 404 are expected answers).

use crate::harness::TestServer;
use crate::sign_in::Browser;
use crate::smtp_sink::SmtpSink;
use Rule::*;
use consulate_core::access::Scope;
use reqwest::Method;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Sign-in endpoints: open to everyone.
    Public,
    /// Needs someone signed in (a session or a user's token).
    SignedIn,
    /// Any authenticated caller.
    Authenticated,
    /// A signed-in person's own access (the policy or the approval decides the rest).
    OwnAccess,
    EmRead,
    EmWrite,
    UsersRead,
    UsersWrite,
    GroupsRead,
    GroupsWrite,
    AppsRead,
    AppsWrite,
    AuditRead,
}

const ROUTES: &[(&str, &str, Rule)] = &[
    ("GET", "/admin/v1/domainLookup", EmRead),
    ("GET", "/admin/v1/identityProviders", EmRead),
    ("POST", "/admin/v1/identityProviders", EmWrite),
    ("DELETE", "/admin/v1/identityProviders/{id}", EmWrite),
    ("PUT", "/admin/v1/identityProviders/{id}/signIn", EmWrite),
    ("GET", "/admin/v1/lifecycle/preview", EmRead),
    ("GET", "/admin/v1/signInRules", EmRead),
    ("GET", "/admin/v1/reports/partnerAccess", EmRead),
    ("GET", "/admin/v1/reports/expiring", EmRead),
    ("GET", "/auth/v1/tokens", SignedIn),
    ("POST", "/auth/v1/tokens", SignedIn),
    ("DELETE", "/auth/v1/tokens/{id}", SignedIn),
    ("POST", "/v1.0/users/{id}/revokeSignInSessions", UsersWrite),
    ("POST", "/admin/v1/signInRules", EmWrite),
    ("DELETE", "/admin/v1/signInRules/{id}", EmWrite),
    ("GET", "/admin/v1/collaborationDomains", EmRead),
    ("PUT", "/admin/v1/collaborationDomains", EmWrite),
    ("PUT", "/admin/v1/users/{id}/password", UsersWrite),
    ("GET", "/admin/v1/termsOfUse", EmRead),
    ("PUT", "/admin/v1/termsOfUse", EmWrite),
    ("GET", "/auth/v1/terms", SignedIn),
    ("POST", "/auth/v1/terms/accept", SignedIn),
    (
        "DELETE",
        "/admin/v1/externalAuthenticators/{email}",
        UsersWrite,
    ),
    ("POST", "/auth/v1/authenticator", SignedIn),
    ("POST", "/auth/v1/authenticator/confirm", SignedIn),
    ("POST", "/auth/v1/discovery", Public),
    ("POST", "/auth/v1/email-otp", Public),
    ("POST", "/auth/v1/email-otp/verify", Public),
    ("GET", "/auth/v1/oidc/callback", Public),
    ("GET", "/auth/v1/oidc/{id}/start", Public),
    ("POST", "/auth/v1/password", Public),
    ("POST", "/auth/v1/second-factor", Public),
    ("GET", "/auth/v1/session", SignedIn),
    ("POST", "/auth/v1/sign-out", SignedIn),
    ("GET", "/v1.0/applications", AppsRead),
    ("POST", "/v1.0/applications", AppsWrite),
    ("GET", "/v1.0/applications/{id}", AppsRead),
    ("DELETE", "/v1.0/applications/{id}", AppsWrite),
    ("PATCH", "/v1.0/applications/{id}", AppsWrite),
    ("GET", "/v1.0/auditLogs/directoryAudits", AuditRead),
    ("GET", "/v1.0/auditLogs/directoryAudits/{id}", AuditRead),
    ("GET", "/v1.0/domains", Authenticated),
    ("GET", "/v1.0/groups", GroupsRead),
    ("POST", "/v1.0/groups", GroupsWrite),
    ("GET", "/v1.0/groups/$count", GroupsRead),
    ("GET", "/v1.0/groups/{id}", GroupsRead),
    ("DELETE", "/v1.0/groups/{id}", GroupsWrite),
    ("PATCH", "/v1.0/groups/{id}", GroupsWrite),
    ("GET", "/v1.0/groups/{id}/members", GroupsRead),
    ("POST", "/v1.0/groups/{id}/members/$ref", GroupsWrite),
    (
        "DELETE",
        "/v1.0/groups/{id}/members/{memberId}/$ref",
        GroupsWrite,
    ),
    (
        "GET",
        "/v1.0/identityGovernance/entitlementManagement/accessPackageAssignmentApprovals/{id}",
        OwnAccess,
    ),
    (
        "GET",
        "/v1.0/identityGovernance/entitlementManagement/accessPackageAssignmentApprovals/{id}/stages",
        OwnAccess,
    ),
    (
        "GET",
        "/v1.0/identityGovernance/entitlementManagement/accessPackageAssignmentApprovals/{id}/stages/{stageId}",
        OwnAccess,
    ),
    (
        "PATCH",
        "/v1.0/identityGovernance/entitlementManagement/accessPackageAssignmentApprovals/{id}/stages/{stageId}",
        OwnAccess,
    ),
    (
        "GET",
        "/v1.0/identityGovernance/entitlementManagement/accessPackages",
        EmRead,
    ),
    (
        "POST",
        "/v1.0/identityGovernance/entitlementManagement/accessPackages",
        EmWrite,
    ),
    (
        "GET",
        "/v1.0/identityGovernance/entitlementManagement/accessPackages/$count",
        EmRead,
    ),
    (
        "GET",
        "/v1.0/identityGovernance/entitlementManagement/accessPackages/filterByCurrentUser(on='allowedRequestor')",
        OwnAccess,
    ),
    (
        "GET",
        "/v1.0/identityGovernance/entitlementManagement/accessPackages/{id}",
        EmRead,
    ),
    (
        "DELETE",
        "/v1.0/identityGovernance/entitlementManagement/accessPackages/{id}",
        EmWrite,
    ),
    (
        "PATCH",
        "/v1.0/identityGovernance/entitlementManagement/accessPackages/{id}",
        EmWrite,
    ),
    (
        "POST",
        "/v1.0/identityGovernance/entitlementManagement/accessPackages/{id}/getApplicablePolicyRequirements",
        OwnAccess,
    ),
    (
        "GET",
        "/v1.0/identityGovernance/entitlementManagement/accessPackages/{id}/resourceRoleScopes",
        EmRead,
    ),
    (
        "POST",
        "/v1.0/identityGovernance/entitlementManagement/accessPackages/{id}/resourceRoleScopes",
        EmWrite,
    ),
    (
        "DELETE",
        "/v1.0/identityGovernance/entitlementManagement/accessPackages/{id}/resourceRoleScopes/{roleScopeId}",
        EmWrite,
    ),
    (
        "GET",
        "/v1.0/identityGovernance/entitlementManagement/accessPackages/{id}/{relation}",
        EmRead,
    ),
    (
        "POST",
        "/v1.0/identityGovernance/entitlementManagement/accessPackages/{id}/{relation}/$ref",
        EmWrite,
    ),
    (
        "DELETE",
        "/v1.0/identityGovernance/entitlementManagement/accessPackages/{id}/{relation}/{otherId}/$ref",
        EmWrite,
    ),
    (
        "GET",
        "/v1.0/identityGovernance/entitlementManagement/assignmentPolicies",
        EmRead,
    ),
    (
        "POST",
        "/v1.0/identityGovernance/entitlementManagement/assignmentPolicies",
        EmWrite,
    ),
    (
        "GET",
        "/v1.0/identityGovernance/entitlementManagement/assignmentPolicies/{id}",
        EmRead,
    ),
    (
        "PUT",
        "/v1.0/identityGovernance/entitlementManagement/assignmentPolicies/{id}",
        EmWrite,
    ),
    (
        "DELETE",
        "/v1.0/identityGovernance/entitlementManagement/assignmentPolicies/{id}",
        EmWrite,
    ),
    (
        "GET",
        "/v1.0/identityGovernance/entitlementManagement/assignmentRequests",
        EmRead,
    ),
    (
        "POST",
        "/v1.0/identityGovernance/entitlementManagement/assignmentRequests",
        OwnAccess,
    ),
    (
        "GET",
        "/v1.0/identityGovernance/entitlementManagement/assignmentRequests/{id}",
        OwnAccess,
    ),
    (
        "DELETE",
        "/v1.0/identityGovernance/entitlementManagement/assignmentRequests/{id}",
        EmWrite,
    ),
    (
        "POST",
        "/v1.0/identityGovernance/entitlementManagement/assignmentRequests/{id}/cancel",
        OwnAccess,
    ),
    (
        "POST",
        "/v1.0/identityGovernance/entitlementManagement/assignmentRequests/{id}/reprocess",
        EmWrite,
    ),
    (
        "GET",
        "/v1.0/identityGovernance/entitlementManagement/assignments",
        EmRead,
    ),
    (
        "GET",
        "/v1.0/identityGovernance/entitlementManagement/assignments/{id}",
        OwnAccess,
    ),
    (
        "POST",
        "/v1.0/identityGovernance/entitlementManagement/assignments/{id}/reprocess",
        EmWrite,
    ),
    (
        "GET",
        "/v1.0/identityGovernance/entitlementManagement/catalogs",
        EmRead,
    ),
    (
        "POST",
        "/v1.0/identityGovernance/entitlementManagement/catalogs",
        EmWrite,
    ),
    (
        "GET",
        "/v1.0/identityGovernance/entitlementManagement/catalogs/$count",
        EmRead,
    ),
    (
        "GET",
        "/v1.0/identityGovernance/entitlementManagement/catalogs/{id}",
        EmRead,
    ),
    (
        "DELETE",
        "/v1.0/identityGovernance/entitlementManagement/catalogs/{id}",
        EmWrite,
    ),
    (
        "PATCH",
        "/v1.0/identityGovernance/entitlementManagement/catalogs/{id}",
        EmWrite,
    ),
    (
        "GET",
        "/v1.0/identityGovernance/entitlementManagement/catalogs/{id}/resourceRoles",
        EmRead,
    ),
    (
        "GET",
        "/v1.0/identityGovernance/entitlementManagement/catalogs/{id}/resources",
        EmRead,
    ),
    (
        "GET",
        "/v1.0/identityGovernance/entitlementManagement/connectedOrganizations",
        EmRead,
    ),
    (
        "POST",
        "/v1.0/identityGovernance/entitlementManagement/connectedOrganizations",
        EmWrite,
    ),
    (
        "GET",
        "/v1.0/identityGovernance/entitlementManagement/connectedOrganizations/$count",
        EmRead,
    ),
    (
        "GET",
        "/v1.0/identityGovernance/entitlementManagement/connectedOrganizations/{id}",
        EmRead,
    ),
    (
        "DELETE",
        "/v1.0/identityGovernance/entitlementManagement/connectedOrganizations/{id}",
        EmWrite,
    ),
    (
        "PATCH",
        "/v1.0/identityGovernance/entitlementManagement/connectedOrganizations/{id}",
        EmWrite,
    ),
    (
        "GET",
        "/v1.0/identityGovernance/entitlementManagement/connectedOrganizations/{id}/{sponsors}",
        EmRead,
    ),
    (
        "GET",
        "/v1.0/identityGovernance/entitlementManagement/connectedOrganizations/{id}/{sponsors}/$ref",
        EmRead,
    ),
    (
        "POST",
        "/v1.0/identityGovernance/entitlementManagement/connectedOrganizations/{id}/{sponsors}/$ref",
        EmWrite,
    ),
    (
        "DELETE",
        "/v1.0/identityGovernance/entitlementManagement/connectedOrganizations/{id}/{sponsors}/$ref",
        EmWrite,
    ),
    (
        "DELETE",
        "/v1.0/identityGovernance/entitlementManagement/connectedOrganizations/{id}/{sponsors}/{sponsorId}/$ref",
        EmWrite,
    ),
    (
        "GET",
        "/v1.0/identityGovernance/entitlementManagement/resourceRequests",
        EmRead,
    ),
    (
        "POST",
        "/v1.0/identityGovernance/entitlementManagement/resourceRequests",
        EmWrite,
    ),
    (
        "GET",
        "/v1.0/identityGovernance/entitlementManagement/settings",
        EmRead,
    ),
    (
        "PATCH",
        "/v1.0/identityGovernance/entitlementManagement/settings",
        EmWrite,
    ),
    (
        "GET",
        "/v1.0/identityGovernance/entitlementManagement/subjects(objectId='{objectId}')",
        EmRead,
    ),
    (
        "PATCH",
        "/v1.0/identityGovernance/entitlementManagement/subjects(objectId='{objectId}')",
        EmWrite,
    ),
    ("GET", "/v1.0/organization", Authenticated),
    (
        "GET",
        "/v1.0/roleManagement/entitlementManagement/roleAssignments",
        EmRead,
    ),
    (
        "POST",
        "/v1.0/roleManagement/entitlementManagement/roleAssignments",
        EmWrite,
    ),
    (
        "GET",
        "/v1.0/roleManagement/entitlementManagement/roleAssignments/{id}",
        EmRead,
    ),
    (
        "DELETE",
        "/v1.0/roleManagement/entitlementManagement/roleAssignments/{id}",
        EmWrite,
    ),
    (
        "GET",
        "/v1.0/roleManagement/entitlementManagement/roleDefinitions",
        Authenticated,
    ),
    (
        "GET",
        "/v1.0/roleManagement/entitlementManagement/roleDefinitions/{id}",
        Authenticated,
    ),
    ("GET", "/v1.0/users", UsersRead),
    ("POST", "/v1.0/users", UsersWrite),
    ("GET", "/v1.0/users/$count", UsersRead),
    ("GET", "/v1.0/users/{id}", UsersRead),
    ("DELETE", "/v1.0/users/{id}", UsersWrite),
    ("PATCH", "/v1.0/users/{id}", UsersWrite),
    ("GET", "/v1.0/users/{id}/manager", UsersRead),
    ("PUT", "/v1.0/users/{id}/manager/$ref", UsersWrite),
    ("DELETE", "/v1.0/users/{id}/manager/$ref", UsersWrite),
    ("GET", "/v1.0/users/{id}/sponsors", UsersRead),
    ("POST", "/v1.0/users/{id}/sponsors/$ref", UsersWrite),
    (
        "DELETE",
        "/v1.0/users/{id}/sponsors/{sponsorId}/$ref",
        UsersWrite,
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Persona {
    Anonymous,
    BlockedGuest,
    Member,
    /// A member named as approver in a policy.
    Approver,
    /// A member who owns one catalog.
    CatalogOwner,
    External,
    /// Someone from an organization in the proposed state.
    ExternalProposed,
    AppRead,
    AppWrite,
    Admin,
}

const PERSONAS: [Persona; 10] = [
    Persona::Anonymous,
    Persona::BlockedGuest,
    Persona::Member,
    Persona::Approver,
    Persona::CatalogOwner,
    Persona::External,
    Persona::ExternalProposed,
    Persona::AppRead,
    Persona::AppWrite,
    Persona::Admin,
];

/// Tenant-wide settings no catalog role reaches.
fn tenant_wide(path: &str) -> bool {
    path.starts_with("/admin/")
        || path.contains("/connectedOrganizations")
        || path.contains("/settings")
        || path.ends_with("/reprocess")
}

/// Whether `persona` may use a route under `rule`: Some(true) allowed, Some(false) denied,
/// None when it depends on the object (catalog roles, being an approver).
fn expected(rule: Rule, persona: Persona, path: &str) -> Option<bool> {
    use Persona::*;
    match (rule, persona) {
        (Public, _) => None,
        (_, Anonymous | BlockedGuest) => Some(false),
        (SignedIn | Authenticated | OwnAccess, _) => None,
        (_, Admin) => Some(true),
        (EmRead, AppRead | AppWrite) => Some(true),
        // Members see what their catalog roles reach (none here: empty lists).
        (EmRead, Member | Approver) => None,
        (EmWrite, AppWrite) => Some(true),
        // A catalog owner reads and changes inside the catalog, nothing tenant-wide.
        (EmWrite, CatalogOwner) if tenant_wide(path) => Some(false),
        (EmRead | EmWrite, CatalogOwner) => None,
        _ => Some(false),
    }
}

fn concrete(path: &str) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    path.replace("{relation}", "incompatibleAccessPackages")
        .replace("{sponsors}", "internalSponsors")
        .split('{')
        .enumerate()
        .map(|(i, part)| {
            if i == 0 {
                part.to_owned()
            } else {
                let (_, rest) = part.split_once('}').unwrap();
                format!("{id}{rest}")
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_by_every_kind_of_caller() {
    let sink = SmtpSink::start().await;
    let url = sink.url.clone();
    let s = TestServer::start_with(crate::harness::Backend::Sqlite, |c| c.smtp_url = Some(url))
        .await
        .unwrap();
    // Every route in the document has an entry, and every entry is a route.
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../openapi/openapi.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let mut documented = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for m in ["get", "post", "put", "patch", "delete"] {
            if ops.get(m).is_some() {
                documented.push((m.to_uppercase(), path.clone()));
            }
        }
    }
    for (m, p) in &documented {
        assert!(
            ROUTES.iter().any(|(rm, rp, _)| rm == m && rp == p),
            "{m} {p} has no entry in the authorization matrix"
        );
    }
    assert_eq!(
        documented.len(),
        ROUTES.len(),
        "the matrix lists routes the document does not"
    );

    // The callers.
    s.create_domain_org("Partner", "partner.example").await;
    let all: Vec<Scope> = Scope::ALL.to_vec();
    s.create_user("Mo", "mo@consulate.example", false).await;
    let member = s.delegated_token("mo@consulate.example", &all).await;
    let gus = s
        .create_user("Gus", "gus_partner.example#EXT#@consulate.example", true)
        .await;
    let blocked = s
        .delegated_token("gus_partner.example#EXT#@consulate.example", &all)
        .await;
    let r = s
        .patch(
            &format!("/v1.0/users/{}", gus["id"].as_str().unwrap()),
            json!({"accountEnabled": false}),
        )
        .await;
    assert_eq!(r.status, 204);
    let app = |scopes: &[Scope]| {
        let app = s.running_app();
        let scopes = scopes.iter().copied().collect();
        async move {
            app.create_token(
                &consulate_core::access::Caller::system(),
                "matrix",
                scopes,
                None,
                None,
            )
            .await
            .unwrap()
            .secret
        }
    };
    let app_read = app(&[Scope::EntitlementManagementReadAll]).await;
    let app_write = app(&[Scope::EntitlementManagementReadWriteAll]).await;
    let mut external = Browser::new(&s);
    let mut proposed = Browser::new(&s);
    let ann = s.create_user("Ann", "ann@consulate.example", false).await["id"].clone();
    let approver = s.delegated_token("ann@consulate.example", &all).await;
    let olga = s.create_user("Olga", "olga@consulate.example", false).await;
    let owner = s.delegated_token("olga@consulate.example", &all).await;
    // Something partners may request, so that they may sign in.
    let (cat, _, role) =
        crate::lifecycle::group_in_catalog(&s, "Partner work", "Partner space", "pspace").await;
    let pkg = crate::lifecycle::created(
        &s,
        "/v1.0/identityGovernance/entitlementManagement/accessPackages",
        json!({"displayName": "Partner space", "catalog": {"id": cat}}),
    )
    .await;
    crate::lifecycle::created(
        &s,
        &format!(
            "/v1.0/identityGovernance/entitlementManagement/accessPackages/{pkg}/resourceRoleScopes"
        ),
        json!({"role": {"id": role}}),
    )
    .await;
    crate::lifecycle::created(
        &s,
        "/v1.0/identityGovernance/entitlementManagement/assignmentPolicies",
        json!({"displayName": "Partners", "allowedTargetScope": "allConfiguredConnectedOrganizationUsers",
               "requestorSettings": {"enableTargetsToSelfAddAccess": true},
               "requestApprovalSettings": {"isApprovalRequiredForAdd": true, "stages": [{"primaryApprovers": [{"@odata.type": "#microsoft.graph.singleUser", "userId": gus["id"]}]}]},
               "accessPackage": {"id": pkg}}),
    )
    .await;
    crate::lifecycle::created(
        &s,
        "/v1.0/identityGovernance/entitlementManagement/assignmentPolicies",
        json!({"displayName": "Anyone", "allowedTargetScope": "allExternalUsers",
               "requestorSettings": {"enableTargetsToSelfAddAccess": true},
               "requestApprovalSettings": {"isApprovalRequiredForAdd": true, "stages": [{"primaryApprovers": [{"@odata.type": "#microsoft.graph.singleUser", "userId": ann}]}]},
               "accessPackage": {"id": pkg}}),
    )
    .await;
    crate::lifecycle::created(
        &s,
        "/v1.0/roleManagement/entitlementManagement/roleAssignments",
        json!({"principalId": olga["id"], "roleDefinitionId": "ae79f266-94d4-4dab-b730-feca7e132178",
               "appScopeId": format!("/AccessPackageCatalog/{cat}")}),
    )
    .await;
    let r = s.post("/v1.0/identityGovernance/entitlementManagement/connectedOrganizations", json!({"displayName": "Maybe", "state": "proposed", "identitySources": [{"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": "maybe.example", "displayName": "maybe.example"}]})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["state"], "proposed", "{}", r.text);
    external.sign_in(&sink, "pat@partner.example").await;
    let csrf = external.csrf.clone().unwrap();
    proposed.sign_in(&sink, "max@maybe.example").await;
    let proposed_csrf = proposed.csrf.clone().unwrap();

    let mut unauthorized = Vec::new();
    for (method, path, rule) in ROUTES {
        let target = concrete(path);
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        let body = (m != Method::GET && m != Method::DELETE).then(|| json!({}));
        for persona in PERSONAS {
            let r = match persona {
                Persona::Anonymous => s.req_with(m.clone(), &target, body.clone(), None).await,
                Persona::BlockedGuest => {
                    s.req_with(m.clone(), &target, body.clone(), Some(&blocked))
                        .await
                }
                Persona::Member => {
                    s.req_with(m.clone(), &target, body.clone(), Some(&member))
                        .await
                }
                Persona::Approver => {
                    s.req_with(m.clone(), &target, body.clone(), Some(&approver))
                        .await
                }
                Persona::CatalogOwner => {
                    s.req_with(m.clone(), &target, body.clone(), Some(&owner))
                        .await
                }
                Persona::ExternalProposed => {
                    proposed
                        .send(
                            m.clone(),
                            &target,
                            body.clone(),
                            &[("x-csrf-token", &proposed_csrf)],
                        )
                        .await
                }
                Persona::AppRead => {
                    s.req_with(m.clone(), &target, body.clone(), Some(&app_read))
                        .await
                }
                Persona::AppWrite => {
                    s.req_with(m.clone(), &target, body.clone(), Some(&app_write))
                        .await
                }
                Persona::Admin => s.req(m.clone(), &target, body.clone()).await,
                Persona::External => {
                    external
                        .send(m.clone(), &target, body.clone(), &[("x-csrf-token", &csrf)])
                        .await
                }
            };
            assert!(
                r.status < 500,
                "{method} {target} as {persona:?}: {} {}",
                r.status,
                r.text
            );
            match expected(*rule, persona, path) {
                Some(false) => {
                    let anonymous = matches!(persona, Persona::Anonymous | Persona::BlockedGuest);
                    if (200..300).contains(&r.status) || (anonymous && r.status != 401) {
                        unauthorized.push(format!("{method} {path} as {persona:?}: {}", r.status));
                    }
                }
                Some(true) if r.status == 401 || r.status == 403 => {
                    panic!("{method} {target} as {persona:?} was refused: {}", r.text);
                }
                _ => {}
            }
        }
    }
    assert!(
        unauthorized.is_empty(),
        "unauthorized answers:\n{}",
        unauthorized.join("\n")
    );
    s.stop().await;
}
