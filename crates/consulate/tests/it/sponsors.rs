use crate::harness::{ORGS, TestServer, assert_error};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_and_external_sponsors() {
    let s = TestServer::sqlite().await;
    let org = s.create_domain_org("Contoso", "contoso.com").await;
    let id = org["id"].as_str().unwrap();
    let alice = s
        .create_user("Alice", "alice@consulate.example", false)
        .await;
    let bob = s
        .create_user(
            "Bob (Contoso)",
            "bob_contoso.com#EXT#@consulate.example",
            true,
        )
        .await;
    let (a, b) = (alice["id"].as_str().unwrap(), bob["id"].as_str().unwrap());
    let group = s
        .post(
            "/v1.0/groups",
            json!({"displayName": "Partner managers", "mailNickname": "partner-managers"}),
        )
        .await
        .body;
    let g = group["id"].as_str().unwrap();

    // Add with the Graph $ref body; adding again is harmless.
    for _ in 0..2 {
        let r = s
            .post(
                &format!("{ORGS}/{id}/internalSponsors/$ref"),
                json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/users/{a}")}),
            )
            .await;
        assert_eq!(r.status, 204, "{}", r.text);
    }
    assert_eq!(
        s.post(
            &format!("{ORGS}/{id}/internalSponsors/$ref"),
            json!({"@odata.id": format!("{}/v1.0/groups/{g}", s.base)})
        )
        .await
        .status,
        204
    );
    assert_eq!(
        s.post(
            &format!("{ORGS}/{id}/externalSponsors/$ref"),
            json!({"@odata.id": format!("{}/v1.0/directoryObjects/{b}", s.base)})
        )
        .await
        .status,
        204
    );
    // A guest cannot be an internal sponsor, nor a member an external one.
    assert_error(
        &s.post(
            &format!("{ORGS}/{id}/internalSponsors/$ref"),
            json!({"@odata.id": format!("/v1.0/users/{b}")}),
        )
        .await,
        400,
        "invalidRequest",
    );
    assert_error(
        &s.post(
            &format!("{ORGS}/{id}/externalSponsors/$ref"),
            json!({"@odata.id": format!("/v1.0/users/{a}")}),
        )
        .await,
        400,
        "invalidRequest",
    );
    // Unknown objects, bad references, unknown navigation properties.
    assert_error(
        &s.post(
            &format!("{ORGS}/{id}/internalSponsors/$ref"),
            json!({"@odata.id": format!("/v1.0/users/{}", uuid::Uuid::now_v7())}),
        )
        .await,
        404,
        "itemNotFound",
    );
    assert_error(
        &s.post(
            &format!("{ORGS}/{id}/internalSponsors/$ref"),
            json!({"@odata.id": "https://graph.microsoft.com/v1.0/applications/x"}),
        )
        .await,
        400,
        "invalidRequest",
    );
    assert_error(
        &s.post(
            &format!("{ORGS}/{id}/internalSponsors/$ref"),
            json!({"id": a}),
        )
        .await,
        400,
        "invalidRequest",
    );
    assert_error(
        &s.get(&format!("{ORGS}/{id}/friends")).await,
        404,
        "itemNotFound",
    );

    // Lists: directory objects with their @odata.type, and $ref URL lists.
    let r = s.get(&format!("{ORGS}/{id}/internalSponsors")).await;
    let types: Vec<&str> = r.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["@odata.type"].as_str().unwrap())
        .collect();
    assert_eq!(types.len(), 2);
    assert!(types.contains(&"#microsoft.graph.user") && types.contains(&"#microsoft.graph.group"));
    let r = s.get(&format!("{ORGS}/{id}/externalSponsors/$ref")).await;
    assert_eq!(r.body["value"][0], format!("{}/v1.0/users/{b}", s.base));
    // Paging through sponsors.
    let r = s.get(&format!("{ORGS}/{id}/internalSponsors?$top=1")).await;
    assert_eq!(r.body["value"].as_array().unwrap().len(), 1);
    let next = s.get(r.body["@odata.nextLink"].as_str().unwrap()).await;
    assert_eq!(next.body["value"].as_array().unwrap().len(), 1);
    assert!(next.body.get("@odata.nextLink").is_none());

    // Both documented delete forms.
    assert_eq!(
        s.delete(&format!("{ORGS}/{id}/internalSponsors/{g}/$ref"))
            .await
            .status,
        204
    );
    let r = s
        .delete(&format!(
            "{ORGS}/{id}/externalSponsors/$ref?@id={}/v1.0/users/{b}",
            s.base
        ))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_error(
        &s.delete(&format!("{ORGS}/{id}/externalSponsors/{b}/$ref"))
            .await,
        404,
        "itemNotFound",
    );
    assert_error(
        &s.delete(&format!("{ORGS}/{id}/externalSponsors/$ref"))
            .await,
        400,
        "invalidRequest",
    );
    // A deleted user disappears from sponsor lists.
    assert_eq!(s.delete(&format!("/v1.0/users/{a}")).await.status, 204);
    assert_eq!(
        s.get(&format!("{ORGS}/{id}/internalSponsors")).await.body["value"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // Sponsor changes are audited against the organization.
    let r = s
        .get(&format!(
            "/v1.0/auditLogs/directoryAudits?$filter=targetResources/any(t:t/id eq '{id}')"
        ))
        .await;
    let activities: Vec<&str> = r.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["activityDisplayName"].as_str().unwrap())
        .collect();
    assert!(
        activities.contains(&"Add internal sponsor to connected organization"),
        "{activities:?}"
    );
    assert!(
        activities.contains(&"Remove external sponsor from connected organization"),
        "{activities:?}"
    );
    s.stop().await;
}
