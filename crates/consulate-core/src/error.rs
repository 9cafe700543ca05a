//! The one error type of the domain. Adapters map it once to their wire shape.

use std::fmt;

/// What kind of object an error is about; used in messages and for mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    ConnectedOrganization,
    User,
    Group,
    DirectoryObject,
    ApiToken,
    IdentityProvider,
    AuditEvent,
    AccessPackageCatalog,
    Application,
    AccessPackageResource,
    AccessPackageResourceRequest,
    AccessPackage,
    AccessPackageResourceRoleScope,
    AssignmentPolicy,
    RoleAssignment,
    AssignmentRequest,
    Assignment,
    ApprovalStage,
    Authenticator,
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ObjectKind::ConnectedOrganization => "connectedOrganization",
            ObjectKind::User => "user",
            ObjectKind::Group => "group",
            ObjectKind::DirectoryObject => "directoryObject",
            ObjectKind::ApiToken => "apiToken",
            ObjectKind::IdentityProvider => "identityProvider",
            ObjectKind::AuditEvent => "auditEvent",
            ObjectKind::AccessPackageCatalog => "accessPackageCatalog",
            ObjectKind::Application => "application",
            ObjectKind::AccessPackageResource => "accessPackageResource",
            ObjectKind::AccessPackageResourceRequest => "accessPackageResourceRequest",
            ObjectKind::AccessPackage => "accessPackage",
            ObjectKind::AccessPackageResourceRoleScope => "accessPackageResourceRoleScope",
            ObjectKind::AssignmentPolicy => "accessPackageAssignmentPolicy",
            ObjectKind::RoleAssignment => "unifiedRoleAssignment",
            ObjectKind::AssignmentRequest => "accessPackageAssignmentRequest",
            ObjectKind::Assignment => "accessPackageAssignment",
            ObjectKind::ApprovalStage => "approvalStage",
            ObjectKind::Authenticator => "authenticator",
        })
    }
}

/// Every way a domain operation can refuse. Each variant maps to one HTTP status and one
/// stable Graph error `code` in the API adapter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// Input that breaks a rule: a missing or oversized property, a malformed domain, …
    #[error("{message}")]
    Invalid {
        target: Option<String>,
        message: String,
    },
    /// The object does not exist (or the caller may not know it does).
    #[error("{kind} '{id}' was not found")]
    NotFound { kind: ObjectKind, id: String },
    /// The change conflicts with existing state (a duplicate domain, a referenced object, …).
    #[error("{message}")]
    Conflict { message: String },
    /// The caller is authenticated but lacks the permission or role.
    #[error("{message}")]
    Forbidden { message: String },
    /// No valid credential was presented.
    #[error("{message}")]
    Unauthenticated { message: String },
    /// Well-formed, but it contradicts an earlier request (an idempotency key reused with
    /// another body).
    #[error("{message}")]
    Unprocessable { message: String },
}

impl DomainError {
    pub fn invalid(target: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Invalid {
            target: Some(target.into()),
            message: message.into(),
        }
    }
    pub fn not_found(kind: ObjectKind, id: impl Into<String>) -> Self {
        DomainError::NotFound {
            kind,
            id: id.into(),
        }
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        DomainError::Conflict {
            message: message.into(),
        }
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        DomainError::Forbidden {
            message: message.into(),
        }
    }
}

pub type DomainResult<T> = Result<T, DomainError>;
