//! Retries through fresh exits, what the judge's verdicts and Amazon's statuses lead to,
//! pool routing, and proxy credentials.

use crate::support::*;
use asa_model::{ErrorCode, Marketplace};
use asa_upstream::{FetchError, Outcome, ProxyState, Upstream, UpstreamConfig};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A storefront that serves a challenge to the first `captchas` requests, then products.
async fn flaky_storefront(captchas: usize) -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let router = Router::new().fallback(move |req: Request| {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        async move {
            if n < captchas {
                CAPTCHA.to_string()
            } else {
                format!("product page for {}", req.uri().path())
            }
        }
    });
    (serve(router).await, hits)
}

async fn proxies(names: &[&str], log: &Log) -> Vec<String> {
    let mut urls = Vec::new();
    for name in names {
        urls.push(format!("http://{}#{name}", proxy(name, log).await));
    }
    urls
}

#[tokio::test]
async fn captchas_are_retried_through_another_proxy_until_a_page_comes() {
    let (origin, hits) = flaky_storefront(2).await;
    let log = Log::default();
    let urls = proxies(&["de-a", "de-b", "de-c"], &log).await;
    let up = Upstream::new(UpstreamConfig {
        proxies: pools(&[("de", urls)]),
        ..config(origin)
    })
    .unwrap();

    let fetched = up
        .fetch(&product(Marketplace::De, "B0CAPTCHA1"), judge())
        .await;
    assert_eq!(
        fetched.resolved_url(),
        Some(format!("http://{origin}/amazon.de/dp/B0CAPTCHA1?th=1&psc=1&language=de_DE").as_str())
    );
    let d = fetched.result.expect("the third exit got the page");
    assert_eq!(d.value, "product page for /amazon.de/dp/B0CAPTCHA1");
    let outcomes: Vec<Outcome> = fetched.attempts.iter().map(|a| a.outcome).collect();
    assert_eq!(outcomes, [Outcome::Captcha, Outcome::Captcha, Outcome::Ok]);

    // Each attempt went out through a different proxy, and the proxy that saw attempt
    // n is the one attempt n names.
    let ids: Vec<String> = fetched
        .attempts
        .iter()
        .map(|a| a.proxy_id.clone().unwrap())
        .collect();
    assert_eq!(seen_by(&log), ids);
    let mut distinct = ids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 3, "{ids:?}");
    assert_eq!(hits.load(Ordering::SeqCst), 3);
    for a in &fetched.attempts {
        assert_eq!(a.exit_country.as_deref(), Some("DE"));
        assert_eq!(a.status, Some(200));
    }
    for s in log.lock().unwrap().iter() {
        assert!(s
            .uri
            .ends_with("/amazon.de/dp/B0CAPTCHA1?th=1&psc=1&language=de_DE"));
    }
}

#[tokio::test]
async fn challenges_on_every_attempt_are_blocked_with_the_last_page() {
    let (origin, hits) = flaky_storefront(usize::MAX).await;
    let up = Upstream::new(config(origin)).unwrap();
    let fetched = up
        .fetch(&product(Marketplace::Us, "B0BLOCKED1"), judge())
        .await;
    assert_eq!(fetched.attempts.len(), 4);
    assert_eq!(hits.load(Ordering::SeqCst), 4);
    assert!(fetched
        .attempts
        .iter()
        .all(|a| a.outcome == Outcome::Captcha));
    let err = fetched.result.unwrap_err();
    assert_eq!(err.code(), ErrorCode::BlockedByAmazon);
    match err {
        FetchError::Blocked { last } => assert_eq!(last.as_deref(), Some(CAPTCHA)),
        other => panic!("expected Blocked, got {other:?}"),
    }
}

#[tokio::test]
async fn a_request_never_reuses_an_exit() {
    let (origin, _) = flaky_storefront(usize::MAX).await;
    let log = Log::default();
    let urls = proxies(&["fr-x", "fr-y"], &log).await;
    let up = Upstream::new(UpstreamConfig {
        proxies: pools(&[("FR", urls)]),
        ..config(origin)
    })
    .unwrap();
    let fetched = up
        .fetch(&product(Marketplace::Fr, "B0BLOCKED2"), judge())
        .await;
    // Two exits, so two attempts though four were allowed.
    assert_eq!(fetched.attempts.len(), 2);
    assert_ne!(fetched.attempts[0].proxy_id, fetched.attempts[1].proxy_id);
    assert_eq!(log.lock().unwrap().len(), 2);
    assert!(matches!(fetched.result, Err(FetchError::Blocked { .. })));
}

