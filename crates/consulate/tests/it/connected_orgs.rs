use crate::harness::{Backend, ORGS, TestServer, assert_error};
use serde_json::json;

async fn lifecycle(backend: Backend) {
    let Some(s) = TestServer::start(backend).await else {
        return;
    };
    let tenant = uuid::Uuid::now_v7().to_string();
    let sources = [
        json!({"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": "Contoso.COM", "displayName": "contoso.com"}),
        json!({"@odata.type": "#microsoft.graph.externalDomainFederation", "domainName": "fabrikam.com", "displayName": "Fabrikam IdP", "issuerUri": "https://idp.fabrikam.com/"}),
        json!({"@odata.type": "#microsoft.graph.azureActiveDirectoryTenant", "tenantId": tenant.to_uppercase(), "displayName": "Woodgrove"}),
        json!({"@odata.type": "#microsoft.graph.crossCloudAzureActiveDirectoryTenant", "tenantId": uuid::Uuid::now_v7().to_string(), "displayName": "Gov", "cloudInstance": "microsoftonline.us"}),
        json!({"@odata.type": "microsoft.graph.socialIdentitySource", "displayName": "example.org", "socialIdentitySourceType": "facebook"}),
    ];
    let mut ids = Vec::new();
    for (i, src) in sources.iter().enumerate() {
        let r = s.post(ORGS, json!({"displayName": format!("Org {i}"), "description": "partner", "identitySources": [src]})).await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(r.body["state"], "configured");
        let t = r.body["identitySources"][0]["@odata.type"]
            .as_str()
            .unwrap();
        assert!(t.starts_with("#microsoft.graph."), "{t}");
        assert_eq!(
            r.headers.get("location").unwrap().to_str().unwrap(),
            format!("{}{ORGS}/{}", s.base, r.body["id"].as_str().unwrap())
        );
        assert_eq!(r.body["createdDateTime"], r.body["modifiedDateTime"]);
        ids.push(r.body["id"].as_str().unwrap().to_owned());
    }
    // Normalisation: lowercase domains and tenant ids.
    let first = s.get(&format!("{ORGS}/{}", ids[0])).await;
    assert_eq!(
        first.body["identitySources"][0]["domainName"],
        "contoso.com"
    );
    let third = s.get(&format!("{ORGS}/{}", ids[2])).await;
    assert_eq!(third.body["identitySources"][0]["tenantId"], tenant);
    assert_eq!(
        s.get(&format!("{ORGS}/{}", ids[4])).await.body["identitySources"][0]["@odata.type"],
        "#microsoft.graph.socialIdentitySource"
    );

    // A proposed organization.
    let r = s.post(ORGS, json!({"displayName": "Auto", "state": "Proposed", "identitySources": [{"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": "auto.example"}]})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["state"], "proposed");
    assert_eq!(r.body["identitySources"][0]["displayName"], "auto.example");

    // PATCH answers 202 with the object; modifiedDateTime moves, createdDateTime does not.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let r = s
        .patch(
            &format!("{ORGS}/{}", ids[0]),
            json!({"displayName": "Contoso Ltd", "state": "proposed"}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(r.body["displayName"], "Contoso Ltd");
    assert_eq!(r.body["state"], "proposed");
    assert_eq!(r.body["createdDateTime"], first.body["createdDateTime"]);
    assert_ne!(r.body["modifiedDateTime"], first.body["modifiedDateTime"]);
    // Replace the identity sources.
    let r = s.patch(&format!("{ORGS}/{}", ids[0]), json!({"identitySources": [{"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": "contoso.net"}]})).await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(r.body["identitySources"][0]["domainName"], "contoso.net");
    // The old domain is free again.
    s.create_domain_org("Contoso Reborn", "contoso.com").await;

    // Delete, then 404.
    for id in &ids {
        assert_eq!(s.delete(&format!("{ORGS}/{id}")).await.status, 204);
        assert_error(&s.get(&format!("{ORGS}/{id}")).await, 404, "itemNotFound");
    }
    assert_error(
        &s.delete(&format!("{ORGS}/{}", ids[0])).await,
        404,
        "itemNotFound",
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_sqlite() {
    lifecycle(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_postgres() {
    lifecycle(Backend::Postgres).await;
}

async fn uniqueness(backend: Backend) {
    let Some(s) = TestServer::start(backend).await else {
        return;
    };
    s.create_domain_org("Contoso", "contoso.com").await;
    let r = s.post(ORGS, json!({"displayName": "Dup", "identitySources": [{"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": "CONTOSO.com."}]})).await;
    assert_error(&r, 409, "conflict");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Contoso"),
        "{}",
        r.text
    );
    // A federation claims its domain too.
    let r = s.post(ORGS, json!({"displayName": "Fed", "identitySources": [{"@odata.type": "#microsoft.graph.externalDomainFederation", "domainName": "contoso.com", "issuerUri": "https://idp.contoso.com"}]})).await;
    assert_error(&r, 409, "conflict");
    let t = uuid::Uuid::now_v7().to_string();
    let tenant =
        json!({"@odata.type": "#microsoft.graph.azureActiveDirectoryTenant", "tenantId": t});
    assert_eq!(
        s.post(
            ORGS,
            json!({"displayName": "T1", "identitySources": [tenant.clone()]})
        )
        .await
        .status,
        201
    );
    assert_error(
        &s.post(
            ORGS,
            json!({"displayName": "T2", "identitySources": [tenant]}),
        )
        .await,
        409,
        "conflict",
    );
    // The tenant's own verified domain is not a partner.
    let r = s.post(ORGS, json!({"displayName": "Us", "identitySources": [{"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": "consulate.example"}]})).await;
    assert_error(&r, 400, "invalidRequest");
    // Internationalised domains are stored as punycode.
    let r = s.post(ORGS, json!({"displayName": "Bücher", "identitySources": [{"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": "bücher.example"}]})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.body["identitySources"][0]["domainName"],
        "xn--bcher-kva.example"
    );
    assert_error(&s.post(ORGS, json!({"displayName": "B2", "identitySources": [{"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": "XN--BCHER-KVA.example"}]})).await, 409, "conflict");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_domain_or_tenant_belongs_to_one_organization_sqlite() {
    uniqueness(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_domain_or_tenant_belongs_to_one_organization_postgres() {
    uniqueness(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn known_identity_providers_resolve_domains() {
    let s = TestServer::sqlite().await;
    let tenant = uuid::Uuid::now_v7().to_string();
    let r = s
        .post("/admin/v1/identityProviders", json!({"displayName": "Graphic Design Institute", "kind": "tenant", "tenantId": tenant, "domains": ["graphicdesigninstitute.com", "gdi.example"]}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = s.post("/admin/v1/identityProviders", json!({"displayName": "Fabrikam", "kind": "federation", "issuerUri": "https://idp.fabrikam.com/", "domains": ["fabrikam.com"]})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    // Another provider cannot claim a claimed domain.
    let r = s.post("/admin/v1/identityProviders", json!({"displayName": "Thief", "kind": "federation", "issuerUri": "https://evil.example/", "domains": ["fabrikam.com"]})).await;
    assert_error(&r, 409, "conflict");

    // The live lookup shows the authentication type.
    assert_eq!(
        s.get("/admin/v1/domainLookup?domain=GDI.example")
            .await
            .body["authenticationType"],
        "tenant"
    );
    assert_eq!(
        s.get("/admin/v1/domainLookup?domain=fabrikam.com")
            .await
            .body["authenticationType"],
        "federation"
    );
    assert_eq!(
        s.get("/admin/v1/domainLookup?domain=contoso.com")
            .await
            .body["authenticationType"],
        "oneTimePasscode"
    );
    assert_eq!(
        s.get("/admin/v1/domainLookup?domain=consulate.example")
            .await
            .body["authenticationType"],
        "thisTenant"
    );
    assert_error(
        &s.get("/admin/v1/domainLookup?domain=not_a_domain").await,
        400,
        "invalidRequest",
    );

    // A domain a known tenant owns becomes that tenant; a federated one becomes a federation.
    let org = s
        .create_domain_org("GDI", "graphicdesigninstitute.com")
        .await;
    assert_eq!(
        org["identitySources"][0]["@odata.type"],
        "#microsoft.graph.azureActiveDirectoryTenant"
    );
    assert_eq!(org["identitySources"][0]["tenantId"], tenant);
    // …so the same tenant through its other domain is a conflict.
    let r = s.post(ORGS, json!({"displayName": "GDI 2", "identitySources": [{"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": "gdi.example"}]})).await;
    assert_error(&r, 409, "conflict");
    let org = s.create_domain_org("Fabrikam", "fabrikam.com").await;
    assert_eq!(
        org["identitySources"][0]["@odata.type"],
        "#microsoft.graph.externalDomainFederation"
    );
    assert_eq!(
        org["identitySources"][0]["issuerUri"],
        "https://idp.fabrikam.com/"
    );
    let list = s.get("/admin/v1/identityProviders").await;
    assert_eq!(list.body["value"].as_array().unwrap().len(), 2);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn principals_match_their_organization_through_the_service() {
    use consulate_core::matching::SignInPath;
    let s = TestServer::sqlite().await;
    let org = s.create_domain_org("Contoso", "contoso.com").await;
    let app = &s.running.as_ref().unwrap().app;
    let m = app
        .match_principal(&SignInPath::EmailOneTimePasscode {
            email: "jo@Contoso.com".into(),
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.organization_id.to_string(), org["id"].as_str().unwrap());
    assert!(
        app.match_principal(&SignInPath::EmailOneTimePasscode {
            email: "jo@consulate.example".into()
        })
        .await
        .unwrap()
        .is_none()
    );
    // Deleting the organization is seen at once by this replica.
    assert_eq!(
        s.delete(&format!("{ORGS}/{}", org["id"].as_str().unwrap()))
            .await
            .status,
        204
    );
    assert!(
        app.match_principal(&SignInPath::EmailOneTimePasscode {
            email: "jo@contoso.com".into()
        })
        .await
        .unwrap()
        .is_none()
    );
    s.stop().await;
}
