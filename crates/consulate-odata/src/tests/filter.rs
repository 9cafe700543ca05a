use crate::{CompareOp, Expr, LambdaKind, Literal, MAX_DEPTH, MAX_NODES, parse_filter};

fn path(segments: &str) -> Expr {
    Expr::Path(segments.split('/').map(str::to_owned).collect())
}

fn string(s: &str) -> Expr {
    Expr::Literal(Literal::String(s.to_owned()))
}

fn lit(l: Literal) -> Expr {
    Expr::Literal(l)
}

fn cmp(op: CompareOp, left: Expr, right: Expr) -> Expr {
    Expr::Compare {
        op,
        left: Box::new(left),
        right: Box::new(right),
    }
}

fn eq(left: Expr, right: Expr) -> Expr {
    cmp(CompareOp::Eq, left, right)
}

fn and(a: Expr, b: Expr) -> Expr {
    Expr::And(Box::new(a), Box::new(b))
}

fn or(a: Expr, b: Expr) -> Expr {
    Expr::Or(Box::new(a), Box::new(b))
}

fn not(a: Expr) -> Expr {
    Expr::Not(Box::new(a))
}

fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Call {
        name: name.to_owned(),
        args,
    }
}

fn any(collection: &str, variable: &str, body: Expr) -> Expr {
    Expr::Lambda {
        kind: LambdaKind::Any,
        collection: collection.split('/').map(str::to_owned).collect(),
        variable: variable.to_owned(),
        body: Box::new(body),
    }
}

fn ok(input: &str) -> Expr {
    parse_filter(input).unwrap_or_else(|e| panic!("{input:?}: {e}"))
}

/// The error's (message, position).
fn err(input: &str) -> (String, usize) {
    match parse_filter(input) {
        Ok(expr) => panic!("{input:?} parsed as {expr:?}"),
        Err(e) => (e.message, e.position),
    }
}

#[test]
fn graph_examples() {
    let cases: Vec<(&str, Expr)> = vec![
        (
            "displayName eq 'Contoso'",
            eq(path("displayName"), string("Contoso")),
        ),
        (
            "startswith(displayName,'Con')",
            call("startswith", vec![path("displayName"), string("Con")]),
        ),
        (
            "contains(tolower(displayName),'staff')",
            call(
                "contains",
                vec![call("tolower", vec![path("displayName")]), string("staff")],
            ),
        ),
        (
            "identitySources/any(is:is/microsoft.graph.azureActiveDirectoryTenant/tenantId eq '0ab4f2b5-1c64-4e13-a9f7-2b5f3c9f8a01')",
            any(
                "identitySources",
                "is",
                eq(
                    path("is/microsoft.graph.azureActiveDirectoryTenant/tenantId"),
                    string("0ab4f2b5-1c64-4e13-a9f7-2b5f3c9f8a01"),
                ),
            ),
        ),
        (
            "identitySources/any(s:s/microsoft.graph.domainIdentitySource/domainName eq 'contoso.com')",
            any(
                "identitySources",
                "s",
                eq(
                    path("s/microsoft.graph.domainIdentitySource/domainName"),
                    string("contoso.com"),
                ),
            ),
        ),
        (
            "accessPackage/id eq 'abc' and target/objectId eq 'u1'",
            and(
                eq(path("accessPackage/id"), string("abc")),
                eq(path("target/objectId"), string("u1")),
            ),
        ),
        (
            "state eq 'Delivered'",
            eq(path("state"), string("Delivered")),
        ),
        (
            "activityDateTime ge 2024-01-01T00:00:00Z and category eq 'ConnectedOrganization'",
            and(
                cmp(
                    CompareOp::Ge,
                    path("activityDateTime"),
                    lit(Literal::DateTime("2024-01-01T00:00:00Z".into())),
                ),
                eq(path("category"), string("ConnectedOrganization")),
            ),
        ),
        (
            "id in ('a','b')",
            Expr::In {
                left: Box::new(path("id")),
                list: vec![string("a"), string("b")],
            },
        ),
        (
            "not (displayName eq 'x')",
            not(eq(path("displayName"), string("x"))),
        ),
    ];
    for (input, want) in cases {
        assert_eq!(ok(input), want, "{input}");
    }
}

