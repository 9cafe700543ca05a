use crate::harness::{ORGS, TestServer, assert_error};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_driven_paging_count_order_select_and_search() {
    let s = TestServer::sqlite().await;
    let names = [
        "Northwind",
        "adatum",
        "Contoso",
        "Fabrikam",
        "Litware",
        "northwind traders",
        "Tailspin",
    ];
    for (i, n) in names.iter().enumerate() {
        s.create_domain_org(n, &format!("p{i}.example.net")).await;
    }
    // $top with absolute, opaque nextLinks that keep the other options.
    let mut seen = Vec::new();
    let mut next = Some(format!(
        "{ORGS}?$top=3&$orderby=displayName&$count=true&$select=id,displayName"
    ));
    let mut pages = 0;
    while let Some(url) = next {
        let r = s.get(&url).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["@odata.count"], 7);
        for o in r.body["value"].as_array().unwrap() {
            assert_eq!(
                o.as_object()
                    .unwrap()
                    .keys()
                    .filter(|k| !k.starts_with('@'))
                    .count(),
                2,
                "$select keeps id and displayName only: {o}"
            );
            seen.push(o["displayName"].as_str().unwrap().to_owned());
        }
        next = r.body["@odata.nextLink"].as_str().map(str::to_owned);
        if let Some(n) = &next {
            assert!(n.starts_with(&s.base), "nextLink must be absolute: {n}");
            assert!(
                n.contains("$orderby=displayName")
                    && n.contains("$top=3")
                    && n.contains("$skiptoken="),
                "{n}"
            );
        }
        pages += 1;
    }
    assert_eq!(pages, 3);
    assert_eq!(
        seen,
        [
            "adatum",
            "Contoso",
            "Fabrikam",
            "Litware",
            "Northwind",
            "northwind traders",
            "Tailspin"
        ]
    );
    // Descending.
    let r = s
        .get(&format!("{ORGS}?$orderby=displayName desc&$top=2"))
        .await;
    let got: Vec<&str> = r.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(got, ["Tailspin", "northwind traders"]);
    // Filters from the Graph docs.
    let r = s
        .get(&format!("{ORGS}?$filter=displayName eq 'contoso'"))
        .await;
    assert_eq!(
        r.body["value"].as_array().unwrap().len(),
        1,
        "eq is case-insensitive"
    );
    let r = s
        .get(&format!(
            "{ORGS}?$filter=startswith(displayName,'north')&$count=true"
        ))
        .await;
    assert_eq!(r.body["@odata.count"], 2);
    let r = s.get(&format!("{ORGS}?$filter=identitySources/any(is:is/microsoft.graph.domainIdentitySource/domainName eq 'p3.example.net')")).await;
    assert_eq!(r.body["value"][0]["displayName"], "Fabrikam");
    let r = s.get(&format!("{ORGS}?$filter=identitySources/any(is:is/microsoft.graph.azureActiveDirectoryTenant/tenantId eq '0ab4f2b5-1c64-4e13-a9f7-2b5f3c9f8a01')")).await;
    assert_eq!(r.body["value"].as_array().unwrap().len(), 0);
    let r = s
        .get(&format!(
            "{ORGS}?$filter=state eq 'Configured' and not startswith(displayName,'n')&$count=true"
        ))
        .await;
    assert_eq!(r.body["@odata.count"], 5, "{}", r.text);
    // Portal-style search: by name (contains, any case), never by domain.
    let r = s.get(&format!("{ORGS}?$search=\"WIND\"")).await;
    assert_eq!(r.body["value"].as_array().unwrap().len(), 2);
    let r = s.get(&format!("{ORGS}?$search=\"example.net\"")).await;
    assert_eq!(r.body["value"].as_array().unwrap().len(), 0);
    // /$count as text.
    let r = s
        .get(&format!(
            "{ORGS}/$count?$filter=startswith(displayName,'n')"
        ))
        .await;
    assert_eq!(r.text, "2");
    // A tampered skiptoken is refused.
    let r = s.get(&format!("{ORGS}?$top=2")).await;
    let link = r.body["@odata.nextLink"].as_str().unwrap().to_owned();
    assert_error(&s.get(&format!("{link}x!")).await, 400, "invalidRequest");
    s.stop().await;
}
