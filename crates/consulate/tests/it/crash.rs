//! Crash safety: the real server binary, a mixed workload (submit, approve, deny, cancel,
//! remove, expire) and `SIGKILL` at random points, restarting each time. Afterwards: every
//! acknowledged operation took effect, grants match delivered assignments exactly, each
//! request was recorded and delivered once, and the audit chain verifies.
//!
//! CI runs a few kills per backend. The long run:
//! `CONSULATE_CRASH_KILLS=1000 cargo test --release -p consulate --test it crash -- --nocapture`
//! (`CONSULATE_CRASH_SEED` replays a run).

use crate::harness::{Backend, pg_url, temp_dir};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const EM: &str = "/v1.0/identityGovernance/entitlementManagement";
const USERS: usize = 12;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What the server acknowledged before it was killed.
#[derive(Default)]
struct Ledger {
    requests: BTreeSet<String>,
    approved: BTreeSet<String>,
    denied: BTreeSet<String>,
    canceled: BTreeSet<String>,
    removed: BTreeSet<String>,
}

struct Server {
    child: tokio::process::Child,
    base: String,
}

async fn serve(database: &str, log: &std::path::Path) -> (Server, Option<String>) {
    let file = std::fs::File::create(log).unwrap();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_consulate"))
        .args(["serve", "--database", database, "--listen", "127.0.0.1:0"])
        .args(["--log-format", "json", "--db-max-connections", "4"])
        .stderr(file)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    for _ in 0..400 {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let lines: Vec<Value> = text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        if let Some(up) = lines
            .iter()
            .find(|l| l["message"] == "consulate is serving")
        {
            let token = lines
                .iter()
                .find(|l| l["message"] == "bootstrap API token")
                .map(|l| l["token"].as_str().unwrap().to_owned());
            let base = format!("http://{}", up["listen"].as_str().unwrap());
            return (Server { child, base }, token);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "server did not start: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    /// Status and body; `None` when the server is gone.
    async fn call(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Option<(u16, Value)> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .timeout(Duration::from_secs(20));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.ok()?;
        let status = resp.status().as_u16();
        let text = resp.text().await.ok()?;
        Some((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    async fn ok(&self, token: &str, method: reqwest::Method, path: &str, body: Value) -> Value {
        let body = (method != reqwest::Method::GET).then_some(body);
        let (status, v) = self
            .call(token, method, path, body)
            .await
            .expect("server up");
        assert!((200..300).contains(&status), "{path}: {status} {v}");
        v
    }

    /// Every item of a collection, following `@odata.nextLink`.
    async fn all(&self, token: &str, path: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut next = Some(path.to_owned());
        while let Some(p) = next {
            let v = self.ok(token, reqwest::Method::GET, &p, Value::Null).await;
            items.extend(v["value"].as_array().cloned().unwrap_or_default());
            next = v["@odata.nextLink"]
                .as_str()
                .map(|l| l.trim_start_matches(&self.base).to_owned());
        }
        items
    }
}

struct World {
    admin: String,
    approver: String,
    users: Vec<(String, String)>,
    group: String,
    auto_package: String,
    auto_policy: String,
    gated_package: String,
}

async fn setup(c: &Client, admin: String, database: &str) -> World {
    use reqwest::Method as M;
    let post = |path: String, body: Value| {
        let c = c.clone();
        let admin = admin.clone();
        async move {
            c.ok(&admin, M::POST, &path, body).await["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let cat = post(format!("{EM}/catalogs"), json!({"displayName": "Crash"})).await;
    let group = post(
        "/v1.0/groups".into(),
        json!({"displayName": "Vault", "mailNickname": "vault"}),
    )
    .await;
    post(format!("{EM}/resourceRequests"), json!({"requestType": "adminAdd", "resource": {"originId": group, "originSystem": "AadGroup"}, "catalog": {"id": cat}})).await;
    let role = c
        .all(
            &admin,
            &format!("{EM}/catalogs/{cat}/resourceRoles?$filter=displayName eq 'Member'"),
        )
        .await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut token_for = Vec::new();
    let mut users = Vec::new();
    for i in 0..=USERS {
        let upn = format!("u{i}@consulate.example");
        let id = post(
            "/v1.0/users".into(),
            json!({"displayName": format!("U{i}"), "userPrincipalName": upn}),
        )
        .await;
        token_for.push((id, upn));
    }
    for (id, upn) in &token_for {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_consulate"))
            .args(["admin", "token", "create", "--database", database])
            .args(["--name", upn, "--as-user", upn])
            .args(["--scopes", "EntitlementManagement.ReadWrite.All"])
            .output()
            .await
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let secret = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        users.push((id.clone(), secret));
    }
    let (approver_id, approver) = users.pop().unwrap();
    let mut packages = Vec::new();
    for (name, gated) in [("Auto", false), ("Gated", true)] {
        let pkg = post(
            format!("{EM}/accessPackages"),
            json!({"displayName": name, "catalog": {"id": cat}}),
        )
        .await;
        post(
            format!("{EM}/accessPackages/{pkg}/resourceRoleScopes"),
            json!({"role": {"id": role}}),
        )
        .await;
        let approval = if gated {
            json!({"isApprovalRequiredForAdd": true, "stages": [{"durationBeforeAutomaticDenial": "P7D",
                   "primaryApprovers": [{"@odata.type": "#microsoft.graph.singleUser", "userId": approver_id}]}]})
        } else {
            json!({"isApprovalRequiredForAdd": false})
        };
        let policy = post(
            format!("{EM}/assignmentPolicies"),
            json!({"displayName": name, "allowedTargetScope": "allMemberUsers",
                   "requestorSettings": {"enableTargetsToSelfAddAccess": true, "enableTargetsToSelfRemoveAccess": true},
                   "requestApprovalSettings": approval, "accessPackage": {"id": pkg}}),
        )
        .await;
        packages.push((pkg, policy));
    }
    World {
        admin,
        approver,
        users,
        group,
        auto_package: packages[0].0.clone(),
        auto_policy: packages[0].1.clone(),
        gated_package: packages[1].0.clone(),
    }
}

/// One worker: random operations until the server disappears.
async fn work(c: Client, w: Arc<World>, ledger: Arc<Mutex<Ledger>>, seed: u64) {
    use reqwest::Method as M;
    let mut rng = Rng(seed | 1);
    loop {
        let (user, token) = &w.users[rng.below(w.users.len() as u64) as usize];
        let outcome = match rng.below(6) {
            // An administrator assigns, sometimes for a couple of seconds only.
            0 | 1 => {
                let mut body = json!({"requestType": "adminAdd", "assignment": {"targetId": user,
                    "assignmentPolicyId": w.auto_policy, "accessPackageId": w.auto_package}});
                if rng.below(3) == 0 {
                    let end = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(2);
                    body["schedule"] = json!({"expiration": {"type": "afterDateTime", "endDateTime": end.to_string()}});
                }
                c.call(
                    &w.admin,
                    M::POST,
                    &format!("{EM}/assignmentRequests"),
                    Some(body),
                )
                .await
                .map(|(s, v)| {
                    if s == 201 {
                        ledger
                            .lock()
                            .unwrap()
                            .requests
                            .insert(v["id"].as_str().unwrap().to_owned());
                    }
                })
            }
            // A user asks for the package that needs approval, and sometimes cancels.
            2 => {
                let body = json!({"requestType": "userAdd", "assignment": {"accessPackageId": w.gated_package}});
                match c
                    .call(
                        token,
                        M::POST,
                        &format!("{EM}/assignmentRequests"),
                        Some(body),
                    )
                    .await
                {
                    Some((201, v)) => {
                        let id = v["id"].as_str().unwrap().to_owned();
                        ledger.lock().unwrap().requests.insert(id.clone());
                        if rng.below(4) == 0 {
                            c.call(
                                token,
                                M::POST,
                                &format!("{EM}/assignmentRequests/{id}/cancel"),
                                None,
                            )
                            .await
                            .map(|(s, _)| {
                                if s == 200 {
                                    ledger.lock().unwrap().canceled.insert(id);
                                }
                            })
                        } else {
                            Some(())
                        }
                    }
                    Some(_) => Some(()),
                    None => None,
                }
            }
            // The approver decides one pending request.
            3 => {
                let path = format!(
                    "{EM}/accessPackageAssignmentApprovals/filterByCurrentUser(on='approver')"
                );
                match c.call(&w.approver, M::GET, &path, None).await {
                    Some((200, v)) => {
                        match v["value"].as_array().and_then(|a| a.first()).cloned() {
                            Some(a) => {
                                let id = a["id"].as_str().unwrap().to_owned();
                                let stage =
                                    a["stages"][0]["id"].as_str().unwrap_or_default().to_owned();
                                let approve = rng.below(3) != 0;
                                let body = json!({"reviewResult": if approve {"Approve"} else {"Deny"}, "justification": "crash test"});
                                c.call(
                                    &w.approver,
                                    M::PATCH,
                                    &format!(
                                        "{EM}/accessPackageAssignmentApprovals/{id}/stages/{stage}"
                                    ),
                                    Some(body),
                                )
                                .await
                                .map(|(s, _)| {
                                    if s == 204 {
                                        let mut l = ledger.lock().unwrap();
                                        if approve {
                                            l.approved.insert(id)
                                        } else {
                                            l.denied.insert(id)
                                        };
                                    }
                                })
                            }
                            None => Some(()),
                        }
                    }
                    Some(_) => Some(()),
                    None => None,
                }
            }
            // An administrator removes a delivered assignment.
            _ => match c
                .call(
                    &w.admin,
                    M::GET,
                    &format!("{EM}/assignments?$filter=state eq 'delivered'&$top=999"),
                    None,
                )
                .await
            {
                Some((200, v)) => {
                    let live: Vec<String> = v["value"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|a| a["state"] == "delivered")
                        .map(|a| a["id"].as_str().unwrap().to_owned())
                        .collect();
                    if live.is_empty() {
                        Some(())
                    } else {
                        let id = live[rng.below(live.len() as u64) as usize].clone();
                        let body = json!({"requestType": "adminRemove", "assignment": {"id": id}});
                        c.call(
                            &w.admin,
                            M::POST,
                            &format!("{EM}/assignmentRequests"),
                            Some(body),
                        )
                        .await
                        .map(|(s, v)| {
                            if s == 201 {
                                let mut l = ledger.lock().unwrap();
                                l.requests.insert(v["id"].as_str().unwrap().to_owned());
                                l.removed.insert(id);
                            }
                        })
                    }
                }
                Some(_) => Some(()),
                None => None,
            },
        };
        if outcome.is_none() {
            return;
        }
    }
}

async fn crash_run(backend: Backend, kills: usize) {
    let dir = temp_dir();
    let database = match backend {
        Backend::Sqlite => dir.0.join("crash.db").to_string_lossy().to_string(),
        Backend::Postgres => {
            let Some(url) = pg_url() else { return };
            use sqlx::Connection as _;
            let name = format!("crash_{}", uuid::Uuid::now_v7().simple());
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .unwrap();
            let (base, _) = url.rsplit_once('/').unwrap();
            format!("{base}/{name}")
        }
    };
    let seed = std::env::var("CONSULATE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| jiff::Timestamp::now().as_nanosecond() as u64);
    println!("crash run on {backend:?}: {kills} kills, CONSULATE_CRASH_SEED={seed}");
    let mut rng = Rng(seed | 1);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let (mut server, token) = serve(&database, &dir.0.join("0.log")).await;
    let admin = token.expect("first start prints the bootstrap token");
    let c = Client {
        http: http.clone(),
        base: server.base.clone(),
    };
    let world = Arc::new(setup(&c, admin, &database).await);
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    for round in 0..kills {
        let c = Client {
            http: http.clone(),
            base: server.base.clone(),
        };
        let workers: Vec<_> = (0..4)
            .map(|_| tokio::spawn(work(c.clone(), world.clone(), ledger.clone(), rng.next())))
            .collect();
        tokio::time::sleep(Duration::from_millis(150 + rng.below(600))).await;
        server.child.start_kill().unwrap();
        server.child.wait().await.unwrap();
        for w in workers {
            w.await.unwrap();
        }
        server = serve(&database, &dir.0.join(format!("{}.log", round + 1)))
            .await
            .0;
    }
    let c = Client {
        http,
        base: server.base.clone(),
    };
    let ledger = std::mem::take(&mut *ledger.lock().unwrap());
    check(&c, &world, &ledger).await;
    let pid = server.child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(server.child.wait().await.unwrap().success());
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_consulate"))
        .args(["audit", "verify", "--database", &database])
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "audit chain: {out:?}");
    if backend == Backend::Postgres {
        use sqlx::Connection as _;
        let (url, name) = database.rsplit_once('/').unwrap();
        let mut conn = sqlx::PgConnection::connect(&format!("{url}/test"))
            .await
            .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {name} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await
        .unwrap();
    }
}

/// Waits for the workers to finish what was acknowledged, then checks every invariant.
async fn check(c: &Client, w: &World, ledger: &Ledger) {
    use reqwest::Method as M;
    let (mut requests, mut assignments) = (Vec::new(), Vec::new());
    for _ in 0..600 {
        requests = c.all(&w.admin, &format!("{EM}/assignmentRequests")).await;
        assignments = c.all(&w.admin, &format!("{EM}/assignments")).await;
        let preview = c
            .ok(&w.admin, M::GET, "/admin/v1/lifecycle/preview", Value::Null)
            .await;
        let busy = requests.iter().any(|r| {
            matches!(
                r["state"].as_str(),
                Some("submitted" | "delivering" | "scheduled")
            )
        }) || assignments.iter().any(|a| a["state"] == "delivering")
            || !preview["expire"].as_array().unwrap().is_empty();
        if !busy {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let states: BTreeMap<&str, &str> = requests
        .iter()
        .map(|r| (r["id"].as_str().unwrap(), r["state"].as_str().unwrap()))
        .collect();
    for id in &ledger.requests {
        let state = states
            .get(id.as_str())
            .unwrap_or_else(|| panic!("acknowledged request {id} lost"));
        // deliveryFailed: a two-second assignment whose end passed while the server was down
        // is not delivered after its end.
        assert!(
            matches!(
                *state,
                "delivered" | "denied" | "canceled" | "pendingApproval" | "deliveryFailed"
            ),
            "request {id} stuck in {state}"
        );
    }
    for (set, want) in [
        (&ledger.canceled, "canceled"),
        (&ledger.denied, "denied"),
        (&ledger.approved, "delivered"),
    ] {
        for id in set {
            assert_eq!(states.get(id.as_str()), Some(&want), "request {id}");
        }
    }
    let by_id: BTreeMap<&str, &Value> = assignments
        .iter()
        .map(|a| (a["id"].as_str().unwrap(), a))
        .collect();
    for id in &ledger.removed {
        assert_ne!(
            by_id[id.as_str()]["state"],
            "delivered",
            "removed assignment {id} still delivered"
        );
    }
    // A delivered request has its assignment; grants are exactly the delivered assignments.
    for r in &requests {
        let adds = matches!(r["requestType"].as_str(), Some("adminAdd" | "userAdd"));
        if adds && r["state"] == "delivered" {
            let a = r["assignment"]["id"]
                .as_str()
                .expect("delivered request has an assignment");
            let state = by_id
                .get(a)
                .map(|a| a["state"].as_str().unwrap_or_default());
            assert!(
                matches!(state, Some("delivered" | "expired")),
                "assignment {a} of {} is {state:?}",
                r["id"]
            );
        }
    }
    let holders: BTreeSet<String> = assignments
        .iter()
        .filter(|a| a["state"] == "delivered")
        .map(|a| a["target"]["objectId"].as_str().unwrap().to_owned())
        .collect();
    let members: Vec<String> = c
        .all(&w.admin, &format!("/v1.0/groups/{}/members", w.group))
        .await
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    let unique: BTreeSet<String> = members.iter().cloned().collect();
    assert_eq!(unique.len(), members.len(), "duplicated membership");
    assert_eq!(
        unique, holders,
        "memberships must match delivered assignments"
    );
    // Every request was recorded once and delivered at most once.
    let audit = |activity: &str, kind: &'static str| {
        let path = format!(
            "/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq '{activity}'&$top=999"
        );
        let c = c.clone();
        let admin = w.admin.clone();
        async move {
            let mut n = BTreeMap::<String, usize>::new();
            let mut next = Some(path);
            while let Some(p) = next {
                let v = c.ok(&admin, M::GET, &p, Value::Null).await;
                for e in v["value"].as_array().unwrap() {
                    for t in e["targetResources"].as_array().unwrap() {
                        if t["type"] == kind {
                            *n.entry(t["id"].as_str().unwrap().to_owned()).or_default() += 1;
                        }
                    }
                }
                next = v["@odata.nextLink"]
                    .as_str()
                    .map(|l| l.trim_start_matches(&c.base).to_owned());
            }
            n
        }
    };
    let recorded = audit(
        "Request access package assignment",
        "accessPackageAssignmentRequest",
    )
    .await;
    let removed = audit(
        "Remove access package assignment",
        "accessPackageAssignment",
    )
    .await;
    for r in &requests {
        let id = r["id"].as_str().unwrap();
        match r["requestType"].as_str() {
            Some("systemRemove") => continue, // recorded by the expiry event
            Some("adminRemove") => {
                let a = r["assignment"]["id"].as_str().unwrap();
                assert_eq!(removed.get(a), Some(&1), "removal {r}");
                continue;
            }
            _ => {}
        }
        assert_eq!(
            recorded.get(id),
            Some(&1),
            "request {r} recorded {:?} times",
            recorded.get(id)
        );
    }
    println!(
        "{} requests ({} acknowledged; {} approved, {} denied, {} canceled, {} removals), {} assignments, {} members",
        requests.len(),
        ledger.requests.len(),
        ledger.approved.len(),
        ledger.denied.len(),
        ledger.canceled.len(),
        ledger.removed.len(),
        assignments.len(),
        members.len()
    );
}

fn kills(default: usize) -> usize {
    std::env::var("CONSULATE_CRASH_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_sqlite() {
    crash_run(Backend::Sqlite, kills(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_postgres() {
    crash_run(Backend::Postgres, kills(3)).await;
}
