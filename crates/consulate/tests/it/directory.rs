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
