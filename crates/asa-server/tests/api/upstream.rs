//! Product and search end to end against the simulator standing in for Amazon: each
//! upstream error code from its real cause, headers on success, billing only on 2xx.

use crate::helpers::{SimApp, TestApp};
use asa_model::{AccountId, KeyKind};

async fn balance(app: &TestApp, account: &AccountId) -> (i64, i64) {
    let (balance, reserved) = app.credits(account).await;
    (balance.get(), reserved.get())
}

#[tokio::test]
async fn a_product_is_delivered_with_its_headers_and_billed_once() {
    let s = SimApp::spawn().await;
    let h = s.app.account("vibe", 100, KeyKind::Live).await;
    let a = s
        .app
        .get_as(&h.key, "/api/v1/amazon/product?query=B000LQXC2Q&domain=de")
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let truth = asa_sim::product_truth(asa_model::Marketplace::De, "B000LQXC2Q", "de_DE");
    assert_eq!(a.body["asin"], "B000LQXC2Q");
    assert_eq!(a.body["title"].as_str(), Some(truth.title.as_str()));
    assert_eq!(a.body["currency"], "EUR");
    assert_eq!(a.body["marketplace"], "de");
    assert_eq!(a.body["language"], "de_DE");
    assert_eq!(a.body["request_id"].as_str(), a.header("x-request-id"));
    assert!(a.body.get("html").is_none());
    assert_eq!(a.header("asa-cost"), Some("5"));
    assert_eq!(a.header("asa-attempts"), Some("1"));
    assert_eq!(a.header("asa-source-status"), Some("200"));
    assert!(a
        .header("asa-resolved-url")
        .unwrap()
        .contains("/dp/B000LQXC2Q"));
    assert_eq!(
        a.header("asa-extractor-version"),
        Some(asa_extract::EXTRACTOR_VERSION)
    );
    assert_eq!(a.header("asa-concurrency"), Some("1/30"));
    assert!(a.header("asa-rps").unwrap().ends_with("/10"));
    assert_eq!(balance(&s.app, &h.account_id).await, (95, 0));

    let a = s
        .app
        .get_as(
            &h.key,
            "/api/v1/amazon/product?query=B000LQXC2Q&domain=de&add_html=true",
        )
        .await;
    assert_eq!(a.status, 200);
    assert!(a.body["html"].as_str().unwrap().contains("productTitle"));
    assert_eq!(balance(&s.app, &h.account_id).await, (90, 0));
}

async fn assert_free_errors(s: &SimApp, cases: &[(&str, &str)]) {
    let h = s.app.account("vibe", 1000, KeyKind::Live).await;
    for (asin, code) in cases {
        let a = s
            .app
            .get_as(&h.key, &format!("/api/v1/amazon/product?query={asin}"))
            .await;
        a.assert_envelope(code);
        assert!(a.header("asa-attempts").is_some(), "{asin}");
        assert_eq!(
            balance(&s.app, &h.account_id).await,
            (1000, 0),
            "{asin} must be free"
        );
    }
}

#[tokio::test]
async fn every_upstream_error_comes_from_its_cause_and_is_free() {
    // A budget wide enough that four attempts with their backoff (at most 1.4 s of waits)
    // always finish on a loaded machine: a reset must read as unreachable, never as a
    // budget that ran out.
    let s = SimApp::spawn_with(|c| c.upstream.timeout = std::time::Duration::from_secs(20)).await;
    assert_free_errors(
        &s,
        &[
            ("B0CAPTCHA1", "blocked_by_amazon"),
            ("B0WAFCHAL1", "blocked_by_amazon"),
            ("B0ERR50301", "blocked_by_amazon"),
            ("B0NOTFND01", "product_not_found"),
            ("B0GALLERY1", "generic_gallery_page"),
            ("B0REDIRCT1", "asin_mismatch"),
            ("B0UNKNOWN1", "extraction_failed"),
            ("B0RESET001", "target_unreachable"),
            ("B0TRUNC001", "target_unreachable"),
        ],
    )
    .await;
}

#[tokio::test]
async fn a_page_slower_than_the_budget_is_a_free_timeout() {
    let s =
        SimApp::spawn_with(|c| c.upstream.timeout = std::time::Duration::from_millis(1500)).await;
    assert_free_errors(&s, &[("B0SLOW0300", "upstream_timeout")]).await;
}

