//! Binds a parsed `$filter` to one resource's fields, producing the domain's typed
//! [`Filter`]. Anything the resource does not support is a 400 naming the problem; the store
//! only ever sees whitelisted fields.

use crate::error::ApiError;
use consulate_core::filter::{
    AccessPackageField, ApplicationField, AssignmentField, AssignmentRequestField, AuditField,
    CatalogField, Compare, Filter, GroupField, OrganizationField, PolicyField, ResourceField,
    ResourceRequestField, ResourceRoleField, RoleAssignmentField, TextMatch, UserField, Value,
};
use consulate_odata::{CompareOp, Expr, LambdaKind, Literal};

/// The type of a filterable property, which decides which literals it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Text,
    /// Text limited to these values (compared case-insensitively).
    Enum(&'static [&'static str]),
    Bool,
    Time,
    /// A collection usable only with `any`.
    Collection,
}

/// A resource's filter schema: property path → field and type. `lambda` is the cast segment
/// inside an `any` body (the path without the variable), `None` at top level.
pub trait Schema {
    type Field: Copy;
    fn top(path: &[&str]) -> Option<(Self::Field, FieldType)>;
    /// Inside `collection/any(v: …)`; `cast` is an optional type-cast segment.
    fn member(
        collection: Self::Field,
        cast: Option<&str>,
        path: &[&str],
    ) -> Option<(Self::Field, FieldType)>;
    /// The extra condition a type cast implies, if the collection supports casts.
    fn cast_filter(_collection: Self::Field, _cast: &str) -> Option<Filter<Self::Field>> {
        None
    }
}

fn err(msg: impl Into<String>) -> ApiError {
    ApiError::bad_request(msg).with_target("$filter")
}

/// Where binding happens: inside a lambda, the name of its variable.
struct Ctx<'a> {
    var: Option<&'a str>,
}

/// Binds `expr` under schema `S`.
pub fn bind<S: Schema>(expr: &Expr) -> Result<Filter<S::Field>, ApiError> {
    bind_in::<S>(expr, &Ctx { var: None }, None)
}

fn lower_cmp(op: CompareOp) -> Compare {
    match op {
        CompareOp::Eq => Compare::Eq,
        CompareOp::Ne => Compare::Ne,
        CompareOp::Gt => Compare::Gt,
        CompareOp::Ge => Compare::Ge,
        CompareOp::Lt => Compare::Lt,
        CompareOp::Le => Compare::Le,
    }
}

fn flip(op: CompareOp) -> CompareOp {
    match op {
        CompareOp::Gt => CompareOp::Lt,
        CompareOp::Ge => CompareOp::Le,
        CompareOp::Lt => CompareOp::Gt,
        CompareOp::Le => CompareOp::Ge,
        o => o,
    }
}

/// Resolves a path (possibly wrapped in `tolower`/`toupper`) to a field.
fn field<S: Schema>(
    e: &Expr,
    ctx: &Ctx,
    coll: Option<S::Field>,
) -> Result<(S::Field, FieldType), ApiError> {
    match e {
        Expr::Call { name, args }
            if (name == "tolower" || name == "toupper") && args.len() == 1 =>
        {
            field::<S>(&args[0], ctx, coll)
        }
        Expr::Path(segs) => {
            let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
            let shown = segs.join("/");
            match (ctx.var, coll) {
                (Some(var), Some(c)) => {
                    let rest = match segs.split_first() {
                        Some((first, rest)) if *first == var => rest,
                        _ => {
                            return Err(err(format!(
                                "'{shown}' must start with the lambda variable '{var}'"
                            )));
                        }
                    };
                    let (cast, rest) = match rest.split_first() {
                        Some((first, r)) if first.contains('.') => (Some(*first), r),
                        _ => (None, rest),
                    };
                    S::member(c, cast, rest)
                        .ok_or_else(|| err(format!("'{shown}' is not a filterable property here")))
                }
                _ => S::top(&segs).ok_or_else(|| {
                    err(format!(
                        "Could not find a filterable property named '{shown}'"
                    ))
                }),
            }
        }
        _ => Err(err(
            "a comparison needs a property on one side and a literal on the other",
        )),
    }
}

