//! Admission by drain rate through the real server: pages queued here past their budget
//! are a free `503 capacity` with an honest `Retry-After`, while an upstream slower than
//! the budget is still a free `408 upstream_timeout`.

use crate::helpers::{Answer, SimApp};
use asa_model::Credits;
use asa_model::KeyKind;
use std::sync::Arc;
use std::time::Duration;

/// A product page whose download takes 2 s (FAULTS.md, `B0DRIPnnnn`).
const TWO_SECOND_PAGE: &str = "/api/v1/amazon/product?query=B0DRIP0200";

#[tokio::test]
async fn a_local_queue_past_the_budget_is_a_free_503_capacity_and_a_slow_upstream_still_408() {
    let sim = asa_sim::SimConfig {
        page_bytes: 100_000,
        ..asa_sim::SimConfig::default()
    };
    let s = Arc::new(
        SimApp::spawn_custom(sim, |c| {
            // One page slot, 5 s for a page.
            c.upstream.pages_at_once = 1;
            c.upstream.timeout = Duration::from_secs(5);
            c.upstream.attempt_timeout = Duration::from_secs(5);
        })
        .await,
    );
    let h = Arc::new(s.app.account("vibe", 1000, KeyKind::Live).await);
    let balance = || s.app.credits(&h.account_id);

    // Amazon answering after 7 s is too slow for the budget: that stays a 408.
    s.app
        .get_as(&h.key, "/api/v1/amazon/product?query=B0SLOW0700")
        .await
        .assert_envelope("upstream_timeout");

    // One page measures the drain: one slot, 2 s a page.
    let first = s.app.get_as(&h.key, TWO_SECOND_PAGE).await;
    assert_eq!(first.status, 200, "{}", first.text);

    // Ten at once: two fit in the 5 s budget, the others could only wait here past it.
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (s, h) = (s.clone(), h.clone());
            tokio::spawn(async move { s.app.get_as(&h.key, TWO_SECOND_PAGE).await })
        })
        .collect();
    let mut answers: Vec<Answer> = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    let delivered = answers.iter().filter(|a| a.status == 200).count();
    let refused: Vec<&Answer> = answers.iter().filter(|a| a.status != 200).collect();
    assert!(!refused.is_empty(), "20 s of pages cannot fit a 5 s budget");
    assert!(delivered >= 1, "the first one fits");
    for a in &refused {
        a.assert_envelope("capacity");
        let retry_after: u64 = a
            .header("retry-after")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("a Retry-After in seconds: {:?}", a.headers));
        assert!(retry_after >= 1);
        assert_eq!(
            a.header("asa-attempts"),
            Some("0"),
            "shed before going upstream"
        );
    }
    assert_eq!(
        balance().await,
        (Credits(1000 - 5 * (1 + delivered as i64)), Credits(0)),
        "only delivered pages are billed"
    );

    let id = refused[0].header("x-request-id").unwrap();
    let t = s
        .app
        .get_as(&h.key, &format!("/api/v1/requests/{id}"))
        .await;
    assert_eq!(t.status, 200, "{}", t.text);
    assert_eq!(t.body["error_code"], "capacity");
    assert_eq!(t.body["credits_charged"], 0);
    assert_eq!(t.body["attempts"].as_array().map(Vec::len), Some(0));
}
