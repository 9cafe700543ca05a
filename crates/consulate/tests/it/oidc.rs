//! Sign-in through a partner's identity provider, against a real OpenID Connect provider on
//! loopback, with the attacks that matter: replayed and mixed-up state, an email claim naming
//! someone else, an issuer that is not the registered one, a tenant that is not allowed.

use crate::harness::{Backend, TestServer};
use crate::lifecycle::{EM, group_in_catalog, members, package_and_policy, wait_for};
use crate::oidc_provider::OidcProvider;
use crate::sign_in::Browser;
use serde_json::{Value, json};

/// With characters Basic authentication needs form-encoded (RFC 6749 §2.3.1).
const SECRET: &str = "consulate:client/secret+for tests%";
/// The Global Reader directory role's template id.
const GLOBAL_READER: &str = "f2ef992c-3afb-46b9-b7cf-a126ee74c451";

fn clients(s: &TestServer) -> Value {
    json!([{"client_id": "consulate", "client_secret": SECRET,
            "redirect_uris": [format!("{}/auth/v1/oidc/callback", s.base)],
            "grant_types": ["authorization_code"], "response_types": ["code"]}])
}

async fn register(
    s: &TestServer,
    name: &str,
    issuer: &str,
    domain: &str,
    tenants: &[&str],
) -> String {
    let r = s
        .post(
            "/admin/v1/identityProviders",
            json!({"displayName": name, "kind": "federation", "issuerUri": issuer, "domains": [domain]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let r = s
        .req(
            reqwest::Method::PUT,
            &format!("/admin/v1/identityProviders/{id}/signIn"),
            Some(json!({"clientId": "consulate", "clientSecret": SECRET, "allowedTenantIds": tenants})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    id
}

/// Signs in at the provider as `account`; returns the callback URL the provider sent back.
async fn to_callback(s: &TestServer, b: &mut Browser, provider: &str, account: &str) -> String {
    let start = format!(
        "{}/auth/v1/oidc/{provider}/start?returnTo=/my-access&loginHint={account}",
        s.base
    );
    b.follow(&start, &format!("{}/auth/v1/oidc/callback", s.base))
        .await
        .unwrap_or_else(|r| panic!("no callback: {} {}", r.status, r.text))
}

async fn federated_sign_in(backend: Backend) {
    let Some(s) = TestServer::start(backend).await else {
        return;
    };
    let idp = OidcProvider::start(
        &clients(&s),
        &json!({"ana-fab": {"email": "ana@fabrikam.example", "email_verified": true, "name": "Ana"},
                "mallory": {"email": "victim@partner.example", "email_verified": true}}),
    )
    .await;
    let provider = register(&s, "Fabrikam", &idp.issuer, "fabrikam.example", &[]).await;
    let org = s.create_domain_org("Fabrikam", "fabrikam.example").await;
    assert!(
        org.to_string().contains("externalDomainFederation"),
        "{org}"
    );
    let org = org["id"].as_str().unwrap().to_owned();
    let (cat, group, role) =
        group_in_catalog(&s, "Fabrikam work", "Fabrikam space", "fspace").await;
    let pkg = package_and_policy(&s, json!({"displayName": "Fabrikam space", "catalog": {"id": cat}}), &role, json!({"displayName": "Fabrikam users", "allowedTargetScope": "specificConnectedOrganizationUsers",
               "specificAllowedTargets": [{"@odata.type": "#microsoft.graph.connectedOrganizationMembers", "connectedOrganizationId": org}],
               "requestorSettings": {"enableTargetsToSelfAddAccess": true},
               "requestApprovalSettings": {"isApprovalRequiredForAdd": false, "stages": []}})).await;
    // A guest proven by passcode, whose address Mallory's provider will claim.
    let victim = s
        .post("/v1.0/users", json!({"displayName": "Victim", "userPrincipalName": "victim_partner.example#EXT#@consulate.example", "userType": "Guest",
            "mail": "victim@partner.example",
            "identities": [{"signInType": "emailAddress", "issuer": "mail", "issuerAssignedId": "victim@partner.example"}]}))
        .await;
    assert_eq!(victim.status, 201, "{}", victim.text);

    // Home-realm discovery sends Fabrikam's users to their provider.
    let mut d = Browser::new(&s);
    let r = d
        .send(
            reqwest::Method::POST,
            "/auth/v1/discovery",
            Some(json!({"email": "ana@fabrikam.example"})),
            &[],
        )
        .await;
    assert_eq!(r.body["method"], "federated", "{}", r.text);
    assert_eq!(
        r.body["startUrl"],
        format!("/auth/v1/oidc/{provider}/start"),
        "{}",
        r.text
    );

    // Ana signs in at Fabrikam's provider and comes back to where she started.
    let mut ana = Browser::new(&s);
    let callback = to_callback(&s, &mut ana, &provider, "ana-fab").await;
    let r = ana.get(&callback).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(r.headers.get("location").unwrap(), "/my-access");
    ana.csrf = Some(
        ana.get("/auth/v1/session").await.body["csrfToken"]
            .as_str()
            .unwrap()
            .to_owned(),
    );
    let me = ana.get("/auth/v1/session").await;
    assert_eq!(me.body["principal"]["kind"], "external", "{}", me.text);
    assert_eq!(me.body["issuer"], idp.issuer.as_str());
    assert_eq!(me.body["method"], "oidc");
    // The same callback again (a replayed code and state) is refused.
    let mut replay = Browser::new(&s);
    let r = replay.get(&callback).await;
    assert_eq!(r.status, 401, "{}", r.text);
    // Ana may request Fabrikam's package; she becomes a guest with her provider identity.
    let requests = format!("{EM}/assignmentRequests");
    let r = ana
        .post(
            &requests,
            json!({"requestType": "userAdd", "assignment": {"accessPackageId": pkg}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    wait_for(
        &s,
        &format!("{requests}/{}", r.body["id"].as_str().unwrap()),
        "delivered",
    )
    .await;
    let guest = &s
        .get("/v1.0/users?$filter=mail eq 'ana@fabrikam.example'")
        .await
        .body["value"][0];
    assert_eq!(guest["identities"][0]["signInType"], "federated", "{guest}");
    assert_eq!(
        guest["identities"][0]["issuer"],
        idp.issuer.as_str(),
        "{guest}"
    );
    assert_eq!(
        guest["identities"][0]["issuerAssignedId"], "ana-fab",
        "{guest}"
    );
    let gid = guest["id"].as_str().unwrap();
    assert_eq!(
        s.get(&format!("{EM}/subjects(objectId='{gid}')"))
            .await
            .body["connectedOrganization"]["id"],
        org.as_str()
    );
    assert!(
        members(&s, &group)
            .await
            .iter()
            .any(|m| m == guest["userPrincipalName"].as_str().unwrap())
    );

    // A state started in another browser is refused here (mixed-up state).
    let mut eve = Browser::new(&s);
    let mut other = Browser::new(&s);
    let foreign = to_callback(&s, &mut other, &provider, "ana-fab").await;
    let _ = to_callback(&s, &mut eve, &provider, "mallory").await;
    let r = eve.get(&foreign).await;
    assert_eq!(r.status, 401, "{}", r.text);
    // An authorization response that names another issuer is refused (mix-up).
    let mut mixed = Browser::new(&s);
    let cb = to_callback(&s, &mut mixed, &provider, "ana-fab").await;
    let cb = cb.replace("iss=http", "iss=https%3A%2F%2Fevil.example%2F&x=http");
    assert_eq!(mixed.get(&cb).await.status, 401);

    // Mallory's provider asserts the victim's address: Mallory stays Mallory.
    let mut mallory = Browser::new(&s);
    let cb = to_callback(&s, &mut mallory, &provider, "mallory").await;
    assert_eq!(mallory.get(&cb).await.status, 303);
    let me = mallory.get("/auth/v1/session").await;
    assert_eq!(me.body["principal"]["kind"], "external", "{}", me.text);
    let held = mallory
        .get(&format!(
            "{EM}/assignments/filterByCurrentUser(on='target')"
        ))
        .await;
    assert_eq!(held.body["value"], json!([]), "{}", held.text);
    // Mallory's request makes Mallory's own guest; the victim gets nothing.
    mallory.csrf = Some(me.body["csrfToken"].as_str().unwrap().to_owned());
    let r = mallory
        .post(
            &requests,
            json!({"requestType": "userAdd", "assignment": {"accessPackageId": pkg}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    wait_for(
        &s,
        &format!("{requests}/{}", r.body["id"].as_str().unwrap()),
        "delivered",
    )
    .await;
    let victim_id = victim.body["id"].as_str().unwrap();
    let guests = s
        .get("/v1.0/users?$filter=mail eq 'victim@partner.example'")
        .await
        .body["value"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(guests.len(), 2, "{guests:?}");
    let mallory_guest = guests.iter().find(|g| g["id"] != victim_id).unwrap();
    assert_eq!(
        mallory_guest["identities"][0]["issuerAssignedId"], "mallory",
        "{mallory_guest}"
    );
    assert_ne!(
        mallory_guest["userPrincipalName"],
        "victim_partner.example#EXT#@consulate.example"
    );
    let victim_holds = s
        .get(&format!(
            "{EM}/assignments?$filter=target/objectId eq '{victim_id}'"
        ))
        .await;
    assert_eq!(
        victim_holds.body["value"],
        json!([]),
        "{}",
        victim_holds.text
    );

    // A provider registered under another issuer string than it presents is refused.
    let alias = idp.issuer.replace("127.0.0.1", "localhost");
    let wrong = register(&s, "Alias", &alias, "alias.example", &[]).await;
    let mut b = Browser::new(&s);
    let r = b.get(&format!("/auth/v1/oidc/{wrong}/start")).await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert!(r.text.contains("not the registered issuer"), "{}", r.text);
    let refusals = s.get("/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Refuse sign-in: unknown, reused or foreign state'").await;
    assert!(
        !refusals.body["value"].as_array().unwrap().is_empty(),
        "{}",
        refusals.text
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn federated_sign_in_sqlite() {
    federated_sign_in(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn federated_sign_in_postgres() {
    federated_sign_in(Backend::Postgres).await;
}

/// A multi-tenant issuer: only the allowed tenants sign in, each user keyed by (tenant,
/// object id).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_tenant_issuer_admits_only_allowed_tenants() {
    let s = TestServer::sqlite().await;
    let idp = OidcProvider::start(
        &clients(&s),
        &json!({"in": {"tid": "tenant-a", "oid": "object-1", "email": "in@a.example"},
                "out": {"tid": "tenant-b", "oid": "object-2", "email": "out@b.example"},
                "none": {"email": "none@c.example"}}),
    )
    .await;
    let provider = register(&s, "Multi", &idp.issuer, "multi.example", &["tenant-a"]).await;
    let mut a = Browser::new(&s);
    let cb = to_callback(&s, &mut a, &provider, "in").await;
    assert_eq!(a.get(&cb).await.status, 303);
    let me = a.get("/auth/v1/session").await;
    assert_eq!(
        me.body["issuer"],
        format!("{}#tid=tenant-a", idp.issuer),
        "{}",
        me.text
    );
    for account in ["out", "none"] {
        let mut b = Browser::new(&s);
        let cb = to_callback(&s, &mut b, &provider, account).await;
        let r = b.get(&cb).await;
        assert_eq!(r.status, 401, "{account}: {}", r.text);
    }
    s.stop().await;
}

/// Signs `account` in at the provider in a new browser; returns the browser (with its CSRF
/// token) and its session.
async fn sign_in_at(s: &TestServer, provider: &str, account: &str) -> (Browser, Value) {
    let mut b = Browser::new(s);
    let cb = to_callback(s, &mut b, provider, account).await;
    let r = b.get(&cb).await;
    assert_eq!(r.status, 303, "{account}: {}", r.text);
    let me = b.get("/auth/v1/session").await;
    assert_eq!(me.status, 200, "{account}: {}", me.text);
    b.csrf = Some(me.body["csrfToken"].as_str().unwrap().to_owned());
    (b, me.body)
}

/// The key ids a provider publishes.
async fn key_ids(s: &TestServer, issuer: &str) -> Vec<String> {
    let jwks_uri = s
        .http
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["jwks_uri"]
        .as_str()
        .unwrap()
        .to_owned();
    let keys: Value = s
        .http
        .get(jwks_uri)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

/// The provider rotates its signing key (the same issuer comes back with a new key): the
/// next sign-in verifies with the keys fetched again, not the ones kept from before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotated_provider_keys_are_fetched_again() {
    let s = TestServer::sqlite().await;
    let accounts = json!({"ana-fab": {"email": "ana@fabrikam.example", "name": "Ana"}});
    let idp = OidcProvider::start(&clients(&s), &accounts).await;
    let provider = register(&s, "Fabrikam", &idp.issuer, "fabrikam.example", &[]).await;
    let before = key_ids(&s, &idp.issuer).await;
    // The first sign-in fetches the metadata and the keys, and keeps them.
    let (_, me) = sign_in_at(&s, &provider, "ana-fab").await;
    assert_eq!(me["principal"]["kind"], "external", "{me}");
    assert_eq!(me["issuer"], idp.issuer.as_str());

    // The provider goes away and comes back at the same address with a new key.
    let (port, issuer) = (idp.port(), idp.issuer.clone());
    idp.stop().await;
    let idp = OidcProvider::start_on(port, &clients(&s), &accounts).await;
    assert_eq!(idp.issuer, issuer);
    let after = key_ids(&s, &idp.issuer).await;
    assert!(
        after.iter().all(|k| !before.contains(k)),
        "{before:?} {after:?}"
    );

    let (_, me) = sign_in_at(&s, &provider, "ana-fab").await;
    assert_eq!(me["principal"]["kind"], "external", "{me}");
    assert_eq!(me["issuer"], idp.issuer.as_str());
    assert_eq!(me["method"], "oidc");
    let signed_in = s
        .get("/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Sign in through identity provider'")
        .await;
    assert_eq!(
        signed_in.body["value"].as_array().unwrap().len(),
        2,
        "{}",
        signed_in.text
    );
    let refused = s
        .get("/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Refuse sign-in through identity provider'")
        .await;
    assert_eq!(refused.body["value"], json!([]), "{}", refused.text);
    s.stop().await;
}

/// Members sign in at the organization's own provider as an alternative to a password: the
/// directory user holding the (issuer, subject) identity, never one whose address the
/// provider claims. They get a member's session, the rules for people from outside do not
/// apply to them, and a blocked member is refused.
async fn member_sign_in(backend: Backend) {
    let Some(s) = TestServer::start(backend).await else {
        return;
    };
    let idp = OidcProvider::start(
        &clients(&s),
        &json!({"mia-staff": {"email": "mia@consulate.example", "name": "Mia"},
                "ben-staff": {"email": "ben@consulate.example", "name": "Ben"},
                "impostor": {"email": "mia@consulate.example", "name": "Not Mia"}}),
    )
    .await;
    let provider = register(&s, "Our staff", &idp.issuer, "staff.example", &[]).await;
    let member = |name: &str, upn: &str, sub: &str, enabled: bool| {
        json!({"displayName": name, "userPrincipalName": upn, "mail": upn, "accountEnabled": enabled,
               "identities": [{"signInType": "federated", "issuer": idp.issuer, "issuerAssignedId": sub}]})
    };
    let mia = s
        .post(
            "/v1.0/users",
            member("Mia", "mia@consulate.example", "mia-staff", true),
        )
        .await;
    assert_eq!(mia.status, 201, "{}", mia.text);
    assert_eq!(mia.body["userType"], "Member", "{}", mia.text);
    let mia_id = mia.body["id"].as_str().unwrap().to_owned();
    let ben = s
        .post(
            "/v1.0/users",
            member("Ben", "ben@consulate.example", "ben-staff", false),
        )
        .await;
    assert_eq!(ben.status, 201, "{}", ben.text);
    // Everyone from outside needs a second factor, which this provider never asserts.
    let r = s
        .post(
            "/admin/v1/signInRules",
            json!({"displayName": "Outside: MFA", "target": "allExternalUsers", "requireMfa": true}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let (cat, group, role) = group_in_catalog(&s, "Staff work", "Staff space", "staffspace").await;
    let pkg = package_and_policy(
        &s,
        json!({"displayName": "Staff space", "catalog": {"id": cat}}),
        &role,
        json!({"displayName": "Members", "allowedTargetScope": "allMemberUsers",
               "requestorSettings": {"enableTargetsToSelfAddAccess": true},
               "requestApprovalSettings": {"isApprovalRequiredForAdd": false, "stages": []}}),
    )
    .await;
    // The package grants the Global Reader directory role too.
    let r = s
        .post(
            &format!("{EM}/resourceRequests"),
            json!({"requestType": "adminAdd", "catalog": {"id": cat},
                   "resource": {"originId": GLOBAL_READER, "originSystem": "DirectoryRole"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let resources = s
        .get(&format!(
            "{EM}/catalogs/{cat}/resources?$expand=roles&$filter=originSystem eq 'DirectoryRole'"
        ))
        .await;
    let reader = resources.body["value"][0]["roles"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", resources.text))
        .to_owned();
    let r = s
        .post(
            &format!("{EM}/accessPackages/{pkg}/resourceRoleScopes"),
            json!({"role": {"id": reader}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);

    // Mia signs in as herself, a member, with a member's session.
    let (mut b, me) = sign_in_at(&s, &provider, "mia-staff").await;
    assert_eq!(me["principal"]["kind"], "user", "{me}");
    assert_eq!(me["principal"]["userId"], mia_id.as_str(), "{me}");
    assert_eq!(
        me["principal"]["userPrincipalName"], "mia@consulate.example",
        "{me}"
    );
    assert_eq!(me["issuer"], idp.issuer.as_str(), "{me}");
    assert_eq!(me["method"], "memberOidc", "{me}");
    let expires: jiff::Timestamp = me["expiresDateTime"].as_str().unwrap().parse().unwrap();
    let left = expires.duration_since(jiff::Timestamp::now()).as_secs();
    assert!(
        (12 * 3600 - 120..=12 * 3600).contains(&left),
        "session of {left} s"
    );
    // What members do: see and request their own access (the outside rule does not apply),
    // and use the directory once a directory role is theirs.
    assert_eq!(b.get("/v1.0/users").await.status, 403);
    let mine = format!("{EM}/assignmentRequests/filterByCurrentUser(on='target')");
    let r = b.get(&mine).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["value"], json!([]), "{}", r.text);
    let requests = format!("{EM}/assignmentRequests");
    let r = b
        .post(
            &requests,
            json!({"requestType": "userAdd", "assignment": {"accessPackageId": pkg}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    wait_for(
        &s,
        &format!("{requests}/{}", r.body["id"].as_str().unwrap()),
        "delivered",
    )
    .await;
    assert!(
        members(&s, &group)
            .await
            .iter()
            .any(|m| m == "mia@consulate.example")
    );
    let r = b.get(&mine).await;
    assert_eq!(r.body["value"].as_array().unwrap().len(), 1, "{}", r.text);
    let users = b.get("/v1.0/users").await;
    assert_eq!(users.status, 200, "{}", users.text);

    // Someone whose provider claims Mia's address is not Mia: from outside, and refused by
    // the rule for people from outside.
    let mut other = Browser::new(&s);
    let cb = to_callback(&s, &mut other, &provider, "impostor").await;
    let r = other.get(&cb).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r.text.contains("multi-factor"), "{}", r.text);

    // A blocked member does not sign in.
    let mut blocked = Browser::new(&s);
    let cb = to_callback(&s, &mut blocked, &provider, "ben-staff").await;
    let r = blocked.get(&cb).await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert!(r.text.contains("blocked"), "{}", r.text);
    assert!(!blocked.cookies_contain("consulate-session"));
    // Blocking Mia ends her session at once.
    let r = s
        .req(
            reqwest::Method::PATCH,
            &format!("/v1.0/users/{mia_id}"),
            Some(json!({"accountEnabled": false})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(b.get("/auth/v1/session").await.status, 401);

    let audit = s
        .get("/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Refuse sign-in through identity provider'")
        .await;
    let refusals = audit.body["value"].to_string();
    assert!(
        refusals.contains("blocked") && refusals.contains("multi-factor"),
        "{refusals}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_sign_in_sqlite() {
    member_sign_in(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_sign_in_postgres() {
    member_sign_in(Backend::Postgres).await;
}
