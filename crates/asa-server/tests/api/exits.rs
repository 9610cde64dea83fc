//! Exit proxies and deadlines through the whole server: the simulator doubles as the
//! proxies (each listener an exit that records the requests it carried).

use crate::helpers::{SimApp, TestApp};
use asa_model::KeyKind;
use std::time::{Duration, Instant};

/// A simulator with two exits, and a server whose German pool is those two proxies.
async fn proxied_app() -> TestApp {
    let app = SimApp::spawn_launch(
        |launch| {
            launch
                .sim_listen(vec!["127.0.0.1:0".into(); 2])
                .with_sim(|c, sim| {
                    // Plain http to Amazon's real host names: the proxies (the simulator)
                    // answer.
                    c.upstream.url_template = "http://www.amazon.{domain}".into();
                    let pool = sim
                        .addrs()
                        .iter()
                        .map(|(id, a)| format!("http://{a}#{id}"))
                        .collect();
                    c.proxies.insert("DE".into(), pool);
                })
        },
        |_| {},
    )
    .await;
    app.app
}

#[tokio::test]
async fn each_retry_goes_out_through_another_exit() {
    let app = proxied_app().await;
    let sim = app.sim();
    let h = app.account("vibe", 100, KeyKind::Live).await;
    let a = app
        .get_as(&h.key, "/api/v1/amazon/product?query=B0FLAKY1XY&domain=de")
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.header("asa-attempts"), Some("2"));
    let seen: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.asin.as_deref() == Some("B0FLAKY1XY"))
        .collect();
    assert_eq!(seen.len(), 2);
    assert!(seen
        .iter()
        .all(|r| r.proxied && r.host.as_deref() == Some("www.amazon.de")));
    assert_ne!(
        seen[0].exit, seen[1].exit,
        "the retry must take the other exit"
    );

    // The trace names the proxies by id, never by address or credentials.
    let id = a.header("x-request-id").unwrap();
    let t = app.get_as(&h.key, &format!("/api/v1/requests/{id}")).await;
    let proxies: Vec<_> = t.body["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["proxy_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(proxies.len(), 2);
    assert_ne!(proxies[0], proxies[1]);
    assert!(
        proxies.iter().all(|p| p.starts_with("exit-")),
        "{proxies:?}"
    );
    assert!(t.body["attempts"][0]["exit_country"] == "DE");
}

#[tokio::test]
async fn a_blocked_product_tries_each_exit_once() {
    let app = proxied_app().await;
    let sim = app.sim();
    let h = app.account("vibe", 100, KeyKind::Live).await;
    let a = app
        .get_as(&h.key, "/api/v1/amazon/product?query=B0CAPTCHA2&domain=de")
        .await;
    a.assert_envelope("blocked_by_amazon");
    let exits: Vec<_> = sim.requests().into_iter().map(|r| r.exit).collect();
    assert_eq!(exits.len(), 2, "two exits in the pool, two attempts");
    assert_ne!(exits[0], exits[1]);
}

#[tokio::test]
async fn the_upstream_deadline_is_honoured_within_ten_percent() {
    let budget = Duration::from_secs(2);
    let app = SimApp::spawn_with(move |c| c.upstream.timeout = budget)
        .await
        .app;
    let h = app.account("vibe", 100, KeyKind::Live).await;
    let started = Instant::now();
    let a = app
        .get_as(&h.key, "/api/v1/amazon/product?query=B0SLOW1000")
        .await;
    let took = started.elapsed();
    a.assert_envelope("upstream_timeout");
    assert!(
        took >= budget,
        "answered before the budget ran out: {took:?}"
    );
    assert!(
        // 10% plus a second of scheduling slack; the page itself takes 10 s.
        took <= budget + budget / 10 + Duration::from_secs(1),
        "deadline overrun: {took:?}"
    );
    assert_eq!(a.header("retry-after"), Some("2"));
}
