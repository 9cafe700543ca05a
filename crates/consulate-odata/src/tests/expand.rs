use crate::{
    ExpandItem, MAX_EXPAND_ITEMS, OrderBy, ParseError, QueryOptions, parse_expand,
    parse_query_options,
};

fn item(path: &str, options: QueryOptions) -> ExpandItem {
    ExpandItem {
        path: path.split('/').map(str::to_owned).collect(),
        options: Box::new(options),
    }
}

fn plain(path: &str) -> ExpandItem {
    item(path, QueryOptions::default())
}

fn ok(input: &str) -> Vec<ExpandItem> {
    parse_expand(input).unwrap_or_else(|e| panic!("{input:?}: {e}"))
}

fn err(input: &str) -> (String, usize) {
    let ParseError { message, position } = parse_expand(input).expect_err(input);
    (message, position)
}

#[test]
fn simple_items() {
    assert_eq!(ok("accessPackages"), vec![plain("accessPackages")]);
    assert_eq!(
        ok("target,accessPackage"),
        vec![plain("target"), plain("accessPackage")]
    );
    assert_eq!(
        ok(" a , b/microsoft.graph.group\t"),
        vec![plain("a"), plain("b/microsoft.graph.group")]
    );
}

#[test]
fn nested_options() {
    assert_eq!(
        ok("resourceRoleScopes($expand=role,scope)"),
        vec![item(
            "resourceRoleScopes",
            QueryOptions {
                expand: Some(vec![plain("role"), plain("scope")]),
                ..Default::default()
            }
        )]
    );
    assert_eq!(
        ok("x($select=id;$expand=y($select=z))"),
        vec![item(
            "x",
            QueryOptions {
                select: Some(vec!["id".into()]),
                expand: Some(vec![item(
                    "y",
                    QueryOptions {
                        select: Some(vec!["z".into()]),
                        ..Default::default()
                    }
                )]),
                ..Default::default()
            }
        )]
    );
    // Quoted `;` and `)` inside a nested $filter, `$`-less and mixed-case names, spaces.
    let got = ok("members( $filter=startswith(name,'a;b)''c') ; TOP=5;orderby=name desc ),owners");
    assert_eq!(got.len(), 2);
    let o = &got[0].options;
    assert!(o.filter.is_some());
    assert_eq!(o.top, Some(5));
    assert_eq!(
        o.orderby,
        Some(vec![OrderBy {
            path: vec!["name".into()],
            descending: true
        }])
    );
    assert_eq!(got[1], plain("owners"));
}

#[test]
fn errors_with_positions() {
    let cases: &[(&str, &str, usize)] = &[
        ("", "empty item in $expand", 0),
        ("a,", "empty item in $expand", 2),
        ("a,,b", "empty item in $expand", 2),
        ("a b", "expected ',', '(' or end of $expand, found 'b'", 2),
        ("x(", "unclosed '(' in $expand", 1),
        ("x($filter='a)", "unclosed '(' in $expand", 1),
        ("x()", "empty option in $expand", 2),
        ("x($select=id;)", "empty option in $expand", 13),
        ("x($select)", "expected '=' in nested option", 2),
        ("x(foo=1)", "unknown option 'foo' in $expand", 2),
        ("x($skiptoken=1)", "$skiptoken is not allowed in $expand", 2),
        ("x($top=1000)", "$top: must be an integer from 0 to 999", 7),
        (
            "x($top=1;top=2)",
            "$top: option is given more than once",
            13,
        ),
        (
            "x($filter=a eq)",
            "$filter: expected an expression, found end of input",
            14,
        ),
        ("x($select=id,)", "$select: empty item in $select", 13),
        (
            "x($expand=y($top=x))",
            "$expand: $top: must be an integer from 0 to 999",
            17,
        ),
        ("1x", "expected a property name, found '1'", 0),
        ("é", "expected a property name, found 'é'", 0),
        ("x)", "expected ',', '(' or end of $expand, found ')'", 1),
    ];
    for &(input, message, position) in cases {
        assert_eq!(err(input), (message.to_owned(), position), "{input:?}");
    }
}

#[test]
fn depth_limit() {
    let nest = |levels: usize| {
        let mut s = "z".to_owned();
        for _ in 1..levels {
            s = format!("x($expand={s})");
        }
        s
    };
    assert!(parse_expand(&nest(4)).is_ok());
    let (message, position) = err(&nest(5));
    assert_eq!(
        message,
        "$expand: $expand: $expand: $expand: $expand is nested more than 4 levels deep"
    );
    assert_eq!(position, "x($expand=".len() * 4);
    // Deep parentheses are just scanned, never recursed into.
    let deep = format!("x({})", "(".repeat(8000));
    assert_eq!(err(&deep).0, "unclosed '(' in $expand");
}

#[test]
fn item_limit() {
    let max = vec!["a"; MAX_EXPAND_ITEMS].join(",");
    assert_eq!(ok(&max).len(), MAX_EXPAND_ITEMS);
    assert_eq!(err(&format!("{max},b")).0, "$expand has more than 16 items");
    // Nested items count toward the same total.
    let nested = format!("a($expand={}),b", vec!["c"; MAX_EXPAND_ITEMS - 2].join(","));
    assert!(parse_expand(&nested).is_ok());
    let over = format!("a($expand={}),b", vec!["c"; MAX_EXPAND_ITEMS - 1].join(","));
    assert_eq!(
        err(&over),
        ("$expand has more than 16 items".to_owned(), over.len() - 1)
    );
}

#[test]
fn through_query_options() {
    let got = parse_query_options([
        (
            "expand",
            "assignments($expand=target($select=id,displayName);$top=3)",
        ),
        ("api-version", "beta"),
    ])
    .unwrap();
    let expand = got.expand.unwrap();
    assert_eq!(expand[0].path, vec!["assignments"]);
    assert_eq!(expand[0].options.top, Some(3));
    let inner = expand[0].options.expand.as_ref().unwrap();
    assert_eq!(
        inner[0].options.select,
        Some(vec!["id".to_owned(), "displayName".to_owned()])
    );
    let e = parse_query_options([("$expand", "a($top=x)")]).unwrap_err();
    assert_eq!(e.option, "$expand");
    assert_eq!(
        e.to_string(),
        "invalid $expand: $top: must be an integer from 0 to 999 at position 7"
    );
}
