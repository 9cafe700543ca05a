use crate::harness::{Backend, TestServer, assert_error};
use reqwest::Method;
use serde_json::json;

const CATALOGS: &str = "/v1.0/identityGovernance/entitlementManagement/catalogs";

async fn lifecycle(backend: Backend) {
    let Some(s) = TestServer::start(backend).await else {
        return;
    };
    // Every tenant starts with the built-in General catalog.
    let r = s
        .get(&format!(
            "{CATALOGS}?$filter=catalogType eq 'serviceDefault'"
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let general = r.body["value"][0].clone();
    assert_eq!(general["displayName"], "General");
    assert_eq!(general["state"], "published");
    let general_id = general["id"].as_str().unwrap().to_owned();

    // Create: Graph's defaults, a Location, a 201 with the object.
    let r = s
        .post(
            CATALOGS,
            json!({"displayName": "Marketing", "description": "Campaign tools"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["catalogType"], "userManaged");
    assert_eq!(r.body["state"], "published");
    assert_eq!(r.body["isExternallyVisible"], true);
    assert!(
        r.body["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("$metadata#identityGovernance/entitlementManagement/catalogs/$entity")
    );
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        r.headers.get("location").unwrap().to_str().unwrap(),
        format!("{}{CATALOGS}/{id}", s.base)
    );
    let r = s
        .post(
            CATALOGS,
            json!({"displayName": "Staff tools", "state": "unpublished", "isExternallyVisible": false}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["state"], "unpublished");
    let staff = r.body["id"].as_str().unwrap().to_owned();

    // The documented filters; $select; $count.
    let r = s
        .get(&format!(
            "{CATALOGS}?$filter=contains(tolower(displayName),'staff')&$select=id,displayName&$count=true"
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["@odata.count"], 1);
    assert_eq!(r.body["value"][0]["id"], staff.as_str());
    assert!(r.body["value"][0].get("state").is_none());
    let r = s
        .get(&format!(
            "{CATALOGS}?$filter=isExternallyVisible eq true&$orderby=displayName"
        ))
        .await;
    let names: Vec<&str> = r.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["General", "Marketing"]);
    assert_eq!(s.get(&format!("{CATALOGS}/$count")).await.text, "3");

    // PATCH answers 204; the change is visible and audited with old and new values.
    let r = s
        .patch(
            &format!("{CATALOGS}/{id}"),
            json!({"displayName": "Marketing EMEA", "isExternallyVisible": false}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = s.get(&format!("{CATALOGS}/{id}")).await;
    assert_eq!(r.body["displayName"], "Marketing EMEA");
    assert_eq!(r.body["isExternallyVisible"], false);
    assert_ne!(r.body["modifiedDateTime"], r.body["createdDateTime"]);
    let audit = s
        .get("/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Update catalog'")
        .await;
    let props = &audit.body["value"][0]["targetResources"][0]["modifiedProperties"];
    assert!(
        props
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["displayName"] == "isExternallyVisible"
                && p["oldValue"] == "\"true\""
                && p["newValue"] == "\"false\""),
        "{props}"
    );

    // The General catalog stays: not renamed, not deleted; catalogType is the service's.
    assert_error(
        &s.patch(
            &format!("{CATALOGS}/{general_id}"),
            json!({"displayName": "Mine"}),
        )
        .await,
        400,
        "invalidRequest",
    );
    assert_error(
        &s.delete(&format!("{CATALOGS}/{general_id}")).await,
        409,
        "conflict",
    );
    assert_error(
        &s.patch(
            &format!("{CATALOGS}/{id}"),
            json!({"catalogType": "serviceDefault"}),
        )
        .await,
        400,
        "invalidRequest",
    );

    // Delete, then 404.
    assert_eq!(s.delete(&format!("{CATALOGS}/{id}")).await.status, 204);
    assert_error(
        &s.get(&format!("{CATALOGS}/{id}")).await,
        404,
        "itemNotFound",
    );
    assert_error(
        &s.delete(&format!("{CATALOGS}/{id}")).await,
        404,
        "itemNotFound",
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_lifecycle_sqlite() {
    lifecycle(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_lifecycle_postgres() {
    lifecycle(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_catalog_input_changes_nothing() {
    let s = TestServer::sqlite().await;
    let before = s.audit_count().await;
    for (body, code) in [
        (json!({"description": "no name"}), "invalidRequest"),
        (json!({"displayName": "  "}), "invalidRequest"),
        (
            json!({"displayName": "X", "state": "draft"}),
            "invalidRequest",
        ),
        (
            json!({"displayName": "X", "catalogType": "serviceManaged"}),
            "invalidRequest",
        ),
        (
            json!({"displayName": "X", "isExternallyVisible": "yes"}),
            "invalidRequest",
        ),
        (json!({"displayName": "X", "owner": "me"}), "invalidRequest"),
        (
            json!({"@odata.type": "#microsoft.graph.group", "displayName": "X"}),
            "invalidRequest",
        ),
        (json!({"displayName": "x".repeat(257)}), "invalidRequest"),
    ] {
        let r = s.post(CATALOGS, body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert_eq!(r.body["error"]["code"], code, "{body}: {}", r.text);
    }
    for q in [
        "$filter=owner eq 'x'",
        "$filter=state eq 'draft'",
        "$filter=isExternallyVisible eq 'yes'",
        "$expand=resources",
        "$orderby=createdDateTime",
        "$select=owner",
    ] {
        let r = s.get(&format!("{CATALOGS}?{q}")).await;
        assert_eq!(r.status, 400, "{q}: {}", r.text);
    }
    assert_error(
        &s.get(&format!("{CATALOGS}/not-a-guid")).await,
        404,
        "itemNotFound",
    );
    assert_eq!(s.audit_count().await, before);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_permissions() {
    let s = TestServer::sqlite().await;
    let mint = |scopes: &'static str| {
        let db = s.database.clone();
        async move {
            let (code, out, err) = crate::tokens::consulate(&[
                "admin",
                "token",
                "create",
                "--database",
                &db,
                "--name",
                "t",
                "--scopes",
                scopes,
            ])
            .await;
            assert_eq!(code, 0, "{err}");
            out.trim().to_owned()
        }
    };
    let reader = mint("EntitlementManagement.Read.All").await;
    let users = mint("User.ReadWrite.All").await;
    assert_eq!(
        s.req_with(Method::GET, CATALOGS, None, Some(&reader))
            .await
            .status,
        200
    );
    assert_error(
        &s.req_with(
            Method::POST,
            CATALOGS,
            Some(json!({"displayName": "X"})),
            Some(&reader),
        )
        .await,
        403,
        "accessDenied",
    );
    assert_error(
        &s.req_with(Method::GET, CATALOGS, None, Some(&users)).await,
        403,
        "accessDenied",
    );
    s.stop().await;
}
