//! Bad input of every kind gets a Graph error, a 4xx, and changes nothing.

use crate::harness::{ORGS, TestServer, assert_error};
use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_cleanly_and_changes_nothing() {
    let s = TestServer::sqlite().await;
    s.create_domain_org("Contoso", "contoso.com").await;
    let audits_before = s.audit_count().await;
    let domain =
        |d: &str| json!({"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": d});
    let cases: Vec<(&str, serde_json::Value, u16, &str)> = vec![
        (
            "missing displayName",
            json!({"identitySources": [domain("a.com")]}),
            400,
            "invalidRequest",
        ),
        (
            "blank displayName",
            json!({"displayName": "  ", "identitySources": [domain("a.com")]}),
            400,
            "invalidRequest",
        ),
        (
            "oversized displayName",
            json!({"displayName": "x".repeat(257), "identitySources": [domain("a.com")]}),
            400,
            "invalidRequest",
        ),
        (
            "control characters",
            json!({"displayName": "a\u{7}b", "identitySources": [domain("a.com")]}),
            400,
            "invalidRequest",
        ),
        (
            "wrong type",
            json!({"displayName": 42, "identitySources": [domain("a.com")]}),
            400,
            "invalidRequest",
        ),
        (
            "no identity source",
            json!({"displayName": "A", "identitySources": []}),
            400,
            "invalidRequest",
        ),
        (
            "unknown @odata.type",
            json!({"displayName": "A", "identitySources": [{"@odata.type": "#microsoft.graph.samlFederation", "domainName": "a.com"}]}),
            400,
            "invalidRequest",
        ),
        (
            "missing @odata.type",
            json!({"displayName": "A", "identitySources": [{"domainName": "a.com"}]}),
            400,
            "invalidRequest",
        ),
        (
            "unknown property",
            json!({"displayName": "A", "identitySources": [domain("a.com")], "colour": "red"}),
            400,
            "invalidRequest",
        ),
        (
            "bad domain",
            json!({"displayName": "A", "identitySources": [domain("a..com")]}),
            400,
            "invalidRequest",
        ),
        (
            "subdomain-less domain",
            json!({"displayName": "A", "identitySources": [domain("localhost")]}),
            400,
            "invalidRequest",
        ),
        (
            "bad tenant id",
            json!({"displayName": "A", "identitySources": [{"@odata.type": "#microsoft.graph.azureActiveDirectoryTenant", "tenantId": "contoso"}]}),
            400,
            "invalidRequest",
        ),
        (
            "consumer tenant",
            json!({"displayName": "A", "identitySources": [{"@odata.type": "#microsoft.graph.azureActiveDirectoryTenant", "tenantId": "9188040d-6c67-4c5b-b112-36a304b66dad"}]}),
            400,
            "invalidRequest",
        ),
        (
            "http issuer",
            json!({"displayName": "A", "identitySources": [{"@odata.type": "#microsoft.graph.externalDomainFederation", "domainName": "a.com", "issuerUri": "http://idp.a.com"}]}),
            400,
            "invalidRequest",
        ),
        (
            "bad cloud",
            json!({"displayName": "A", "identitySources": [{"@odata.type": "#microsoft.graph.crossCloudAzureActiveDirectoryTenant", "tenantId": "0ab4f2b5-1c64-4e13-a9f7-2b5f3c9f8a01", "cloudInstance": "moon"}]}),
            400,
            "invalidRequest",
        ),
        (
            "bad social type",
            json!({"displayName": "A", "identitySources": [{"@odata.type": "#microsoft.graph.socialIdentitySource", "displayName": "a.com", "socialIdentitySourceType": "myspace"}]}),
            400,
            "invalidRequest",
        ),
        (
            "bad state",
            json!({"displayName": "A", "state": "active", "identitySources": [domain("a.com")]}),
            400,
            "invalidRequest",
        ),
        (
            "same domain twice",
            json!({"displayName": "A", "identitySources": [domain("a.com"), domain("A.com")]}),
            400,
            "invalidRequest",
        ),
        (
            "read-only id",
            json!({"id": "x", "displayName": "A", "identitySources": [domain("a.com")]}),
            400,
            "invalidRequest",
        ),
        (
            "duplicate domain",
            json!({"displayName": "A", "identitySources": [domain("contoso.com")]}),
            409,
            "conflict",
        ),
        (
            "wrong entity type",
            json!({"@odata.type": "#microsoft.graph.user", "displayName": "A", "identitySources": [domain("a.com")]}),
            400,
            "invalidRequest",
        ),
    ];
    for (name, body, status, code) in cases {
        let r = s.post(ORGS, body).await;
        assert_eq!(r.status, status, "{name}: {}", r.text);
        assert_error(&r, status, code);
    }
    // Malformed JSON, an empty body, a non-JSON content type, an oversized body.
    for (body, ct, status, code) in [
        (
            b"{\"displayName\": ".to_vec(),
            "application/json",
            400,
            "invalidRequest",
        ),
        (b"".to_vec(), "application/json", 400, "invalidRequest"),
        (
            b"[1,2,3]".to_vec(),
            "application/json",
            400,
            "invalidRequest",
        ),
        (
            b"displayName=A".to_vec(),
            "application/x-www-form-urlencoded",
            415,
            "unsupportedMediaType",
        ),
        (
            vec![b' '; 1024 * 1024 + 10],
            "application/json",
            413,
            "requestTooLarge",
        ),
    ] {
        let resp = s
            .http
            .post(format!("{}{ORGS}", s.base))
            .bearer_auth(&s.token)
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap();
        let st = resp.status().as_u16();
        let v: serde_json::Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
        assert_eq!(st, status, "{v}");
        assert_eq!(v["error"]["code"], code, "{v}");
    }
    // Bad query options.
    for (q, target) in [
        ("$filter=nope eq 'x'", "$filter"),
        ("$filter=displayName eq", "$filter"),
        ("$filter=state eq 'active'", "$filter"),
        ("$top=1000", "$top"),
        ("$top=-1", "$top"),
        ("$skiptoken=garbage", "$skiptoken"),
        ("$orderby=description", "$orderby"),
        ("$select=nope", "$select"),
        ("$count=maybe", "$count"),
        ("$skip=10", "$skip"),
    ] {
        let r = s.get(&format!("{ORGS}?{q}")).await;
        assert_error(&r, 400, "invalidRequest");
        assert_eq!(r.body["error"]["target"], target, "{q}: {}", r.text);
    }
    // A filter over the node limit is refused.
    let big = (0..40)
        .map(|i| format!("displayName eq 'n{i}'"))
        .collect::<Vec<_>>()
        .join(" or ");
    assert_error(
        &s.get(&format!("{ORGS}?$filter={}", big.replace(' ', "%20")))
            .await,
        400,
        "invalidRequest",
    );
    // Unknown ids and routes.
    assert_error(
        &s.get(&format!("{ORGS}/{}", uuid::Uuid::now_v7())).await,
        404,
        "itemNotFound",
    );
    assert_error(
        &s.get(&format!("{ORGS}/not-a-guid")).await,
        404,
        "itemNotFound",
    );
    assert_error(
        &s.patch(
            &format!("{ORGS}/{}", uuid::Uuid::now_v7()),
            json!({"displayName": "x"}),
        )
        .await,
        404,
        "itemNotFound",
    );
    assert_error(&s.get("/v1.0/nothing/here").await, 404, "itemNotFound");
    assert_error(
        &s.req(Method::PUT, ORGS, Some(json!({}))).await,
        405,
        "methodNotAllowed",
    );
    // PATCH with bad values changes nothing.
    let org = s
        .get(&format!("{ORGS}?$filter=displayName eq 'Contoso'"))
        .await
        .body["value"][0]
        .clone();
    let id = org["id"].as_str().unwrap();
    assert_error(
        &s.patch(
            &format!("{ORGS}/{id}"),
            json!({"displayName": "ok", "state": "nope"}),
        )
        .await,
        400,
        "invalidRequest",
    );
    assert_error(
        &s.patch(
            &format!("{ORGS}/{id}"),
            json!({"displayName": "ok", "identitySources": []}),
        )
        .await,
        400,
        "invalidRequest",
    );
    let after = s.get(&format!("{ORGS}/{id}")).await.body;
    assert_eq!(after["displayName"], "Contoso");
    assert_eq!(after["modifiedDateTime"], org["modifiedDateTime"]);
    // Nothing above was written or audited.
    assert_eq!(s.get(&format!("{ORGS}/$count")).await.text, "1");
    assert_eq!(s.audit_count().await, audits_before);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_valid_tokens_are_refused() {
    let s = TestServer::sqlite().await;
    let r = s.req_with(Method::GET, ORGS, None, None).await;
    assert_error(&r, 401, "InvalidAuthenticationToken");
    assert!(r.headers.get("www-authenticate").is_some());
    assert_error(
        &s.req_with(Method::GET, ORGS, None, Some("csl_not-a-real-token"))
            .await,
        401,
        "InvalidAuthenticationToken",
    );
    assert_error(
        &s.req_with(Method::GET, ORGS, None, Some(&"x".repeat(5000)))
            .await,
        401,
        "InvalidAuthenticationToken",
    );
    s.stop().await;
}