fn value(lit: &Literal, ty: FieldType, shown: &str) -> Result<Value, ApiError> {
    Ok(match (lit, ty) {
        (Literal::Null, _) => Value::Null,
        (Literal::String(s) | Literal::Guid(s), FieldType::Text) => Value::String(s.clone()),
        (Literal::String(s), FieldType::Enum(allowed)) => {
            let found = allowed
                .iter()
                .find(|a| a.eq_ignore_ascii_case(s))
                .ok_or_else(|| {
                    err(format!(
                        "'{s}' is not a value of {shown}; use one of {}",
                        allowed.join(", ")
                    ))
                })?;
            Value::String((*found).to_owned())
        }
        (Literal::Bool(b), FieldType::Bool) => Value::Bool(*b),
        (Literal::DateTime(s) | Literal::String(s), FieldType::Time) => {
            Value::Timestamp(parse_time(s)?)
        }
        (lit, FieldType::Collection) => {
            return Err(err(format!(
                "{shown} is a collection; compare inside any() instead of with {lit:?}"
            )));
        }
        (lit, ty) => {
            return Err(err(format!(
                "{lit:?} cannot be compared with {shown} ({ty:?})"
            )));
        }
    })
}

fn parse_time(s: &str) -> Result<jiff::Timestamp, ApiError> {
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Ok(t);
    }
    if let Ok(d) = s.parse::<jiff::civil::Date>() {
        return d
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
            .map_err(|e| err(format!("'{s}' is not a date-time: {e}")));
    }
    Err(err(format!(
        "'{s}' is not a date-time with an offset, like 2024-01-01T00:00:00Z"
    )))
}

fn bind_in<S: Schema>(
    e: &Expr,
    ctx: &Ctx,
    coll: Option<S::Field>,
) -> Result<Filter<S::Field>, ApiError> {
    Ok(match e {
        Expr::And(a, b) => Filter::And(
            Box::new(bind_in::<S>(a, ctx, coll)?),
            Box::new(bind_in::<S>(b, ctx, coll)?),
        ),
        Expr::Or(a, b) => Filter::Or(
            Box::new(bind_in::<S>(a, ctx, coll)?),
            Box::new(bind_in::<S>(b, ctx, coll)?),
        ),
        Expr::Not(a) => Filter::Not(Box::new(bind_in::<S>(a, ctx, coll)?)),
        Expr::Compare { op, left, right } => {
            let (path, lit, op) = match (&**left, &**right) {
                (p, Expr::Literal(l)) => (p, l, *op),
                (Expr::Literal(l), p) => (p, l, flip(*op)),
                _ => {
                    return Err(err(
                        "a comparison needs a property on one side and a literal on the other",
                    ));
                }
            };
            let (f, ty) = field::<S>(path, ctx, coll)?;
            let shown = describe(path);
            let v = value(lit, ty, &shown)?;
            if v == Value::Null && !matches!(op, CompareOp::Eq | CompareOp::Ne) {
                return Err(err("null can only be compared with eq or ne"));
            }
            Filter::Compare {
                field: f,
                op: lower_cmp(op),
                value: v,
            }
        }
        Expr::In { left, list } => {
            let (f, ty) = field::<S>(left, ctx, coll)?;
            let shown = describe(left);
            let values = list
                .iter()
                .map(|x| match x {
                    Expr::Literal(l) => value(l, ty, &shown),
                    _ => Err(err("'in' takes a list of literals")),
                })
                .collect::<Result<Vec<_>, _>>()?;
            Filter::In { field: f, values }
        }
        Expr::Call { name, args }
            if matches!(name.as_str(), "startswith" | "endswith" | "contains") =>
        {
            let (path, lit) = match args.as_slice() {
                [p, Expr::Literal(Literal::String(s))] => (p, s),
                _ => {
                    return Err(err(format!(
                        "{name}() takes a property and a string literal"
                    )));
                }
            };
            let (f, ty) = field::<S>(path, ctx, coll)?;
            if !matches!(ty, FieldType::Text | FieldType::Enum(_)) {
                return Err(err(format!(
                    "{name}() needs a text property; {} is not one",
                    describe(path)
                )));
            }
            let op = match name.as_str() {
                "startswith" => TextMatch::StartsWith,
                "endswith" => TextMatch::EndsWith,
                _ => TextMatch::Contains,
            };
            Filter::Text {
                field: f,
                op,
                value: lit.clone(),
            }
        }
        Expr::Lambda {
            kind,
            collection,
            variable,
            body,
        } => {
            if coll.is_some() {
                return Err(err("nested any() is not supported"));
            }
            if *kind == LambdaKind::All {
                return Err(err("all() is not supported; use any() or not any()"));
            }
            let segs: Vec<&str> = collection.iter().map(String::as_str).collect();
            let (c, ty) = S::top(&segs).ok_or_else(|| {
                err(format!(
                    "Could not find a collection named '{}'",
                    segs.join("/")
                ))
            })?;
            if ty != FieldType::Collection {
                return Err(err(format!("'{}' is not a collection", segs.join("/"))));
            }
            if variable.is_empty() {
                return Err(err(
                    "any() needs a lambda, like any(x: x/property eq 'value')",
                ));
            }
            let inner_ctx = Ctx {
                var: Some(variable),
            };
            let inner = bind_with_casts::<S>(body, &inner_ctx, c)?;
            Filter::Any {
                collection: c,
                filter: Box::new(inner),
            }
        }
        Expr::Literal(Literal::Bool(true)) => return Err(err("a bare 'true' is not a filter")),
        other => {
            return Err(err(format!(
                "unsupported filter expression: {}",
                describe(other)
            )));
        }
    })
}

