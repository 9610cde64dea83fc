//! The single-call commands and the output formats, through the real binary.

use crate::harness::{asa_in, Server};
use asa_model::{KeyKind, Marketplace};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_writes_private_credentials_that_later_commands_use() {
    let s = Server::start(asa_sim::SimConfig::default(), |_| {}).await;
    let (account, key) = s.key("free", 0, KeyKind::Test).await;
    let home = s.home.path();

    let bad = asa_in(home, None, None, &["login", "asa_live_short"], None).await;
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    let no_key = asa_in(home, Some(&s.base), None, &["account"], None).await;
    assert_eq!(no_key.code, 2);
    assert!(no_key.stderr.contains("asa login"), "{}", no_key.stderr);

    let login = asa_in(
        home,
        None,
        None,
        &["login", &key, "--base-url", &s.base, "--check"],
        None,
    )
    .await;
    assert_eq!(login.code, 0, "{}", login.stderr);
    let path = home.join(".asa").join("credentials");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(&key) && text.contains(&s.base));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    // No ASA_API_KEY, no ASA_BASE_URL: both come from the file.
    let acc = asa_in(home, None, None, &["account"], None).await;
    assert_eq!(acc.code, 0, "{}", acc.stderr);
    let body: Value = serde_json::from_str(&acc.stdout).unwrap();
    assert_eq!(body["account_id"], account.as_str());
    assert_eq!(body["limits"]["concurrency"], 10);

    let p = asa_in(home, None, None, &["product", "B000LQXC2Q"], None).await;
    assert_eq!(p.code, 0, "{}", p.stderr);
    let body: Value = serde_json::from_str(&p.stdout).unwrap();
    assert_eq!(body["asin"], "B000LQXC2Q");
    let rid = body["request_id"].as_str().unwrap();
    let t = asa_in(home, None, None, &["trace", rid], None).await;
    assert_eq!(t.code, 0, "{}", t.stderr);
    let trace: Value = serde_json::from_str(&t.stdout).unwrap();
    assert_eq!(trace["request_id"], rid);
    assert_eq!(trace["endpoint"], "amazon.product");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_one_line_with_code_message_and_request_id() {
    let s = Server::start(asa_sim::SimConfig::default(), |_| {}).await;
    let (_, key) = s.key("vibe", 1000, KeyKind::Live).await;
    let r = s.asa(Some(&key), &["product", "B0NOTFND01"], None).await;
    assert_eq!(r.code, 1);
    assert!(r.stdout.is_empty());
    let line = r.stderr.trim();
    assert_eq!(line.lines().count(), 1, "{line}");
    assert!(line.contains("product_not_found (404)"), "{line}");
    assert!(line.contains("request_id req_"), "{line}");

    let bad = s
        .asa(Some(&key), &["search", "usb", "--sort", "relevance"], None)
        .await;
    assert_eq!(bad.code, 2, "clap refuses an unknown sort: {}", bad.stderr);
    let bad = s
        .asa(
            Some(&key),
            &["product", "B000LQXC2Q", "--domain", "xx"],
            None,
        )
        .await;
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr.contains("invalid_params (400)"),
        "{}",
        bad.stderr
    );

    let revoked = s
        .asa(
            Some("asa_live_00000000000000000000000000000000"),
            &["account"],
            None,
        )
        .await;
    assert_eq!(revoked.code, 2, "a refused key is a configuration error");
    assert!(revoked.stderr.contains("unauthorized"));

    let down = asa_in(
        s.home.path(),
        Some("http://127.0.0.1:9"),
        Some(&key),
        &["product", "B000LQXC2Q", "--no-retry"],
        None,
    )
    .await;
    assert_eq!(down.code, 3, "{}", down.stderr);
    assert!(
        down.stderr.starts_with("error: transport"),
        "{}",
        down.stderr
    );

    // The batch routes are a later issue's: whatever envelope the server answers today is
    // one line with its request id, after one attempt.
    let file = s.path("batch.txt");
    std::fs::write(
        &file,
        "B000LQXC2Q\n{\"query\": \"B000LQXC2R\", \"domain\": \"de\"}\n",
    )
    .unwrap();
    let b = s
        .asa(Some(&key), &["batch", file.to_str().unwrap()], None)
        .await;
    assert_eq!(b.code, 1, "{}", b.stderr);
    assert!(
        b.stderr.contains("request_id req_") && b.stderr.contains("1 attempt)"),
        "{}",
        b.stderr
    );
    let st = s.asa(Some(&key), &["batch-status", "b_1"], None).await;
    assert_eq!(st.code, 1, "{}", st.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ndjson_and_csv_carry_what_the_pages_say() {
    let s = Server::start(asa_sim::SimConfig::default(), |_| {}).await;
    let (_, key) = s.key("vibe", 10_000, KeyKind::Live).await;
    let asins = ["B000LQXC2Q", "B000LQXC2R", "B000LQXC2S"];

    let nd = s
        .asa(
            Some(&key),
            &[
                "product",
                "--domain",
                "de",
                "--json-per-line",
                "--no-progress",
            ],
            Some(&asins.join("\n")),
        )
        .await;
    assert_eq!(nd.code, 0, "{}", nd.stderr);
    let mut got: Vec<Value> = nd
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    got.sort_by_key(|v| v["asin"].as_str().unwrap().to_string());
    assert_eq!(got.len(), 3);
    for (v, asin) in got.iter().zip(asins) {
        let truth = asa_sim::product_truth(Marketplace::De, asin, "de_DE");
        assert_eq!(v["asin"], asin);
        assert_eq!(v["title"], truth.title.as_str());
        assert_eq!(v["currency"], "EUR");
    }
    assert!(
        nd.stderr.contains("3 requests in") && nd.stderr.contains("ok 3"),
        "{}",
        nd.stderr
    );

    let csv = s
        .asa(
            Some(&key),
            &[
                "product",
                "--csv",
                "--fields",
                "asin,title,currency,marketplace",
                "--domain",
                "de",
            ],
            Some(&asins.join("\n")),
        )
        .await;
    assert_eq!(csv.code, 0, "{}", csv.stderr);
    let mut rows = csv.stdout.lines();
    assert_eq!(rows.next(), Some("asin,title,currency,marketplace"));
    let mut rows: Vec<&str> = rows.collect();
    rows.sort();
    for (row, asin) in rows.iter().zip(asins) {
        let truth = asa_sim::product_truth(Marketplace::De, asin, "de_DE");
        let title = if truth.title.contains([',', '"']) {
            format!("\"{}\"", truth.title.replace('"', "\"\""))
        } else {
            truth.title.clone()
        };
        assert_eq!(*row, format!("{asin},{title},EUR,de"));
    }

    // A search: one CSV row per result card, the query's fields on each.
    let sr = s
        .asa(
            Some(&key),
            &[
                "search",
                "usb",
                "c",
                "cable",
                "--pages",
                "2",
                "--sort",
                "price_asc",
                "--csv",
                "--fields",
                "query,page,asin,organic_position",
            ],
            None,
        )
        .await;
    assert_eq!(sr.code, 0, "{}", sr.stderr);
    let rows: Vec<Vec<&str>> = sr
        .stdout
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert!(rows.len() > 10);
    assert!(rows
        .iter()
        .all(|r| r[0] == "usb c cable" && (r[1] == "1" || r[1] == "2")));
    let pretty = s.asa(Some(&key), &["search", "usb c cable"], None).await;
    let body: Value = serde_json::from_str(&pretty.stdout).unwrap();
    assert_eq!(body["query"], "usb c cable");
    assert!(pretty.stdout.contains("\n  \"query\""), "pretty printed");
}
