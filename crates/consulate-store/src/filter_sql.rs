//! Translates a typed [`Filter`] into a SQL condition against a whitelist of columns. Field
//! enums come from the domain; only the columns named here can ever appear in SQL, and every
//! value is a bound argument.

use crate::sql::{Sql, like_escape, micros};
use crate::{StoreError, StoreResult};
use consulate_core::DomainError;
use consulate_core::filter::{
    AccessPackageField, ApplicationField, AssignmentField, AssignmentRequestField, AuditField,
    CatalogField, Compare, Filter, GroupField, OrganizationField, PolicyField, ResourceField,
    ResourceRequestField, ResourceRoleField, RoleAssignmentField, TextMatch, UserField, Value,
};

/// How a column stores its values, which decides how literals are bound and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColKind {
    /// Text compared case-insensitively; the expression already yields lowercase text.
    Folded,
    /// Text stored as typed; compared case-insensitively through `LOWER()`.
    Text,
    Int,
    Bool,
    Time,
}

#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub expr: &'static str,
    pub kind: ColKind,
}

const fn col(expr: &'static str, kind: ColKind) -> Option<Column> {
    Some(Column { expr, kind })
}

/// Maps a resource's filter fields to SQL.
pub trait FieldMap: Copy + std::fmt::Debug {
    /// The column of a scalar field; `None` for collections.
    fn column(self) -> Option<Column>;
    /// For a collection field: the opening of an `IN (SELECT …)` over the child table, ending
    /// in `WHERE (`. An uncorrelated sub-select lets the database start from the child table's
    /// index (a domain, a tenant id) instead of probing every parent row.
    fn collection(self) -> Option<&'static str> {
        None
    }
}

impl FieldMap for OrganizationField {
    fn column(self) -> Option<Column> {
        use ColKind::*;
        use OrganizationField::*;
        match self {
            Id => col("o.id", Folded),
            DisplayName => col("o.display_name_fold", Folded),
            Description => col("o.description", Text),
            State => col("o.state", Folded),
            CreatedDateTime => col("o.created_at", Time),
            ModifiedDateTime => col("o.modified_at", Time),
            IdentitySources => None,
            SourceType => col("LOWER(s.odata_type)", Folded),
            SourceDomainName => col("s.domain_name", Folded),
            SourceTenantId => col("s.tenant_id", Folded),
            SourceIssuerUri => col("s.issuer_uri", Text),
            SourceDisplayName => col("s.display_name_fold", Folded),
            SourceCloudInstance => col("s.cloud_instance", Text),
        }
    }
    fn collection(self) -> Option<&'static str> {
        match self {
            OrganizationField::IdentitySources => Some(
                "o.id IN (SELECT s.organization_id FROM connected_organization_identity_sources s WHERE (",
            ),
            _ => None,
        }
    }
}

impl FieldMap for UserField {
    fn column(self) -> Option<Column> {
        use ColKind::*;
        use UserField::*;
        match self {
            Id => col("u.id", Folded),
            DisplayName => col("u.display_name_fold", Folded),
            Mail => col("u.mail_fold", Folded),
            UserPrincipalName => col("u.upn_fold", Folded),
            UserType => col("u.user_type", Text),
            AccountEnabled => col("u.account_enabled", Bool),
            CreationType => col("u.creation_type", Text),
            ExternalUserState => col("u.external_user_state", Text),
            CreatedDateTime => col("u.created_at", Time),
            Identities => None,
            IdentityIssuer => col("i.issuer_fold", Folded),
            IdentityIssuerAssignedId => col("i.issuer_assigned_id", Text),
            IdentitySignInType => col("i.sign_in_type", Text),
        }
    }
    fn collection(self) -> Option<&'static str> {
        match self {
            UserField::Identities => {
                Some("u.id IN (SELECT i.user_id FROM user_identities i WHERE (")
            }
            _ => None,
        }
    }
}

impl FieldMap for CatalogField {
    fn column(self) -> Option<Column> {
        use CatalogField::*;
        use ColKind::*;
        match self {
            Id => col("c.id", Folded),
            DisplayName => col("c.display_name_fold", Folded),
            Description => col("c.description", Text),
            CatalogType => col("c.catalog_type", Text),
            State => col("c.state", Folded),
            IsExternallyVisible => col("c.is_externally_visible", Bool),
            CreatedDateTime => col("c.created_at", Time),
            ModifiedDateTime => col("c.modified_at", Time),
        }
    }
}

