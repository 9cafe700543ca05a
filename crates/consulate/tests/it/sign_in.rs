//! Sign-in by email one-time passcode, sessions with CSRF protection, and requests from people
//! outside: a guest created with provenance, a proposed organization for an unknown domain,
//! blocking ending the session. Mail goes over real SMTP to a sink on loopback.

use crate::harness::{Backend, Resp, TestServer, assert_error};
use crate::lifecycle::{EM, group_in_catalog, members, package_and_policy, wait_for};
use crate::smtp_sink::SmtpSink;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashMap;

/// A browser: keeps the cookies the server sets and sends them back.
pub struct Browser {
    http: reqwest::Client,
    base: String,
    cookies: HashMap<String, String>,
    pub csrf: Option<String>,
}

impl Browser {
    pub fn new(s: &TestServer) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: s.base.clone(),
            cookies: HashMap::new(),
            csrf: None,
        }
    }

    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        };
        let req_path = url
            .splitn(4, '/')
            .nth(3)
            .map(|p| format!("/{}", p.split('?').next().unwrap_or("")))
            .unwrap_or_else(|| "/".into());
        let mut r = self.http.request(method, url);
        // Cookies are kept per (name, path), as a browser keeps them for one host.
        let sent: Vec<String> = self
            .cookies
            .iter()
            .filter(|(k, _)| req_path.starts_with(k.split_once('\u{0}').map_or("/", |(_, p)| p)))
            .map(|(k, v)| format!("{}={v}", k.split('\u{0}').next().unwrap()))
            .collect();
        if !sent.is_empty() {
            r = r.header("cookie", sent.join("; "));
        }
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        match body {
            // A raw body (see `send_raw`): content type and text.
            Some(Value::String(raw)) if raw.starts_with('\u{1}') => {
                let mut parts = raw[1..].splitn(2, '\u{1}');
                let kind = parts.next().unwrap_or_default().to_owned();
                let text = parts.next().unwrap_or_default().to_owned();
                r = r.header("content-type", kind).body(text);
            }
            Some(b) => r = r.json(&b),
            None => {}
        }
        let resp = r.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        for set in headers.get_all("set-cookie") {
            let set = set.to_str().unwrap();
            let (pair, attrs) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').unwrap();
            let path = attrs
                .split(';')
                .find_map(|a| {
                    let a = a.trim();
                    a.get(..5)
                        .filter(|k| k.eq_ignore_ascii_case("path="))
                        .map(|_| &a[5..])
                })
                .unwrap_or("/")
                .to_owned();
            let attrs = attrs.to_ascii_lowercase();
            let key = if path == "/" {
                name.to_owned()
            } else {
                format!("{name}\u{0}{path}")
            };
            if attrs.contains("max-age=0") || attrs.contains("expires=thu, 01 jan 1970") {
                self.cookies.remove(&key);
            } else {
                self.cookies.insert(key, value.to_owned());
            }
        }
        let text = resp.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            body,
            text,
            headers,
        }
    }

    /// Whether a cookie of that name is held (any path).
    pub fn cookies_contain(&self, name: &str) -> bool {
        self.cookies
            .keys()
            .any(|k| k.split('\u{0}').next() == Some(name))
    }

    /// Submits an HTML form (urlencoded), as a browser does.
    pub async fn form(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body: String = fields
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.send_raw(
            Method::POST,
            path,
            body,
            "application/x-www-form-urlencoded",
        )
        .await
    }

    async fn send_raw(&mut self, method: Method, path: &str, body: String, kind: &str) -> Resp {
        // The cookie handling of `send`, with a body that is not JSON.
        let marker = serde_json::Value::String(format!("\u{1}{kind}\u{1}{body}"));
        self.send(method, path, Some(marker), &[]).await
    }

    /// A state-changing call with the session's CSRF token.
    pub async fn post(&mut self, path: &str, body: Value) -> Resp {
        let csrf = self.csrf.clone().unwrap_or_default();
        self.send(Method::POST, path, Some(body), &[("x-csrf-token", &csrf)])
            .await
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        self.send(Method::GET, path, None, &[]).await
    }

    /// Follows redirects from `url` until one leads to `stop` (a URL prefix), which is
    /// returned unvisited; or until a page that does not redirect, whose response is given.
    pub async fn follow(&mut self, url: &str, stop: &str) -> Result<String, Resp> {
        let mut url = url.to_owned();
        for _ in 0..20 {
            if url.starts_with(stop) {
                return Ok(url);
            }
            let r = self.get(&url).await;
            if std::env::var("TRACE_FOLLOW").is_ok() {
                eprintln!(
                    "GET {url} -> {} {:?} cookies={:?}",
                    r.status,
                    r.headers.get_all("set-cookie"),
                    self.cookies.keys().collect::<Vec<_>>()
                );
            }
            let Some(loc) = r.headers.get("location").and_then(|l| l.to_str().ok()) else {
                return Err(r);
            };
            url = if loc.starts_with("http") {
                loc.to_owned()
            } else {
                let origin_end = url[8..].find('/').map(|i| i + 8).unwrap_or(url.len());
                format!("{}{loc}", &url[..origin_end])
            };
        }
        panic!("too many redirects");
    }

    /// Signs in by passcode, reading the code from the sink.
    pub async fn sign_in(&mut self, sink: &SmtpSink, email: &str) {
        let before = sink.to(email).len();
        let r = self
            .send(
                Method::POST,
                "/auth/v1/email-otp",
                Some(json!({"email": email})),
                &[],
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.text);
        let code = sink.code_for(email, before + 1).await;
        let r = self
            .send(
                Method::POST,
                "/auth/v1/email-otp/verify",
                Some(json!({"code": code})),
                &[],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        self.csrf = Some(r.body["csrfToken"].as_str().unwrap().to_owned());
    }
}

