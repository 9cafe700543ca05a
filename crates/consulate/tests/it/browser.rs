//! The portal in a real browser: Debian's Chromium driven by playwright-core
//! (`tests/browser/`, installed by `scripts/browser.sh`, run first if missing). A partner opens
//! the package link, signs in with the mailed code, requests, and sees the assignment.
//! Screenshots of each page land in a temporary folder; set `CONSULATE_SCREENSHOTS` to keep
//! them (the README's screenshots come from `CONSULATE_SCREENSHOTS=docs/screenshots`).

use crate::harness::{Backend, ORGS, TestServer, temp_dir};
use crate::lifecycle::{group_in_catalog, package_and_policy};
use serde_json::json;

static INSTALL: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

fn dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

async fn install() {
    INSTALL
        .get_or_init(|| async {
            let ready = dir().join("node_modules/playwright-core").exists()
                && dir().join("node_modules/axe-core").exists()
                && std::path::Path::new("/usr/bin/chromium").exists();
            if ready {
                return;
            }
            let script =
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/browser.sh");
            let out = tokio::process::Command::new("bash")
                .arg(script)
                .output()
                .await
                .expect("bash");
            assert!(
                out.status.success(),
                "scripts/browser.sh failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_requests_access_in_a_real_browser() {
    install().await;
    let mail = temp_dir();
    let mail_dir = mail.0.clone();
    let s = TestServer::start_with(Backend::Sqlite, |c| c.mail_dir = Some(mail_dir))
        .await
        .unwrap();
    s.create_domain_org("Graphic Design Institute", "gdi.example")
        .await;
    let (cat, _, role) = group_in_catalog(&s, "Marketing", "Campaign files", "campaign").await;
    let pkg = package_and_policy(&s, json!({"displayName": "Campaign collaboration", "description": "Files and calendar of the spring campaign", "catalog": {"id": cat}}), &role, json!({"displayName": "Partner organizations", "allowedTargetScope": "allConfiguredConnectedOrganizationUsers",
               "expiration": {"type": "afterDuration", "duration": "P365D"},
               "requestorSettings": {"enableTargetsToSelfAddAccess": true},
               "requestApprovalSettings": {"isApprovalRequiredForAdd": false, "isRequestorJustificationRequired": true, "stages": []}})).await;
    let shots_tmp = temp_dir();
    let shots = std::env::var("CONSULATE_SCREENSHOTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| shots_tmp.0.clone());
    std::fs::create_dir_all(&shots).unwrap();
    let out = tokio::process::Command::new("node")
        .arg("partner.mjs")
        .current_dir(dir())
        .env("BASE", &s.base)
        .env("PACKAGE", &pkg)
        .env("EMAIL", "alex@gdi.example")
        .env("MAIL_DIR", &mail.0)
        .env("SHOTS", &shots)
        .output()
        .await
        .expect("node");
    assert!(
        out.status.success(),
        "the browser walk failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for page in ["sign-in", "code", "access-package", "my-access"] {
        let png = std::fs::read(shots.join(format!("{page}.png"))).unwrap();
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 5_000,
            "{page}.png"
        );
    }
    // The request was made by the partner, as a guest of the organization.
    let guest = &s
        .get("/v1.0/users?$filter=mail eq 'alex@gdi.example'")
        .await
        .body["value"][0];
    assert_eq!(guest["userType"], "Guest", "{guest}");
    s.stop().await;
}

/// An internal sponsor of the partner's organization approves in the browser.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sponsor_approves_in_a_real_browser() {
    install().await;
    let mail = temp_dir();
    let mail_dir = mail.0.clone();
    let s = TestServer::start_with(Backend::Sqlite, |c| c.mail_dir = Some(mail_dir))
        .await
        .unwrap();
    let org = s.create_domain_org("Northwind", "northwind.example").await["id"]
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
    let r = s
        .req(
            reqwest::Method::PUT,
            &format!("/admin/v1/users/{sam}/password"),
            Some(json!({"password": "sam's long passphrase"})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let (cat, _, role) = group_in_catalog(&s, "Launch", "Launch files", "launch").await;
    let pkg = package_and_policy(
        &s,
        json!({"displayName": "Launch collaboration", "catalog": {"id": cat}}),
        &role,
        json!({"displayName": "Partners, approved by their sponsor", "allowedTargetScope": "allConfiguredConnectedOrganizationUsers",
               "expiration": {"type": "afterDuration", "duration": "P90D"},
               "requestorSettings": {"enableTargetsToSelfAddAccess": true},
               "requestApprovalSettings": {"isApprovalRequiredForAdd": true, "isRequestorJustificationRequired": true,
                   "stages": [{"primaryApprovers": [{"@odata.type": "#microsoft.graph.internalSponsors"}]}]}}),
    )
    .await;
    let shots_tmp = temp_dir();
    let shots = std::env::var("CONSULATE_SCREENSHOTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| shots_tmp.0.clone());
    std::fs::create_dir_all(&shots).unwrap();
    let out = tokio::process::Command::new("node")
        .arg("sponsor.mjs")
        .current_dir(dir())
        .env("BASE", &s.base)
        .env("PACKAGE", &pkg)
        .env("EMAIL", "kim@northwind.example")
        .env("MAIL_DIR", &mail.0)
        .env("SHOTS", &shots)
        .env("SPONSOR", "sam@consulate.example")
        .env("SPONSOR_PASSWORD", "sam's long passphrase")
        .output()
        .await
        .expect("node");
    assert!(
        out.status.success(),
        "the browser walk failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let audit = s
        .get("/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Decide access package request'")
        .await;
    assert!(
        audit.text.contains("sam@consulate.example"),
        "{}",
        audit.text
    );
    s.stop().await;
}

/// The walkthrough: the administrator builds the package in the admin center, the partner
/// requests it through the link, the administrator sees it in the report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_walkthrough_in_a_real_browser() {
    install().await;
    let mail = temp_dir();
    let mail_dir = mail.0.clone();
    let s = TestServer::start_with(Backend::Sqlite, |c| c.mail_dir = Some(mail_dir))
        .await
        .unwrap();
    let admin = s
        .get("/v1.0/users?$filter=userPrincipalName eq 'admin@consulate.example'")
        .await
        .body["value"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = s
        .req(
            reqwest::Method::PUT,
            &format!("/admin/v1/users/{admin}/password"),
            Some(json!({"password": "the administrator's passphrase"})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = s
        .post(
            "/v1.0/groups",
            json!({"displayName": "Campaign files", "mailNickname": "campaign"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let shots_tmp = temp_dir();
    let shots = std::env::var("CONSULATE_SCREENSHOTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| shots_tmp.0.clone());
    std::fs::create_dir_all(&shots).unwrap();
    let out = tokio::process::Command::new("node")
        .arg("walkthrough.mjs")
        .current_dir(dir())
        .env("BASE", &s.base)
        .env("ADMIN", "admin@consulate.example")
        .env("ADMIN_PASSWORD", "the administrator's passphrase")
        .env("GROUP", "Campaign files")
        .env("EMAIL", "alex@gdi.example")
        .env("DOMAIN", "gdi.example")
        .env("MAIL_DIR", &mail.0)
        .env("SHOTS", &shots)
        .output()
        .await
        .expect("node");
    assert!(
        out.status.success(),
        "the walkthrough failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The accessibility audit of each page (minor findings do not fail the run).
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    // What the pages did is what the API shows.
    let orgs = s
        .get("/v1.0/identityGovernance/entitlementManagement/connectedOrganizations?$filter=displayName eq 'Graphic Design Institute'")
        .await;
    assert_eq!(
        orgs.body["value"][0]["state"], "configured",
        "{}",
        orgs.text
    );
    let guest = &s
        .get("/v1.0/users?$filter=mail eq 'alex@gdi.example'")
        .await
        .body["value"][0];
    assert_eq!(guest["userType"], "Guest", "{guest}");
    s.stop().await;
}
