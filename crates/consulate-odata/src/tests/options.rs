use crate::{
    CompareOp, Expr, Literal, MAX_OPTION_LEN, MAX_SELECT_ITEMS, OptionError, OrderBy, QueryOptions,
    parse_orderby, parse_query_options, parse_select,
};

fn opts(pairs: &[(&str, &str)]) -> Result<QueryOptions, OptionError> {
    parse_query_options(pairs.iter().copied())
}

fn opt_err(pairs: &[(&str, &str)]) -> OptionError {
    opts(pairs).expect_err("expected an error")
}

#[test]
fn all_options() {
    let got = opts(&[
        ("$filter", "state eq 'Delivered'"),
        ("$select", "id, displayName"),
        ("$orderby", "displayName desc,createdDateTime"),
        ("$top", "10"),
        ("$skip", "20"),
        ("$count", "TRUE"),
        ("$expand", "accessPackage"),
        ("$search", "\"displayName:Con\""),
        ("$skiptoken", "abc=="),
    ])
    .unwrap();
    assert_eq!(
        got.filter,
        Some(Expr::Compare {
            op: CompareOp::Eq,
            left: Box::new(Expr::Path(vec!["state".into()])),
            right: Box::new(Expr::Literal(Literal::String("Delivered".into()))),
        })
    );
    assert_eq!(got.select, Some(vec!["id".into(), "displayName".into()]));
    assert_eq!(
        got.orderby,
        Some(vec![
            OrderBy {
                path: vec!["displayName".into()],
                descending: true
            },
            OrderBy {
                path: vec!["createdDateTime".into()],
                descending: false
            },
        ])
    );
    assert_eq!(
        (got.top, got.skip, got.count),
        (Some(10), Some(20), Some(true))
    );
    assert_eq!(got.expand.as_ref().map(Vec::len), Some(1));
    assert_eq!(got.search.as_deref(), Some("displayName:Con"));
    assert_eq!(got.skiptoken.as_deref(), Some("abc=="));
}

#[test]
fn names_without_dollar_and_any_case() {
    let got = opts(&[
        ("top", "5"),
        ("$Filter", "a eq 1"),
        ("SELECT", "id"),
        ("$COUNT", "false"),
    ])
    .unwrap();
    assert_eq!(got.top, Some(5));
    assert!(got.filter.is_some());
    assert_eq!(got.select, Some(vec!["id".to_owned()]));
    assert_eq!(got.count, Some(false));
}

#[test]
fn unknown_parameters_ignored() {
    let got = opts(&[
        ("api-version", "1.0"),
        ("@id", "https://graph.microsoft.com/v1.0/users/1"),
        ("$$top", "x"),
        ("filterx", "???"),
        ("", ""),
    ])
    .unwrap();
    assert_eq!(got, QueryOptions::default());
    assert_eq!(opts(&[]).unwrap(), QueryOptions::default());
}

#[test]
fn duplicates_rejected() {
    for pairs in [
        &[("$top", "1"), ("$top", "2")][..],
        &[("$filter", "a eq 1"), ("filter", "b eq 2")][..],
        &[("$search", "x"), ("$Search", "x")][..],
    ] {
        let e = opt_err(pairs);
        assert_eq!(e.message, "option is given more than once", "{pairs:?}");
    }
    assert_eq!(opt_err(&[("$top", "1"), ("top", "1")]).option, "$top");
}

#[test]
fn top_bounds() {
    assert_eq!(opts(&[("$top", "0")]).unwrap().top, Some(0));
    assert_eq!(opts(&[("$top", "999")]).unwrap().top, Some(999));
    assert_eq!(opts(&[("$top", "0010")]).unwrap().top, Some(10));
    for bad in ["1000", "-1", "x", "", " 5", "+5", "1.0", "99999999999"] {
        let e = opt_err(&[("$top", bad)]);
        assert_eq!(
            (e.option.as_str(), e.message.as_str()),
            ("$top", "must be an integer from 0 to 999"),
            "{bad:?}"
        );
    }
    assert_eq!(
        opt_err(&[("top", "1000")]).to_string(),
        "invalid $top: must be an integer from 0 to 999"
    );
}

#[test]
fn skip_and_count() {
    assert_eq!(opts(&[("$skip", "0")]).unwrap().skip, Some(0));
    assert_eq!(
        opts(&[("$skip", "4294967295")]).unwrap().skip,
        Some(u32::MAX)
    );
    for bad in ["-1", "4294967296", "x", ""] {
        assert_eq!(opt_err(&[("$skip", bad)]).option, "$skip", "{bad:?}");
    }
    assert_eq!(opts(&[("$count", "False")]).unwrap().count, Some(false));
    for bad in ["1", "yes", "", "true "] {
        assert_eq!(opt_err(&[("$count", bad)]).option, "$count", "{bad:?}");
    }
}

