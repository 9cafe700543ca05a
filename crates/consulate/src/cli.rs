//! Command-line interface.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "consulate",
    version,
    about = "Self-hosted entitlement management with connected organizations"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Where the database is.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// SQLite file path or postgres:// URL.
    #[arg(
        long = "database",
        env = "CONSULATE_DATABASE_URL",
        default_value = "consulate.db"
    )]
    pub database: String,
}

/// Where a running server is, and the token to call it with.
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// Base URL of a running Consulate server.
    #[arg(
        long = "server",
        env = "CONSULATE_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub server: String,
    /// API token (csl_…).
    #[arg(long = "token", env = "CONSULATE_TOKEN", hide_env_values = true)]
    pub token: String,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum SqliteSyncArg {
    Full,
    Normal,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Address to listen on.
    #[arg(long, env = "CONSULATE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Absolute URL clients use to reach this server (for @odata.nextLink and mail links).
    /// Defaults to http://<listen>.
    #[arg(long, env = "CONSULATE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Verified domain of the tenant created on first start.
    #[arg(
        long,
        env = "CONSULATE_TENANT_DOMAIN",
        default_value = "consulate.example"
    )]
    pub tenant_domain: String,
    /// Display name of the tenant created on first start.
    #[arg(long, env = "CONSULATE_TENANT_NAME", default_value = "Consulate")]
    pub tenant_name: String,
    /// Log format.
    #[arg(long, env = "CONSULATE_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// SQLite durability (full syncs every commit).
    #[arg(
        long,
        env = "CONSULATE_SQLITE_SYNCHRONOUS",
        value_enum,
        default_value = "full"
    )]
    pub sqlite_synchronous: SqliteSyncArg,
    /// Maximum database connections.
    #[arg(long, env = "CONSULATE_DB_MAX_CONNECTIONS", default_value_t = 8)]
    pub db_max_connections: u32,
    /// SMTP relay for sign-in codes and notices, e.g. smtp://relay:587?tls=required or
    /// smtps://user:password@relay:465. Without one, mail is written to --mail-dir.
    #[arg(long, env = "CONSULATE_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Sender address of Consulate's mail (default: Consulate <no-reply@TENANT_DOMAIN>).
    #[arg(long, env = "CONSULATE_MAIL_FROM")]
    pub mail_from: Option<String>,
    /// Folder that receives mail as .eml files when no SMTP relay is set (default:
    /// mail-outbox beside the SQLite database).
    #[arg(long, env = "CONSULATE_MAIL_DIR")]
    pub mail_dir: Option<std::path::PathBuf>,
    /// Digits in an email one-time passcode (6 to 10).
    #[arg(long, env = "CONSULATE_OTP_DIGITS", default_value_t = 8)]
    pub otp_digits: u32,
    /// Minutes an email one-time passcode stays valid (1 to 30).
    #[arg(long, env = "CONSULATE_OTP_MINUTES", default_value_t = 10)]
    pub otp_minutes: u64,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (creates and migrates the database on first start).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(DatabaseArgs),
    /// Administration that works on the database directly.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Connected organizations, through a running server's API.
    #[command(name = "connected-org")]
    ConnectedOrg {
        #[command(flatten)]
        server: ServerArgs,
        #[command(subcommand)]
        command: ConnectedOrgCommand,
    },
    /// Access package catalogs, through a running server's API.
    Catalog {
        #[command(flatten)]
        server: ServerArgs,
        #[command(subcommand)]
        command: CatalogCommand,
    },
    /// Access packages and the resource roles they grant, through a server's API.
    Package {
        #[command(flatten)]
        server: ServerArgs,
        #[command(subcommand)]
        command: PackageCommand,
    },
    /// Assignment policies, through a server's API.
    Policy {
        #[command(flatten)]
        server: ServerArgs,
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Known identity providers (partner tenants and federated OpenID Connect providers)
    /// and the domains they sign in, through a server's API.
    #[command(name = "identity-provider", visible_alias = "idp")]
    IdentityProvider {
        #[command(flatten)]
        server: ServerArgs,
        #[command(subcommand)]
        command: IdentityProviderCommand,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Measure list/search latency, principal matching and bulk-create throughput against
    /// their targets on a fresh database, and report the results as markdown (exit code 2
    /// when a target is missed).
    Bench(BenchArgs),
    /// Measure requests to delivered assignments (auto-approved `userAdd` from distinct users).
    BenchLifecycle(LifecycleBenchArgs),
    /// Measure the expiry sweep: many delivered assignments, the clock moved past their end,
    /// until the server has ended them all and delivered the revocations.
    BenchExpiry(ExpiryBenchArgs),
}

/// Sizes and outputs of `consulate bench-expiry`.
#[derive(Debug, Clone, Args)]
pub struct ExpiryBenchArgs {
    /// Active assignments (and distinct users) to expire.
    #[arg(long, default_value_t = 100_000)]
    pub assignments: usize,
    /// Timed reads while they are all active.
    #[arg(long, default_value_t = 200)]
    pub samples: usize,
    /// A new SQLite file or a postgres:// URL of an empty database. Default: a temporary
    /// SQLite file, deleted at the end.
    #[arg(long)]
    pub database: Option<String>,
    /// Maximum database connections.
    #[arg(long, default_value_t = 8)]
    pub db_max_connections: u32,
    /// Give up after this many seconds of sweeping.
    #[arg(long, default_value_t = 3_600)]
    pub timeout_seconds: u64,
    /// Also write the markdown section to this file, replacing it.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

/// Sizes and outputs of `consulate bench-lifecycle`.
#[derive(Debug, Clone, Args)]
pub struct LifecycleBenchArgs {
    /// Requests (and distinct requesting users).
    #[arg(long, default_value_t = 20_000)]
    pub requests: usize,
    /// Concurrent keep-alive HTTP clients.
    #[arg(long, default_value_t = 32)]
    pub clients: usize,
    /// A new SQLite file or a postgres:// URL of an empty database. Default: a temporary
    /// SQLite file, deleted at the end.
    #[arg(long)]
    pub database: Option<String>,
    /// Maximum database connections.
    #[arg(long, default_value_t = 8)]
    pub db_max_connections: u32,
    /// Requests need one approval: measure the approvers' decisions (`PATCH …/stages/{id}`)
    /// instead of auto-approved delivery.
    #[arg(long)]
    pub approvals: bool,
    /// Also write the markdown section to this file, replacing it.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

/// Sizes and outputs of `consulate bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Connected organizations to create over HTTP; they are also the data set of the read
    /// benchmarks.
    #[arg(long, default_value_t = 25_000)]
    pub orgs: usize,
    /// Users to seed (written directly through the store: setup, not measured).
    #[arg(long, default_value_t = 100_000)]
    pub users: usize,
    /// Concurrent HTTP clients in the bulk create.
    #[arg(long, default_value_t = 16)]
    pub clients: usize,
    /// Timed requests per read query kind (and per eligibility measurement).
    #[arg(long, default_value_t = 1000)]
    pub samples: usize,
    /// Eligibility tenant: catalogs (Entra's per-tenant maximum by default).
    #[arg(long, default_value_t = 7_500)]
    pub catalogs: usize,
    /// Eligibility tenant: access packages.
    #[arg(long, default_value_t = 20_000)]
    pub packages: usize,
    /// Eligibility tenant: assignment policies.
    #[arg(long, default_value_t = 25_000)]
    pub policies: usize,
    /// Eligibility tenant: connected organizations.
    #[arg(long, default_value_t = 2_500)]
    pub partner_orgs: usize,
    /// SQLite file to run on; it must not exist yet and is kept afterwards. Default: a fresh
    /// file in a temporary directory, deleted at the end.
    #[arg(long)]
    pub database: Option<PathBuf>,
    /// Also write the markdown report to this file, replacing it.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Set a user's sign-in password (read from CONSULATE_NEW_PASSWORD, else the first line
    /// of standard input), e.g. for the administrator created on first start.
    Password {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The user (id, userPrincipalName or mail).
        #[arg(long)]
        user: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Mint a token and print it once.
    Create {
        #[command(flatten)]
        db: DatabaseArgs,
        /// A name for the application (or script) using the token.
        #[arg(long)]
        name: String,
        /// Permissions, comma-separated (e.g. EntitlementManagement.ReadWrite.All,User.ReadWrite.All).
        #[arg(long)]
        scopes: String,
        /// Make a delegated token acting for this user (id, userPrincipalName or mail).
        #[arg(long = "as-user")]
        as_user: Option<String>,
        /// Days until the token expires (default: never).
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
    /// List tokens (never their secrets).
    List {
        #[command(flatten)]
        db: DatabaseArgs,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by id.
    Revoke {
        #[command(flatten)]
        db: DatabaseArgs,
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain and report the first tampered, missing or reordered event.
    Verify {
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum SponsorSide {
    Internal,
    External,
}

#[derive(Debug, Subcommand)]
pub enum ConnectedOrgCommand {
    /// List connected organizations.
    List {
        /// Search by name (contains, case-insensitive; never by domain).
        #[arg(long)]
        search: Option<String>,
        /// An OData $filter.
        #[arg(long)]
        filter: Option<String>,
        /// Fetch every page.
        #[arg(long)]
        all: bool,
        /// Page size.
        #[arg(long, default_value_t = 100)]
        top: u32,
    },
    /// Show one connected organization with its sponsors.
    Show { id: String },
    /// Add a connected organization.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        description: Option<String>,
        /// An email domain (users sign in with a one-time passcode unless a known IdP owns it).
        #[arg(long, conflicts_with_all = ["tenant_id", "social"])]
        domain: Option<String>,
        /// A partner tenant id.
        #[arg(long, conflicts_with_all = ["domain", "social"])]
        tenant_id: Option<String>,
        /// With --domain: the issuer of the partner's federated IdP.
        #[arg(long, requires = "domain")]
        issuer: Option<String>,
        /// A social provider's accounts for this domain name (facebook).
        #[arg(long, conflicts_with_all = ["domain", "tenant_id"])]
        social: Option<String>,
        /// configured (default) or proposed.
        #[arg(long)]
        state: Option<String>,
    },
    /// Change name, description or state.
    Update {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        state: Option<String>,
    },
    /// Delete a connected organization.
    Delete { id: String },
    /// Sponsors of a connected organization.
    Sponsor {
        #[command(subcommand)]
        command: SponsorCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum SponsorCommand {
    List {
        id: String,
        #[arg(long, value_enum)]
        side: SponsorSide,
    },
    Add {
        id: String,
        #[arg(long, value_enum)]
        side: SponsorSide,
        /// User id (or group id with --group).
        #[arg(long)]
        user: String,
        #[arg(long)]
        group: bool,
    },
    Remove {
        id: String,
        #[arg(long, value_enum)]
        side: SponsorSide,
        #[arg(long)]
        user: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// List catalogs.
    List {
        /// Search by name (contains, case-insensitive).
        #[arg(long)]
        search: Option<String>,
        /// An OData $filter.
        #[arg(long)]
        filter: Option<String>,
        /// Fetch every page.
        #[arg(long)]
        all: bool,
    },
    /// Show one catalog.
    Show { id: String },
    /// Add a catalog.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        description: Option<String>,
        /// Keep its access packages from users outside the directory.
        #[arg(long)]
        internal_only: bool,
        /// Create it unpublished.
        #[arg(long)]
        unpublished: bool,
    },
    /// Change a catalog.
    Update {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// published or unpublished.
        #[arg(long)]
        state: Option<String>,
        /// Whether users outside the directory may request its access packages.
        #[arg(long)]
        external: Option<bool>,
    },
    /// Delete a catalog.
    Delete { id: String },
    /// List a catalog's resources with their roles.
    Resources { id: String },
    /// Add a group, an application or a directory role to a catalog.
    AddResource {
        id: String,
        #[command(flatten)]
        resource: ResourceArg,
    },
    /// Remove a resource from a catalog.
    RemoveResource {
        id: String,
        #[command(flatten)]
        resource: ResourceArg,
    },
}

/// One resource of the directory.
#[derive(Debug, Clone, Args)]
#[group(required = true, multiple = false)]
pub struct ResourceArg {
    /// A group id.
    #[arg(long)]
    pub group: Option<String>,
    /// An application id.
    #[arg(long)]
    pub application: Option<String>,
    /// A directory role (template id or name, e.g. "Global Reader").
    #[arg(long)]
    pub directory_role: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum PackageCommand {
    /// List access packages.
    List {
        /// Only those of this catalog.
        #[arg(long)]
        catalog: Option<String>,
        /// Search by name (contains, case-insensitive).
        #[arg(long)]
        search: Option<String>,
        /// Fetch every page.
        #[arg(long)]
        all: bool,
    },
    /// Show a package with the roles it grants and its policies.
    Show { id: String },
    /// Add an access package to a catalog.
    Add {
        #[arg(long)]
        catalog: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        description: Option<String>,
        /// Hide it from requestors' lists (still requestable by link).
        #[arg(long)]
        hidden: bool,
    },
    /// Change an access package.
    Update {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        hidden: Option<bool>,
    },
    /// Delete an access package.
    Delete { id: String },
    /// Grant a resource role of the catalog with the package (role id from
    /// `catalog resources`).
    AddRole {
        id: String,
        #[arg(long)]
        role: String,
    },
    /// Stop granting a role (`{roleId}_{scopeId}` from `package show`).
    RemoveRole {
        id: String,
        #[arg(long)]
        role_scope: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Requestors {
    /// Member users of the directory.
    Members,
    /// Members and guests of the directory.
    Directory,
    /// Users of the connected organizations given with --org.
    Orgs,
    /// Users of every configured connected organization.
    ConfiguredOrgs,
    /// Anyone, including users of organizations not yet connected.
    Anyone,
    /// Nobody requests; administrators assign directly.
    AdminOnly,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// List assignment policies.
    List {
        /// Only those of this access package.
        #[arg(long)]
        package: Option<String>,
    },
    /// Show one policy as JSON.
    Show { id: String },
    /// Create a policy from a Graph JSON body (a file, or - for standard input).
    Create {
        #[arg(long)]
        file: String,
    },
    /// Replace a policy (PUT) with a Graph JSON body (a file, or - for standard input).
    Replace {
        id: String,
        #[arg(long)]
        file: String,
    },
    /// Create a policy for the common cases without writing JSON.
    Add(QuickPolicy),
    /// Delete a policy.
    Delete { id: String },
}

/// The common policy cases, without writing JSON.
#[derive(Debug, Clone, Args)]
pub struct QuickPolicy {
    #[arg(long)]
    pub package: String,
    #[arg(long)]
    pub name: String,
    /// Who may request.
    #[arg(long, value_enum)]
    pub requestors: Requestors,
    /// A connected organization id (with --requestors orgs); repeatable.
    #[arg(long = "org")]
    pub orgs: Vec<String>,
    /// Days an assignment lasts (default: no expiry).
    #[arg(long)]
    pub days: Option<u32>,
    /// A user who approves; repeatable. Without one, requests are approved at once.
    #[arg(long = "approver")]
    pub approvers: Vec<String>,
    /// Let the requestor organization's internal sponsors approve.
    #[arg(long)]
    pub sponsors: bool,
    /// Requestors must give a justification.
    #[arg(long)]
    pub justification: bool,
}

#[derive(Debug, Subcommand)]
pub enum IdentityProviderCommand {
    /// List known identity providers with their domains.
    List,
    /// Register a partner tenant or a federated identity provider for some domains.
    Add {
        /// Display name.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        authority: ProviderAuthority,
        /// A domain whose users this provider signs in; repeatable.
        #[arg(long = "domain", value_name = "DOMAIN", required = true)]
        domains: Vec<String>,
        /// A social provider (consumer accounts): its users match no connected organization.
        #[arg(long)]
        social: bool,
    },
    /// Register Consulate as a client of a provider, so its users can sign in there.
    SignIn {
        /// The identity provider's id.
        id: String,
        /// The client id Consulate was registered with at the provider.
        #[arg(long)]
        client_id: String,
        #[command(flatten)]
        secret: ClientSecretArg,
        /// For a multi-tenant issuer: a tenant whose users may sign in; repeatable.
        #[arg(long = "allowed-tenant", value_name = "TENANT_ID")]
        allowed_tenants: Vec<String>,
    },
    /// Remove a known identity provider.
    Remove {
        /// The identity provider's id.
        id: String,
    },
}

/// Who signs a provider's users in: a partner tenant or an OpenID Connect issuer.
#[derive(Debug, Clone, Args)]
#[group(required = true, multiple = false)]
pub struct ProviderAuthority {
    /// A partner tenant's id.
    #[arg(long)]
    pub tenant_id: Option<String>,
    /// The issuer URL of a federated OpenID Connect provider.
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,
}

/// Where the client secret is read from (never the command line, which shell history and
/// `ps` would show).
#[derive(Debug, Clone, Args)]
#[group(required = true, multiple = false)]
pub struct ClientSecretArg {
    /// A file holding the client secret on one line (- for standard input).
    #[arg(long, value_name = "PATH")]
    pub client_secret_file: Option<PathBuf>,
    /// An environment variable holding the client secret.
    #[arg(long, value_name = "VAR")]
    pub client_secret_env: Option<String>,
}
