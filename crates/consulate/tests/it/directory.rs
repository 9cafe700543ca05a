use crate::harness::{TestServer, assert_error};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_crud_filters_and_rules() {
    let s = TestServer::sqlite().await;
    let u = s
        .post(
            "/v1.0/users",
            json!({"displayName": "Jo Ann", "userPrincipalName": "jo@consulate.example", "mail": "jo@consulate.example", "mailNickname": "jo", "accountEnabled": true,
                   "passwordProfile": {"password": "ignored", "forceChangePasswordNextSignIn": true}}),
        )
        .await;
    assert_eq!(u.status, 201, "{}", u.text);
    assert_eq!(u.body["userType"], "Member");
    let id = u.body["id"].as_str().unwrap();
    // Members need a verified domain of this tenant.
    assert_error(
        &s.post(
            "/v1.0/users",
            json!({"displayName": "X", "userPrincipalName": "x@elsewhere.com"}),
        )
        .await,
        400,
        "invalidRequest",
    );
    // UPNs are unique.
    assert_error(
        &s.post(
            "/v1.0/users",
            json!({"displayName": "Dup", "userPrincipalName": "JO@consulate.example"}),
        )
        .await,
        409,
        "conflict",
    );
    // A guest with an identity (issuer, issuerAssignedId).
    let g = s
        .post(
            "/v1.0/users",
            json!({"displayName": "Pat (Partner)", "userPrincipalName": "pat_partner.com#EXT#@consulate.example", "userType": "Guest", "mail": "pat@partner.com",
                   "creationType": "Invitation", "externalUserState": "pendingacceptance",
                   "identities": [{"signInType": "federated", "issuer": "https://login.partner.com/", "issuerAssignedId": "sub-123"}]}),
        )
        .await;
    assert_eq!(g.status, 201, "{}", g.text);
    assert_eq!(g.body["externalUserState"], "PendingAcceptance");
    // The same (issuer, subject) cannot belong to two users.
    let r = s
        .post(
            "/v1.0/users",
            json!({"displayName": "Imposter", "userPrincipalName": "imp_evil.com#EXT#@consulate.example", "userType": "Guest",
                   "identities": [{"signInType": "federated", "issuer": "https://login.partner.com/", "issuerAssignedId": "sub-123"}]}),
        )
        .await;
    assert_error(&r, 409, "conflict");
    // Filters.
    let r = s.get("/v1.0/users?$filter=userType eq 'guest'").await;
    assert_eq!(r.body["value"].as_array().unwrap().len(), 1);
    let r = s.get("/v1.0/users?$filter=identities/any(i:i/issuerAssignedId eq 'sub-123' and i/issuer eq 'https://login.partner.com/')").await;
    assert_eq!(r.body["value"][0]["displayName"], "Pat (Partner)");
    let r = s
        .get("/v1.0/users?$filter=startswith(userPrincipalName,'jo@')&$select=id,userPrincipalName")
        .await;
    assert_eq!(
        r.body["value"][0]["userPrincipalName"],
        "jo@consulate.example"
    );
    let r = s
        .get("/v1.0/users?$filter=accountEnabled eq true&$count=true")
        .await;
    assert_eq!(r.body["@odata.count"], 3, "bootstrap admin + 2: {}", r.text);
    assert_error(
        &s.get("/v1.0/users?$filter=accountEnabled eq 'yes'").await,
        400,
        "invalidRequest",
    );
    // PATCH (204), including clearing a property with null; blocking sign-in.
    assert_eq!(
        s.patch(
            &format!("/v1.0/users/{id}"),
            json!({"displayName": "Jo Ann Smith", "mail": null, "accountEnabled": false})
        )
        .await
        .status,
        204
    );
    let u = s.get(&format!("/v1.0/users/{id}")).await.body;
    assert_eq!(u["displayName"], "Jo Ann Smith");
    assert!(u["mail"].is_null());
    assert_eq!(u["accountEnabled"], false);
    assert_error(
        &s.patch(&format!("/v1.0/users/{id}"), json!({"userType": "Robot"}))
            .await,
        400,
        "invalidRequest",
    );
    assert_eq!(s.delete(&format!("/v1.0/users/{id}")).await.status, 204);
    assert_error(
        &s.get(&format!("/v1.0/users/{id}")).await,
        404,
        "itemNotFound",
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_and_members() {
    let s = TestServer::sqlite().await;
    let g = s.post("/v1.0/groups", json!({"displayName": "Sales", "mailNickname": "sales", "securityEnabled": true, "mailEnabled": false, "groupTypes": []})).await;
    assert_eq!(g.status, 201, "{}", g.text);
    let gid = g.body["id"].as_str().unwrap();
    assert_error(
        &s.post(
            "/v1.0/groups",
            json!({"displayName": "M365", "mailNickname": "m", "groupTypes": ["Unified"]}),
        )
        .await,
        400,
        "invalidRequest",
    );
    assert_error(
        &s.post(
            "/v1.0/groups",
            json!({"displayName": "Bad", "mailNickname": "has space"}),
        )
        .await,
        400,
        "invalidRequest",
    );
    let u = s
        .create_user("Member One", "one@consulate.example", false)
        .await;
    let uid = u["id"].as_str().unwrap();
    let add =
        json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{uid}")});
    assert_eq!(
        s.post(&format!("/v1.0/groups/{gid}/members/$ref"), add.clone())
            .await
            .status,
        204
    );
    assert_error(
        &s.post(&format!("/v1.0/groups/{gid}/members/$ref"), add)
            .await,
        400,
        "invalidRequest",
    );
    let m = s.get(&format!("/v1.0/groups/{gid}/members")).await;
    assert_eq!(m.body["value"][0]["id"], uid);
    assert_eq!(m.body["value"][0]["@odata.type"], "#microsoft.graph.user");
    assert_eq!(
        s.patch(
            &format!("/v1.0/groups/{gid}"),
            json!({"description": "Sales team"})
        )
        .await
        .status,
        204
    );
    assert_eq!(
        s.get(&format!("/v1.0/groups/{gid}")).await.body["description"],
        "Sales team"
    );
    assert_eq!(
        s.get("/v1.0/groups?$filter=securityEnabled eq true&$count=true")
            .await
            .body["@odata.count"],
        1
    );
    assert_eq!(
        s.delete(&format!("/v1.0/groups/{gid}/members/{uid}/$ref"))
            .await
            .status,
        204
    );
    assert_error(
        &s.delete(&format!("/v1.0/groups/{gid}/members/{uid}/$ref"))
            .await,
        404,
        "itemNotFound",
    );
    assert_eq!(s.delete(&format!("/v1.0/groups/{gid}")).await.status, 204);
    // The tenant and its verified domain.
    let org = s.get("/v1.0/organization").await;
    assert_eq!(
        org.body["value"][0]["verifiedDomains"][0]["name"],
        "consulate.example"
    );
    assert_eq!(
        s.get("/v1.0/domains").await.body["value"][0]["id"],
        "consulate.example"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_addressable_by_user_principal_name() {
    let s = TestServer::sqlite().await;
    let u = s.create_user("Kim", "kim@consulate.example", false).await;
    let r = s.get("/v1.0/users/KIM@consulate.example").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["id"], u["id"]);
    assert_error(
        &s.get("/v1.0/users/nobody@consulate.example").await,
        404,
        "itemNotFound",
    );
    assert_error(&s.get("/v1.0/users/not-an-id").await, 404, "itemNotFound");
    s.stop().await;
}

/// Gives `user` a directory role the governed way: a package granting it, assigned by an
/// administrator, delivered.
async fn grant_directory_role(s: &TestServer, user: &str, template: &str, name: &str) {
    use crate::lifecycle::{EM, group_in_catalog, package_and_policy, wait_for};
    let (cat, _, member) = group_in_catalog(s, name, name, &name.to_lowercase()).await;
    let pkg = package_and_policy(
        s,
        json!({"displayName": name, "catalog": {"id": cat}}),
        &member,
        json!({"displayName": "Admins assign", "allowedTargetScope": "notSpecified",
               "requestApprovalSettings": {"isApprovalRequiredForAdd": false, "stages": []}}),
    )
    .await;
    let r = s
        .post(
            &format!("{EM}/resourceRequests"),
            json!({"requestType": "adminAdd", "catalog": {"id": cat},
                   "resource": {"originId": template, "originSystem": "DirectoryRole"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let resources = s
        .get(&format!(
            "{EM}/catalogs/{cat}/resources?$expand=roles&$filter=originSystem eq 'DirectoryRole'"
        ))
        .await;
    let role = resources.body["value"][0]["roles"][0]["id"].clone();
    let r = s
        .post(
            &format!("{EM}/accessPackages/{pkg}/resourceRoleScopes"),
            json!({"role": {"id": role}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let policy = s
        .get(&format!("{EM}/accessPackages/{pkg}/assignmentPolicies"))
        .await
        .body["value"][0]["id"]
        .clone();
    let r = s
        .post(
            &format!("{EM}/assignmentRequests"),
            json!({"requestType": "adminAdd", "assignment": {"accessPackageId": pkg, "targetId": user, "assignmentPolicyId": policy}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    wait_for(
        s,
        &format!("{EM}/assignmentRequests/{}", r.body["id"].as_str().unwrap()),
        "delivered",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_administrators_cannot_take_over_administrators() {
    let s = TestServer::sqlite().await;
    let id = |v: serde_json::Value| v["id"].as_str().unwrap().to_owned();
    let uma = id(s.create_user("Uma", "uma@consulate.example", false).await);
    let gil = id(s.create_user("Gil", "gil@consulate.example", false).await);
    let pat = id(s.create_user("Pat", "pat@consulate.example", false).await);
    grant_directory_role(
        &s,
        &uma,
        "fe930be7-5e62-47db-91af-98c3a49a38b1",
        "UserAdmins",
    )
    .await;
    grant_directory_role(&s, &gil, "f2ef992c-3afb-46b9-b7cf-a126ee74c451", "Readers").await;
    let token = s
        .delegated_token("uma@consulate.example", &consulate_core::access::Scope::ALL)
        .await;
    // Uma's own passcode identity on a role holder would let her sign in as them.
    let mine = json!({"identities": [{"signInType": "emailAddress", "issuer": "mail", "issuerAssignedId": "uma.private@example.org"}]});
    let r = s
        .req_with(
            reqwest::Method::PATCH,
            &format!("/v1.0/users/{gil}"),
            Some(mine.clone()),
            Some(&token),
        )
        .await;
    assert_error(&r, 403, "accessDenied");
    assert!(r.text.contains("Global Administrator"), "{}", r.text);
    let r = s
        .req_with(
            reqwest::Method::PUT,
            &format!("/admin/v1/users/{gil}/password"),
            Some(json!({"password": "a long enough passphrase"})),
            Some(&token),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(
        s.get(&format!("/v1.0/users/{gil}")).await.body["identities"]
            .as_array()
            .is_none_or(|a| a.is_empty()),
        "nothing changed"
    );
    // Users without a role are hers to manage; a Global Administrator manages anyone.
    let r = s
        .req_with(
            reqwest::Method::PATCH,
            &format!("/v1.0/users/{pat}"),
            Some(mine),
            Some(&token),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = s
        .patch(
            &format!("/v1.0/users/{gil}"),
            json!({"identities": [{"signInType": "emailAddress", "issuer": "mail", "issuerAssignedId": "gil@example.org"}]}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    s.stop().await;
}