/// Inside a lambda: a type cast on a member path also constrains the element's type.
fn bind_with_casts<S: Schema>(
    e: &Expr,
    ctx: &Ctx,
    c: S::Field,
) -> Result<Filter<S::Field>, ApiError> {
    let inner = bind_in::<S>(e, ctx, Some(c))?;
    let mut casts = Vec::new();
    collect_casts(e, ctx.var.unwrap_or(""), &mut casts);
    casts.sort();
    casts.dedup();
    let mut out = inner;
    for cast in casts {
        let cf = S::cast_filter(c, &cast)
            .ok_or_else(|| err(format!("'{cast}' is not a type of this collection")))?;
        out = Filter::And(Box::new(cf), Box::new(out));
    }
    Ok(out)
}

fn collect_casts(e: &Expr, var: &str, out: &mut Vec<String>) {
    match e {
        Expr::Path(segs) if segs.len() >= 2 && segs[0] == var && segs[1].contains('.') => {
            out.push(segs[1].clone())
        }
        Expr::Compare { left, right, .. } | Expr::And(left, right) | Expr::Or(left, right) => {
            collect_casts(left, var, out);
            collect_casts(right, var, out);
        }
        Expr::Not(a) => collect_casts(a, var, out),
        Expr::In { left, .. } => collect_casts(left, var, out),
        Expr::Call { args, .. } => args.iter().for_each(|a| collect_casts(a, var, out)),
        _ => {}
    }
}

fn describe(e: &Expr) -> String {
    match e {
        Expr::Path(p) => p.join("/"),
        Expr::Call { name, args } => format!(
            "{name}({})",
            args.iter().map(describe).collect::<Vec<_>>().join(",")
        ),
        Expr::Literal(l) => format!("{l:?}"),
        _ => "expression".into(),
    }
}

const STATES: &[&str] = &["configured", "proposed"];
const SOURCE_TYPES: [(&str, &str); 5] = [
    (
        "microsoft.graph.azureActiveDirectoryTenant",
        "#microsoft.graph.azureActiveDirectoryTenant",
    ),
    (
        "microsoft.graph.crossCloudAzureActiveDirectoryTenant",
        "#microsoft.graph.crossCloudAzureActiveDirectoryTenant",
    ),
    (
        "microsoft.graph.domainIdentitySource",
        "#microsoft.graph.domainIdentitySource",
    ),
    (
        "microsoft.graph.externalDomainFederation",
        "#microsoft.graph.externalDomainFederation",
    ),
    (
        "microsoft.graph.socialIdentitySource",
        "#microsoft.graph.socialIdentitySource",
    ),
];

