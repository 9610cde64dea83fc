//! Retryable codes, each from its real cause: the wait before each retry follows the
//! catalog's class. The long classes run on a paused client clock (the server's stays
//! real); 429 and 503 run in real time, since the server's limiter must really free.

use crate::harness::{delays, Events, Server};
use asa_client::{ErrorCode, Next, Stop};
use asa_model::KeyKind;
use std::time::Duration;

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn codes(e: &asa_client::Error) -> Vec<String> {
    e.attempts().iter().filter_map(|a| a.code.clone()).collect()
}

/// All attempts failed with `code`, each with its own request id, after 4 attempts.
fn assert_exhausted(e: &asa_client::Error, code: ErrorCode) {
    let api = e.as_api().unwrap_or_else(|| panic!("{e:?}"));
    assert_eq!(api.kind, Some(code));
    assert!(api.retryable);
    assert_eq!(api.stop, Stop::AttemptsExhausted);
    assert_eq!(codes(e), vec![code.as_str(); 4]);
    let mut ids = e.request_ids();
    ids.dedup();
    assert_eq!(ids.len(), 4, "every attempt has its own request id");
}

#[tokio::test(start_paused = true)]
async fn upstream_timeout_is_retried_three_times_two_seconds_apart() {
    let s = Server::start(asa_sim::SimConfig::default(), |c| {
        c.upstream.timeout = Duration::from_millis(400);
        c.upstream.attempt_timeout = Duration::from_millis(400);
    });
    let h = s.account("vibe", 1000, KeyKind::Live).await;
    let events = Events::default();
    let c = s
        .client(&h.key)
        .timeout(None)
        .observer(events.hook())
        .build()
        .unwrap();
    let t0 = tokio::time::Instant::now();
    // The simulator answers after 1 s; the server gives up at 0.4 s.
    let e = c.product("B0SLOW0100").await.unwrap_err();
    assert_exhausted(&e, ErrorCode::UpstreamTimeout);
    assert_eq!(e.status(), Some(408));
    let d = delays(&events.take());
    assert_eq!(d.len(), 3);
    assert!(
        d.iter().all(|d| *d >= secs(2.0) && *d <= secs(3.0)),
        "{d:?}"
    );
    assert!(t0.elapsed() >= secs(6.0));
    assert_eq!(s.balance(&h.account_id).await, 1000);
}

/// The send hook says when each attempt leaves, so a caller can tell a call that may be
/// billed (sent) from one that cannot (waiting to retry): send, answer, wait, send, ...
#[tokio::test(start_paused = true)]
async fn the_send_hook_tells_each_attempt_as_it_leaves() {
    let s = Server::start(asa_sim::SimConfig::default(), |c| {
        c.upstream.timeout = Duration::from_millis(400);
        c.upstream.attempt_timeout = Duration::from_millis(400);
        // Slow pages still in flight upstream must not fill the page slots.
        c.upstream.pages_at_once = 16;
    });
    let h = s.account("vibe", 1000, KeyKind::Live).await;
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let (sends, answers) = (log.clone(), log.clone());
    let c = s
        .client(&h.key)
        .timeout(None)
        .on_send(move |e| {
            sends
                .lock()
                .unwrap()
                .push(format!("send {} {}", e.endpoint, e.attempt))
        })
        .observer(move |e| {
            let next = match e.next {
                Next::Retry(_) => "retry",
                Next::Done => "done",
                Next::Stop(_) => "stop",
            };
            answers
                .lock()
                .unwrap()
                .push(format!("answer {} {next}", e.attempt.number))
        })
        .build()
        .unwrap();
    c.product("B0SLOW0100").await.unwrap_err();
    let got = log.lock().unwrap().clone();
    let mut want = Vec::new();
    for n in 1..=4 {
        want.push(format!("send amazon.product {n}"));
        want.push(format!(
            "answer {n} {}",
            if n < 4 { "retry" } else { "stop" }
        ));
    }
    assert_eq!(got, want);
}

#[tokio::test(start_paused = true)]
async fn blocked_and_unreachable_wait_at_least_sixty_seconds() {
    let s = Server::start(asa_sim::SimConfig::default(), |_| {});
    let h = s.account("vibe", 1000, KeyKind::Live).await;
    let events = Events::default();
    let c = s
        .client(&h.key)
        .timeout(None)
        .observer(events.hook())
        .build()
        .unwrap();

    for (asin, code) in [
        ("B0CAPTCHA1", ErrorCode::BlockedByAmazon),
        ("B0RESET001", ErrorCode::TargetUnreachable),
    ] {
        let t0 = tokio::time::Instant::now();
        let e = c.product(asin).await.unwrap_err();
        assert_exhausted(&e, code);
        let d = delays(&events.take());
        assert_eq!(d.len(), 3, "{asin}");
        assert!(
            d.iter().all(|d| *d >= secs(60.0) && *d <= secs(90.0)),
            "{d:?}"
        );
        assert!(t0.elapsed() >= secs(180.0));
    }

    // Four captchas exhaust the server's internal attempts; after the 60 s wait the
    // fifth is a captcha too and the sixth the page: a 200 on the client's second attempt.
    let r = c.product("B0FLAKY5AA").await.unwrap();
    assert_eq!(r.data.asin, "B0FLAKY5AA");
    assert_eq!(r.attempts.len(), 2);
    assert_eq!(r.attempts[0].code.as_deref(), Some("blocked_by_amazon"));
    assert_eq!(r.attempts[0].retry_after, Some(secs(60.0)));
    assert_eq!(r.attempts[1].status, Some(200));
    assert_eq!(r.meta.cost, Some(5));
    let seen = events.take();
    assert!(matches!(seen[0].1, Next::Retry(d) if d >= secs(60.0)));
    assert_eq!(seen[1].1, Next::Done);
    assert_eq!(s.balance(&h.account_id).await, 995, "billed once");
}