#[test]
fn literals() {
    let cases: Vec<(&str, Literal)> = vec![
        ("'let''s'", Literal::String("let's".into())),
        ("''", Literal::String(String::new())),
        ("'日本 é'", Literal::String("日本 é".into())),
        ("42", Literal::Int(42)),
        ("-7", Literal::Int(-7)),
        ("1.5", Literal::Float(1.5)),
        ("-0.5", Literal::Float(-0.5)),
        ("true", Literal::Bool(true)),
        ("FALSE", Literal::Bool(false)),
        ("Null", Literal::Null),
        (
            "0ab4f2b5-1c64-4e13-a9f7-2b5f3c9f8a01",
            Literal::Guid("0ab4f2b5-1c64-4e13-a9f7-2b5f3c9f8a01".into()),
        ),
        (
            "2024-01-01T00:00:00.123+02:00",
            Literal::DateTime("2024-01-01T00:00:00.123+02:00".into()),
        ),
        ("2024-01-01", Literal::DateTime("2024-01-01".into())),
    ];
    for (input, want) in cases {
        assert_eq!(
            ok(&format!("x eq {input}")),
            eq(path("x"), lit(want)),
            "{input}"
        );
    }
}

#[test]
fn comparison_operators_any_case() {
    for (word, op) in [
        ("eq", CompareOp::Eq),
        ("NE", CompareOp::Ne),
        ("Gt", CompareOp::Gt),
        ("ge", CompareOp::Ge),
        ("lt", CompareOp::Lt),
        ("le", CompareOp::Le),
    ] {
        assert_eq!(
            ok(&format!("a {word}\t1")),
            cmp(op, path("a"), lit(Literal::Int(1)))
        );
    }
}

#[test]
fn precedence_and_grouping() {
    let a = || eq(path("a"), lit(Literal::Int(1)));
    let b = || eq(path("b"), lit(Literal::Int(2)));
    let c = || eq(path("c"), lit(Literal::Int(3)));
    assert_eq!(ok("a eq 1 or b eq 2 and c eq 3"), or(a(), and(b(), c())));
    assert_eq!(ok("a eq 1 and b eq 2 or c eq 3"), or(and(a(), b()), c()));
    assert_eq!(ok("(a eq 1 or b eq 2) and c eq 3"), and(or(a(), b()), c()));
    assert_eq!(ok("a eq 1 AND b eq 2 And c eq 3"), and(and(a(), b()), c()));
    assert_eq!(ok("a eq 1 or b eq 2 or c eq 3"), or(or(a(), b()), c()));
    // `not` binds tighter than comparison.
    assert_eq!(
        ok("not a eq true"),
        eq(not(path("a")), lit(Literal::Bool(true)))
    );
    assert_eq!(ok("NOT not(a eq 1)"), not(not(a())));
    assert_eq!(
        ok("not startswith(a,'x') and b eq 2"),
        and(not(call("startswith", vec![path("a"), string("x")])), b())
    );
    assert_eq!(ok("((a eq 1))"), a());
    assert_eq!(
        ok("id in ('a') or x eq 1"),
        or(
            Expr::In {
                left: Box::new(path("id")),
                list: vec![string("a")],
            },
            eq(path("x"), lit(Literal::Int(1)))
        )
    );
}

#[test]
fn functions() {
    assert_eq!(
        ok("EndsWith( mail , '@contoso.com' )"),
        call("endswith", vec![path("mail"), string("@contoso.com")])
    );
    assert_eq!(
        ok("length(trim(toupper(a))) gt 3"),
        cmp(
            CompareOp::Gt,
            call(
                "length",
                vec![call("trim", vec![call("toupper", vec![path("a")])])]
            ),
            lit(Literal::Int(3))
        )
    );
    assert_eq!(
        ok("substring(a,1) eq 'b'"),
        eq(
            call("substring", vec![path("a"), lit(Literal::Int(1))]),
            string("b")
        )
    );
    assert_eq!(
        ok("substring(a,1,2) eq concat(b,'c')"),
        eq(
            call(
                "substring",
                vec![path("a"), lit(Literal::Int(1)), lit(Literal::Int(2))]
            ),
            call("concat", vec![path("b"), string("c")])
        )
    );
    assert_eq!(
        ok("indexof(a,'x') eq -1"),
        eq(
            call("indexof", vec![path("a"), string("x")]),
            lit(Literal::Int(-1))
        )
    );
}

