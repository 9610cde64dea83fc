//! Transport failures: refused connections, resets, cut bodies, slow answers against the
//! deadline, and the circuit breaker benching and restoring a proxy.

use crate::support::*;
use asa_model::{ErrorCode, Marketplace};
use asa_upstream::{FetchError, Judge, Outcome, ProxyState, Upstream, UpstreamConfig, Verdict};
use axum::body::Body;
use axum::response::IntoResponse;
use axum::Router;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::test]
async fn refused_everywhere_is_unreachable() {
    let (_a, first) = refusing_socket();
    let (_b, second) = refusing_socket();
    let (_c, origin) = refusing_socket();
    let up = Upstream::new(UpstreamConfig {
        proxies: pools(&[(
            "DE",
            vec![format!("http://{first}"), format!("socks5://{second}")],
        )]),
        ..config(origin)
    })
    .unwrap();

    let fetched = up
        .fetch(&product(Marketplace::De, "B0REFUSED1"), judge())
        .await;
    let err = fetched.result.unwrap_err();
    assert!(matches!(err, FetchError::Unreachable));
    assert_eq!(err.code(), ErrorCode::TargetUnreachable);
    // Both exits tried once, then none left.
    let ids: Vec<_> = fetched
        .attempts
        .iter()
        .map(|a| a.proxy_id.clone().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
    for a in &fetched.attempts {
        assert!(
            matches!(a.outcome, Outcome::ConnectError | Outcome::ProxyError),
            "{a:?}"
        );
        assert_eq!(a.status, None);
        assert!(a.error.is_some());
    }

    // Direct to a storefront that refuses: every allowed attempt is made.
    let mut req = product(Marketplace::Us, "B0REFUSED2");
    req.country = "US".into();
    let fetched = up.fetch(&req, judge()).await;
    assert!(matches!(fetched.result, Err(FetchError::Unreachable)));
    assert_eq!(fetched.attempts.len(), 4);
    assert!(fetched
        .attempts
        .iter()
        .all(|a| a.outcome == Outcome::ConnectError && a.proxy_id.as_deref() == Some("direct")));
}

#[tokio::test]
async fn resets_and_cut_bodies_are_retried_then_unreachable() {
    let resetting = raw(|mut stream| async move {
        read_head(&mut stream).await;
        // Linger 0 turns the close into a reset.
        let _ = stream.set_zero_linger();
        drop(stream);
    })
    .await;
    let cutting = raw(|mut stream| async move {
        read_head(&mut stream).await;
        write_all(
            &mut stream,
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\n<html>only",
        )
        .await;
    })
    .await;

    for (origin, outcome) in [(resetting, Outcome::Reset), (cutting, Outcome::Truncated)] {
        let up = Upstream::new(UpstreamConfig {
            max_attempts: 3,
            ..config(origin)
        })
        .unwrap();
        let fetched = up
            .fetch(&product(Marketplace::It, "B0BROKEN01"), judge())
            .await;
        assert!(
            matches!(fetched.result, Err(FetchError::Unreachable)),
            "{outcome}: {:?}",
            fetched.result
        );
        assert_eq!(fetched.attempts.len(), 3, "{outcome}");
        for a in &fetched.attempts {
            assert_eq!(a.outcome, outcome, "{a:?}");
        }
        if outcome == Outcome::Truncated {
            assert_eq!(fetched.attempts[0].status, Some(200));
            assert_eq!(fetched.attempts[0].bytes, 10);
        }
    }
}

#[tokio::test]
async fn a_failed_tls_handshake_is_a_tls_error() {
    // Speaks plain HTTP where TLS is expected. The ASIN says "socks": the outcome must
    // come from the error, never from words in the URL.
    let plain = raw(|mut stream| async move {
        write_all(
            &mut stream,
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
        )
        .await;
    })
    .await;
    let up = Upstream::new(UpstreamConfig {
        url_template: format!("https://{plain}/amazon.{{domain}}"),
        max_attempts: 2,
        ..config(plain)
    })
    .unwrap();
    let fetched = up
        .fetch(&product(Marketplace::Es, "B0SOCKSTLS"), judge())
        .await;
    assert!(matches!(fetched.result, Err(FetchError::Unreachable)));
    assert_eq!(fetched.attempts.len(), 2);
    for a in &fetched.attempts {
        assert_eq!((a.outcome, a.status), (Outcome::TlsError, None), "{a:?}");
    }
}

#[tokio::test]
async fn https_goes_through_a_connect_tunnel_and_a_refused_tunnel_is_a_proxy_error() {
    // Plain HTTP where TLS is expected, so a tunnel that opens ends in a TLS failure
    // (whatever the URL says: this ASIN says "proxy").
    let origin = serve(Router::new().fallback(|| async { "plain" })).await;
    let log = Log::default();
    let open = tunnel_proxy("open", &log, true).await;
    let refusing = tunnel_proxy("refusing", &log, false).await;
    let up = Upstream::new(UpstreamConfig {
        url_template: format!("https://{origin}/amazon.{{domain}}"),
        proxies: pools(&[(
            "NL",
            vec![
                format!("http://{open}#open"),
                format!("http://{refusing}#refusing"),
            ],
        )]),
        ..config(origin)
    })
    .unwrap();
    let fetched = up
        .fetch(&product(Marketplace::Nl, "B0PROXY001"), judge())
        .await;
    assert!(matches!(fetched.result, Err(FetchError::Unreachable)));
    let mut got: Vec<(String, Outcome)> = fetched
        .attempts
        .iter()
        .map(|a| (a.proxy_id.clone().unwrap(), a.outcome))
        .collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        got,
        [
            ("open".to_string(), Outcome::TlsError),
            ("refusing".to_string(), Outcome::ProxyError)
        ]
    );
    let seen = log.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert!(
        seen.iter().all(|s| s.uri == format!("CONNECT {origin}")),
        "{seen:?}"
    );
}

