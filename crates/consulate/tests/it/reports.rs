//! The auditor's reports: which partners hold what, sponsored by whom, approved by whom and
//! when; and what expires soon. JSON and CSV.

use crate::harness::{Backend, ORGS, TestServer};
use crate::lifecycle::{EM, delegated, group_in_catalog, package_and_policy, wait_for};
use reqwest::Method;
use serde_json::json;

async fn reports(backend: Backend) {
    let Some(s) = TestServer::start(backend).await else {
        return;
    };
    let org = s.create_domain_org("Partner", "partner.example").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sam = s
        .create_user("Sam Sponsor", "sam@consulate.example", false)
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = s
        .post(
            &format!("{ORGS}/{org}/internalSponsors/$ref"),
            json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/users/{sam}")}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let mia = s
        .create_user("Mia Approver", "mia@consulate.example", false)
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let gus = s
        .post("/v1.0/users", json!({"displayName": "Gus", "userPrincipalName": "gus_partner.example#EXT#@consulate.example", "userType": "Guest",
            "mail": "gus@partner.example", "identities": [{"signInType": "emailAddress", "issuer": "mail", "issuerAssignedId": "gus@partner.example"}]}))
        .await;
    assert_eq!(gus.status, 201, "{}", gus.text);
    let (cat, _, role) = group_in_catalog(&s, "Partner work", "Partner space", "pspace").await;
    let pkg = package_and_policy(
        &s,
        json!({"displayName": "Partner space", "catalog": {"id": cat}}),
        &role,
        json!({"displayName": "Partners", "allowedTargetScope": "allConfiguredConnectedOrganizationUsers",
               "expiration": {"type": "afterDuration", "duration": "P365D"},
               "requestorSettings": {"enableTargetsToSelfAddAccess": true},
               "requestApprovalSettings": {"isApprovalRequiredForAdd": true, "stages": [{"primaryApprovers": [{"@odata.type": "#microsoft.graph.singleUser", "userId": mia}]}]}}),
    )
    .await;
    // Gus asks; Mia approves.
    let gus_t = delegated(&s, "gus_partner.example#EXT#@consulate.example").await;
    let requests = format!("{EM}/assignmentRequests");
    let r = s
        .req_with(
            Method::POST,
            &requests,
            Some(json!({"requestType": "userAdd", "assignment": {"accessPackageId": pkg}})),
            Some(&gus_t),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let request = r.body["id"].as_str().unwrap().to_owned();
    let mia_t = delegated(&s, "mia@consulate.example").await;
    let stage = s
        .get(&format!(
            "{EM}/accessPackageAssignmentApprovals/{request}/stages"
        ))
        .await
        .body["value"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = s
        .req_with(
            Method::PATCH,
            &format!("{EM}/accessPackageAssignmentApprovals/{request}/stages/{stage}"),
            Some(json!({"reviewResult": "Approve", "justification": "known"})),
            Some(&mia_t),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    wait_for(&s, &format!("{requests}/{request}"), "delivered").await;
    // A member's assignment ends in five days.
    let policy = s
        .get(&format!(
            "{EM}/assignmentPolicies?$filter=accessPackage/id eq '{pkg}'"
        ))
        .await
        .body["value"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let soon = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 5)).to_string();
    let r = s.post(&requests, json!({"requestType": "adminAdd", "assignment": {"targetId": sam, "assignmentPolicyId": policy, "accessPackageId": pkg},
        "schedule": {"expiration": {"type": "afterDateTime", "endDateTime": soon}}})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    wait_for(
        &s,
        &format!("{requests}/{}", r.body["id"].as_str().unwrap()),
        "delivered",
    )
    .await;

    let report = s.get("/admin/v1/reports/partnerAccess").await;
    assert_eq!(report.status, 200, "{}", report.text);
    let rows = report.body["value"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "guests only: {}", report.text);
    let row = &rows[0];
    assert_eq!(row["organization"], "Partner", "{row}");
    assert_eq!(row["organizationState"], "configured");
    assert_eq!(row["internalSponsors"], "sam@consulate.example");
    assert_eq!(row["mail"], "gus@partner.example");
    assert_eq!(row["accessPackage"], "Partner space");
    assert_eq!(row["approvedBy"], "mia@consulate.example");
    assert!(!row["approvedAt"].as_str().unwrap().is_empty());
    let csv = s.get("/admin/v1/reports/partnerAccess?format=csv").await;
    assert_eq!(
        csv.headers.get("content-type").unwrap(),
        "text/csv; charset=utf-8"
    );
    let lines: Vec<&str> = csv.text.lines().collect();
    assert_eq!(lines.len(), 2, "{}", csv.text);
    assert!(lines[0].starts_with("organization,organizationState,internalSponsors"));
    assert!(
        lines[1].contains("\"mia@consulate.example\"") && lines[1].contains("\"Partner space\""),
        "{}",
        lines[1]
    );

    let soon = s.get("/admin/v1/reports/expiring?days=10").await;
    let rows = soon.body["value"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{}", soon.text);
    assert_eq!(rows[0]["userPrincipalName"], "sam@consulate.example");
    assert_eq!(rows[0]["approvedBy"], "no approval needed");
    let year = s.get("/admin/v1/reports/expiring?days=400").await;
    assert_eq!(
        year.body["value"].as_array().unwrap().len(),
        2,
        "{}",
        year.text
    );
    assert_eq!(
        year.body["value"][0]["userPrincipalName"], "sam@consulate.example",
        "soonest first"
    );
    assert_eq!(
        s.get("/admin/v1/reports/expiring?format=xml").await.status,
        400
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_sqlite() {
    reports(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_postgres() {
    reports(Backend::Postgres).await;
}