impl FieldMap for AccessPackageField {
    fn column(self) -> Option<Column> {
        use AccessPackageField::*;
        use ColKind::*;
        match self {
            Id => col("p.id", Folded),
            DisplayName => col("p.display_name_fold", Folded),
            Description => col("p.description", Text),
            IsHidden => col("p.is_hidden", Bool),
            CatalogId => col("p.catalog_id", Folded),
            CreatedDateTime => col("p.created_at", Time),
            ModifiedDateTime => col("p.modified_at", Time),
        }
    }
}

impl FieldMap for AssignmentRequestField {
    fn column(self) -> Option<Column> {
        use AssignmentRequestField::*;
        use ColKind::*;
        match self {
            Id => col("r.id", Folded),
            State => col("r.state", Text),
            RequestType => col("r.request_type", Text),
            AccessPackageId => col("r.access_package_id", Folded),
            RequestorObjectId => col("r.target_id", Folded),
            AssignmentId => col("r.assignment_id", Folded),
            CreatedDateTime => col("r.created_at", Time),
            CompletedDateTime => col("r.completed_at", Time),
        }
    }
}

impl FieldMap for AssignmentField {
    fn column(self) -> Option<Column> {
        use AssignmentField::*;
        use ColKind::*;
        match self {
            Id => col("a.id", Folded),
            State => col("a.state", Text),
            AccessPackageId => col("a.access_package_id", Folded),
            AssignmentPolicyId => col("a.policy_id", Folded),
            TargetObjectId => col("a.target_id", Folded),
            ExpiredDateTime => col("a.expired_at", Time),
        }
    }
}

impl FieldMap for PolicyField {
    fn column(self) -> Option<Column> {
        use ColKind::*;
        use PolicyField::*;
        match self {
            Id => col("a.id", Folded),
            DisplayName => col("a.display_name_fold", Folded),
            AccessPackageId => col("a.access_package_id", Folded),
            CatalogId => col("a.catalog_id", Folded),
            AllowedTargetScope => col("a.allowed_target_scope", Text),
            CreatedDateTime => col("a.created_at", Time),
            ModifiedDateTime => col("a.modified_at", Time),
        }
    }
}

impl FieldMap for RoleAssignmentField {
    fn column(self) -> Option<Column> {
        use ColKind::*;
        use RoleAssignmentField::*;
        match self {
            Id => col("ra.id", Folded),
            PrincipalId => col("ra.principal_id", Folded),
            RoleDefinitionId => col("ra.role_definition_id", Folded),
            AppScopeId => col("ra.app_scope_id", Text),
        }
    }
}

impl FieldMap for ApplicationField {
    fn column(self) -> Option<Column> {
        use ApplicationField::*;
        use ColKind::*;
        match self {
            Id => col("a.id", Folded),
            AppId => col("a.app_id", Folded),
            DisplayName => col("a.display_name_fold", Folded),
            CreatedDateTime => col("a.created_at", Time),
        }
    }
}

impl FieldMap for ResourceField {
    fn column(self) -> Option<Column> {
        use ColKind::*;
        use ResourceField::*;
        match self {
            Id => col("r.id", Folded),
            DisplayName => col("r.display_name_fold", Folded),
            OriginId => col("r.origin_id", Text),
            OriginSystem => col("r.origin_system", Text),
            CreatedDateTime => col("r.created_at", Time),
        }
    }
}

impl FieldMap for ResourceRoleField {
    fn column(self) -> Option<Column> {
        use ColKind::*;
        use ResourceRoleField::*;
        match self {
            Id => col("rr.id", Folded),
            DisplayName => col("rr.display_name_fold", Folded),
            OriginId => col("rr.origin_id", Text),
            OriginSystem => col("rr.origin_system", Text),
            ResourceId => col("rr.resource_id", Folded),
        }
    }
}

impl FieldMap for ResourceRequestField {
    fn column(self) -> Option<Column> {
        use ColKind::*;
        use ResourceRequestField::*;
        match self {
            Id => col("q.id", Folded),
            RequestType => col("q.request_type", Text),
            State => col("q.state", Text),
            CatalogId => col("q.catalog_id", Folded),
            ResourceOriginId => col("q.origin_id", Text),
            CreatedDateTime => col("q.created_at", Time),
        }
    }
}

