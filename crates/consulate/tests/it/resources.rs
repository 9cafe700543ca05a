use crate::harness::{Backend, TestServer, assert_error};
use reqwest::Method;
use serde_json::{Value, json};

const EM: &str = "/v1.0/identityGovernance/entitlementManagement";
const GLOBAL_READER: &str = "f2ef992c-3afb-46b9-b7cf-a126ee74c451";

async fn catalog(s: &TestServer, name: &str) -> String {
    let r = s
        .post(&format!("{EM}/catalogs"), json!({"displayName": name}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["id"].as_str().unwrap().to_owned()
}

fn add(catalog: &str, system: &str, origin: &str) -> Value {
    json!({"requestType": "adminAdd", "resource": {"originId": origin, "originSystem": system}, "catalog": {"id": catalog}})
}

async fn flow(backend: Backend) {
    let Some(s) = TestServer::start(backend).await else {
        return;
    };
    let cat = catalog(&s, "Consulting").await;
    let g = s
        .post(
            "/v1.0/groups",
            json!({"displayName": "Consultants", "mailNickname": "consultants"}),
        )
        .await;
    assert_eq!(g.status, 201, "{}", g.text);
    let gid = g.body["id"].as_str().unwrap().to_owned();
    let a = s
        .post(
            "/v1.0/applications",
            json!({"displayName": "Timesheets", "appRoles": [
                {"displayName": "Submitter", "value": "Timesheets.Submit", "allowedMemberTypes": ["User"]},
                {"displayName": "Approver", "value": "Timesheets.Approve"}
            ]}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text);
    let aid = a.body["id"].as_str().unwrap().to_owned();
    assert_eq!(a.body["appRoles"][0]["isEnabled"], true);

    // Add a group, an application and a directory role, as the walkthrough does.
    for (system, origin) in [
        ("AadGroup", gid.as_str()),
        ("AadApplication", aid.as_str()),
        ("DirectoryRole", GLOBAL_READER),
    ] {
        let r = s
            .post(&format!("{EM}/resourceRequests"), add(&cat, system, origin))
            .await;
        assert_eq!(r.status, 201, "{system}: {}", r.text);
        assert_eq!(r.body["state"], "delivered");
        assert_eq!(r.body["requestType"], "adminAdd");
    }
    // Twice is a conflict; Global Administrator is never grantable; unknown groups are 404.
    assert_error(
        &s.post(
            &format!("{EM}/resourceRequests"),
            add(&cat, "AadGroup", &gid),
        )
        .await,
        409,
        "conflict",
    );
    assert_error(
        &s.post(
            &format!("{EM}/resourceRequests"),
            add(
                &cat,
                "DirectoryRole",
                "62e90394-69f5-4237-9190-012177145e10",
            ),
        )
        .await,
        400,
        "invalidRequest",
    );
    assert_error(
        &s.post(
            &format!("{EM}/resourceRequests"),
            add(&cat, "AadGroup", &uuid::Uuid::now_v7().to_string()),
        )
        .await,
        404,
        "itemNotFound",
    );

    // The catalog's resources with their roles and scopes.
    let r = s
        .get(&format!(
            "{EM}/catalogs/{cat}/resources?$expand=roles,scopes&$orderby=displayName"
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let res = r.body["value"].as_array().unwrap();
    let names: Vec<&str> = res
        .iter()
        .map(|x| x["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Consultants", "Global Reader", "Timesheets"]);
    assert_eq!(res[0]["originSystem"], "AadGroup");
    assert_eq!(res[0]["roles"][0]["originId"], format!("Member_{gid}"));
    assert_eq!(res[0]["scopes"][0]["isRootScope"], true);
    assert_eq!(res[1]["roles"][0]["displayName"], "Active Member");
    assert_eq!(res[2]["roles"].as_array().unwrap().len(), 2);
    let group_resource = res[0]["id"].as_str().unwrap().to_owned();
    let r = s
        .get(&format!(
            "{EM}/catalogs/{cat}/resources?$filter=originId eq '{gid}'"
        ))
        .await;
    assert_eq!(r.body["value"].as_array().unwrap().len(), 1);
    assert!(r.body["value"][0].get("roles").is_none());
    // The documented resourceRoles query.
    let r = s
        .get(&format!(
            "{EM}/catalogs/{cat}/resourceRoles?$filter=(originSystem eq 'AadGroup' and resource/id eq '{group_resource}')&$expand=resource"
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let roles = r.body["value"].as_array().unwrap();
    assert_eq!(roles.len(), 2);
    assert_eq!(roles[0]["resource"]["id"], group_resource.as_str());
    assert_eq!(roles[0]["type"], "active");

    // A group or app role in a catalog cannot be deleted from under it.
    assert_error(
        &s.delete(&format!("/v1.0/groups/{gid}")).await,
        409,
        "conflict",
    );
    assert_error(
        &s.patch(
            &format!("/v1.0/applications/{aid}"),
            json!({"appRoles": [{"displayName": "Submitter", "value": "Timesheets.Submit"}]}),
        )
        .await,
        409,
        "conflict",
    );
    assert_error(
        &s.delete(&format!("/v1.0/applications/{aid}")).await,
        409,
        "conflict",
    );

    // Remove by origin and by resource id; then the group can go.
    let r = s
        .post(
            &format!("{EM}/resourceRequests"),
            json!({"requestType": "adminRemove", "resource": {"id": group_resource}, "catalog": {"id": cat}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["requestType"], "adminRemove");
    let r = s
        .post(
            &format!("{EM}/resourceRequests"),
            json!({"requestType": "adminRemove", "resource": {"originId": aid, "originSystem": "AadApplication"}, "catalog": {"id": cat}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(s.delete(&format!("/v1.0/groups/{gid}")).await.status, 204);
    assert_eq!(
        s.delete(&format!("/v1.0/applications/{aid}")).await.status,
        204
    );
    let r = s
        .get(&format!(
            "{EM}/resourceRequests?$filter=catalog/id eq '{cat}'&$count=true"
        ))
        .await;
    assert_eq!(r.body["@odata.count"], 5, "{}", r.text);
    let audit = s
        .get("/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Add resource to catalog'")
        .await;
    assert_eq!(audit.body["value"].as_array().unwrap().len(), 3);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_resources_sqlite() {
    flow(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_resources_postgres() {
    flow(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adding_a_group_needs_group_permission_too() {
    let s = TestServer::sqlite().await;
    let cat = catalog(&s, "Sales").await;
    let g = s
        .post(
            "/v1.0/groups",
            json!({"displayName": "Sales", "mailNickname": "sales"}),
        )
        .await;
    let gid = g.body["id"].as_str().unwrap().to_owned();
    let (code, out, err) = crate::tokens::consulate(&[
        "admin",
        "token",
        "create",
        "--database",
        &s.database,
        "--name",
        "em-only",
        "--scopes",
        "EntitlementManagement.ReadWrite.All",
    ])
    .await;
    assert_eq!(code, 0, "{err}");
    let token = out.trim().to_owned();
    let before = s.audit_count().await;
    let r = s
        .req_with(
            Method::POST,
            &format!("{EM}/resourceRequests"),
            Some(add(&cat, "AadGroup", &gid)),
            Some(&token),
        )
        .await;
    assert_error(&r, 403, "accessDenied");
    assert!(r.text.contains("Group.ReadWrite.All"), "{}", r.text);
    // Bad bodies change nothing.
    for body in [
        json!({"requestType": "userAdd", "resource": {"originId": gid, "originSystem": "AadGroup"}, "catalog": {"id": cat}}),
        json!({"requestType": "adminAdd", "resource": {"originId": gid, "originSystem": "SharePointOnline"}, "catalog": {"id": cat}}),
        json!({"requestType": "adminAdd", "resource": {"originId": gid}, "catalog": {"id": cat}}),
        json!({"requestType": "adminAdd", "resource": {"originId": gid, "originSystem": "AadGroup", "color": "red"}, "catalog": {"id": cat}}),
    ] {
        let r = s
            .post(&format!("{EM}/resourceRequests"), body.clone())
            .await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
    }
    assert_error(
        &s.post(
            &format!("{EM}/resourceRequests"),
            add(&uuid::Uuid::now_v7().to_string(), "AadGroup", &gid),
        )
        .await,
        404,
        "itemNotFound",
    );
    assert_eq!(s.audit_count().await, before);
    s.stop().await;
}