async fn statuses(req: Request) -> Response {
    match req.uri().path() {
        "/amazon.com/dp/B0MISSING1" => (StatusCode::NOT_FOUND, "Page Not Found").into_response(),
        "/amazon.com/dp/B0BARE5031" => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        "/amazon.com/dp/B0PAGE5031" => {
            (StatusCode::SERVICE_UNAVAILABLE, AMAZON_503).into_response()
        }
        "/amazon.com/dp/B0STATUS50" => (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response(),
        _ => StatusCode::IM_A_TEAPOT.into_response(),
    }
}

#[tokio::test]
async fn amazon_404_is_final_and_error_statuses_are_retried() {
    let origin = serve(Router::new().fallback(statuses)).await;
    let up = Upstream::new(UpstreamConfig {
        max_attempts: 2,
        ..config(origin)
    })
    .unwrap();

    let fetched = up
        .fetch(&product(Marketplace::Us, "B0MISSING1"), judge())
        .await;
    let d = fetched.result.expect("a 404 page is an answer");
    assert_eq!((d.status, d.value.as_str()), (404, "Page Not Found"));
    assert_eq!(fetched.attempts.len(), 1);
    assert_eq!(fetched.attempts[0].outcome, Outcome::NotFound);

    for (asin, outcome, status) in [
        // The judge accepted an empty 503: still Amazon refusing, so retried.
        ("B0BARE5031", Outcome::Amazon503, 503),
        // The judge recognised Amazon's 503 page.
        ("B0PAGE5031", Outcome::Amazon503, 503),
        ("B0STATUS50", Outcome::BadStatus, 500),
    ] {
        let fetched = up.fetch(&product(Marketplace::Us, asin), judge()).await;
        assert_eq!(fetched.attempts.len(), 2, "{asin}");
        for a in &fetched.attempts {
            assert_eq!((a.outcome, a.status), (outcome, Some(status)), "{asin}");
        }
        assert_eq!(fetched.last_status(), Some(status));
        assert_eq!(
            fetched.resolved_url(),
            Some(fetched.attempts[1].url.as_str())
        );
        let err = fetched.result.unwrap_err();
        assert_eq!(err.code(), ErrorCode::BlockedByAmazon, "{asin}");
        assert!(
            matches!(err, FetchError::Blocked { last: Some(_) }),
            "{asin}"
        );
    }
}

#[tokio::test]
async fn countries_without_a_pool_use_the_default_pool_else_go_direct() {
    let (origin, _) = flaky_storefront(0).await;
    let log = Log::default();
    let de = proxies(&["de-only"], &log).await;
    let fallback = proxies(&["anywhere"], &log).await;

    let up = Upstream::new(UpstreamConfig {
        proxies: pools(&[("DE", de.clone()), ("default", fallback)]),
        ..config(origin)
    })
    .unwrap();
    let mut req = product(Marketplace::De, "B0ROUTE001");
    req.country = "fr".into();
    let fetched = up.fetch(&req, judge()).await;
    assert!(fetched.result.is_ok());
    let a = &fetched.attempts[0];
    assert_eq!(a.proxy_id.as_deref(), Some("anywhere"));
    assert_eq!(a.exit_country, None);
    assert_eq!(seen_by(&log), ["anywhere"]);

    let up = Upstream::new(UpstreamConfig {
        proxies: pools(&[("DE", de)]),
        ..config(origin)
    })
    .unwrap();
    let fetched = up.fetch(&req, judge()).await;
    assert!(fetched.result.is_ok());
    assert_eq!(fetched.attempts[0].proxy_id.as_deref(), Some("direct"));
    assert_eq!(
        log.lock().unwrap().len(),
        1,
        "the DE proxy was not used for FR"
    );
    let health = up.proxy_health();
    assert_eq!(health.len(), 1);
    assert_eq!(
        (health[0].id.as_str(), health[0].pool.as_str()),
        ("de-only", "DE")
    );
    assert_eq!(health[0].state, ProxyState::Healthy);
}

const SECRET: &str = "s3cr3t-pw";
/// `Basic base64("alice:s3cr3t-pw")`.
const AUTH: &str = "Basic YWxpY2U6czNjcjN0LXB3";

#[tokio::test]
async fn proxy_credentials_are_used_but_never_shown() {
    let (origin, _) = flaky_storefront(0).await;
    let log = Log::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let good = proxy_on(listener, "with-auth", &log, Some(AUTH));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let wrong = proxy_on(listener, "wrong-auth", &log, Some(AUTH));
    let (_socket, refusing) = refusing_socket();
    let up = Upstream::new(UpstreamConfig {
        proxies: pools(&[(
            "DE",
            vec![
                format!("http://alice:{SECRET}@{good}"),
                format!("http://alice:wrong-{SECRET}@{wrong}"),
                format!("http://alice:{SECRET}@{refusing}"),
            ],
        )]),
        ..config(origin)
    })
    .unwrap();

    let mut texts = vec![format!("{up:?}")];
    let mut outcomes = Vec::new();
    for _ in 0..3 {
        let fetched = up
            .fetch(&product(Marketplace::De, "B0SECRET01"), judge())
            .await;
        assert!(fetched.result.is_ok(), "{:?}", fetched.result);
        outcomes.extend(fetched.attempts.iter().map(|a| a.outcome));
        texts.push(serde_json::to_string(&fetched.attempts).unwrap());
        texts.push(format!("{fetched:?}"));
    }
    assert!(outcomes.contains(&Outcome::ProxyError), "{outcomes:?}");
    assert!(outcomes.contains(&Outcome::ConnectError), "{outcomes:?}");
    texts.push(serde_json::to_string(&up.proxy_health()).unwrap());
    texts.push(format!("{:?}", up.proxy_health()));
    texts.push(format!("{:?}", up.config()));
    for text in &texts {
        assert!(!text.contains(SECRET), "credentials leaked: {text}");
        assert!(!text.contains("alice"), "credentials leaked: {text}");
    }
    // The credentials did reach the proxies.
    for s in log.lock().unwrap().iter() {
        assert!(s.proxy_authorization.is_some(), "{s:?}");
        if s.proxy == "with-auth" {
            assert_eq!(s.proxy_authorization.as_deref(), Some(AUTH));
        }
    }
}

#[tokio::test]
async fn socks5_proxies_carry_attempts_with_their_credentials() {
    let (origin, _) = flaky_storefront(0).await;
    let log = Log::default();
    let good = socks5("jp-socks", &log, Some(("bob", SECRET))).await;
    let wrong = socks5("jp-socks-wrong", &log, Some(("bob", "other"))).await;
    let up = Upstream::new(UpstreamConfig {
        proxies: pools(&[(
            "JP",
            vec![
                format!("socks5h://bob:{SECRET}@{good}#jp-socks"),
                format!("socks5://bob:{SECRET}@{wrong}#jp-socks-wrong"),
            ],
        )]),
        ..config(origin)
    })
    .unwrap();
    let mut outcomes = Vec::new();
    for _ in 0..2 {
        let fetched = up
            .fetch(&product(Marketplace::Jp, "B0SOCKS001"), judge())
            .await;
        let d = fetched.result.expect("through the good SOCKS5 proxy");
        assert_eq!(d.value, "product page for /amazon.co.jp/dp/B0SOCKS001");
        assert_eq!(
            fetched.attempts.last().unwrap().proxy_id.as_deref(),
            Some("jp-socks")
        );
        outcomes.extend(
            fetched
                .attempts
                .iter()
                .map(|a| (a.outcome, a.error.clone())),
        );
    }
    let refused: Vec<_> = outcomes.iter().filter(|(o, _)| *o != Outcome::Ok).collect();
    assert_eq!(refused.len(), 1, "{outcomes:?}");
    assert_eq!(refused[0].0, Outcome::ProxyError, "{outcomes:?}");
    assert!(!refused[0].1.as_deref().unwrap().contains(SECRET));
    let seen = log.lock().unwrap();
    assert!(seen.iter().all(|s| s.uri == origin.to_string()), "{seen:?}");
    assert!(seen
        .iter()
        .any(|s| s.proxy == "jp-socks" && s.proxy_authorization.as_deref() == Some("bob")));
}