/// `connectedOrganization` filters.
pub struct Organizations;

impl Schema for Organizations {
    type Field = OrganizationField;
    fn top(path: &[&str]) -> Option<(OrganizationField, FieldType)> {
        use OrganizationField::*;
        Some(match path {
            ["id"] => (Id, FieldType::Text),
            ["displayName"] => (DisplayName, FieldType::Text),
            ["description"] => (Description, FieldType::Text),
            ["state"] => (State, FieldType::Enum(STATES)),
            ["createdDateTime"] => (CreatedDateTime, FieldType::Time),
            ["modifiedDateTime"] => (ModifiedDateTime, FieldType::Time),
            ["identitySources"] => (IdentitySources, FieldType::Collection),
            _ => return None,
        })
    }
    fn member(
        _c: OrganizationField,
        cast: Option<&str>,
        path: &[&str],
    ) -> Option<(OrganizationField, FieldType)> {
        use OrganizationField::*;
        let known = [
            "tenantId",
            "domainName",
            "issuerUri",
            "displayName",
            "cloudInstance",
        ];
        let p = match path {
            [p] if known.contains(p) => *p,
            ["@odata.type"] => return Some((SourceType, FieldType::Text)),
            _ => return None,
        };
        if let Some(cast) = cast {
            let t = SOURCE_TYPES
                .iter()
                .find(|(short, _)| short.eq_ignore_ascii_case(cast))?;
            let ok = match p {
                "tenantId" => t.0.contains("Tenant"),
                "domainName" => {
                    t.0.ends_with("domainIdentitySource")
                        || t.0.ends_with("externalDomainFederation")
                }
                "issuerUri" => t.0.ends_with("externalDomainFederation"),
                "cloudInstance" => t.0.ends_with("crossCloudAzureActiveDirectoryTenant"),
                _ => true,
            };
            if !ok {
                return None;
            }
        }
        Some(match p {
            "tenantId" => (SourceTenantId, FieldType::Text),
            "domainName" => (SourceDomainName, FieldType::Text),
            "issuerUri" => (SourceIssuerUri, FieldType::Text),
            "cloudInstance" => (SourceCloudInstance, FieldType::Text),
            _ => (SourceDisplayName, FieldType::Text),
        })
    }
    fn cast_filter(_c: OrganizationField, cast: &str) -> Option<Filter<OrganizationField>> {
        let t = SOURCE_TYPES
            .iter()
            .find(|(short, _)| short.eq_ignore_ascii_case(cast))?;
        Some(Filter::Compare {
            field: OrganizationField::SourceType,
            op: Compare::Eq,
            value: Value::String(t.1.to_owned()),
        })
    }
}

/// `accessPackageCatalog` filters.
pub struct Catalogs;

impl Schema for Catalogs {
    type Field = CatalogField;
    fn top(path: &[&str]) -> Option<(CatalogField, FieldType)> {
        use CatalogField::*;
        Some(match path {
            ["id"] => (Id, FieldType::Text),
            ["displayName"] => (DisplayName, FieldType::Text),
            ["description"] => (Description, FieldType::Text),
            ["catalogType"] => (
                CatalogType,
                FieldType::Enum(&["userManaged", "serviceDefault", "serviceManaged"]),
            ),
            ["state"] => (State, FieldType::Enum(&["published", "unpublished"])),
            ["isExternallyVisible"] => (IsExternallyVisible, FieldType::Bool),
            ["createdDateTime"] => (CreatedDateTime, FieldType::Time),
            ["modifiedDateTime"] => (ModifiedDateTime, FieldType::Time),
            _ => return None,
        })
    }
    fn member(
        _c: CatalogField,
        _cast: Option<&str>,
        _path: &[&str],
    ) -> Option<(CatalogField, FieldType)> {
        None
    }
}