/// Headers never come, or the body trickles forever.
fn slow_storefront() -> Router {
    Router::new()
        .route(
            "/amazon.com/dp/{asin}",
            axum::routing::get(|| async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                "too late"
            }),
        )
        .route(
            "/amazon.co.uk/dp/{asin}",
            axum::routing::get(|| async {
                let chunks = futures::stream::unfold(0u64, |n| async move {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Some((Ok::<_, std::io::Error>(vec![b'.'; 64]), n + 1))
                });
                Body::from_stream(chunks).into_response()
            }),
        )
}

#[tokio::test]
async fn the_overall_deadline_is_honoured_under_a_slow_upstream() {
    let origin = serve(slow_storefront()).await;
    let budget = Duration::from_millis(1500);
    let up = Upstream::new(UpstreamConfig {
        overall_timeout: budget,
        attempt_timeout: Duration::from_millis(1000),
        ..config(origin)
    })
    .unwrap();
    // 10% of the budget, plus a second for a loaded 2-core machine's scheduling: a deadline
    // that were not enforced would overrun by a whole attempt timeout or more.
    let slack = budget / 10 + Duration::from_secs(1);

    for m in [Marketplace::Us, Marketplace::Uk] {
        let started = Instant::now();
        let fetched = up.fetch(&product(m, "B0SLOWSLOW"), judge()).await;
        let took = started.elapsed();
        assert!(took >= budget, "{m}: gave up early, after {took:?}");
        assert!(took <= budget + slack, "{m}: took {took:?}");
        let err = fetched.result.unwrap_err();
        assert_eq!(err.code(), ErrorCode::UpstreamTimeout, "{m}");
        // The first attempt hit its own timeout, the second was cut by the deadline.
        assert_eq!(fetched.attempts.len(), 2, "{m}: {:?}", fetched.attempts);
        assert!(fetched
            .attempts
            .iter()
            .all(|a| a.outcome == Outcome::Timeout));
        assert!(fetched.attempts[1]
            .error
            .as_deref()
            .unwrap()
            .contains("deadline"));
        let total: u64 = fetched.attempts.iter().map(|a| a.latency_ms).sum();
        assert!(
            total <= (budget + slack).as_millis() as u64,
            "{m}: {total} ms"
        );
    }
}