#[test]
fn search_and_skiptoken_raw() {
    let s = |v: &str| opts(&[("$search", v)]).unwrap().search.unwrap();
    assert_eq!(s("\"a b\""), "a b");
    assert_eq!(s("\"\"x\"\""), "\"x\"");
    assert_eq!(s("plain"), "plain");
    assert_eq!(s("\""), "\"");
    assert_eq!(s("\"日本\""), "日本");
    let t = opts(&[("$skipToken", " a b ")]).unwrap().skiptoken;
    assert_eq!(t.as_deref(), Some(" a b "));
}

#[test]
fn structured_errors_carry_position() {
    let e = opt_err(&[("$filter", "a eq")]);
    assert_eq!(e.option, "$filter");
    assert_eq!(
        e.message,
        "expected an expression, found end of input at position 4"
    );
    assert_eq!(
        opt_err(&[("$select", "id,,x")]).message,
        "empty item in $select at position 3"
    );
    assert_eq!(opt_err(&[("$orderby", "")]).option, "$orderby");
    assert_eq!(opt_err(&[("$expand", "x(")]).option, "$expand");
}

#[test]
fn value_length_limit() {
    let long = "x".repeat(MAX_OPTION_LEN + 1);
    assert_eq!(opt_err(&[("$skiptoken", &long)]).option, "$skiptoken");
    assert_eq!(
        opt_err(&[("$search", &long)]).message,
        "value is longer than 8192 bytes"
    );
    assert_eq!(opt_err(&[("api-version", &long)]).option, "api-version");
    let ok = "x".repeat(MAX_OPTION_LEN);
    assert!(opts(&[("$skiptoken", &ok)]).is_ok());
}

#[test]
fn select() {
    assert_eq!(parse_select("id").unwrap(), vec!["id"]);
    assert_eq!(
        parse_select(" id ,\tdisplayName,_x1 ").unwrap(),
        vec!["id", "displayName", "_x1"]
    );
    let cases: &[(&str, &str, usize)] = &[
        ("", "empty item in $select", 0),
        ("id,", "empty item in $select", 3),
        ("id, ,x", "empty item in $select", 4),
        ("id,1x", "expected a property name, found '1'", 3),
        ("id,a b", "expected a property name, found ' '", 4),
        ("a/b", "expected a property name, found '/'", 1),
        ("idé", "expected a property name, found 'é'", 2),
        ("*", "expected a property name, found '*'", 0),
    ];
    for &(input, message, position) in cases {
        let e = parse_select(input).unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.position),
            (message, position),
            "{input:?}"
        );
    }
    let max = vec!["a"; MAX_SELECT_ITEMS].join(",");
    assert_eq!(parse_select(&max).unwrap().len(), MAX_SELECT_ITEMS);
    let over = format!("{max},b");
    let e = parse_select(&over).unwrap_err();
    assert_eq!(
        (e.message.as_str(), e.position),
        ("$select has more than 64 items", over.len() - 1)
    );
}

#[test]
fn orderby() {
    let ob = |path: &[&str], descending| OrderBy {
        path: path.iter().map(|s| s.to_string()).collect(),
        descending,
    };
    assert_eq!(
        parse_orderby("displayName").unwrap(),
        vec![ob(&["displayName"], false)]
    );
    assert_eq!(
        parse_orderby("displayName desc,createdDateTime asc").unwrap(),
        vec![ob(&["displayName"], true), ob(&["createdDateTime"], false)]
    );
    assert_eq!(
        parse_orderby(" a/microsoft.graph.b/c\tDESC , d ASC ").unwrap(),
        vec![
            ob(&["a", "microsoft.graph.b", "c"], true),
            ob(&["d"], false)
        ]
    );
    let cases: &[(&str, &str, usize)] = &[
        ("", "empty item in $orderby", 0),
        ("a,", "empty item in $orderby", 2),
        ("a down", "expected 'asc', 'desc' or ',', found 'down'", 2),
        (
            "a desc desc",
            "expected 'asc', 'desc' or ',', found 'desc desc'",
            2,
        ),
        ("b,a.", "invalid qualified name", 3),
        ("a(", "expected 'asc', 'desc' or ',', found '('", 1),
        ("a-b", "expected 'asc', 'desc' or ',', found '-'", 1),
        ("a/", "expected a property name, found end of input", 2),
        ("x,/a", "expected a property name, found '/'", 2),
    ];
    for &(input, message, position) in cases {
        let e = parse_orderby(input).unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.position),
            (message, position),
            "{input:?}"
        );
    }
}
