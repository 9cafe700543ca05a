use crate::harness::{TestServer, assert_error};
use reqwest::Method;
use serde_json::{Value, json};

const EM: &str = "/v1.0/identityGovernance/entitlementManagement";
const RM: &str = "/v1.0/roleManagement/entitlementManagement";
const OWNER: &str = "ae79f266-94d4-4dab-b730-feca7e132178";
const READER: &str = "44272f93-9762-48e8-af59-1b5351b1d6b3";
const PACKAGE_MANAGER: &str = "7f480852-ebdc-47d4-87de-0d8498384a83";
const CREATOR: &str = "ba92d953-d8e0-4e39-a797-0cbedb0a89e8";

async fn token(s: &TestServer, user: &str) -> String {
    let (code, out, err) = crate::tokens::consulate(&[
        "admin",
        "token",
        "create",
        "--database",
        &s.database,
        "--name",
        user,
        "--scopes",
        "EntitlementManagement.ReadWrite.All",
        "--as-user",
        user,
    ])
    .await;
    assert_eq!(code, 0, "{err}");
    out.trim().to_owned()
}

async fn admin_post(s: &TestServer, path: &str, body: Value) -> String {
    let r = s.post(path, body.clone()).await;
    assert_eq!(r.status, 201, "POST {path} {body}: {}", r.text);
    r.body["id"].as_str().unwrap().to_owned()
}