/// Schemas without collections: `member` never matches.
macro_rules! flat_schema {
    ($name:ident, $field:ty, $doc:literal, { $($path:pat => $val:expr),* $(,)? }) => {
        #[doc = $doc]
        pub struct $name;

        impl Schema for $name {
            type Field = $field;
            fn top(path: &[&str]) -> Option<($field, FieldType)> {
                Some(match path {
                    $($path => $val,)*
                    _ => return None,
                })
            }
            fn member(_c: $field, _cast: Option<&str>, _path: &[&str]) -> Option<($field, FieldType)> {
                None
            }
        }
    };
}

const ORIGIN_SYSTEMS: &[&str] = &["AadGroup", "AadApplication", "DirectoryRole"];

flat_schema!(AccessPackages, AccessPackageField, "`accessPackage` filters.", {
    ["id"] => (AccessPackageField::Id, FieldType::Text),
    ["displayName"] => (AccessPackageField::DisplayName, FieldType::Text),
    ["description"] => (AccessPackageField::Description, FieldType::Text),
    ["isHidden"] => (AccessPackageField::IsHidden, FieldType::Bool),
    ["catalog", "id"] => (AccessPackageField::CatalogId, FieldType::Text),
    ["createdDateTime"] => (AccessPackageField::CreatedDateTime, FieldType::Time),
    ["modifiedDateTime"] => (AccessPackageField::ModifiedDateTime, FieldType::Time),
});

flat_schema!(AssignmentRequests, AssignmentRequestField, "`accessPackageAssignmentRequest` filters.", {
    ["id"] => (AssignmentRequestField::Id, FieldType::Text),
    ["state"] => (AssignmentRequestField::State, FieldType::Text),
    ["requestType"] => (AssignmentRequestField::RequestType, FieldType::Text),
    ["accessPackage", "id"] => (AssignmentRequestField::AccessPackageId, FieldType::Text),
    ["requestor", "objectId"] => (AssignmentRequestField::RequestorObjectId, FieldType::Text),
    ["assignment", "id"] => (AssignmentRequestField::AssignmentId, FieldType::Text),
    ["createdDateTime"] => (AssignmentRequestField::CreatedDateTime, FieldType::Time),
    ["completedDateTime"] => (AssignmentRequestField::CompletedDateTime, FieldType::Time),
});

flat_schema!(Assignments, AssignmentField, "`accessPackageAssignment` filters.", {
    ["id"] => (AssignmentField::Id, FieldType::Text),
    ["state"] => (AssignmentField::State, FieldType::Text),
    ["accessPackage", "id"] => (AssignmentField::AccessPackageId, FieldType::Text),
    ["assignmentPolicy", "id"] => (AssignmentField::AssignmentPolicyId, FieldType::Text),
    ["target", "objectId"] => (AssignmentField::TargetObjectId, FieldType::Text),
    ["expiredDateTime"] => (AssignmentField::ExpiredDateTime, FieldType::Time),
});

flat_schema!(Policies, PolicyField, "`accessPackageAssignmentPolicy` filters.", {
    ["id"] => (PolicyField::Id, FieldType::Text),
    ["displayName"] => (PolicyField::DisplayName, FieldType::Text),
    ["accessPackage", "id"] => (PolicyField::AccessPackageId, FieldType::Text),
    ["catalog", "id"] => (PolicyField::CatalogId, FieldType::Text),
    ["allowedTargetScope"] => (PolicyField::AllowedTargetScope, FieldType::Text),
    ["createdDateTime"] => (PolicyField::CreatedDateTime, FieldType::Time),
    ["modifiedDateTime"] => (PolicyField::ModifiedDateTime, FieldType::Time),
});

flat_schema!(RoleAssignments, RoleAssignmentField, "`unifiedRoleAssignment` filters.", {
    ["id"] => (RoleAssignmentField::Id, FieldType::Text),
    ["principalId"] => (RoleAssignmentField::PrincipalId, FieldType::Text),
    ["roleDefinitionId"] => (RoleAssignmentField::RoleDefinitionId, FieldType::Text),
    ["appScopeId"] => (RoleAssignmentField::AppScopeId, FieldType::Text),
});