#[tokio::test]
async fn internal_retries_get_past_a_passing_captcha() {
    let s = SimApp::spawn().await;
    let h = s.app.account("vibe", 100, KeyKind::Live).await;
    let a = s
        .app
        .get_as(&h.key, "/api/v1/amazon/product?query=B0FLAKY2AB")
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.header("asa-attempts"), Some("3"));
    assert_eq!(a.header("asa-cost"), Some("5"));
}

#[tokio::test]
async fn sandbox_keys_are_served_by_the_simulator_and_never_billed() {
    let app = TestApp::spawn().await;
    let h = app.account("free", 0, KeyKind::Test).await;
    let a = app
        .get_as(&h.key, "/api/v1/amazon/product?query=B000LQXC2Q")
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.header("asa-cost"), Some("0"));
    let a = app
        .get_as(&h.key, "/api/v1/amazon/product?query=B0CAPTCHA1")
        .await;
    a.assert_envelope("blocked_by_amazon");
}

#[tokio::test]
async fn search_over_several_pages_reports_the_failed_one_and_bills_the_rest() {
    let s = SimApp::spawn().await;
    let h = s.app.account("vibe", 100, KeyKind::Live).await;
    let a = s
        .app
        .get_as(
            &h.key,
            "/api/v1/amazon/search?query=sim-fail-page-2&pages=3",
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.header("asa-cost"), Some("10"));
    let failed = a.body["failed_pages"].as_array().unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["page"], 2);
    assert_eq!(failed[0]["error"], "blocked_by_amazon");
    let products = a.body["products"].as_array().unwrap();
    assert!(!products.is_empty());
    assert!(products.iter().all(|p| p["page"] == 1 || p["page"] == 3));
    assert!(a.body.get("html").is_none());
    let with_html = s
        .app
        .get_as(
            &h.key,
            "/api/v1/amazon/search?query=sim-fail-page-2&pages=2&add_html=true",
        )
        .await;
    assert_eq!(with_html.status, 200, "{}", with_html.text);
    let html = with_html.body["html"].as_object().unwrap();
    assert_eq!(
        html.keys().collect::<Vec<_>>(),
        ["1"],
        "only delivered pages"
    );
    assert!(html["1"].as_str().unwrap().contains("s-search-result"));
    let organic: Vec<u64> = products
        .iter()
        .filter_map(|p| p["organic_position"].as_u64())
        .collect();
    assert_eq!(
        organic,
        (1..=organic.len() as u64).collect::<Vec<_>>(),
        "positions run across pages"
    );
    assert_eq!(balance(&s.app, &h.account_id).await, (85, 0));
}

