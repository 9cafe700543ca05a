use crate::harness::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_metrics() {
    let s = TestServer::sqlite().await;
    assert_eq!(
        s.req_with(reqwest::Method::GET, "/healthz", None, None)
            .await
            .body["status"],
        "ok"
    );
    assert_eq!(
        s.req_with(reqwest::Method::GET, "/readyz", None, None)
            .await
            .body["status"],
        "ready"
    );
    s.get("/v1.0/identityGovernance/entitlementManagement/connectedOrganizations")
        .await;
    let m = s
        .req_with(reqwest::Method::GET, "/metrics", None, None)
        .await;
    assert_eq!(m.status, 200);
    assert!(m.text.contains("consulate_http_requests_total{method=\"GET\",route=\"/v1.0/identityGovernance/entitlementManagement/connectedOrganizations\",status=\"200\"}"), "{}", m.text);
    assert!(
        m.text
            .contains("consulate_http_request_duration_seconds_bucket"),
        "latency histogram missing"
    );
    assert!(m.text.contains("consulate_db_pool_connections"));
    assert!(m.text.contains("consulate_outbox_pending"));
    s.stop().await;
}

/// The served OpenAPI document is generated from the code and must equal the committed copy
/// (`openapi/openapi.json`). Run with `UPDATE_OPENAPI=1` to rewrite the copy after an API change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_matches_the_committed_copy() {
    let s = TestServer::sqlite().await;
    let served = s
        .req_with(reqwest::Method::GET, "/openapi.json", None, None)
        .await
        .text;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi/openapi.json");
    if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &served).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        served == committed,
        "openapi/openapi.json is out of date: run `UPDATE_OPENAPI=1 cargo test -p consulate --test it openapi` and commit it"
    );
    let doc: serde_json::Value = serde_json::from_str(&served).unwrap();
    assert!(doc["paths"]["/v1.0/identityGovernance/entitlementManagement/connectedOrganizations"]["post"].is_object());
    s.stop().await;
}
