//! First start against an empty database: create the tenant with its verified domain, a
//! bootstrap administrator user (Global Administrator) and a one-time application token with
//! every permission, which the operator uses to get in (and should revoke after creating
//! their own tokens).

use crate::auth::token_hash;
use crate::{App, ServiceResult, target};
use consulate_core::access::{Caller, DirectoryRole, Scope};
use consulate_core::audit::Category;
use consulate_core::directory::{Tenant, User, UserType};
use consulate_core::domain_name::DomainName;
use consulate_core::text;
use consulate_store::tokens::ApiToken;

/// What the first start created.
#[derive(Debug, Clone)]
pub struct Bootstrapped {
    pub tenant: Tenant,
    pub admin: User,
    pub token: ApiToken,
    /// The bootstrap token's secret, shown once.
    pub secret: String,
}

impl App {
    /// Creates the tenant if the database has none; `None` if it already existed.
    pub async fn bootstrap(
        &self,
        tenant_name: &str,
        domain: &str,
    ) -> ServiceResult<Option<Bootstrapped>> {
        if self.store.tenant().await?.is_some() {
            return Ok(None);
        }
        let domain = DomainName::parse(domain)?;
        let now = self.clock.now();
        let system = Caller::system();
        let mut tx = self.store.begin().await?;
        tx.lock_bootstrap().await?;
        if tx.tenant_exists().await? {
            return Ok(None);
        }
        let tenant = Tenant {
            id: self.ids.new_id(),
            display_name: text::display_name("tenantName", tenant_name)?,
            verified_domains: vec![domain.clone()],
            created_date_time: now,
        };
        tx.insert_tenant(&tenant).await?;
        let admin = User {
            id: self.ids.new_id(),
            display_name: "Bootstrap Administrator".into(),
            given_name: None,
            surname: None,
            mail: Some(format!("admin@{domain}")),
            user_principal_name: format!("admin@{domain}"),
            user_type: UserType::Member,
            account_enabled: true,
            identities: Vec::new(),
            creation_type: None,
            external_user_state: None,
            created_date_time: now,
        };
        tx.insert_user(&admin).await?;
        tx.assign_role(admin.id, DirectoryRole::GlobalAdministrator, now)
            .await?;
        let secret = crate::auth::new_secret();
        let token = ApiToken {
            id: self.ids.new_id(),
            name: "bootstrap".into(),
            scopes: Scope::ALL.into_iter().collect(),
            user_id: None,
            created_at: now,
            expires_at: None,
            revoked_at: None,
            last_used_at: None,
        };
        tx.insert_token(&token, &token_hash(&secret)).await?;
        let events = [
            self.event(
                &system,
                Category::DirectoryManagement,
                "Create tenant",
                "tenant.create",
                target("tenant", tenant.id, Some(&tenant.display_name)),
            ),
            self.event(
                &system,
                Category::UserManagement,
                "Add user",
                "user.create",
                target("user", admin.id, Some(&admin.user_principal_name)),
            ),
            self.event(
                &system,
                Category::DirectoryManagement,
                "Add member to role",
                "directoryRole.assign",
                target(
                    "user",
                    admin.id,
                    Some(DirectoryRole::GlobalAdministrator.display_name()),
                ),
            ),
            self.event(
                &system,
                Category::ApplicationManagement,
                "Create API token",
                "apiToken.create",
                target("apiToken", token.id, Some("bootstrap")),
            ),
        ];
        tx.commit(&events).await?;
        Ok(Some(Bootstrapped {
            tenant,
            admin,
            token,
            secret,
        }))
    }
}