#[tokio::test]
async fn a_genuine_empty_search_is_a_200_with_no_results() {
    let s = SimApp::spawn().await;
    let h = s.app.account("vibe", 100, KeyKind::Live).await;
    let a = s
        .app
        .get_as(&h.key, "/api/v1/amazon/search?query=sim-empty")
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["no_results"], true);
    assert_eq!(a.body["products"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn a_search_that_fails_entirely_is_its_error_and_free() {
    let s = SimApp::spawn().await;
    let h = s.app.account("vibe", 100, KeyKind::Live).await;
    let a = s
        .app
        .get_as(&h.key, "/api/v1/amazon/search?query=sim-captcha&pages=2")
        .await;
    a.assert_envelope("blocked_by_amazon");
    assert_eq!(balance(&s.app, &h.account_id).await, (100, 0));
}

#[tokio::test]
async fn the_trace_is_readable_by_its_owner_right_after_the_response() {
    let s = SimApp::spawn().await;
    let h = s.app.account("vibe", 100, KeyKind::Live).await;
    let a = s
        .app
        .get_as(
            &h.key,
            "/api/v1/amazon/product?query=B0FLAKY1AB&api_key=ignored",
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let id = a.header("x-request-id").unwrap().to_string();
    let t = s
        .app
        .get_as(&h.key, &format!("/api/v1/requests/{id}"))
        .await;
    assert_eq!(t.status, 200, "{}", t.text);
    assert_eq!(t.body["request_id"], id.as_str());
    assert_eq!(t.body["status"], 200);
    assert_eq!(t.body["credits_charged"], 5);
    let attempts = t.body["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0]["outcome"], "captcha");
    assert_eq!(attempts[1]["outcome"], "ok");
    assert!(
        !t.text.contains(&h.key) && !t.text.contains("api_key"),
        "no key in traces: {}",
        t.text
    );

    // Another account's id is indistinguishable from a missing one.
    let other = s.app.account("vibe", 0, KeyKind::Live).await;
    s.app
        .get_as(&other.key, &format!("/api/v1/requests/{id}"))
        .await
        .assert_envelope("not_found");
    s.app
        .get_as(&h.key, "/api/v1/requests/req_000000000000")
        .await
        .assert_envelope("not_found");

    // Refused requests leave traces too.
    let r = s
        .app
        .get_as(&h.key, "/api/v1/amazon/product?query=bad")
        .await;
    let rid = r.header("x-request-id").unwrap();
    let t = s
        .app
        .get_as(&h.key, &format!("/api/v1/requests/{rid}"))
        .await;
    assert_eq!(t.body["error_code"], "invalid_params");
}

#[tokio::test]
async fn metrics_move_as_requests_are_made() {
    let s = SimApp::spawn_with(|c| c.admin.token = "op-secret-token".into()).await;
    let h = s.app.account("vibe", 100, KeyKind::Live).await;
    let count = |text: &str, line_start: &str| -> u64 {
        text.lines()
            .find(|l| l.starts_with(line_start))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let before = s.app.metrics().await.text;
    assert!(before.contains("# TYPE asa_requests_total counter"));
    s.app
        .get_as(&h.key, "/api/v1/amazon/product?query=B000LQXC2Q")
        .await;
    s.app
        .get_as(&h.key, "/api/v1/amazon/product?query=B0CAPTCHA1")
        .await;
    s.app
        .get_as(&h.key, "/api/v1/amazon/product?query=bad")
        .await;
    let after = s.app.metrics().await.text;
    let ok = "asa_requests_total{endpoint=\"amazon.product\",status=\"200\",code=\"\"}";
    let blocked =
        "asa_requests_total{endpoint=\"amazon.product\",status=\"422\",code=\"blocked_by_amazon\"}";
    let invalid =
        "asa_requests_total{endpoint=\"amazon.product\",status=\"400\",code=\"invalid_params\"}";
    assert_eq!(count(&after, ok), count(&before, ok) + 1, "{after}");
    assert_eq!(count(&after, blocked), count(&before, blocked) + 1);
    assert_eq!(count(&after, invalid), count(&before, invalid) + 1);
    assert_eq!(count(&after, "asa_credits_charged_total"), 5);
    assert!(
        count(
            &after,
            "asa_upstream_attempts_total{outcome=\"captcha\",exit_country=\"direct\"}"
        ) >= 2,
        "{after}"
    );
    assert!(after.contains("asa_extraction_duration_seconds_count"));
    assert!(after.contains("asa_limiter_decisions_total{result=\"admitted\"}"));
    assert!(after.contains("asa_trace_queue_depth"));
}

#[tokio::test]
async fn pages_the_extractor_cannot_read_are_kept_for_its_maintainers() {
    let dir = tempfile::tempdir().unwrap();
    let failures = dir.path().join("failures");
    let path = failures.display().to_string();
    let s = SimApp::spawn_with(move |c| {
        c.failures_dir = path;
        c.failures_keep = 2;
    })
    .await;
    let h = s.app.account("vibe", 100, KeyKind::Live).await;
    let mut ids = Vec::new();
    for asin in ["B0UNKNOWN1", "B0UNKNOWN2", "B0UNKNOWN3"] {
        let a = s
            .app
            .get_as(&h.key, &format!("/api/v1/amazon/product?query={asin}"))
            .await;
        a.assert_envelope("extraction_failed");
        ids.push(a.header("x-request-id").unwrap().to_string());
        // Kept from a blocking thread: wait for it before the next one so the order is known.
        let html = failures.join(format!("{}.html", ids.last().unwrap()));
        for _ in 0..100 {
            if html.exists() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    let keeper = asa_server::failures::FailureKeeper::new(&failures, 2);
    let kept: Vec<_> = keeper
        .list()
        .unwrap()
        .into_iter()
        .map(|r| r.request_id)
        .collect();
    assert_eq!(
        kept,
        [ids[2].clone(), ids[1].clone()],
        "the newest two are kept"
    );
    let (record, html) = keeper.show(&ids[2]).unwrap();
    assert_eq!(record.asked, "B0UNKNOWN3");
    assert_eq!(record.marketplace, "com");
    assert!(std::fs::metadata(html).unwrap().len() > 1000);
}
