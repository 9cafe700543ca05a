//! The admin center over HTTP: connected organizations listed with their numbers, and the add
//! wizard (basics → domain with its detected sign-in → sponsors → review and create); catalogs
//! (adding and removing resources), access packages and editing their policies; one
//! organization edited (name, description, sponsors) and its deletion refused while a policy
//! names it.

use crate::harness::{Backend, TestServer};
use crate::sign_in::Browser;
use reqwest::Method;
use serde_json::json;

fn hidden(html: &str, name: &str) -> String {
    let at = html
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no {name} in {html}"));
    let rest = &html[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].to_owned()
}

async fn admin_center(backend: Backend) {
    let Some(s) = TestServer::start(backend).await else {
        return;
    };
    let admin = s
        .get("/v1.0/users?$filter=userPrincipalName eq 'admin@consulate.example'")
        .await
        .body["value"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = s
        .req(
            Method::PUT,
            &format!("/admin/v1/users/{admin}/password"),
            Some(json!({"password": "the admin's passphrase"})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    s.create_user("Mia Sponsor", "mia@consulate.example", false)
        .await;
    s.create_user(
        "Fred Fabrikam",
        "fred_fabrikam.example#EXT#@consulate.example",
        true,
    )
    .await;
    let mo = s
        .create_user("Mo Member", "mo@consulate.example", false)
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    s.req(
        Method::PUT,
        &format!("/admin/v1/users/{mo}/password"),
        Some(json!({"password": "mo's own passphrase"})),
    )
    .await;

    let mut b = Browser::new(&s);
    let r = b
        .form(
            "/sign-in/password",
            &[
                ("user_name", "admin@consulate.example"),
                ("password", "the admin's passphrase"),
                ("return_to", "/admin"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let home = b.get("/admin").await;
    assert!(
        home.text.contains("Connected organizations"),
        "{}",
        home.text
    );
    let list = b.get("/admin/organizations").await;
    assert!(
        list.text.contains("No connected organizations"),
        "{}",
        list.text
    );

    // The wizard.
    let step1 = b.get("/admin/organizations/new").await;
    let csrf = hidden(&step1.text, "csrf");
    let r = b
        .form(
            "/admin/organizations/new",
            &[
                ("csrf", &csrf),
                ("step", "1"),
                ("action", "next"),
                ("name", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.text.contains("Give the organization a name"),
        "{}",
        r.text
    );
    let r = b
        .form(
            "/admin/organizations/new",
            &[
                ("csrf", &csrf),
                ("step", "1"),
                ("action", "next"),
                ("name", "Fabrikam"),
                ("description", "Our supplier"),
            ],
        )
        .await;
    assert!(r.text.contains("Step 2 of 4"), "{}", r.text);
    let r = b
        .form(
            "/admin/organizations/new",
            &[
                ("csrf", &csrf),
                ("step", "2"),
                ("action", "lookup"),
                ("name", "Fabrikam"),
                ("description", "Our supplier"),
                ("domain", "consulate.example"),
            ],
        )
        .await;
    assert!(r.text.contains("one of your own domains"), "{}", r.text);
    let r = b
        .form(
            "/admin/organizations/new",
            &[
                ("csrf", &csrf),
                ("step", "2"),
                ("action", "next"),
                ("name", "Fabrikam"),
                ("description", "Our supplier"),
                ("domain", "consulate.example"),
            ],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = b
        .form(
            "/admin/organizations/new",
            &[
                ("csrf", &csrf),
                ("step", "2"),
                ("action", "lookup"),
                ("name", "Fabrikam"),
                ("description", "Our supplier"),
                ("domain", "Fabrikam.example"),
            ],
        )
        .await;
    assert!(
        r.text.contains("one-time passcode sent by email"),
        "{}",
        r.text
    );
    let r = b
        .form(
            "/admin/organizations/new",
            &[
                ("csrf", &csrf),
                ("step", "2"),
                ("action", "next"),
                ("name", "Fabrikam"),
                ("description", "Our supplier"),
                ("domain", "fabrikam.example"),
            ],
        )
        .await;
    assert!(r.text.contains("Step 3 of 4"), "{}", r.text);
    let r = b
        .form(
            "/admin/organizations/new",
            &[
                ("csrf", &csrf),
                ("step", "3"),
                ("action", "next"),
                ("name", "Fabrikam"),
                ("description", "Our supplier"),
                ("domain", "fabrikam.example"),
                ("internal", "mia@consulate.example"),
                ("external", "fred_fabrikam.example#EXT#@consulate.example"),
            ],
        )
        .await;
    assert!(
        r.text.contains("Step 4 of 4") && r.text.contains("mia@consulate.example"),
        "{}",
        r.text
    );
    let r = b
        .form(
            "/admin/organizations/new",
            &[
                ("step", "4"),
                ("action", "create"),
                ("name", "Fabrikam"),
                ("domain", "fabrikam.example"),
            ],
        )
        .await;
    assert_eq!(r.status, 403, "no CSRF token, nothing created: {}", r.text);
    let r = b
        .form(
            "/admin/organizations/new",
            &[
                ("csrf", &csrf),
                ("step", "4"),
                ("action", "create"),
                ("name", "Fabrikam"),
                ("description", "Our supplier"),
                ("domain", "fabrikam.example"),
                ("internal", "mia@consulate.example"),
                ("external", "fred_fabrikam.example#EXT#@consulate.example"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let list = b.get("/admin/organizations?search=fabri").await;
    assert!(
        list.text.contains("Fabrikam") && list.text.contains("configured"),
        "{}",
        list.text
    );
    // Made through the API's rules: the organization and its sponsor are there.
    let orgs = s.get("/v1.0/identityGovernance/entitlementManagement/connectedOrganizations?$filter=displayName eq 'Fabrikam'").await;
    let org = orgs.body["value"][0]["id"].as_str().unwrap().to_owned();
    let external = s.get(&format!("/v1.0/identityGovernance/entitlementManagement/connectedOrganizations/{org}/externalSponsors")).await;
    assert!(
        external.text.contains("fred_fabrikam.example"),
        "{}",
        external.text
    );
    let sponsors = s.get(&format!("/v1.0/identityGovernance/entitlementManagement/connectedOrganizations/{org}/internalSponsors")).await;
    assert!(
        sponsors.text.contains("mia@consulate.example"),
        "{}",
        sponsors.text
    );
    assert_eq!(b.get("/admin/reports").await.status, 200);

    // The audit log, filtered, shows what the wizard did.
    let audit = b.get("/admin/audit?activity=connected+organization").await;
    assert!(
        audit.text.contains("Create connected organization") && audit.text.contains("Fabrikam"),
        "{}",
        audit.text
    );
    assert!(!audit.text.contains("Set user password"), "{}", audit.text);
    let audit = b.get("/admin/audit?since=2020-13-01").await;
    assert_eq!(audit.status, 400);
    // Settings: the external-user lifecycle.
    let settings = b.get("/admin/settings").await;
    assert!(settings.text.contains("value=\"30\""), "{}", settings.text);
    let csrf = hidden(&settings.text, "csrf");
    let r = b
        .form(
            "/admin/settings",
            &[("csrf", &csrf), ("action", "blockSignIn"), ("days", "10")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let r = s
        .get("/v1.0/identityGovernance/entitlementManagement/settings")
        .await;
    assert_eq!(
        r.body["externalUserLifecycleAction"], "blockSignIn",
        "{}",
        r.text
    );
    assert_eq!(
        r.body["durationUntilExternalUserDeletedAfterBlocked"],
        "P10D"
    );
    let r = b
        .form(
            "/admin/settings",
            &[("csrf", &csrf), ("action", "shred"), ("days", "10")],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);

    // A catalog with a group, a package for members, a direct assignment and its removal.
    let r = b
        .form(
            "/admin/catalogs",
            &[
                ("csrf", &csrf),
                ("name", "Tools"),
                ("description", "Internal tools"),
                ("external", "on"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let catalog_path = r
        .headers
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let group = s
        .post(
            "/v1.0/groups",
            json!({"displayName": "Tool users", "mailNickname": "toolusers"}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = b
        .form(
            &format!("{catalog_path}/resources"),
            &[("csrf", &csrf), ("group", &group)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let catalog_page = b.get(&catalog_path).await;
    assert!(
        catalog_page.text.contains("Tool users"),
        "{}",
        catalog_page.text
    );
    let at = catalog_page
        .text
        .find("name=\"role\" value=\"")
        .expect("a role to choose")
        + 19;
    let role = catalog_page.text[at..at + 36].to_owned();
    // The form's button reviews first: what will be created, in words, nothing written yet.
    let r = b
        .form(
            &format!("{catalog_path}/packages"),
            &[
                ("csrf", &csrf),
                ("name", "Tool access"),
                ("role", &role),
                ("who", "members"),
                ("days", "30"),
                ("action", "review"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    for seen in [
        "Review: Tool access",
        "Member of Tool users",
        "Users in your directory",
        "after 30 days",
        "No approval",
        r#"name="action" value="create""#,
        &format!(r#"name="role" value="{role}""#),
    ] {
        assert!(r.text.contains(seen), "{seen} in {}", r.text);
    }
    let packages = "/v1.0/identityGovernance/entitlementManagement/accessPackages?$filter=displayName eq 'Tool access'";
    assert_eq!(s.get(packages).await.body["value"], json!([]));
    let r = b
        .form(
            &format!("{catalog_path}/packages"),
            &[
                ("csrf", &csrf),
                ("name", "Tool access"),
                ("role", &role),
                ("who", "members"),
                ("days", "30"),
                ("action", "create"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let package_path = r
        .headers
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let package_id = package_path.rsplit('/').next().unwrap().to_owned();
    let package_page = b.get(&package_path).await;
    assert!(
        package_page
            .text
            .contains(&format!("/access-packages/{package_id}")),
        "{}",
        package_page.text
    );
    assert!(
        package_page.text.contains("Member of Tool users")
            && package_page.text.contains("allMemberUsers"),
        "{}",
        package_page.text
    );
    let r = b
        .form(
            &format!("{package_path}/assignments"),
            &[
                ("csrf", &csrf),
                ("policy", &hidden(&package_page.text, "policy")),
                ("user", "mia@consulate.example"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let package_page = b.get(&package_path).await;
    assert!(
        package_page.text.contains("mia@consulate.example"),
        "{}",
        package_page.text
    );
    let at = package_page.text.find("/assignments/").unwrap();
    let remove = &package_page.text[package_page.text[..at].rfind('"').unwrap() + 1..];
    let remove = remove[..remove.find('"').unwrap()].to_owned();
    let r = b.form(&remove, &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert!(
        b.get(&package_path)
            .await
            .text
            .contains("Nobody has this access package")
    );

    // Sign-in for partners: a provider, a rule, the domain list.
    let r = b
        .form(
            "/admin/sign-in/providers",
            &[
                ("csrf", &csrf),
                ("name", "Contoso IdP"),
                ("issuer", "https://idp.contoso.example"),
                ("domains", "contoso.example"),
                ("client_id", "consulate"),
                ("client_secret", "s3cret-s3cret"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let r = b
        .form(
            "/admin/sign-in/rules",
            &[
                ("csrf", &csrf),
                ("name", "Short sessions"),
                ("minutes", "60"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let r = b
        .form(
            "/admin/sign-in/rules",
            &[("csrf", &csrf), ("name", "Nothing"), ("minutes", "")],
        )
        .await;
    assert_eq!(r.status, 400, "a rule must do something: {}", r.text);
    let r = b
        .form(
            "/admin/sign-in/domains",
            &[
                ("csrf", &csrf),
                ("mode", "deny"),
                ("domains", "evil.example"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let overview = b.get("/admin/sign-in").await;
    for seen in [
        "Contoso IdP",
        "https://idp.contoso.example",
        "set up",
        "Short sessions",
        "sessions of at most 60 minutes",
        "evil.example",
    ] {
        assert!(overview.text.contains(seen), "{seen}: {}", overview.text);
    }
    let at = overview.text.find("/admin/sign-in/rules/").unwrap();
    let delete = overview.text[at..at + overview.text[at..].find('"').unwrap()].to_owned();
    assert_eq!(b.form(&delete, &[("csrf", &csrf)]).await.status, 303);
    assert!(
        !b.get("/admin/sign-in")
            .await
            .text
            .contains("Short sessions")
    );
    assert_eq!(
        s.get("/admin/v1/collaborationDomains").await.body["mode"],
        "deny"
    );

    // A package with a question (with choices) and two approval stages.
    let r = b
        .form(
            &format!("{catalog_path}/packages"),
            &[
                ("csrf", &csrf),
                ("name", "Tool admin"),
                ("role", &role),
                ("who", "members"),
                ("approver", "mia@consulate.example"),
                ("approver2", "admin@consulate.example"),
                ("question", "Which team?"),
                ("choices", "Blue, Red"),
                ("days", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let admin_pkg = r
        .headers
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let policy = &s.get(&format!("/v1.0/identityGovernance/entitlementManagement/assignmentPolicies?$filter=accessPackage/id eq '{admin_pkg}'&$expand=questions")).await.body["value"][0];
    assert_eq!(
        policy["requestApprovalSettings"]["stages"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "{policy}"
    );
    assert_eq!(policy["questions"][0]["text"], "Which team?", "{policy}");
    assert_eq!(
        policy["questions"][0]["choices"][1]["actualValue"], "red",
        "{policy}"
    );
    assert_eq!(policy["expiration"]["type"], "noExpiration", "{policy}");
    let r = b
        .form(
            &format!("{catalog_path}/packages"),
            &[
                ("csrf", &csrf),
                ("name", "Odd"),
                ("who", "members"),
                ("approver2", "mia@consulate.example"),
            ],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let policy_id = policy["id"].as_str().unwrap().to_owned();
    let question_id = policy["questions"][0]["id"].as_str().unwrap().to_owned();

    // Removing resources from the catalog: a free one goes; one the packages grant stays,
    // and the page says why.
    let catalog_id = catalog_path.rsplit('/').next().unwrap().to_owned();
    let spare = s
        .post(
            "/v1.0/groups",
            json!({"displayName": "Spare group", "mailNickname": "spare"}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = b
        .form(
            &format!("{catalog_path}/resources"),
            &[("csrf", &csrf), ("group", &spare)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let resources_url =
        format!("/v1.0/identityGovernance/entitlementManagement/catalogs/{catalog_id}/resources");
    let resources = s.get(&resources_url).await;
    let resource_id = |name: &str| {
        resources.body["value"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["displayName"] == name)
            .unwrap_or_else(|| panic!("no {name} in {}", resources.text))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let remove_spare = format!(
        "{catalog_path}/resources/{}/remove",
        resource_id("Spare group")
    );
    let remove_tools = format!(
        "{catalog_path}/resources/{}/remove",
        resource_id("Tool users")
    );
    let catalog_page = b.get(&catalog_path).await;
    assert!(
        catalog_page
            .text
            .contains(&format!("action=\"{remove_spare}\""))
            && catalog_page
                .text
                .contains("aria-label=\"Remove Spare group from the catalog\">Remove</button>"),
        "{}",
        catalog_page.text
    );
    let r = b.form(&remove_spare, &[]).await;
    assert_eq!(r.status, 403, "no CSRF token, nothing removed: {}", r.text);
    assert!(s.get(&resources_url).await.text.contains("Spare group"));
    let r = b.form(&remove_spare, &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let back = r
        .headers
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let catalog_page = b.get(&back).await;
    assert!(
        catalog_page
            .text
            .contains("The resource was removed from the catalog.")
            && !catalog_page.text.contains(&remove_spare),
        "{}",
        catalog_page.text
    );
    let resources = s.get(&resources_url).await;
    assert!(
        !resources.text.contains("Spare group") && resources.text.contains("Tool users"),
        "{}",
        resources.text
    );
    let r = b.form(&remove_tools, &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(
        r.text
            .contains("role=\"alert\">“Tool users” was not removed from the catalog")
            && r.text.contains("“Tool access” grants Member")
            && r.text.contains("“Tool admin” grants Member")
            && r.text.contains(&remove_tools),
        "the catalog page, with the reason: {}",
        r.text
    );
    assert!(
        s.get(&resources_url).await.text.contains("Tool users"),
        "kept"
    );

    // Editing the "Tool admin" policy: the form's settings change, the rest stays.
    let admin_pkg_path = format!("/admin/packages/{admin_pkg}");
    let edit_path = format!("{admin_pkg_path}/policies/{policy_id}");
    let pkg_page = b.get(&admin_pkg_path).await;
    assert!(
        pkg_page.text.contains(&format!("href=\"{edit_path}\"")),
        "{}",
        pkg_page.text
    );
    let edit = b.get(&edit_path).await;
    assert_eq!(edit.status, 200, "{}", edit.text);
    for shown in [
        "value=\"Tool admin request policy\"",
        "id=\"accept\" name=\"accept\" value=\"on\" checked",
        "id=\"approval\" name=\"approval\" value=\"on\" checked",
        "value=\"mia@consulate.example\"",
        "id=\"expires-never\" name=\"expires\" value=\"never\" checked",
        "Questions for requestors: 1",
        "Approval stages: 2",
    ] {
        assert!(edit.text.contains(shown), "{shown}: {}", edit.text);
    }
    assert_eq!(hidden(&edit.text, "version"), "1");
    let policy_url = format!(
        "/v1.0/identityGovernance/entitlementManagement/assignmentPolicies/{policy_id}?$expand=questions"
    );
    let r = b
        .form(
            &edit_path,
            &[
                ("csrf", &csrf),
                ("version", "1"),
                ("name", "Tool admin requests"),
                ("description", "Reviewed by Mo"),
                ("approval", "on"),
                ("approver", "mo@consulate.example"),
                ("justification", "on"),
                ("expires", "days"),
                ("days", "90"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(
        r.headers.get("location").unwrap(),
        &format!("{admin_pkg_path}?done=policy")
    );
    let pkg_page = b.get(&format!("{admin_pkg_path}?done=policy")).await;
    assert!(
        pkg_page.text.contains("The policy was saved.")
            && pkg_page.text.contains("Tool admin requests"),
        "{}",
        pkg_page.text
    );
    let saved = s.get(&policy_url).await.body;
    assert_eq!(saved["displayName"], "Tool admin requests", "{saved}");
    assert_eq!(saved["description"], "Reviewed by Mo", "{saved}");
    assert_eq!(
        saved["requestorSettings"]["enableTargetsToSelfAddAccess"], false,
        "{saved}"
    );
    let approval = &saved["requestApprovalSettings"];
    assert_eq!(approval["isApprovalRequiredForAdd"], true, "{saved}");
    assert_eq!(
        approval["isRequestorJustificationRequired"], true,
        "{saved}"
    );
    assert_eq!(approval["stages"].as_array().unwrap().len(), 2, "{saved}");
    assert_eq!(
        approval["stages"][0]["primaryApprovers"][0]["userId"], mo,
        "{saved}"
    );
    assert_eq!(
        approval["stages"][1]["primaryApprovers"][0]["userId"], admin,
        "the second stage is kept: {saved}"
    );
    assert_eq!(saved["expiration"]["type"], "afterDuration", "{saved}");
    assert_eq!(saved["expiration"]["duration"], "P90D", "{saved}");
    assert_eq!(saved["allowedTargetScope"], "allMemberUsers", "{saved}");
    assert_eq!(saved["questions"][0]["id"], question_id.as_str(), "{saved}");
    assert_eq!(saved["questions"][0]["text"], "Which team?", "{saved}");
    assert_eq!(
        saved["questions"][0]["choices"].as_array().unwrap().len(),
        2,
        "{saved}"
    );
    // A new version, recorded in the audit log.
    let audit = s
        .get("/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Update access package assignment policy'")
        .await;
    assert!(
        audit.text.contains("Tool admin requests")
            && audit.text.contains("version=1")
            && audit.text.contains("version=2"),
        "{}",
        audit.text
    );
    let edit = b.get(&edit_path).await;
    assert_eq!(hidden(&edit.text, "version"), "2");
    assert!(
        edit.text.contains("value=\"mo@consulate.example\"")
            && edit.text.contains(
                "id=\"days\" name=\"days\" type=\"text\" inputmode=\"numeric\" value=\"90\""
            ),
        "{}",
        edit.text
    );
    // Bad input: the form again, with the error and what was typed; nothing saved.
    for (name, approver, days, error) in [
        ("", "mo@consulate.example", "90", "Give the policy a name."),
        (
            "Tool admin requests",
            "nobody@consulate.example",
            "90",
            "No user has the address nobody@consulate.example",
        ),
        (
            "Tool admin requests",
            "mo@consulate.example",
            "4000",
            "1 to 3650 days",
        ),
        (
            "Tool admin requests",
            "mo@consulate.example",
            "0",
            "1 to 3650 days",
        ),
        ("Tool admin requests", "", "90", "name the approver"),
    ] {
        let r = b
            .form(
                &edit_path,
                &[
                    ("csrf", &csrf),
                    ("version", "2"),
                    ("name", name),
                    ("description", "Typed, not saved"),
                    ("accept", "on"),
                    ("approval", "on"),
                    ("approver", approver),
                    ("expires", "days"),
                    ("days", days),
                ],
            )
            .await;
        assert_eq!(r.status, 400, "{error}: {}", r.text);
        assert!(
            r.text.contains(error)
                && r.text.contains("aria-invalid=\"true\"")
                && r.text.contains("Typed, not saved")
                && r.text.contains(&format!("value=\"{days}\"")),
            "{error}: {}",
            r.text
        );
    }
    let r = b
        .form(
            &edit_path,
            &[
                ("csrf", &csrf),
                ("version", "1"),
                ("name", "Stale"),
                ("approval", "on"),
                ("approver", "mo@consulate.example"),
                ("expires", "never"),
            ],
        )
        .await;
    assert_eq!(r.status, 409, "an edit of an older version: {}", r.text);
    assert!(
        r.text.contains("Someone else changed this policy") && r.text.contains("value=\"Stale\""),
        "{}",
        r.text
    );
    assert_eq!(hidden(&r.text, "version"), "2");
    let r = b
        .form(
            &edit_path,
            &[("version", "2"), ("name", "No token"), ("expires", "never")],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(s.get(&policy_url).await.body, saved, "unchanged");

    // One organization: state changes, and deletion.
    let list = b.get("/admin/organizations").await;
    let at = list
        .text
        .find(&format!("/admin/organizations/{org}"))
        .expect("a link to the organization");
    let org_path = list.text[at..at + list.text[at..].find('"').unwrap()].to_owned();
    let org_page = b.get(&org_path).await;
    assert!(
        org_page.text.contains("mia@consulate.example") && org_page.text.contains("configured"),
        "{}",
        org_page.text
    );
    let r = b
        .form(
            &format!("{org_path}/state"),
            &[("csrf", &csrf), ("state", "proposed")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert!(b.get(&org_path).await.text.contains("Make it configured"));

    // Editing the organization: its name and description.
    let org_url =
        format!("/v1.0/identityGovernance/entitlementManagement/connectedOrganizations/{org}");
    let internal_url = format!("{org_url}/internalSponsors");
    let external_url = format!("{org_url}/externalSponsors");
    let org_page = b.get(&org_path).await;
    for shown in [
        "<label for=\"name\">Name</label>",
        "value=\"Fabrikam\"",
        "Our supplier</textarea>",
        "aria-label=\"Remove Mia Sponsor as internal sponsor\">Remove</button>",
        "aria-label=\"Remove Fred Fabrikam as external sponsor\">Remove</button>",
        "<label for=\"internal-address\">",
        "<label for=\"external-address\">",
        "Add internal sponsor</button>",
        "Add external sponsor</button>",
    ] {
        assert!(org_page.text.contains(shown), "{shown}: {}", org_page.text);
    }
    let r = b
        .form(
            &format!("{org_path}/edit"),
            &[
                ("csrf", &csrf),
                ("name", "  Fabrikam Ltd "),
                ("description", "Our main supplier"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let back = r
        .headers
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let org_page = b.get(&back).await;
    assert!(
        org_page
            .text
            .contains("The name and description were saved.")
            && org_page.text.contains("<h1>Fabrikam Ltd</h1>")
            && org_page.text.contains("Our main supplier"),
        "{}",
        org_page.text
    );
    let saved = s.get(&org_url).await.body;
    assert_eq!(saved["displayName"], "Fabrikam Ltd", "{saved}");
    assert_eq!(saved["description"], "Our main supplier", "{saved}");
    // A name is needed: the form again, with the error and what was typed; nothing saved.
    let r = b
        .form(
            &format!("{org_path}/edit"),
            &[
                ("csrf", &csrf),
                ("name", "  "),
                ("description", "Typed, not saved"),
            ],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(
        r.text
            .contains("role=\"alert\">Give the organization a name.</p>")
            && r.text
                .contains("aria-invalid=\"true\" aria-describedby=\"edit-error\"")
            && r.text.contains("Typed, not saved</textarea>")
            && r.text.contains("<h1>Fabrikam Ltd</h1>"),
        "{}",
        r.text
    );
    let r = b
        .form(
            &format!("{org_path}/edit"),
            &[("name", "No token"), ("description", "")],
        )
        .await;
    assert_eq!(r.status, 403, "no CSRF token, nothing saved: {}", r.text);
    assert_eq!(s.get(&org_url).await.body, saved, "unchanged");

    // Sponsors: added by address, removed by their button.
    s.create_user(
        "Gail Guest",
        "gail_fabrikam.example#EXT#@consulate.example",
        true,
    )
    .await;
    let r = b
        .form(
            &format!("{org_path}/sponsors/internal"),
            &[("csrf", &csrf), ("address", "MO@consulate.example")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let back = r
        .headers
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        b.get(&back)
            .await
            .text
            .contains("The internal sponsor was added."),
        "{back}"
    );
    let internal = s.get(&internal_url).await;
    assert!(
        internal.text.contains("mo@consulate.example")
            && internal.text.contains("mia@consulate.example"),
        "{}",
        internal.text
    );
    let r = b
        .form(
            &format!("{org_path}/sponsors/external"),
            &[
                ("csrf", &csrf),
                ("address", "gail_fabrikam.example#EXT#@consulate.example"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let external = s.get(&external_url).await;
    assert!(
        external.text.contains("gail_fabrikam.example")
            && external.text.contains("fred_fabrikam.example"),
        "{}",
        external.text
    );
    let org_page = b.get(&org_path).await;
    let remove_action = |kind: &str, name: &str| {
        let label = format!("aria-label=\"Remove {name} as {kind} sponsor\"");
        let at = org_page
            .text
            .find(&label)
            .unwrap_or_else(|| panic!("{label}: {}", org_page.text));
        let form = org_page.text[..at].rfind("action=\"").unwrap() + 8;
        org_page.text[form..form + org_page.text[form..].find('"').unwrap()].to_owned()
    };
    let remove_mo = remove_action("internal", "Mo Member");
    let remove_fred = remove_action("external", "Fred Fabrikam");
    assert!(
        remove_mo.starts_with(&format!("{org_path}/sponsors/internal/"))
            && remove_mo.ends_with(&format!("{mo}/remove")),
        "{remove_mo}"
    );
    let r = b.form(&remove_mo, &[]).await;
    assert_eq!(r.status, 403, "no CSRF token, nobody removed: {}", r.text);
    assert_eq!(s.get(&internal_url).await.body, internal.body, "unchanged");
    let r = b.form(&remove_mo, &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let r = b.form(&remove_fred, &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let back = r
        .headers
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let org_page = b.get(&back).await;
    assert!(
        org_page.text.contains("The external sponsor was removed.")
            && !org_page.text.contains("Fred Fabrikam")
            && !org_page.text.contains("Mo Member"),
        "{}",
        org_page.text
    );
    let internal = s.get(&internal_url).await;
    assert!(
        !internal.text.contains("mo@consulate.example")
            && internal.text.contains("mia@consulate.example"),
        "{}",
        internal.text
    );
    let external = s.get(&external_url).await;
    assert!(
        !external.text.contains("fred_fabrikam.example")
            && external.text.contains("gail_fabrikam.example"),
        "{}",
        external.text
    );
    // Removing someone who is no longer a sponsor: said so, nothing else changes.
    let r = b.form(&remove_mo, &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert!(
        r.text
            .contains("That user or group is not an internal sponsor of Fabrikam Ltd"),
        "{}",
        r.text
    );
    // Bad sponsors: the page again with the error and the address typed; nobody added.
    for (kind, address, error) in [
        (
            "internal",
            "nobody@consulate.example",
            "No user has the address nobody@consulate.example",
        ),
        (
            "external",
            "nobody@fabrikam.example",
            "No user has the address nobody@fabrikam.example",
        ),
        (
            "external",
            "mo@consulate.example",
            "Mo Member (mo@consulate.example) is a member; external sponsors must be guest users from the partner.",
        ),
        (
            "internal",
            "gail_fabrikam.example#EXT#@consulate.example",
            "is a guest; internal sponsors must be members of this directory.",
        ),
        (
            "internal",
            "mia@consulate.example",
            "Mia Sponsor (mia@consulate.example) is already an internal sponsor of Fabrikam Ltd.",
        ),
        (
            "external",
            "gail_fabrikam.example#EXT#@consulate.example",
            "is already an external sponsor of Fabrikam Ltd.",
        ),
        ("internal", "", "Type the user principal name or mail"),
    ] {
        let r = b
            .form(
                &format!("{org_path}/sponsors/{kind}"),
                &[("csrf", &csrf), ("address", address)],
            )
            .await;
        assert_eq!(r.status, 400, "{error}: {}", r.text);
        let error_at = format!("class=\"error\" id=\"{kind}-error\" role=\"alert\">");
        let typed = format!(
            "id=\"{kind}-address\" name=\"address\" type=\"text\" required value=\"{address}\" \
             aria-describedby=\"{kind}-hint {kind}-error\" aria-invalid=\"true\">"
        );
        assert!(
            r.text.contains(&error_at) && r.text.contains(error) && r.text.contains(&typed),
            "{error}: {}",
            r.text
        );
    }
    let r = b
        .form(
            &format!("{org_path}/sponsors/internal"),
            &[("address", "mo@consulate.example")],
        )
        .await;
    assert_eq!(r.status, 403, "no CSRF token, nobody added: {}", r.text);
    assert_eq!(s.get(&internal_url).await.body, internal.body, "unchanged");
    assert_eq!(s.get(&external_url).await.body, external.body, "unchanged");

    // Deletion refused while a policy names the organization: the page says which, in
    // plain words, with a link to the policy; the organization stays.
    let r = b
        .form(
            &format!("{catalog_path}/packages"),
            &[
                ("csrf", &csrf),
                ("name", "Partner tools"),
                ("role", &role),
                ("who", "organization"),
                ("organization", &org),
                ("days", "30"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let r = b
        .form(&format!("{org_path}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(
        r.text.contains(
            "role=\"alert\">“Fabrikam Ltd” was not deleted, because the assignment policy \
             “Partner tools request policy” of the access package “Partner tools” (its users \
             may request access) still names it."
        ) && r
            .text
            .contains("Edit the policy “Partner tools request policy” of “Partner tools”")
            && r.text.contains("<h1>Fabrikam Ltd</h1>"),
        "{}",
        r.text
    );
    let at = r.text.find("/policies/").expect("a link to the policy") + 10;
    let partner_policy = r.text[at..at + 36].to_owned();
    assert_eq!(s.get(&org_url).await.status, 200, "kept");
    let r = s
        .delete(&format!(
            "/v1.0/identityGovernance/entitlementManagement/assignmentPolicies/{partner_policy}"
        ))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = b.form(&format!("{org_path}/delete"), &[]).await;
    assert_eq!(r.status, 403, "no CSRF token, nothing deleted: {}", r.text);
    assert_eq!(s.get(&org_url).await.status, 200, "kept");
    let r = b
        .form(&format!("{org_path}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert!(
        !b.get("/admin/organizations")
            .await
            .text
            .contains("Fabrikam")
    );

    // Users and groups; ending a user's sessions.
    let dir = b.get("/admin/directory?search=mia").await;
    assert!(
        dir.text.contains("mia@consulate.example") && !dir.text.contains("mo@consulate.example"),
        "{}",
        dir.text
    );
    assert!(dir.text.contains("Tool users"), "{}", dir.text);
    let mut mo_browser = Browser::new(&s);
    mo_browser
        .form(
            "/sign-in/password",
            &[
                ("user_name", "mo@consulate.example"),
                ("password", "mo's own passphrase"),
                ("return_to", "/my-access"),
            ],
        )
        .await;
    assert_eq!(mo_browser.get("/my-access").await.status, 200);
    let r = b
        .form(
            &format!("/admin/directory/users/{mo}/revoke"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(
        mo_browser.get("/my-access").await.status,
        303,
        "the session ended"
    );

    // A member without an administrator role is told no.
    let mut m = Browser::new(&s);
    m.form(
        "/sign-in/password",
        &[
            ("user_name", "mo@consulate.example"),
            ("password", "mo's own passphrase"),
            ("return_to", "/admin"),
        ],
    )
    .await;
    let r = m.get("/admin/organizations").await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r.text.contains("Insufficient privileges"), "{}", r.text);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_center_sqlite() {
    admin_center(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_center_postgres() {
    admin_center(Backend::Postgres).await;
}