impl FieldMap for GroupField {
    fn column(self) -> Option<Column> {
        use ColKind::*;
        use GroupField::*;
        match self {
            Id => col("g.id", Folded),
            DisplayName => col("g.display_name_fold", Folded),
            Description => col("g.description", Text),
            MailNickname => col("g.mail_nickname", Text),
            SecurityEnabled => col("g.security_enabled", Bool),
            MailEnabled => col("g.mail_enabled", Bool),
            CreatedDateTime => col("g.created_at", Time),
        }
    }
}

impl FieldMap for AuditField {
    fn column(self) -> Option<Column> {
        use AuditField::*;
        use ColKind::*;
        match self {
            Id => col("a.id", Folded),
            ActivityDateTime => col("a.activity_at", Time),
            Category => col("a.category", Text),
            ActivityDisplayName => col("a.activity", Text),
            Result => col("a.result", Text),
            TargetResources => None,
            TargetResourceId => col("t.target_id", Folded),
            InitiatedByUserId => col(
                "(CASE WHEN a.initiator_kind = 'user' THEN a.initiator_id END)",
                Folded,
            ),
            InitiatedByAppId => col(
                "(CASE WHEN a.initiator_kind = 'app' THEN a.initiator_id END)",
                Folded,
            ),
        }
    }
    fn collection(self) -> Option<&'static str> {
        match self {
            AuditField::TargetResources => {
                Some("a.sequence IN (SELECT t.sequence FROM audit_event_targets t WHERE (")
            }
            _ => None,
        }
    }
}

fn invalid(message: String) -> StoreError {
    StoreError::Domain(DomainError::invalid("$filter", message))
}

fn column_of<F: FieldMap>(field: F) -> StoreResult<Column> {
    field.column().ok_or_else(|| {
        invalid(format!(
            "{field:?} is a collection; use any() to filter on it"
        ))
    })
}

fn lhs(c: Column) -> String {
    match c.kind {
        ColKind::Text => format!("LOWER({})", c.expr),
        _ => c.expr.to_owned(),
    }
}

fn bind_value(sql: &mut Sql, c: Column, v: &Value) -> StoreResult<String> {
    Ok(match (c.kind, v) {
        (ColKind::Folded | ColKind::Text, Value::String(s)) => sql.placeholder(s.to_lowercase()),
        (ColKind::Int, Value::Int(i)) => sql.placeholder(*i),
        (ColKind::Bool, Value::Bool(b)) => sql.placeholder(*b),
        (ColKind::Time, Value::Timestamp(t)) => sql.placeholder(micros(*t)),
        (kind, v) => {
            return Err(invalid(format!(
                "{v:?} cannot be compared with a {kind:?} property"
            )));
        }
    })
}