flat_schema!(Applications, ApplicationField, "`application` filters.", {
    ["id"] => (ApplicationField::Id, FieldType::Text),
    ["appId"] => (ApplicationField::AppId, FieldType::Text),
    ["displayName"] => (ApplicationField::DisplayName, FieldType::Text),
    ["createdDateTime"] => (ApplicationField::CreatedDateTime, FieldType::Time),
});

flat_schema!(Resources, ResourceField, "`accessPackageResource` filters.", {
    ["id"] => (ResourceField::Id, FieldType::Text),
    ["displayName"] => (ResourceField::DisplayName, FieldType::Text),
    ["originId"] => (ResourceField::OriginId, FieldType::Text),
    ["originSystem"] => (ResourceField::OriginSystem, FieldType::Enum(ORIGIN_SYSTEMS)),
    ["createdDateTime"] => (ResourceField::CreatedDateTime, FieldType::Time),
});

flat_schema!(ResourceRoles, ResourceRoleField, "`accessPackageResourceRole` filters.", {
    ["id"] => (ResourceRoleField::Id, FieldType::Text),
    ["displayName"] => (ResourceRoleField::DisplayName, FieldType::Text),
    ["originId"] => (ResourceRoleField::OriginId, FieldType::Text),
    ["originSystem"] => (ResourceRoleField::OriginSystem, FieldType::Enum(ORIGIN_SYSTEMS)),
    ["resource", "id"] => (ResourceRoleField::ResourceId, FieldType::Text),
});

flat_schema!(ResourceRequests, ResourceRequestField, "`accessPackageResourceRequest` filters.", {
    ["id"] => (ResourceRequestField::Id, FieldType::Text),
    ["requestType"] => (ResourceRequestField::RequestType, FieldType::Enum(&["adminAdd", "adminRemove"])),
    ["state"] => (ResourceRequestField::State, FieldType::Text),
    ["catalog", "id"] => (ResourceRequestField::CatalogId, FieldType::Text),
    ["resource", "originId"] => (ResourceRequestField::ResourceOriginId, FieldType::Text),
    ["createdDateTime"] => (ResourceRequestField::CreatedDateTime, FieldType::Time),
});

/// `user` filters.
pub struct Users;

impl Schema for Users {
    type Field = UserField;
    fn top(path: &[&str]) -> Option<(UserField, FieldType)> {
        use UserField::*;
        Some(match path {
            ["id"] => (Id, FieldType::Text),
            ["displayName"] => (DisplayName, FieldType::Text),
            ["mail"] => (Mail, FieldType::Text),
            ["userPrincipalName"] => (UserPrincipalName, FieldType::Text),
            ["userType"] => (UserType, FieldType::Enum(&["Member", "Guest"])),
            ["accountEnabled"] => (AccountEnabled, FieldType::Bool),
            ["creationType"] => (CreationType, FieldType::Text),
            ["externalUserState"] => (
                ExternalUserState,
                FieldType::Enum(&["PendingAcceptance", "Accepted"]),
            ),
            ["createdDateTime"] => (CreatedDateTime, FieldType::Time),
            ["identities"] => (Identities, FieldType::Collection),
            _ => return None,
        })
    }
    fn member(_c: UserField, cast: Option<&str>, path: &[&str]) -> Option<(UserField, FieldType)> {
        if cast.is_some() {
            return None;
        }
        Some(match path {
            ["issuer"] => (UserField::IdentityIssuer, FieldType::Text),
            ["issuerAssignedId"] => (UserField::IdentityIssuerAssignedId, FieldType::Text),
            ["signInType"] => (UserField::IdentitySignInType, FieldType::Text),
            _ => return None,
        })
    }
}

/// `group` filters.
pub struct Groups;