#[test]
fn lambdas() {
    assert_eq!(
        ok("members/any()"),
        any("members", "", lit(Literal::Bool(true)))
    );
    assert_eq!(
        ok("a/b/ANY( m : m eq 'x' )"),
        any("a/b", "m", eq(path("m"), string("x")))
    );
    assert_eq!(
        ok("roles/all(r: r/id ne 'x') and tags/any(t: t in ('a','b'))"),
        and(
            Expr::Lambda {
                kind: LambdaKind::All,
                collection: vec!["roles".into()],
                variable: "r".into(),
                body: Box::new(cmp(CompareOp::Ne, path("r/id"), string("x"))),
            },
            any(
                "tags",
                "t",
                Expr::In {
                    left: Box::new(path("t")),
                    list: vec![string("a"), string("b")],
                }
            )
        )
    );
    // Nested lambdas.
    assert_eq!(
        ok("a/any(x: x/b/any(y: y eq 1))"),
        any(
            "a",
            "x",
            any("x/b", "y", eq(path("y"), lit(Literal::Int(1))))
        )
    );
    // `any` not followed by `(` is an ordinary segment.
    assert_eq!(ok("a/any eq 1"), eq(path("a/any"), lit(Literal::Int(1))));
}

#[test]
fn error_positions() {
    let cases: &[(&str, &str, usize)] = &[
        ("", "filter is empty", 0),
        ("   ", "filter is empty", 0),
        (
            "displayName eq",
            "expected an expression, found end of input",
            14,
        ),
        ("displayName eq 'Contoso", "unterminated string literal", 15),
        (
            "displayName eq 'x' foo",
            "expected 'and', 'or' or end of input, found 'foo'",
            19,
        ),
        (
            "a eq 1 and",
            "expected an expression, found end of input",
            10,
        ),
        ("(a eq 1", "expected ')', found end of input", 7),
        (
            "a eq 1)",
            "expected 'and', 'or' or end of input, found ')'",
            6,
        ),
        ("foo(a)", "unknown function 'foo'", 0),
        (
            "contains(a)",
            "function 'contains' takes 2 arguments, found 1",
            0,
        ),
        (
            "substring(a)",
            "function 'substring' takes 2 to 3 arguments, found 1",
            0,
        ),
        ("a eq and", "expected an expression, found keyword 'and'", 5),
        ("é eq 1", "unexpected character 'é'", 0),
        ("a eq 'é' and 日", "unexpected character '日'", 14),
        (
            "identitySources/any(is is/x eq 1)",
            "expected ':', found 'is'",
            23,
        ),
        (
            "x/any(1: true)",
            "expected a lambda variable name, found a number",
            6,
        ),
        ("x/all()", "all() needs a variable and a condition", 2),
        (
            "x/any(null: true)",
            "expected a lambda variable name, found 'null'",
            6,
        ),
        (
            "x/any(Or: true)",
            "expected a lambda variable name, found 'Or'",
            6,
        ),
        (
            "x/any(a.b: true)",
            "expected a lambda variable name, found 'a.b'",
            6,
        ),
        ("a/ eq 1", "expected a property name directly after '/'", 2),
        ("a /b eq 1", "unexpected space before '/'", 1),
        (
            "a/'b' eq 1",
            "expected a property name directly after '/'",
            2,
        ),
        ("id in 'a'", "expected '(', found a string literal", 6),
        ("id in ()", "expected a literal in 'in' list, found ')'", 7),
        (
            "id in ('a' 'b')",
            "expected ',' or ')', found a string literal",
            11,
        ),
        ("id in (a)", "expected a literal in 'in' list, found 'a'", 7),
        (
            "a eq 1 eq 2",
            "expected 'and', 'or' or end of input, found 'eq'",
            7,
        ),
        (
            "a eq 2024-13",
            "expected 'and', 'or' or end of input, found a number",
            9,
        ),
        ("a eq 2024-01-01T0", "invalid date-time literal", 5),
        ("a eq b +1", "unexpected character '+'", 7),
    ];
    for &(input, message, position) in cases {
        assert_eq!(err(input), (message.to_owned(), position), "{input:?}");
    }
}