/// The smallest string greater than every string that starts with `prefix` (bytewise), if
/// one exists: the prefix with its last character incremented.
fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = (last as u32).checked_add(1).and_then(char::from_u32) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// Appends the SQL condition for `filter` to `sql`.
pub fn push_filter<F: FieldMap>(sql: &mut Sql, filter: &Filter<F>) -> StoreResult<()> {
    match filter {
        Filter::Compare { field, op, value } => {
            let c = column_of(*field)?;
            if *value == Value::Null {
                match op {
                    Compare::Eq => sql.push(&format!("{} IS NULL", c.expr)),
                    Compare::Ne => sql.push(&format!("{} IS NOT NULL", c.expr)),
                    _ => return Err(invalid("null can only be compared with eq or ne".into())),
                }
                return Ok(());
            }
            let p = bind_value(sql, c, value)?;
            let l = lhs(c);
            let text = match op {
                Compare::Eq => format!("{l} = {p}"),
                Compare::Ne => format!("({l} <> {p} OR {} IS NULL)", c.expr),
                Compare::Gt => format!("{l} > {p}"),
                Compare::Ge => format!("{l} >= {p}"),
                Compare::Lt => format!("{l} < {p}"),
                Compare::Le => format!("{l} <= {p}"),
            };
            sql.push(&text);
        }
        Filter::Text { field, op, value } => {
            let c = column_of(*field)?;
            if !matches!(c.kind, ColKind::Folded | ColKind::Text) {
                return Err(invalid(format!("{field:?} is not a text property")));
            }
            let v = like_escape(&value.to_lowercase());
            let pattern = match op {
                TextMatch::StartsWith => format!("{v}%"),
                TextMatch::EndsWith => format!("%{v}"),
                TextMatch::Contains => format!("%{v}%"),
            };
            let p = sql.placeholder(pattern);
            sql.push(&format!("({} LIKE {p} ESCAPE '\\'", lhs(c)));
            // A prefix on a folded column also becomes an index range (both backends compare
            // folded columns bytewise); the LIKE above keeps the result exact.
            if *op == TextMatch::StartsWith
                && c.kind == ColKind::Folded
                && let Some(upper) = prefix_upper_bound(&value.to_lowercase())
            {
                let lo = sql.placeholder(value.to_lowercase());
                let hi = sql.placeholder(upper);
                sql.push(&format!(" AND {e} >= {lo} AND {e} < {hi}", e = c.expr));
            }
            sql.push(")");
        }
        Filter::In { field, values } => {
            let c = column_of(*field)?;
            if values.is_empty() {
                sql.push("1 = 0");
                return Ok(());
            }
            let mut ps = Vec::with_capacity(values.len());
            for v in values {
                ps.push(bind_value(sql, c, v)?);
            }
            sql.push(&format!("{} IN ({})", lhs(c), ps.join(", ")));
        }
        Filter::And(a, b) | Filter::Or(a, b) => {
            let op = if matches!(filter, Filter::And(..)) {
                " AND "
            } else {
                " OR "
            };
            sql.push("(");
            push_filter(sql, a)?;
            sql.push(op);
            push_filter(sql, b)?;
            sql.push(")");
        }
        Filter::Not(inner) => {
            sql.push("NOT (");
            push_filter(sql, inner)?;
            sql.push(")");
        }
        Filter::Any { collection, filter } => {
            let open = collection
                .collection()
                .ok_or_else(|| invalid(format!("{collection:?} is not a collection")))?;
            sql.push(open);
            push_filter(sql, filter)?;
            sql.push("))");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use consulate_core::filter::OrganizationField as O;

    #[test]
    fn translates_with_bound_values_only() {
        let f = Filter::And(
            Box::new(Filter::Text {
                field: O::DisplayName,
                op: TextMatch::StartsWith,
                value: "Con%".into(),
            }),
            Box::new(Filter::Any {
                collection: O::IdentitySources,
                filter: Box::new(Filter::Compare {
                    field: O::SourceDomainName,
                    op: Compare::Eq,
                    value: Value::String("Contoso.com".into()),
                }),
            }),
        );
        let mut sql = Sql::dynamic(String::new());
        push_filter(&mut sql, &f).unwrap();
        assert_eq!(
            sql.text,
            "((o.display_name_fold LIKE $1 ESCAPE '\\' AND o.display_name_fold >= $2 AND o.display_name_fold < $3) AND o.id IN (SELECT s.organization_id FROM connected_organization_identity_sources s WHERE (s.domain_name = $4)))"
        );
        assert_eq!(
            sql.args,
            vec![
                crate::sql::Arg::Text("con\\%%".into()),
                crate::sql::Arg::Text("con%".into()),
                crate::sql::Arg::Text("con&".into()),
                crate::sql::Arg::Text("contoso.com".into())
            ]
        );
    }

    #[test]
    fn prefix_bounds() {
        assert_eq!(prefix_upper_bound("abc").as_deref(), Some("abd"));
        assert_eq!(prefix_upper_bound("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_upper_bound(""), None);
    }

    #[test]
    fn type_mismatches_are_invalid() {
        let f: Filter<O> = Filter::Compare {
            field: O::CreatedDateTime,
            op: Compare::Eq,
            value: Value::String("x".into()),
        };
        assert!(push_filter(&mut Sql::dynamic(String::new()), &f).is_err());
        let f: Filter<O> = Filter::Compare {
            field: O::IdentitySources,
            op: Compare::Eq,
            value: Value::String("x".into()),
        };
        assert!(push_filter(&mut Sql::dynamic(String::new()), &f).is_err());
    }
}
