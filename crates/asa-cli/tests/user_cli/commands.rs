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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_creates_a_sandbox_batch_and_batch_status_shows_it() {
    // A roomy upstream budget: this test is about the commands, and beside the bulk tests'
    // floods of 1.5 MB pages on two cores the harness's 5 s ran out (408 items).
    let s = Server::start(asa_sim::SimConfig::default(), |c| {
        c.upstream.timeout = std::time::Duration::from_secs(30);
        c.upstream.attempt_timeout = std::time::Duration::from_secs(15);
    })
    .await;
    let (_, key) = s.key("free", 0, KeyKind::Test).await;
    let file = s.path("batch.txt");
    std::fs::write(
        &file,
        "# asins\nB000LQXC2Q\n{\"query\": \"B000LQXC2R\", \"domain\": \"de\"}\nB0NOTFND01\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();

    let b = s
        .asa(
            Some(&key),
            &["batch", file, "--idempotency-key", "cli-batch-1"],
            None,
        )
        .await;
    assert_eq!(b.code, 0, "{}", b.stderr);
    let created: Value = serde_json::from_str(&b.stdout).unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("bat_") && id.len() == 20, "{created}");
    assert_eq!(created["total_count"], 3);
    assert_eq!(created["endpoint"], "amazon.product");
    assert!(created["webhook_signature_secret"]
        .as_str()
        .unwrap()
        .starts_with("whsec_"));
    assert!(b.stderr.contains("shown only once"), "{}", b.stderr);

    let st = s.asa(Some(&key), &["batch-status", &id], None).await;
    assert_eq!(st.code, 0, "{}", st.stderr);
    let shown: Value = serde_json::from_str(&st.stdout).unwrap();
    assert_eq!(shown["id"], id.as_str());
    assert_eq!(shown["total_count"], 3);
    assert!(shown.get("webhook_signature_secret").is_none(), "{shown}");

    // The same key answers the first batch; --wait polls it to the end. One item failed:
    // exit 1, like any command with a failed request.
    let w = s
        .asa(
            Some(&key),
            &[
                "batch",
                file,
                "--idempotency-key",
                "cli-batch-1",
                "--wait",
                "--poll-interval",
                "100ms",
            ],
            None,
        )
        .await;
    assert_eq!(w.code, 1, "{}", w.stderr);
    let done: Value = serde_json::from_str(&w.stdout).unwrap();
    assert_eq!(done["id"], id.as_str());
    assert_eq!(done["status"], "complete", "{done}");
    assert_eq!(done["processed_count"], 3);
    assert_eq!(done["success_count"], 2);
    assert_eq!(done["failure_count"], 1);
    assert_eq!(done["results"].as_array().unwrap().len(), 3);

    let lines = s
        .asa(Some(&key), &["batch-status", &id, "--json-per-line"], None)
        .await;
    assert_eq!(lines.code, 0, "{}", lines.stderr);
    let results: Vec<Value> = lines
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(results.len(), 3, "{}", lines.stdout);
    assert_eq!(results[0]["status"], "ok");
    assert_eq!(results[0]["data"]["asin"], "B000LQXC2Q");
    assert_eq!(results[1]["data"]["marketplace"], "de");
    assert_eq!(results[2]["index"], 2);
    assert_eq!(results[2]["status"], "error");
    assert_eq!(results[2]["error"]["error"], "product_not_found");

    // Every item delivered: --wait exits 0.
    let ok = s
        .asa(
            Some(&key),
            &["batch", "--wait", "--poll-interval", "100ms", "-"],
            Some("B000LQXC2Q\n"),
        )
        .await;
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    let ok: Value = serde_json::from_str(&ok.stdout).unwrap();
    assert_eq!(ok["status"], "complete");
    assert_ne!(ok["id"], id.as_str());

    // A bad item is refused up front, naming its index; an unknown id is not_found.
    let bad = s
        .asa(
            Some(&key),
            &["batch", "--endpoint", "search", "-"],
            Some("usb c\n{\"query\": \"usb\", \"pages\": 11}\n"),
        )
        .await;
    assert_eq!(bad.code, 1, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("invalid_params (400)") && bad.stderr.contains("items[1]"),
        "{}",
        bad.stderr
    );
    assert!(bad.stderr.contains("1 attempt)"), "{}", bad.stderr);
    let missing = s
        .asa(Some(&key), &["batch-status", "bat_0000000000000000"], None)
        .await;
    assert_eq!(missing.code, 1, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("not_found (404)"),
        "{}",
        missing.stderr
    );
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