#[test]
fn display_includes_position() {
    let e = parse_filter("a eq").unwrap_err();
    assert_eq!(
        e.to_string(),
        "expected an expression, found end of input at position 4"
    );
    let boxed: Box<dyn std::error::Error> = Box::new(e);
    assert!(boxed.to_string().ends_with("position 4"));
}

/// `id in ('v','v',...)` with `items` list entries: `items + 2` nodes.
fn in_list(items: usize) -> String {
    let list = vec!["'v'"; items].join(",");
    format!("id in ({list})")
}

#[test]
fn node_limit() {
    let at_limit = ok(&in_list(MAX_NODES - 2));
    assert_eq!(at_limit.node_count(), MAX_NODES);
    assert_eq!(
        err(&in_list(MAX_NODES - 1)).0,
        "filter has more than 32 nodes"
    );

    // 8 comparisons joined by `or`: 8 * 3 + 7 = 31 nodes; one `not` makes 32.
    let clauses = ["a eq 1"; 8].join(" or ");
    assert_eq!(ok(&clauses).node_count(), 31);
    assert_eq!(ok(&format!("not {clauses}")).node_count(), 32);
    let over = format!("not not {clauses}");
    let (message, position) = err(&over);
    assert_eq!(message, "filter has more than 32 nodes");
    // The 33rd node is the last literal.
    assert_eq!(position, over.len() - 1);
}

#[test]
fn depth_limit() {
    // `not` x (n - 1) over a path: depth n.
    let nots = |n: usize| format!("{}a", "not ".repeat(n - 1));
    assert_eq!(ok(&nots(MAX_DEPTH)).depth(), MAX_DEPTH);
    assert_eq!(
        err(&nots(MAX_DEPTH + 1)).0,
        "filter is nested more than 12 levels deep"
    );

    // Nested calls: depth n.
    let calls = |n: usize| format!("{}a{}", "tolower(".repeat(n - 1), ")".repeat(n - 1));
    assert_eq!(ok(&calls(MAX_DEPTH)).depth(), MAX_DEPTH);
    assert_eq!(
        err(&calls(MAX_DEPTH + 1)),
        ("filter is nested more than 12 levels deep".to_owned(), 0)
    );

    // Left-nested `and` groups: depth 2 + levels.
    let mut grouped = "a eq 1".to_owned();
    for _ in 0..MAX_DEPTH - 2 {
        grouped = format!("({grouped}) and b");
    }
    assert_eq!(ok(&grouped).depth(), MAX_DEPTH);
    assert_eq!(
        err(&format!("({grouped}) and b")).0,
        "filter is nested more than 12 levels deep"
    );

    // Redundant parentheses are bounded on their own.
    let parens = |n: usize| format!("{}a{}", "(".repeat(n), ")".repeat(n));
    assert_eq!(ok(&parens(20)), path("a"));
    assert_eq!(
        err(&parens(100)),
        ("filter is nested too deeply".to_owned(), 26)
    );
}

#[test]
fn length_limit() {
    let long = format!("a eq '{}'", "x".repeat(crate::MAX_OPTION_LEN - 7));
    assert_eq!(long.len(), crate::MAX_OPTION_LEN);
    assert!(parse_filter(&long).is_ok());
    let too_long = format!("a eq '{}'", "x".repeat(crate::MAX_OPTION_LEN - 6));
    assert_eq!(
        err(&too_long),
        ("filter is longer than 8192 bytes".to_owned(), 8192)
    );
}