async fn configured_org(s: &TestServer, name: &str, domain: &str) -> String {
    s.create_domain_org(name, domain).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn external_requestors(backend: Backend) {
    let sink = SmtpSink::start().await;
    let url = sink.url.clone();
    let Some(s) = TestServer::start_with(backend, |c| c.smtp_url = Some(url)).await else {
        return;
    };
    let org = configured_org(&s, "Partner", "partner.example").await;
    let (cat, group, role) = group_in_catalog(&s, "Partner work", "Partner space", "pspace").await;
    let pkg = package_and_policy(&s, json!({"displayName": "Partner space", "catalog": {"id": cat}}), &role, json!({"displayName": "Partner users", "allowedTargetScope": "specificConnectedOrganizationUsers",
               "specificAllowedTargets": [{"@odata.type": "#microsoft.graph.connectedOrganizationMembers", "connectedOrganizationId": org}],
               "expiration": {"type": "afterDuration", "duration": "P365D"},
               "requestorSettings": {"enableTargetsToSelfAddAccess": true, "enableTargetsToSelfRemoveAccess": true},
               "requestApprovalSettings": {"isApprovalRequiredForAdd": false, "stages": []}})).await;
    let admin = s
        .get("/v1.0/users?$filter=userPrincipalName eq 'admin@consulate.example'")
        .await
        .body["value"][0]["id"]
        .clone();
    let open = package_and_policy(&s, json!({"displayName": "Open day", "catalog": {"id": cat}}), &role, json!({"displayName": "Anyone, approved", "allowedTargetScope": "allExternalUsers",
               "expiration": {"type": "afterDuration", "duration": "P30D"},
               "requestorSettings": {"enableTargetsToSelfAddAccess": true},
               "requestApprovalSettings": {"isApprovalRequiredForAdd": true, "stages": [{"primaryApprovers": [{"@odata.type": "#microsoft.graph.singleUser", "userId": admin}]}]}})).await;

    // Home-realm discovery.
    let mut ana = Browser::new(&s);
    let r = ana
        .send(
            Method::POST,
            "/auth/v1/discovery",
            Some(json!({"email": "Ana@Partner.example"})),
            &[],
        )
        .await;
    assert_eq!(r.body["method"], "emailOneTimePasscode", "{}", r.text);
    let r = ana
        .send(
            Method::POST,
            "/auth/v1/discovery",
            Some(json!({"email": "admin@consulate.example"})),
            &[],
        )
        .await;
    assert_eq!(r.body["method"], "member", "{}", r.text);

    // "Send me a code" answers the same for any address; lists are refused.
    let r1 = ana
        .send(
            Method::POST,
            "/auth/v1/email-otp",
            Some(json!({"email": "ana@partner.example"})),
            &[],
        )
        .await;
    let mut stranger = Browser::new(&s);
    let r2 = stranger
        .send(
            Method::POST,
            "/auth/v1/email-otp",
            Some(json!({"email": "nobody@consulate.example"})),
            &[],
        )
        .await;
    assert_eq!((r1.status, r1.text.as_str()), (r2.status, r2.text.as_str()));
    assert_eq!(r1.headers.get("referrer-policy").unwrap(), "no-referrer");
    let r = stranger
        .send(
            Method::POST,
            "/auth/v1/email-otp",
            Some(json!({"email": ["ana@partner.example", "eve@evil.example"]})),
            &[],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = stranger
        .send(
            Method::POST,
            "/auth/v1/email-otp",
            Some(json!({"email": "ana@partner.example,eve@evil.example"})),
            &[],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    // Only Ana's code went out (this tenant's own domain signs in as a member).
    let code = sink.code_for("ana@partner.example", 1).await;
    assert_eq!(code.len(), 8);
    assert!(sink.to("nobody@consulate.example").is_empty());

    // A wrong code, then the right one; the right one works once.
    let wrong = if code == "00000000" {
        "11111111"
    } else {
        "00000000"
    };
    let r = ana
        .send(
            Method::POST,
            "/auth/v1/email-otp/verify",
            Some(json!({"code": wrong})),
            &[],
        )
        .await;
    assert_error(&r, 400, "invalidCode");
    let r = stranger
        .send(
            Method::POST,
            "/auth/v1/email-otp/verify",
            Some(json!({"code": code})),
            &[],
        )
        .await;
    assert_error(&r, 400, "invalidCode");
    let flow = ana.cookies.get("consulate-flow").cloned().unwrap();
    let r = ana
        .send(
            Method::POST,
            "/auth/v1/email-otp/verify",
            Some(json!({"code": code})),
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    ana.csrf = Some(r.body["csrfToken"].as_str().unwrap().to_owned());
    let mut replay = Browser::new(&s);
    replay.cookies.insert("consulate-flow".into(), flow);
    let r = replay
        .send(
            Method::POST,
            "/auth/v1/email-otp/verify",
            Some(json!({"code": code})),
            &[],
        )
        .await;
    assert_error(&r, 400, "invalidCode");

    // Signed in from outside, with no user yet: may see and request what the policy allows.
    let me = ana.get("/auth/v1/session").await;
    assert_eq!(me.body["principal"]["kind"], "external", "{}", me.text);
    assert_eq!(me.body["principal"]["email"], "ana@partner.example");
    let mine = ana
        .get(&format!(
            "{EM}/accessPackages/filterByCurrentUser(on='allowedRequestor')"
        ))
        .await;
    assert_eq!(mine.status, 200, "{}", mine.text);
    let names: Vec<&str> = mine.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["displayName"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"Partner space") && names.contains(&"Open day"),
        "{names:?}"
    );
    assert_eq!(ana.get(&format!("{EM}/catalogs")).await.status, 403);
    // State changes need the CSRF token and this origin.
    let body = json!({"requestType": "userAdd", "assignment": {"accessPackageId": pkg}});
    let requests = format!("{EM}/assignmentRequests");
    let r = ana
        .send(Method::POST, &requests, Some(body.clone()), &[])
        .await;
    assert_error(&r, 403, "csrfCheckFailed");
    let csrf = ana.csrf.clone().unwrap();
    let r = ana
        .send(
            Method::POST,
            &requests,
            Some(body.clone()),
            &[("x-csrf-token", &csrf), ("origin", "https://evil.example")],
        )
        .await;
    assert_error(&r, 403, "csrfCheckFailed");
    let r = ana
        .send(
            Method::POST,
            &requests,
            Some(body.clone()),
            &[("x-csrf-token", &csrf), ("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_error(&r, 403, "csrfCheckFailed");
    let r = ana.post(&requests, body.clone()).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let request = r.body["id"].as_str().unwrap().to_owned();
    wait_for(&s, &format!("{requests}/{request}"), "delivered").await;
    assert!(
        members(&s, &group)
            .await
            .iter()
            .any(|m| m.starts_with("ana_partner.example#EXT#"))
    );

    // Ana is now a governed guest of the Partner organization, created by that request.
    let guest = &s
        .get("/v1.0/users?$filter=mail eq 'ana@partner.example'")
        .await
        .body["value"][0];
    assert_eq!(guest["userType"], "Guest", "{guest}");
    assert_eq!(guest["externalUserState"], "Accepted", "{guest}");
    let gid = guest["id"].as_str().unwrap().to_owned();
    let subject = s
        .get(&format!("{EM}/subjects(objectId='{gid}')"))
        .await
        .body;
    assert_eq!(subject["subjectLifecycle"], "governed", "{subject}");
    assert_eq!(
        subject["connectedOrganization"]["id"],
        org.as_str(),
        "{subject}"
    );
    let audit = s
        .get(
            "/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Create external user'",
        )
        .await;
    assert!(audit.text.contains(&request), "{}", audit.text);
    // The same session now acts as that guest.
    let me = ana.get("/auth/v1/session").await;
    assert_eq!(me.body["principal"]["kind"], "user", "{}", me.text);
    let held = ana
        .get(&format!(
            "{EM}/assignments/filterByCurrentUser(on='target')"
        ))
        .await;
    assert_eq!(
        held.body["value"].as_array().unwrap().len(),
        1,
        "{}",
        held.text
    );

    // Someone from an unknown domain asks under the "anyone" policy; once approved, a
    // proposed organization stands for the domain.
    let mut bob = Browser::new(&s);
    bob.sign_in(&sink, "bob@elsewhere.example").await;
    let r = bob.post(&requests, json!({"requestType": "userAdd", "assignment": {"accessPackageId": open}, "justification": "Open day"})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["state"], "pendingApproval", "{}", r.text);
    let bob_request = r.body["id"].as_str().unwrap().to_owned();
    let orgs = s
        .get(&format!(
            "{EM}/connectedOrganizations?$filter=displayName eq 'elsewhere.example'"
        ))
        .await;
    assert_eq!(
        orgs.body["value"].as_array().unwrap().len(),
        0,
        "nothing is proposed before approval"
    );
    let admin_t = crate::lifecycle::delegated(&s, "admin@consulate.example").await;
    let stage = s
        .get(&format!(
            "{EM}/accessPackageAssignmentApprovals/{bob_request}/stages"
        ))
        .await
        .body["value"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = s
        .req_with(
            Method::PATCH,
            &format!("{EM}/accessPackageAssignmentApprovals/{bob_request}/stages/{stage}"),
            Some(json!({"reviewResult": "Approve", "justification": "ok"})),
            Some(&admin_t),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    wait_for(&s, &format!("{requests}/{bob_request}"), "delivered").await;
    let orgs = s
        .get(&format!(
            "{EM}/connectedOrganizations?$filter=displayName eq 'elsewhere.example'"
        ))
        .await;
    let proposed = &orgs.body["value"][0];
    assert_eq!(proposed["state"], "proposed", "{}", orgs.text);
    let bob_id = s
        .get("/v1.0/users?$filter=mail eq 'bob@elsewhere.example'")
        .await
        .body["value"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let subject = s
        .get(&format!("{EM}/subjects(objectId='{bob_id}')"))
        .await
        .body;
    assert_eq!(
        subject["connectedOrganization"]["id"], proposed["id"],
        "{subject}"
    );

    // Sign-out ends the session; a blocked guest's session stops working at once.
    let r = bob.post("/auth/v1/sign-out", json!({})).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(bob.get("/auth/v1/session").await.status, 401);
    let assignment = held.body["value"][0]["id"].as_str().unwrap().to_owned();
    let r = s
        .post(
            &requests,
            json!({"requestType": "adminRemove", "assignment": {"id": assignment}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(ana.get("/auth/v1/session").await.status, 401);
    assert_eq!(
        ana.get(&format!(
            "{EM}/assignments/filterByCurrentUser(on='target')"
        ))
        .await
        .status,
        401
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_requestors_sqlite() {
    external_requestors(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_requestors_postgres() {
    external_requestors(Backend::Postgres).await;
}

/// Audit events of one activity (first 999).
async fn activity(s: &TestServer, name: &str) -> Vec<Value> {
    s.get(&format!(
        "/v1.0/auditLogs/directoryAudits?$top=999&$filter=activityDisplayName eq '{name}'"
    ))
    .await
    .body["value"]
        .as_array()
        .unwrap()
        .clone()
}

fn result_of(event: &Value) -> String {
    event["targetResources"][0]["modifiedProperties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["displayName"] == "result")
        .map(|p| {
            p["newValue"]
                .as_str()
                .unwrap_or_default()
                .trim_matches('"')
                .to_owned()
        })
        .unwrap_or_default()
}

async fn otp_limits(backend: Backend) {
    let sink = SmtpSink::start().await;
    let url = sink.url.clone();
    let Some(s) = TestServer::start_with(backend, |c| c.smtp_url = Some(url)).await else {
        return;
    };
    configured_org(&s, "Partner", "partner.example").await;
    // Something for partner users to request, so that they may sign in.
    let (cat, _, role) = group_in_catalog(&s, "Partner work", "Partner space", "pspace").await;
    package_and_policy(&s, json!({"displayName": "Partner space", "catalog": {"id": cat}}), &role, json!({"displayName": "Partners", "allowedTargetScope": "allConfiguredConnectedOrganizationUsers",
               "requestorSettings": {"enableTargetsToSelfAddAccess": true},
               "requestApprovalSettings": {"isApprovalRequiredForAdd": false, "stages": []}})).await;

    // 200 wrong codes and the right one, all at once: at most five are compared.
    let mut eve = Browser::new(&s);
    let r = eve
        .send(
            Method::POST,
            "/auth/v1/email-otp",
            Some(json!({"email": "eve@partner.example"})),
            &[],
        )
        .await;
    assert_eq!(r.status, 202);
    let code = sink.code_for("eve@partner.example", 1).await;
    let cookie = format!("consulate-flow={}", eve.cookies["consulate-flow"]);
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(201));
    let mut tasks = Vec::new();
    for i in 0..201u32 {
        let guess = if i == 200 {
            code.clone()
        } else {
            format!(
                "{:08}",
                (code.parse::<u32>().unwrap() + 1 + i) % 100_000_000
            )
        };
        let (http, url, cookie, barrier) = (
            reqwest::Client::new(),
            format!("{}/auth/v1/email-otp/verify", s.base),
            cookie.clone(),
            barrier.clone(),
        );
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            http.post(url)
                .header("cookie", cookie)
                .json(&json!({"code": guess}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = HashMap::new();
    for t in tasks {
        *statuses.entry(t.await.unwrap()).or_insert(0) += 1;
    }
    let refused = activity(&s, "Refuse sign-in with email one-time passcode").await;
    let wrong = refused
        .iter()
        .filter(|e| result_of(e) == "wrong code")
        .count();
    let signed_in = activity(&s, "Sign in with email one-time passcode")
        .await
        .len();
    assert!(
        wrong + signed_in <= 5,
        "{wrong} wrong + {signed_in} right compared: {statuses:?}"
    );
    if signed_in == 0 {
        assert_eq!(wrong, 5, "{statuses:?}");
    }
    assert_eq!(
        statuses.get(&200).copied().unwrap_or(0),
        signed_in,
        "{statuses:?}"
    );
    assert_eq!(statuses.values().sum::<usize>(), 201);

    // After five failures in a row, the address must wait (and is told how long).
    let mut fay = Browser::new(&s);
    fay.send(
        Method::POST,
        "/auth/v1/email-otp",
        Some(json!({"email": "fay@partner.example"})),
        &[],
    )
    .await;
    let code = sink.code_for("fay@partner.example", 1).await;
    let wrong = if code == "00000000" {
        "11111111"
    } else {
        "00000000"
    };
    for _ in 0..5 {
        let r = fay
            .send(
                Method::POST,
                "/auth/v1/email-otp/verify",
                Some(json!({"code": wrong})),
                &[],
            )
            .await;
        assert_error(&r, 400, "invalidCode");
    }
    fay.send(
        Method::POST,
        "/auth/v1/email-otp",
        Some(json!({"email": "fay@partner.example"})),
        &[],
    )
    .await;
    let code = sink.code_for("fay@partner.example", 2).await;
    let r = fay
        .send(
            Method::POST,
            "/auth/v1/email-otp/verify",
            Some(json!({"code": code})),
            &[],
        )
        .await;
    assert_error(&r, 429, "tooManyAttempts");
    assert!(r.headers.get("retry-after").is_some());

    // Ten codes per address a day: the eleventh is answered the same and never sent.
    let mut gus = Browser::new(&s);
    let mut answers = Vec::new();
    for _ in 0..11 {
        let r = gus
            .send(
                Method::POST,
                "/auth/v1/email-otp",
                Some(json!({"email": "gus@partner.example"})),
                &[],
            )
            .await;
        answers.push((r.status, r.text));
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    sink.code_for("gus@partner.example", 10).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(sink.to("gus@partner.example").len(), 10);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otp_limits_sqlite() {
    otp_limits(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otp_limits_postgres() {
    otp_limits(Backend::Postgres).await;
}

fn urlencode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
