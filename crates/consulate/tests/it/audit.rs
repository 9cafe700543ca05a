use crate::harness::{ORGS, TestServer, assert_error};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_change_is_audited_with_who_what_and_when() {
    let s = TestServer::sqlite().await;
    let org = s.create_domain_org("Contoso", "contoso.com").await;
    let id = org["id"].as_str().unwrap();
    s.patch(
        &format!("{ORGS}/{id}"),
        json!({"displayName": "Contoso Ltd"}),
    )
    .await;
    let r = s
        .get("/v1.0/auditLogs/directoryAudits?$filter=category eq 'EntitlementManagement'")
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let events = r.body["value"].as_array().unwrap();
    // Newest first: the update, the create, and the built-in General catalog made at start.
    assert_eq!(events.len(), 3);
    assert_eq!(events[2]["activityDisplayName"], "Create catalog");
    assert_eq!(events[2]["targetResources"][0]["displayName"], "General");
    let update = &events[0];
    assert_eq!(
        update["activityDisplayName"],
        "Update connected organization"
    );
    assert_eq!(update["result"], "success");
    assert_eq!(update["initiatedBy"]["app"]["displayName"], "bootstrap");
    assert_eq!(update["targetResources"][0]["id"], id);
    let modified = &update["targetResources"][0]["modifiedProperties"][0];
    assert_eq!(modified["displayName"], "displayName");
    assert_eq!(modified["oldValue"], "\"Contoso\"");
    assert_eq!(modified["newValue"], "\"Contoso Ltd\"");
    assert!(update["activityDateTime"].as_str().unwrap().ends_with('Z'));
    // Filter on time.
    let created = events[1]["activityDateTime"].as_str().unwrap();
    let r = s.get(&format!("/v1.0/auditLogs/directoryAudits?$filter=activityDateTime ge {created} and category eq 'EntitlementManagement'")).await;
    assert_eq!(r.body["value"].as_array().unwrap().len(), 2, "{}", r.text);
    let r = s
        .get("/v1.0/auditLogs/directoryAudits?$filter=activityDateTime ge 2999-01-01T00:00:00Z")
        .await;
    assert_eq!(r.body["value"].as_array().unwrap().len(), 0);
    // One event by id; paging.
    let one = s
        .get(&format!(
            "/v1.0/auditLogs/directoryAudits/{}",
            update["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        one.body["activityDisplayName"],
        "Update connected organization"
    );
    assert_error(
        &s.get("/v1.0/auditLogs/directoryAudits/nope").await,
        404,
        "itemNotFound",
    );
    let r = s.get("/v1.0/auditLogs/directoryAudits?$top=2").await;
    assert!(r.body["@odata.nextLink"].is_string());
    s.stop().await;
}
