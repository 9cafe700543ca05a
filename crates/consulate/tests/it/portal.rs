//! The My Access portal over HTTP, as a browser without JavaScript uses it: the package link
//! leads a partner through passcode sign-in back to the package; the request (with answers
//! to the policy's questions) waits for an approver, who decides in the approvals inbox;
//! "My access" shows the assignment, which the partner may remove; the package list finds it.

use crate::harness::{Backend, TestServer};
use crate::lifecycle::{EM, group_in_catalog, package_and_policy};
use crate::sign_in::Browser;
use crate::smtp_sink::SmtpSink;
use reqwest::Method;
use serde_json::json;

/// The value of a hidden input named `name` in a page.
pub fn hidden(html: &str, name: &str) -> String {
    let at = html
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no {name} in {html}"));
    let rest = &html[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// The first form action starting with `prefix`.
pub fn action(html: &str, prefix: &str) -> String {
    let at = html
        .find(&format!("action=\"{prefix}"))
        .unwrap_or_else(|| panic!("no form for {prefix} in {html}"));
    let rest = &html[at + 8..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// The name of the answer field after the label `label`.
fn answer_field(html: &str, label: &str) -> String {
    let at = html
        .find(label)
        .unwrap_or_else(|| panic!("no {label} in {html}"));
    let name_at = html[at..].find("name=\"answer:").unwrap() + at + 6;
    html[name_at..name_at + html[name_at..].find('"').unwrap()].to_owned()
}

async fn until(b: &mut Browser, path: &str, text: &str) -> String {
    let mut shown = String::new();
    for _ in 0..100 {
        shown = b.get(path).await.text;
        if shown.contains(text) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    shown
}

async fn portal(backend: Backend) {
    let sink = SmtpSink::start().await;
    let url = sink.url.clone();
    let Some(s) = TestServer::start_with(backend, |c| c.smtp_url = Some(url)).await else {
        return;
    };
    s.create_domain_org("Partner", "partner.example").await;
    let mia = s
        .create_user("Mia Approver", "mia@consulate.example", false)
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = s
        .req(
            Method::PUT,
            &format!("/admin/v1/users/{mia}/password"),
            Some(json!({"password": "mia's long passphrase"})),
        )
        .await;
    assert_eq!(r.status, 204);
    let (cat, _, role) = group_in_catalog(&s, "Partner work", "Partner space", "pspace").await;
    let pkg = package_and_policy(
        &s,
        json!({"displayName": "Partner space", "description": "Shared files with our partners", "catalog": {"id": cat}}),
        &role,
        json!({"displayName": "Partners, approved by Mia", "allowedTargetScope": "allConfiguredConnectedOrganizationUsers",
               "expiration": {"type": "afterDuration", "duration": "P365D"},
               "requestorSettings": {"enableTargetsToSelfAddAccess": true, "enableTargetsToSelfRemoveAccess": true},
               "questions": [
                   {"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion", "text": "Project code", "isRequired": true, "sequence": 1, "isSingleLineQuestion": true},
                   {"@odata.type": "#microsoft.graph.accessPackageMultipleChoiceQuestion", "text": "Region", "isRequired": true, "sequence": 2,
                    "choices": [{"actualValue": "eu", "text": "Europe"}, {"actualValue": "us", "text": "Americas"}]}],
               "requestApprovalSettings": {"isApprovalRequiredForAdd": true, "isRequestorJustificationRequired": true,
                   "stages": [{"primaryApprovers": [{"@odata.type": "#microsoft.graph.singleUser", "userId": mia}]}]}}),
    )
    .await;

    // The link, signed out: through sign-in and back.
    let mut ana = Browser::new(&s);
    let link = format!("/access-packages/{pkg}");
    let r = ana.get(&link).await;
    assert_eq!(r.status, 303);
    let to_sign_in = r
        .headers
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(to_sign_in, format!("/sign-in?return_to={link}"));
    let r = ana.get(&to_sign_in).await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains("<label for=\"email\">"), "{}", r.text);
    assert!(
        r.headers
            .get("content-security-policy")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert!(
        !r.text.contains("http://") && !r.text.contains("https://"),
        "external assets: {}",
        r.text
    );
    let r = ana
        .form(
            "/sign-in",
            &[("email", "ana@partner.example"), ("return_to", &link)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("Check your email"), "{}", r.text);
    let code = sink.code_for("ana@partner.example", 1).await;
    let r = ana
        .form(
            "/sign-in/code",
            &[
                ("code", "00000000x"),
                ("email", "ana@partner.example"),
                ("return_to", &link),
            ],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.text.contains("wrong, used or expired"), "{}", r.text);
    let r = ana
        .form(
            "/sign-in/code",
            &[
                ("code", &code),
                ("email", "ana@partner.example"),
                ("return_to", &link),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(r.headers.get("location").unwrap(), link.as_str());

    // The package page: what it is, its questions, and the request form.
    let page = ana.get(&link).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(
        page.text.contains("Partner space") && page.text.contains("Shared files with our partners"),
        "{}",
        page.text
    );
    assert!(
        page.text.contains("<option value=\"eu\">Europe</option>"),
        "{}",
        page.text
    );
    let csrf = hidden(&page.text, "csrf");
    let policy = hidden(&page.text, "policy");
    let request_action = action(&page.text, "/access-packages/");
    let (code_field, region_field) = (
        answer_field(&page.text, "Project code"),
        answer_field(&page.text, "Region"),
    );
    // Without the CSRF token nothing happens; a missing justification or answer is explained.
    let r = ana
        .form(
            &request_action,
            &[("policy", &policy), ("justification", "Project Falcon")],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = ana
        .form(
            &request_action,
            &[
                ("csrf", &csrf),
                ("policy", &policy),
                ("justification", ""),
                (&code_field, "FAL-7"),
                (&region_field, "eu"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.text.contains("justification"),
        "the policy asks for one: {}",
        r.text
    );
    let r = ana
        .form(
            &request_action,
            &[
                ("csrf", &csrf),
                ("policy", &policy),
                ("justification", "Project Falcon"),
                (&region_field, "eu"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.text.contains("&#39;Project code&#39; must be answered")
            || r.text.contains("'Project code' must be answered"),
        "{}",
        r.text
    );
    let r = ana
        .form(
            &request_action,
            &[
                ("csrf", &csrf),
                ("policy", &policy),
                ("justification", "Project Falcon"),
                (&code_field, "FAL-7"),
                (&region_field, "eu"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(
        r.headers.get("location").unwrap(),
        "/my-access?done=requested"
    );
    let mine = ana.get("/my-access?done=requested").await;
    assert!(
        mine.text.contains("Your request was sent") && mine.text.contains("pendingApproval"),
        "{}",
        mine.text
    );

    // Mia signs in with her password and approves in her inbox, seeing who asked and why.
    let mut m = Browser::new(&s);
    let r = m
        .form(
            "/sign-in",
            &[
                ("email", "mia@consulate.example"),
                ("return_to", "/approvals"),
            ],
        )
        .await;
    assert!(r.text.contains("type=\"password\""), "{}", r.text);
    let r = m
        .form(
            "/sign-in/password",
            &[
                ("user_name", "mia@consulate.example"),
                ("password", "mia's long passphrase"),
                ("return_to", "/approvals"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let inbox = m.get("/approvals").await;
    for seen in [
        "Partner space",
        "ana@partner.example",
        "from Partner",
        "Project Falcon",
        "FAL-7",
        "Europe",
    ] {
        assert!(inbox.text.contains(seen), "{seen}: {}", inbox.text);
    }
    let decide = action(&inbox.text, "/approvals/");
    let csrf = hidden(&inbox.text, "csrf");
    let r = m
        .form(
            &decide,
            &[
                ("csrf", &csrf),
                ("decision", "Approve"),
                ("justification", "Known partner"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let inbox = m.get("/approvals?done=decided").await;
    assert!(
        inbox.text.contains("Nothing waits for your decision"),
        "{}",
        inbox.text
    );
    for seen in [
        "Your decisions",
        "Approve",
        "Known partner",
        "ana@partner.example",
    ] {
        assert!(inbox.text.contains(seen), "{seen}: {}", inbox.text);
    }

    // Ana sees her access, ending in a year.
    let end = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 365))
        .strftime("%Y-%m-%d")
        .to_string();
    let shown = until(&mut ana, "/my-access", "delivered").await;
    assert!(
        shown.contains("delivered") && shown.contains(&end),
        "{shown}"
    );
    // The package is listed (and found by name) among what Ana may request.
    let list = ana.get("/access-packages?search=partner").await;
    assert!(
        list.text.contains(&format!("/access-packages/{pkg}")),
        "{}",
        list.text
    );
    let none = ana.get("/access-packages?search=nothing-like-it").await;
    assert!(
        !none.text.contains(&format!("/access-packages/{pkg}")),
        "{}",
        none.text
    );
    // Ana removes her own access (the policy lets her).
    let remove = action(&shown, "/my-access/assignments/");
    assert!(remove.ends_with("/remove"), "{remove}");
    let r = ana
        .form(&remove, &[("csrf", &hidden(&shown, "csrf"))])
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    // Her last assignment ended: the guest entitlement management created for her is
    // blocked at once, so her session ends and the pages send her to sign in.
    let mut blocked = false;
    for _ in 0..100 {
        if ana.get("/my-access").await.status == 303 {
            blocked = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(blocked, "the session outlived the guest's access");
    let guest = &s
        .get("/v1.0/users?$filter=mail eq 'ana@partner.example'")
        .await
        .body["value"][0];
    assert_eq!(guest["accountEnabled"], false, "{guest}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portal_sqlite() {
    portal(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portal_postgres() {
    portal(Backend::Postgres).await;
}

/// A policy that lets requestors choose their schedule: the chosen end is the assignment's,
/// and a date outside the policy is explained.
async fn chosen_schedule(backend: Backend) {
    let Some(s) = TestServer::start(backend).await else {
        return;
    };
    let pia = s.create_user("Pia", "pia@consulate.example", false).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = s
        .req(
            Method::PUT,
            &format!("/admin/v1/users/{pia}/password"),
            Some(json!({"password": "pia's long passphrase"})),
        )
        .await;
    assert_eq!(r.status, 204);
    let (cat, _, role) = group_in_catalog(&s, "Lab", "Lab files", "lab").await;
    let pkg = package_and_policy(
        &s,
        json!({"displayName": "Lab access", "catalog": {"id": cat}}),
        &role,
        json!({"displayName": "Members, when they like", "allowedTargetScope": "allMemberUsers",
               "expiration": {"type": "afterDuration", "duration": "P90D"},
               "requestorSettings": {"enableTargetsToSelfAddAccess": true, "allowCustomAssignmentSchedule": true},
               "requestApprovalSettings": {"isApprovalRequiredForAdd": false, "stages": []}}),
    )
    .await;
    let mut b = Browser::new(&s);
    let link = format!("/access-packages/{pkg}");
    let r = b
        .form(
            "/sign-in/password",
            &[
                ("user_name", "pia@consulate.example"),
                ("password", "pia's long passphrase"),
                ("return_to", &link),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let page = b.get(&link).await;
    assert!(
        page.text.contains("name=\"end\" type=\"date\""),
        "{}",
        page.text
    );
    let (csrf, policy, action_path) = (
        hidden(&page.text, "csrf"),
        hidden(&page.text, "policy"),
        action(&page.text, "/access-packages/"),
    );
    let day = |days: i64| {
        (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * days))
            .strftime("%Y-%m-%d")
            .to_string()
    };
    let r = b
        .form(
            &action_path,
            &[("csrf", &csrf), ("policy", &policy), ("end", "31/12/2026")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("not a date"), "{}", r.text);
    let r = b
        .form(
            &action_path,
            &[("csrf", &csrf), ("policy", &policy), ("end", &day(200))],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("may not last beyond"), "{}", r.text);
    let end = day(10);
    let r = b
        .form(
            &action_path,
            &[("csrf", &csrf), ("policy", &policy), ("end", &end)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let shown = until(&mut b, "/my-access", "delivered").await;
    assert!(
        shown.contains("delivered") && shown.contains(&end),
        "{shown}"
    );
    assert!(!shown.contains("<h2>Ended</h2>"), "{shown}");
    // An administrator ends it: it moves to the ended list, with the day it ended.
    let assignment = s.get(&format!("{EM}/assignments")).await.body["value"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = s
        .post(
            &format!("{EM}/assignmentRequests"),
            json!({"requestType": "adminRemove", "assignment": {"id": assignment}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let shown = until(&mut b, "/my-access", "<h2>Ended</h2>").await;
    let ended = &shown[shown.find("<h2>Ended</h2>").expect("an ended list")..];
    assert!(
        ended.contains("Lab access") && ended.contains(&day(0)),
        "{shown}"
    );
    assert!(shown.contains("no active access packages"), "{shown}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chosen_schedule_sqlite() {
    chosen_schedule(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chosen_schedule_postgres() {
    chosen_schedule(Backend::Postgres).await;
}