impl Schema for Groups {
    type Field = GroupField;
    fn top(path: &[&str]) -> Option<(GroupField, FieldType)> {
        use GroupField::*;
        Some(match path {
            ["id"] => (Id, FieldType::Text),
            ["displayName"] => (DisplayName, FieldType::Text),
            ["description"] => (Description, FieldType::Text),
            ["mailNickname"] => (MailNickname, FieldType::Text),
            ["securityEnabled"] => (SecurityEnabled, FieldType::Bool),
            ["mailEnabled"] => (MailEnabled, FieldType::Bool),
            ["createdDateTime"] => (CreatedDateTime, FieldType::Time),
            _ => return None,
        })
    }
    fn member(
        _c: GroupField,
        _cast: Option<&str>,
        _path: &[&str],
    ) -> Option<(GroupField, FieldType)> {
        None
    }
}

/// `directoryAudit` filters.
pub struct Audits;

impl Schema for Audits {
    type Field = AuditField;
    fn top(path: &[&str]) -> Option<(AuditField, FieldType)> {
        use AuditField::*;
        Some(match path {
            ["id"] => (Id, FieldType::Text),
            ["activityDateTime"] => (ActivityDateTime, FieldType::Time),
            ["category"] => (Category, FieldType::Text),
            ["activityDisplayName"] => (ActivityDisplayName, FieldType::Text),
            ["result"] => (Result, FieldType::Enum(&["success", "failure"])),
            ["initiatedBy", "user", "id"] => (InitiatedByUserId, FieldType::Text),
            ["initiatedBy", "app", "appId"] | ["initiatedBy", "app", "servicePrincipalId"] => {
                (InitiatedByAppId, FieldType::Text)
            }
            ["targetResources"] => (TargetResources, FieldType::Collection),
            _ => return None,
        })
    }
    fn member(
        _c: AuditField,
        cast: Option<&str>,
        path: &[&str],
    ) -> Option<(AuditField, FieldType)> {
        match (cast, path) {
            (None, ["id"]) => Some((AuditField::TargetResourceId, FieldType::Text)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(f: &str) -> Result<Filter<OrganizationField>, ApiError> {
        bind::<Organizations>(&consulate_odata::parse_filter(f).unwrap())
    }

    #[test]
    fn binds_graph_examples() {
        assert!(matches!(
            org("displayName eq 'Contoso'").unwrap(),
            Filter::Compare {
                field: OrganizationField::DisplayName,
                ..
            }
        ));
        assert!(matches!(
            org("startswith(displayName,'Con')").unwrap(),
            Filter::Text {
                op: TextMatch::StartsWith,
                ..
            }
        ));
        assert!(matches!(
            org("contains(tolower(displayName),'con')").unwrap(),
            Filter::Text {
                op: TextMatch::Contains,
                ..
            }
        ));
        let f = org("identitySources/any(is:is/microsoft.graph.azureActiveDirectoryTenant/tenantId eq '0ab4f2b5-1c64-4e13-a9f7-2b5f3c9f8a01')").unwrap();
        match f {
            Filter::Any {
                collection: OrganizationField::IdentitySources,
                filter,
            } => match *filter {
                Filter::And(cast, inner) => {
                    assert!(matches!(
                        *cast,
                        Filter::Compare {
                            field: OrganizationField::SourceType,
                            ..
                        }
                    ));
                    assert!(matches!(
                        *inner,
                        Filter::Compare {
                            field: OrganizationField::SourceTenantId,
                            ..
                        }
                    ));
                }
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
        assert!(org("identitySources/any(s:s/domainName eq 'contoso.com')").is_ok());
        assert!(org("state eq 'Configured'").is_ok());
        assert!(org("createdDateTime ge 2024-01-01T00:00:00Z").is_ok());
    }

    #[test]
    fn rejects_unknown_fields_wrong_types_and_bad_casts() {
        assert!(org("nope eq 'x'").is_err());
        assert!(org("state eq 'active'").is_err());
        assert!(org("createdDateTime eq 'yesterday'").is_err());
        assert!(org("identitySources eq 'x'").is_err());
        assert!(
            org("identitySources/any(s:s/microsoft.graph.socialIdentitySource/tenantId eq 'x')")
                .is_err()
        );
        assert!(org("identitySources/any(s:x/domainName eq 'a.com')").is_err());
        assert!(org("identitySources/all(s:s/domainName eq 'a.com')").is_err());
        assert!(org("displayName eq displayName").is_err());
    }
}