#[tokio::test]
async fn a_refusing_proxy_is_benched_then_restored_after_its_cooldown() {
    let origin = serve(Router::new().fallback(|| async { "product" })).await;
    let log = Log::default();
    let good = proxy("good", &log).await;
    let (socket, flaky) = refusing_socket();
    let cooldown = Duration::from_millis(1000);
    let up = Upstream::new(UpstreamConfig {
        proxies: pools(&[(
            "DE",
            vec![
                format!("http://{good}#good"),
                format!("http://{flaky}#flaky"),
            ],
        )]),
        bench_after: 2,
        bench_for: cooldown,
        ..config(origin)
    })
    .unwrap();
    let flaky_health = |up: &Upstream| {
        up.proxy_health()
            .into_iter()
            .find(|h| h.id == "flaky")
            .unwrap()
    };
    let req = product(Marketplace::De, "B0BENCHED1");

    // Refusals count up until the breaker opens; every fetch still succeeds via `good`.
    let mut refusals = 0;
    for _ in 0..10 {
        let fetched = up.fetch(&req, judge()).await;
        assert!(fetched.result.is_ok());
        refusals += fetched
            .attempts
            .iter()
            .filter(|a| a.outcome == Outcome::ConnectError)
            .count();
        if flaky_health(&up).state == ProxyState::Benched {
            break;
        }
    }
    assert_eq!(refusals, 2);
    let h = flaky_health(&up);
    assert_eq!((h.state, h.consecutive_failures), (ProxyState::Benched, 2));
    assert!(h.benched_for_ms.unwrap() <= cooldown.as_millis() as u64);

    // While benched it is not tried at all.
    for _ in 0..4 {
        let fetched = up.fetch(&req, judge()).await;
        assert_eq!(fetched.attempts.len(), 1);
        assert_eq!(fetched.attempts[0].proxy_id.as_deref(), Some("good"));
    }

    // The proxy comes back to life; after the cooldown one probe finds it healthy.
    let listener = socket.listen(64).unwrap();
    proxy_on(listener, "flaky", &log, None);
    tokio::time::sleep(cooldown + Duration::from_millis(50)).await;
    assert_eq!(flaky_health(&up).state, ProxyState::HalfOpen);
    let mut used = false;
    for _ in 0..4 {
        let fetched = up.fetch(&req, judge()).await;
        assert_eq!(fetched.attempts.len(), 1);
        assert_eq!(fetched.attempts[0].outcome, Outcome::Ok);
        used |= fetched.attempts[0].proxy_id.as_deref() == Some("flaky");
    }
    assert!(used, "the restored proxy was used again");
    assert!(seen_by(&log).iter().any(|p| p == "flaky"));
    let h = flaky_health(&up);
    assert_eq!((h.state, h.consecutive_failures), (ProxyState::Healthy, 0));
    assert_eq!(h.failures, 2);
}

#[tokio::test]
async fn every_exit_benched_fails_fast_as_unreachable() {
    let (_s, dead) = refusing_socket();
    let origin = serve(Router::new().fallback(|| async { "product" })).await;
    let up = Upstream::new(UpstreamConfig {
        proxies: pools(&[("DE", vec![format!("http://{dead}")])]),
        bench_after: 1,
        ..config(origin)
    })
    .unwrap();
    let req = product(Marketplace::De, "B0NOEXIT01");
    let first = up.fetch(&req, judge()).await;
    assert_eq!(first.attempts.len(), 1);
    assert_eq!(up.proxy_health()[0].state, ProxyState::Benched);
    let second = up.fetch(&req, judge()).await;
    assert!(second.attempts.is_empty());
    assert!(matches!(second.result, Err(FetchError::Unreachable)));
}

struct PanickingJudge;

impl Judge for PanickingJudge {
    type Output = ();
    fn judge(&self, _: u16, _: &str, _: &[u8]) -> Verdict<()> {
        panic!("extractor bug")
    }
}

#[tokio::test]
#[should_panic(expected = "extractor bug")]
async fn a_panicking_judge_reaches_the_caller() {
    let origin = serve(Router::new().fallback(|| async { "product" })).await;
    let up = Upstream::new(config(origin)).unwrap();
    let _ = up
        .fetch(
            &product(Marketplace::Us, "B0PANIC001"),
            Arc::new(PanickingJudge),
        )
        .await;
}

#[tokio::test]
async fn a_probe_given_up_by_the_caller_frees_the_half_open_slot() {
    // The first request is answered only after a minute, later ones at once.
    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = hits.clone();
    let origin = serve(Router::new().fallback(move || {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        async move {
            if n == 0 {
                tokio::time::sleep(Duration::from_secs(60)).await;
            }
            "product"
        }
    }))
    .await;
    let log = Log::default();
    let (socket, only) = refusing_socket();
    let cooldown = Duration::from_millis(200);
    let up = Upstream::new(UpstreamConfig {
        proxies: pools(&[("DE", vec![format!("http://{only}#only")])]),
        bench_after: 1,
        bench_for: cooldown,
        ..config(origin)
    })
    .unwrap();
    let req = product(Marketplace::De, "B0PROBE001");
    assert!(up.fetch(&req, judge()).await.result.is_err());
    assert_eq!(up.proxy_health()[0].state, ProxyState::Benched);

    proxy_on(socket.listen(64).unwrap(), "only", &log, None);
    tokio::time::sleep(cooldown + Duration::from_millis(50)).await;
    // The probe hangs on the slow answer and the caller walks away.
    let gave_up = tokio::time::timeout(Duration::from_millis(300), up.fetch(&req, judge())).await;
    assert!(gave_up.is_err());
    assert_eq!(seen_by(&log), ["only"]);

    let fetched = up.fetch(&req, judge()).await;
    assert_eq!(fetched.attempts.len(), 1, "the exit could be probed again");
    assert_eq!(fetched.result.unwrap().value, "product");
    assert_eq!(up.proxy_health()[0].state, ProxyState::Healthy);
}
