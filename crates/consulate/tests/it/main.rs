//! Integration tests: real servers on 127.0.0.1:0 over real SQLite files and PostgreSQL
//! schemas, driven over HTTP, and the `consulate` binary driven as a process.

mod access_packages;
mod admin_center;
mod approvals;
mod audit;
mod authz_matrix;
mod browser;
mod catalog_roles;
mod catalogs;
mod cli;
mod connected_orgs;
mod crash;
mod directory;
mod eligibility;
mod errors;
mod extensions;
mod external_mfa;
mod external_users;
mod harness;
mod lifecycle;
mod local_sign_in;
mod managers;
mod oidc;
mod oidc_provider;
mod ops;
mod paging;
mod portal;
mod python_sdk;
mod reports;
mod resources;
mod sign_in;
mod sign_in_rules;
mod smtp_sink;
mod social;
mod sponsors;
mod tokens;