#[tokio::test(start_paused = true)]
async fn internal_error_waits_about_five_seconds() {
    let s = Server::start(asa_sim::SimConfig::default(), |_| {});
    let h = s.account("vibe", 1000, KeyKind::Live).await;
    let events = Events::default();
    let c = s
        .client(&h.key)
        .timeout(None)
        .observer(events.hook())
        .build()
        .unwrap();
    let e = c.get_json("test/boom", vec![]).await.unwrap_err();
    assert_exhausted(&e, ErrorCode::InternalError);
    let d = delays(&events.take());
    assert!(
        d.iter().all(|d| *d >= secs(5.0) && *d <= secs(7.5)),
        "{d:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn extraction_failed_backs_off_exponentially_with_full_jitter() {
    let s = Server::start(asa_sim::SimConfig::default(), |_| {});
    let h = s.account("vibe", 1000, KeyKind::Live).await;
    let events = Events::default();
    let c = s
        .client(&h.key)
        .timeout(None)
        .observer(events.hook())
        .build()
        .unwrap();
    let e = c.product("B0UNKNOWN1").await.unwrap_err();
    assert_exhausted(&e, ErrorCode::ExtractionFailed);
    let d = delays(&events.take());
    // The server advises Retry-After 2 s, a floor; the ceilings double: 2, 4, 8 s.
    for (d, ceiling) in d.iter().zip([2.0, 4.0, 8.0]) {
        assert!(*d >= secs(2.0) && *d <= secs(ceiling), "{d:?} vs {ceiling}");
    }
}

#[tokio::test]
async fn rate_limited_is_retried_after_retry_after() {
    let small = asa_sim::SimConfig {
        page_bytes: 50_000,
        ..Default::default()
    };
    let s = Server::start(small, |_| {});
    // free: 2 rps, burst 10, concurrency 10.
    let h = s.account("free", 100_000, KeyKind::Live).await;
    let raw = s.client(&h.key).no_retries().build().unwrap();
    let events = Events::default();
    let c = s.client(&h.key).observer(events.hook()).build().unwrap();
    let mut met = None;
    for _ in 0..10 {
        // A burst above the plan, and the retrying call right behind it.
        let burst = futures::future::join_all((0..12).map(|_| raw.product("B000LQXC2Q")));
        let call = async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let t0 = std::time::Instant::now();
            (c.product("B000LQXC2Q").await, t0.elapsed())
        };
        let (_, (r, elapsed)) = tokio::join!(burst, call);
        let r = r.unwrap();
        if r.attempts[0].code.as_deref() == Some("rate_limited") {
            met = Some((r, elapsed));
            break;
        }
        events.take();
    }
    let (r, elapsed) = met.expect("the call met the plan's limit");
    let ra = r.attempts[0].retry_after.expect("429 carries Retry-After");
    assert!(ra >= secs(1.0));
    let d = delays(&events.take());
    assert!(d[0] >= ra && d[0] <= ra + secs(1.0), "{d:?} vs {ra:?}");
    assert!(elapsed >= ra);
    assert_eq!(r.attempts.last().unwrap().status, Some(200));
}

#[tokio::test]
async fn capacity_is_retried_after_retry_after() {
    let s = Server::start(asa_sim::SimConfig::default(), |c| {
        c.capacity = 1;
        c.upstream.timeout = Duration::from_secs(10);
        c.upstream.attempt_timeout = Duration::from_secs(10);
    });
    let h = s.account("vibe", 1000, KeyKind::Live).await;
    let slow = s.client(&h.key).build().unwrap();
    // Holds the only upstream slot for 2 s.
    let holder = tokio::spawn(async move { slow.product("B0SLOW0200").await });
    let events = Events::default();
    let c = s.client(&h.key).observer(events.hook()).build().unwrap();
    let mut met = None;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let attempts = match c.product("B000LQXC2Q").await {
            Ok(got) => got.attempts,
            // On a loaded machine the slow page can hold the pool through every retry:
            // the waits between the attempts still tell.
            Err(asa_client::Error::Api(e)) if e.code == "capacity" => e.attempts,
            Err(e) => panic!("{e}"),
        };
        if attempts.len() > 1 {
            met = Some(attempts);
            break;
        }
    }
    let attempts = met.expect("a request met the full pool");
    assert_eq!(attempts[0].code.as_deref(), Some("capacity"));
    assert_eq!(attempts[0].status, Some(503));
    let ra = attempts[0].retry_after.expect("503 carries Retry-After");
    let d = delays(&events.take());
    assert!(d.iter().any(|d| *d >= ra), "{d:?}");
    assert!(holder.await.unwrap().is_ok());
}

#[tokio::test]
async fn retries_can_be_switched_off() {
    let s = Server::start(asa_sim::SimConfig::default(), |_| {});
    let h = s.account("vibe", 1000, KeyKind::Live).await;
    let c = s.client(&h.key).no_retries().build().unwrap();
    let e = c.product("B0CAPTCHA2").await.unwrap_err();
    assert_eq!(e.as_api().unwrap().stop, Stop::RetriesOff);
    assert_eq!(e.attempts().len(), 1);
    assert!(e.as_api().unwrap().retryable);
}
