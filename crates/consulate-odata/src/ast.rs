//! Syntax tree of a `$filter` expression.

/// A literal value, as written in the filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A single-quoted string, with `''` unescaped to `'`.
    String(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
    /// An unquoted GUID (`8-4-4-4-12` hex digits), text kept as written.
    Guid(String),
    /// An unquoted date or date-time such as `2024-01-01T00:00:00Z`, text kept as written.
    DateTime(String),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    /// The operator's OData keyword (`eq`, `ne`, ...).
    pub fn keyword(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::Gt => "gt",
            Self::Ge => "ge",
            Self::Lt => "lt",
            Self::Le => "le",
        }
    }

    pub(crate) fn from_keyword(word: &str) -> Option<Self> {
        const OPS: [CompareOp; 6] = [
            CompareOp::Eq,
            CompareOp::Ne,
            CompareOp::Gt,
            CompareOp::Ge,
            CompareOp::Lt,
            CompareOp::Le,
        ];
        OPS.into_iter()
            .find(|op| op.keyword().eq_ignore_ascii_case(word))
    }
}

/// The quantifier of a lambda expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LambdaKind {
    Any,
    All,
}

/// A `$filter` expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Literal(Literal),
    /// Member path, segments split on '/'. Type-cast segments like
    /// `microsoft.graph.azureActiveDirectoryTenant` are kept as a segment verbatim. Inside a
    /// lambda body the first segment is the lambda variable (e.g.
    /// `["is", "microsoft.graph.azureActiveDirectoryTenant", "tenantId"]`).
    Path(Vec<String>),
    Compare {
        op: CompareOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    In {
        left: Box<Expr>,
        list: Vec<Expr>,
    },
    /// Function call; name lower-cased (contains, startswith, endswith, tolower, toupper, trim,
    /// length, indexof, substring, concat).
    Call {
        name: String,
        args: Vec<Expr>,
    },
    /// `collection/any(variable: body)` or `collection/all(variable: body)`. A bare
    /// `collection/any()` has an empty variable and the body `Literal(Bool(true))`.
    Lambda {
        kind: LambdaKind,
        collection: Vec<String>,
        variable: String,
        body: Box<Expr>,
    },
}

impl Expr {
    /// Number of nodes in the tree, counted as the parser counts them against
    /// [`MAX_NODES`](crate::MAX_NODES): every `Expr` value, including `in` list items.
    pub fn node_count(&self) -> usize {
        let mut count = 0;
        let mut stack = vec![self];
        while let Some(expr) = stack.pop() {
            count += 1;
            expr.push_children(&mut stack);
        }
        count
    }

    /// Depth of the tree (a lone literal or path has depth 1), as limited by
    /// [`MAX_DEPTH`](crate::MAX_DEPTH).
    pub fn depth(&self) -> usize {
        let mut deepest = 0;
        let mut stack = vec![(self, 1usize)];
        let mut children = Vec::new();
        while let Some((expr, level)) = stack.pop() {
            deepest = deepest.max(level);
            expr.push_children(&mut children);
            stack.extend(children.drain(..).map(|child| (child, level + 1)));
        }
        deepest
    }

    fn push_children<'a>(&'a self, out: &mut Vec<&'a Expr>) {
        match self {
            Expr::Literal(_) | Expr::Path(_) => {}
            Expr::Compare { left, right, .. } | Expr::And(left, right) | Expr::Or(left, right) => {
                out.push(left);
                out.push(right);
            }
            Expr::Not(inner) => out.push(inner),
            Expr::In { left, list } => {
                out.push(left);
                out.extend(list);
            }
            Expr::Call { args, .. } => out.extend(args),
            Expr::Lambda { body, .. } => out.push(body),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(s: &str) -> Expr {
        Expr::Path(vec![s.to_owned()])
    }

    #[test]
    fn counts_and_depth() {
        let lit = Expr::Literal(Literal::Int(1));
        assert_eq!((lit.node_count(), lit.depth()), (1, 1));
        let e = Expr::Not(Box::new(Expr::In {
            left: Box::new(path("id")),
            list: vec![lit.clone(), lit.clone(), lit],
        }));
        assert_eq!(e.node_count(), 6);
        assert_eq!(e.depth(), 3);
    }

    #[test]
    fn compare_keywords_round_trip() {
        for op in [
            CompareOp::Eq,
            CompareOp::Ne,
            CompareOp::Gt,
            CompareOp::Ge,
            CompareOp::Lt,
            CompareOp::Le,
        ] {
            assert_eq!(CompareOp::from_keyword(op.keyword()), Some(op));
            assert_eq!(
                CompareOp::from_keyword(&op.keyword().to_uppercase()),
                Some(op)
            );
        }
        assert_eq!(CompareOp::from_keyword("eqq"), None);
    }
}