fn names(r: &crate::harness::Resp) -> Vec<String> {
    let mut v: Vec<String> = r.body["value"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", r.text))
        .iter()
        .map(|x| x["displayName"].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

fn assign(principal: &str, role: &str, scope: &str) -> Value {
    json!({"principalId": principal, "roleDefinitionId": role, "appScopeId": scope})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_roles_delegate_one_catalog_at_a_time() {
    let s = TestServer::sqlite().await;
    let a = admin_post(
        &s,
        &format!("{EM}/catalogs"),
        json!({"displayName": "Alpha"}),
    )
    .await;
    let b = admin_post(
        &s,
        &format!("{EM}/catalogs"),
        json!({"displayName": "Beta"}),
    )
    .await;
    let pkg_b = admin_post(
        &s,
        &format!("{EM}/accessPackages"),
        json!({"displayName": "Beta tools", "catalog": {"id": b}}),
    )
    .await;
    admin_post(
        &s,
        &format!("{EM}/accessPackages"),
        json!({"displayName": "Alpha tools", "catalog": {"id": a}}),
    )
    .await;
    let olivia = s
        .create_user("Olivia", "olivia@consulate.example", false)
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let pete = s.create_user("Pete", "pete@consulate.example", false).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let olivia_token = token(&s, "olivia@consulate.example").await;
    let pete_token = token(&s, "pete@consulate.example").await;
    let as_olivia = |m: Method, p: String, b: Option<Value>| {
        let (s, t) = (&s, olivia_token.clone());
        async move { s.req_with(m, &p, b, Some(&t)).await }
    };

    // No directory role and no catalog role: nothing.
    assert_error(
        &as_olivia(Method::GET, format!("{EM}/catalogs"), None).await,
        403,
        "accessDenied",
    );

    // Access package manager of Alpha: sees Alpha only, manages its packages, not the catalog.
    assert_eq!(
        names(&s.get(&format!("{RM}/roleDefinitions")).await).len(),
        5
    );
    let grant = admin_post(
        &s,
        &format!("{RM}/roleAssignments"),
        assign(
            &olivia,
            PACKAGE_MANAGER,
            &format!("/AccessPackageCatalog/{a}"),
        ),
    )
    .await;
    assert_eq!(
        names(&as_olivia(Method::GET, format!("{EM}/catalogs"), None).await),
        vec!["Alpha"]
    );
    assert_eq!(
        names(&as_olivia(Method::GET, format!("{EM}/accessPackages"), None).await),
        vec!["Alpha tools"]
    );
    let r = as_olivia(
        Method::POST,
        format!("{EM}/accessPackages"),
        Some(json!({"displayName": "Alpha extras", "catalog": {"id": a}})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let mine = r.body["id"].as_str().unwrap().to_owned();
    let r = as_olivia(
        Method::POST,
        format!("{EM}/assignmentPolicies"),
        Some(json!({"displayName": "Members", "allowedTargetScope": "allMemberUsers",
                    "requestorSettings": {"enableTargetsToSelfAddAccess": true}, "accessPackage": {"id": mine}})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_error(
        &as_olivia(
            Method::POST,
            format!("{EM}/accessPackages"),
            Some(json!({"displayName": "X", "catalog": {"id": b}})),
        )
        .await,
        403,
        "accessDenied",
    );
    assert_error(
        &as_olivia(
            Method::PATCH,
            format!("{EM}/accessPackages/{pkg_b}"),
            Some(json!({"isHidden": true})),
        )
        .await,
        403,
        "accessDenied",
    );
    assert_error(
        &as_olivia(Method::GET, format!("{EM}/catalogs/{b}"), None).await,
        403,
        "accessDenied",
    );
    assert_error(
        &as_olivia(
            Method::PATCH,
            format!("{EM}/catalogs/{a}"),
            Some(json!({"description": "mine"})),
        )
        .await,
        403,
        "accessDenied",
    );
    assert_error(
        &as_olivia(Method::POST, format!("{EM}/resourceRequests"),
            Some(json!({"requestType": "adminAdd", "resource": {"originId": "f2ef992c-3afb-46b9-b7cf-a126ee74c451", "originSystem": "DirectoryRole"}, "catalog": {"id": a}}))).await,
        403,
        "accessDenied",
    );

    // Owner of Beta: manages Beta and delegates in it, not elsewhere and not tenant-wide.
    admin_post(
        &s,
        &format!("{RM}/roleAssignments"),
        assign(&olivia, OWNER, &format!("/AccessPackageCatalog/{b}")),
    )
    .await;
    assert_eq!(
        as_olivia(
            Method::PATCH,
            format!("{EM}/catalogs/{b}"),
            Some(json!({"description": "owned"}))
        )
        .await
        .status,
        204
    );
    let r = as_olivia(
        Method::POST,
        format!("{RM}/roleAssignments"),
        Some(assign(&pete, READER, &format!("/AccessPackageCatalog/{b}"))),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_error(
        &as_olivia(
            Method::POST,
            format!("{RM}/roleAssignments"),
            Some(assign(&pete, READER, &format!("/AccessPackageCatalog/{a}"))),
        )
        .await,
        403,
        "accessDenied",
    );
    assert_error(
        &as_olivia(
            Method::POST,
            format!("{RM}/roleAssignments"),
            Some(assign(&pete, CREATOR, "/")),
        )
        .await,
        403,
        "accessDenied",
    );
    // Pete reads Beta and nothing else, and cannot change it.
    let r = s
        .req_with(
            Method::GET,
            &format!("{EM}/accessPackages"),
            None,
            Some(&pete_token),
        )
        .await;
    assert_eq!(names(&r), vec!["Beta tools"]);
    assert_error(
        &s.req_with(
            Method::PATCH,
            &format!("{EM}/accessPackages/{pkg_b}"),
            Some(json!({"isHidden": true})),
            Some(&pete_token),
        )
        .await,
        403,
        "accessDenied",
    );

    // Catalog creators create catalogs and own what they create.
    assert_error(
        &as_olivia(
            Method::POST,
            format!("{EM}/catalogs"),
            Some(json!({"displayName": "Gamma"})),
        )
        .await,
        403,
        "accessDenied",
    );
    admin_post(
        &s,
        &format!("{RM}/roleAssignments"),
        assign(&olivia, CREATOR, "/"),
    )
    .await;
    let r = as_olivia(
        Method::POST,
        format!("{EM}/catalogs"),
        Some(json!({"displayName": "Gamma"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let gamma = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        as_olivia(
            Method::PATCH,
            format!("{EM}/catalogs/{gamma}"),
            Some(json!({"description": "new"}))
        )
        .await
        .status,
        204
    );
    let r = s
        .get(&format!(
            "{RM}/roleAssignments?$filter=principalId eq '{olivia}'"
        ))
        .await;
    assert_eq!(r.body["value"].as_array().unwrap().len(), 4, "{}", r.text);

    // Bad assignments are refused; removing a role takes it away at once.
    for body in [
        assign(&olivia, OWNER, "/"),
        assign(&olivia, CREATOR, &format!("/AccessPackageCatalog/{a}")),
        assign(&olivia, "00000000-0000-0000-0000-000000000000", "/"),
        assign(
            &uuid::Uuid::now_v7().to_string(),
            READER,
            &format!("/AccessPackageCatalog/{a}"),
        ),
    ] {
        let r = s.post(&format!("{RM}/roleAssignments"), body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
    }
    assert_error(
        &s.post(
            &format!("{RM}/roleAssignments"),
            assign(
                &olivia,
                PACKAGE_MANAGER,
                &format!("/AccessPackageCatalog/{a}"),
            ),
        )
        .await,
        409,
        "conflict",
    );
    assert_eq!(
        s.delete(&format!("{RM}/roleAssignments/{grant}"))
            .await
            .status,
        204
    );
    assert_eq!(
        names(&as_olivia(Method::GET, format!("{EM}/catalogs"), None).await),
        vec!["Beta", "Gamma"]
    );
    s.stop().await;
}
