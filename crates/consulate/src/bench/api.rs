//! The HTTP side of the bench: the paths it calls and a keep-alive client that carries the
//! bootstrap token and times each exchange.

use anyhow::{Context as _, bail};
use reqwest::{RequestBuilder, StatusCode};
use std::time::{Duration, Instant};

pub(super) const ORGS_PATH: &str =
    "/v1.0/identityGovernance/entitlementManagement/connectedOrganizations";
pub(super) const USERS_PATH: &str = "/v1.0/users";

/// A keep-alive HTTP client with the bench's token.
pub(super) struct Api {
    http: reqwest::Client,
    pub(super) base: String,
    token: String,
}

impl Api {
    pub(super) fn new(base: &str, token: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .context("building the HTTP client")?;
        Ok(Api {
            http,
            base: base.to_owned(),
            token: token.to_owned(),
        })
    }

    /// GETs an absolute URL; returns the time to the last byte of the body, and the body.
    pub(super) async fn get(&self, url: &str) -> anyhow::Result<(Duration, Vec<u8>)> {
        let (elapsed, body) = self
            .send(
                || format!("GET {url}"),
                |status| status.is_success(),
                |http| http.get(url),
            )
            .await?;
        Ok((elapsed, body.as_ref().to_vec()))
    }

    /// POSTs `body` to `path` (relative to the server); the created object's id.
    pub(super) async fn create(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> anyhow::Result<String> {
        let url = format!("{}{path}", self.base);
        let (_, bytes) = self
            .send(
                || format!("POST {path}"),
                |status| status == StatusCode::CREATED,
                |http| http.post(&url).json(body),
            )
            .await?;
        let v: serde_json::Value = serde_json::from_slice(bytes.as_ref())?;
        Ok(v["id"].as_str().context("an id")?.to_owned())
    }

    /// GETs `path` (relative to the server) as JSON.
    pub(super) async fn json(&self, path: &str) -> anyhow::Result<serde_json::Value> {
        let url = format!("{}{path}", self.base);
        let (_, bytes) = self
            .send(
                || format!("GET {path}"),
                |status| status.is_success(),
                |http| http.get(&url),
            )
            .await?;
        Ok(serde_json::from_slice(bytes.as_ref())?)
    }

    /// A catalog holding a new group, and an access package granting its Member role:
    /// (catalog, package).
    pub(super) async fn group_package(&self) -> anyhow::Result<(String, String)> {
        use serde_json::json;
        const EM: &str = "/v1.0/identityGovernance/entitlementManagement";
        let cat = self
            .create(&format!("{EM}/catalogs"), &json!({"displayName": "Bench"}))
            .await?;
        let group = self
            .create(
                "/v1.0/groups",
                &json!({"displayName": "Bench members", "mailNickname": "benchmembers"}),
            )
            .await?;
        self.create(
            &format!("{EM}/resourceRequests"),
            &json!({"requestType": "adminAdd", "resource": {"originId": group, "originSystem": "AadGroup"}, "catalog": {"id": cat}}),
        )
        .await?;
        let roles = self
            .json(&format!(
                "{EM}/catalogs/{cat}/resourceRoles?$filter=displayName eq 'Member'"
            ))
            .await?;
        let role = roles["value"][0]["id"]
            .as_str()
            .context("the Member role")?
            .to_owned();
        let package = self
            .create(
                &format!("{EM}/accessPackages"),
                &json!({"displayName": "Bench access", "catalog": {"id": cat}}),
            )
            .await?;
        self.create(
            &format!("{EM}/accessPackages/{package}/resourceRoleScopes"),
            &json!({"role": {"id": role}}),
        )
        .await?;
        Ok((cat, package))
    }

    /// Builds a request with `build`, sends it with the token and reads the whole body.
    /// Returns the time from building the request to the last byte of the body, and the
    /// body; fails, naming the request with `what`, unless `expected(status)`.
    pub(super) async fn send(
        &self,
        what: impl Fn() -> String,
        expected: impl FnOnce(StatusCode) -> bool,
        build: impl FnOnce(&reqwest::Client) -> RequestBuilder,
    ) -> anyhow::Result<(Duration, impl AsRef<[u8]>)> {
        let t = Instant::now();
        let resp = build(&self.http)
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(&what)?;
        let status = resp.status();
        let body = resp.bytes().await.with_context(&what)?;
        let elapsed = t.elapsed();
        if !expected(status) {
            bail!("{}: {status}: {}", what(), String::from_utf8_lossy(&body));
        }
        Ok((elapsed, body))
    }
}
