//! Social identity providers: registered by issuer, they route sign-in for their domains but
//! speak for no organization. A connected organization cannot be defined by their domains,
//! and someone signed in there matches no organization, whatever email the provider asserts;
//! only "anyone" policies reach them.

use crate::harness::{Backend, TestServer};
use crate::lifecycle::{EM, group_in_catalog, package_and_policy, wait_for};
use crate::oidc_provider::OidcProvider;
use crate::sign_in::Browser;
use reqwest::Method;
use serde_json::json;

const SECRET: &str = "social-client-secret-for-tests";

async fn social(backend: Backend) {
    let Some(s) = TestServer::start(backend).await else {
        return;
    };
    let idp = OidcProvider::start(
        &json!([{"client_id": "consulate", "client_secret": SECRET,
            "redirect_uris": [format!("{}/auth/v1/oidc/callback", s.base)],
            "grant_types": ["authorization_code"], "response_types": ["code"]}]),
        &json!({"sam": {"email": "sam@partner.example", "email_verified": true, "name": "Sam"}}),
    )
    .await;
    let providers = "/admin/v1/identityProviders";
    // A tenant is an organization's directory: it cannot be social.
    let r = s
        .post(providers, json!({"displayName": "Odd", "kind": "tenant", "tenantId": "0ab4f2b5-1c64-4e13-a9f7-2b5f3c9f8a01", "domains": ["odd.example"], "isSocial": true}))
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = s
        .post(providers, json!({"displayName": "Socialite", "kind": "federation", "issuerUri": idp.issuer, "domains": ["social.example"], "isSocial": true}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["isSocial"], true, "{}", r.text);
    let provider = r.body["id"].as_str().unwrap().to_owned();
    let r = s
        .req(
            Method::PUT,
            &format!("{providers}/{provider}/signIn"),
            Some(json!({"clientId": "consulate", "clientSecret": SECRET})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let listed = s.get(providers).await;
    assert_eq!(listed.body["value"][0]["isSocial"], true, "{}", listed.text);

    // Its domain routes sign-in there, and defines no organization.
    let r = s.get("/admin/v1/domainLookup?domain=social.example").await;
    assert_eq!(r.body["authenticationType"], "social", "{}", r.text);
    let r = s
        .req_with(
            Method::POST,
            "/auth/v1/discovery",
            Some(json!({"email": "someone@social.example"})),
            None,
        )
        .await;
    assert_eq!(r.body["method"], "federated", "{}", r.text);
    assert_eq!(r.body["social"], true, "{}", r.text);
    assert_eq!(
        r.body["startUrl"],
        format!("/auth/v1/oidc/{provider}/start"),
        "{}",
        r.text
    );
    let r = s.post(&format!("{EM}/connectedOrganizations"), json!({"displayName": "Socialites", "identitySources": [{"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": "social.example", "displayName": "social.example"}]})).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("social provider"), "{}", r.text);

    // A partner, and a package for it; and a package for anyone.
    let org = s.create_domain_org("Partner", "partner.example").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (cat, _, role) = group_in_catalog(&s, "Work", "Partner space", "pspace").await;
    let partner_pkg = package_and_policy(&s, json!({"displayName": "Partner space", "catalog": {"id": cat}}), &role, json!({"displayName": "Partner users", "allowedTargetScope": "specificConnectedOrganizationUsers",
               "specificAllowedTargets": [{"@odata.type": "#microsoft.graph.connectedOrganizationMembers", "connectedOrganizationId": org}],
               "requestorSettings": {"enableTargetsToSelfAddAccess": true},
               "requestApprovalSettings": {"isApprovalRequiredForAdd": false, "stages": []}})).await;
    let open_pkg = package_and_policy(
        &s,
        json!({"displayName": "Open day", "catalog": {"id": cat}}),
        &role,
        json!({"displayName": "Anyone", "allowedTargetScope": "allExternalUsers",
               "requestorSettings": {"enableTargetsToSelfAddAccess": true},
               "requestApprovalSettings": {"isApprovalRequiredForAdd": false, "stages": []}}),
    )
    .await;

    // Sam signs in at the social provider, which says Sam's address is at the partner: Sam
    // is still nobody's member.
    let mut sam = Browser::new(&s);
    let callback = sam
        .follow(
            &format!(
                "{}/auth/v1/oidc/{provider}/start?returnTo=/my-access&loginHint=sam",
                s.base
            ),
            &format!("{}/auth/v1/oidc/callback", s.base),
        )
        .await
        .unwrap_or_else(|r| panic!("no callback: {} {}", r.status, r.text));
    let r = sam.get(&callback).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let me = sam.get("/auth/v1/session").await;
    assert_eq!(me.status, 200, "{}", me.text);
    sam.csrf = Some(me.body["csrfToken"].as_str().unwrap().to_owned());
    let requests = format!("{EM}/assignmentRequests");
    let r = sam
        .post(
            &requests,
            json!({"requestType": "userAdd", "assignment": {"accessPackageId": partner_pkg}}),
        )
        .await;
    assert!(r.status == 403 || r.status == 400, "{}", r.text);
    let r = sam
        .post(
            &requests,
            json!({"requestType": "userAdd", "assignment": {"accessPackageId": open_pkg}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    wait_for(
        &s,
        &format!("{requests}/{}", r.body["id"].as_str().unwrap()),
        "delivered",
    )
    .await;
    // Approved under "anyone", Sam's guest has no organization, and no proposed one appears.
    let orgs = s.get(&format!("{EM}/connectedOrganizations")).await;
    assert_eq!(
        orgs.body["value"].as_array().unwrap().len(),
        1,
        "{}",
        orgs.text
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn social_providers_sqlite() {
    social(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn social_providers_postgres() {
    social(Backend::Postgres).await;
}
