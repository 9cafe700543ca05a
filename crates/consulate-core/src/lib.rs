//! Consulate's domain: the entities of entitlement management, the rules that govern them and
//! the decisions made about them. Pure: no I/O, no clock reads, no async. Adapters (storage,
//! HTTP, sign-in) live in other crates and call into this one.
//!
//! - [`access_package`]: access packages, the resource roles they grant, incompatibilities.
//! - [`application`]: registered applications and their app roles.
//! - [`resource`]: catalog resources, their roles and scopes, and what granting a role means.
//! - [`policy`]: assignment policies: who may request, approval stages, questions, expiry.
//! - [`eligibility`]: who may request which access package under which policy, and why not.
//! - [`catalog_roles`]: catalog owner, reader, access package (assignment) manager, creator.
//! - [`lifecycle`]: request and assignment states and the only transitions between them.
//! - [`request`]: what a request must carry under its policy: justification, answers, schedule.
//! - [`catalog`]: access package catalogs, the built-in General catalog and their rules.
//! - [`connected_org`]: connected organizations, their identity sources and validation rules.
//! - [`matching`]: which connected organization an authenticated principal belongs to.
//! - [`directory`]: users, groups and the tenant's verified domains.
//! - [`access`]: API scopes, directory roles and the authorization decision for callers.
//! - [`audit`]: audit events and the hash chain that makes tampering detectable.
//! - [`identity_provider`]: known tenants and federated IdPs and the domains they own.
//! - [`domain_name`]: DNS domain validation and normalisation (lowercase, IDNA).
#![forbid(unsafe_code)]

pub mod access;
pub mod access_package;
pub mod application;
pub mod audit;
pub mod catalog;
pub mod catalog_roles;
pub mod connected_org;
pub mod directory;
pub mod domain_name;
pub mod eligibility;
pub mod error;
pub mod filter;
pub mod identity_provider;
pub mod lifecycle;
pub mod matching;
pub mod policy;
pub mod request;
pub mod resource;
pub mod sign_in;
pub mod sign_in_rules;
pub mod subject;
pub mod text;

pub use error::{DomainError, DomainResult};

/// A point in time, always UTC.
pub type Timestamp = jiff::Timestamp;
