//! Typed filters: what a `$filter` means once bound to a resource's fields. The API binds the
//! parsed OData expression to one of these (rejecting unknown fields and wrong types); the store
//! translates it to SQL against a whitelist of columns. String comparisons are
//! case-insensitive, as in the directory Graph fronts.

use crate::Timestamp;

/// A typed literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    String(String),
    Int(i64),
    Bool(bool),
    Timestamp(Timestamp),
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextMatch {
    StartsWith,
    EndsWith,
    Contains,
}

/// A filter over the fields `F` of one resource (and of its child collections).
#[derive(Debug, Clone, PartialEq)]
pub enum Filter<F> {
    Compare {
        field: F,
        op: Compare,
        value: Value,
    },
    Text {
        field: F,
        op: TextMatch,
        value: String,
    },
    In {
        field: F,
        values: Vec<Value>,
    },
    And(Box<Filter<F>>, Box<Filter<F>>),
    Or(Box<Filter<F>>, Box<Filter<F>>),
    Not(Box<Filter<F>>),
    /// `collection/any(x: …)`: some element of a child collection satisfies the inner filter.
    Any {
        collection: F,
        filter: Box<Filter<F>>,
    },
}

/// Sort direction of one `$orderby` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Ascending,
    Descending,
}

/// The fields of a connected organization that `$filter` and `$orderby` may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrganizationField {
    Id,
    DisplayName,
    Description,
    State,
    CreatedDateTime,
    ModifiedDateTime,
    /// The `identitySources` collection (only as the collection of an `any`).
    IdentitySources,
    /// Inside `identitySources/any`: the source's `@odata.type` (a type-cast segment).
    SourceType,
    SourceDomainName,
    SourceTenantId,
    SourceIssuerUri,
    SourceDisplayName,
    SourceCloudInstance,
}

/// The fields of a user that `$filter` may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserField {
    Id,
    DisplayName,
    Mail,
    UserPrincipalName,
    UserType,
    AccountEnabled,
    CreationType,
    ExternalUserState,
    CreatedDateTime,
    /// The `identities` collection (only as the collection of an `any`).
    Identities,
    IdentityIssuer,
    IdentityIssuerAssignedId,
    IdentitySignInType,
}

/// The fields of a group that `$filter` may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupField {
    Id,
    DisplayName,
    Description,
    MailNickname,
    SecurityEnabled,
    MailEnabled,
    CreatedDateTime,
}

/// The fields of an access package catalog that `$filter` may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogField {
    Id,
    DisplayName,
    Description,
    CatalogType,
    State,
    IsExternallyVisible,
    CreatedDateTime,
    ModifiedDateTime,
}

/// The fields of an application that `$filter` may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationField {
    Id,
    AppId,
    DisplayName,
    CreatedDateTime,
}

/// The fields of a catalog resource that `$filter` may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceField {
    Id,
    DisplayName,
    OriginId,
    OriginSystem,
    CreatedDateTime,
}

/// The fields of a catalog resource role that `$filter` may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceRoleField {
    Id,
    DisplayName,
    OriginId,
    OriginSystem,
    /// `resource/id`.
    ResourceId,
}

/// The fields of a resource request that `$filter` may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceRequestField {
    Id,
    RequestType,
    State,
    /// `catalog/id`.
    CatalogId,
    /// `resource/originId`.
    ResourceOriginId,
    CreatedDateTime,
}

/// The fields of an access package that `$filter` may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessPackageField {
    Id,
    DisplayName,
    Description,
    IsHidden,
    /// `catalog/id`.
    CatalogId,
    CreatedDateTime,
    ModifiedDateTime,
}

/// The fields of an access package assignment request that `$filter` may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignmentRequestField {
    Id,
    State,
    RequestType,
    /// `accessPackage/id`.
    AccessPackageId,
    /// `requestor/objectId` (the target: Graph's requestor subject).
    RequestorObjectId,
    /// `assignment/id`.
    AssignmentId,
    CreatedDateTime,
    CompletedDateTime,
}

/// The fields of an access package assignment that `$filter` may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignmentField {
    Id,
    State,
    /// `accessPackage/id`.
    AccessPackageId,
    /// `assignmentPolicy/id`.
    AssignmentPolicyId,
    /// `target/objectId`.
    TargetObjectId,
    ExpiredDateTime,
}

/// The fields of an assignment policy that `$filter` may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyField {
    Id,
    DisplayName,
    /// `accessPackage/id`.
    AccessPackageId,
    /// `catalog/id`.
    CatalogId,
    AllowedTargetScope,
    CreatedDateTime,
    ModifiedDateTime,
}

/// The fields of an entitlement-management role assignment that `$filter` may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleAssignmentField {
    Id,
    PrincipalId,
    RoleDefinitionId,
    AppScopeId,
}

/// The fields of an audit event that `$filter` may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditField {
    Id,
    ActivityDateTime,
    Category,
    ActivityDisplayName,
    Result,
    /// The `targetResources` collection and its `id` (only inside an `any`).
    TargetResources,
    TargetResourceId,
    InitiatedByUserId,
    InitiatedByAppId,
}
