//! The overall deadline: it cuts an attempt in flight, and it stops a retry whose wait
//! it cannot cover instead of sleeping past it. Real time, short.

use crate::harness::Server;
use asa_client::{ErrorCode, Stop};
use asa_model::KeyKind;
use std::time::{Duration, Instant};

#[tokio::test]
async fn the_deadline_cuts_a_slow_attempt() {
    let s = Server::start(asa_sim::SimConfig::default(), |c| {
        c.upstream.timeout = Duration::from_secs(20);
        c.upstream.attempt_timeout = Duration::from_secs(20);
    });
    let h = s.account("vibe", 1000, KeyKind::Live).await;
    let c = s
        .client(&h.key)
        .deadline(Duration::from_millis(700))
        .build()
        .unwrap();
    let t0 = Instant::now();
    // The simulator would answer after 5 s.
    let e = c.product("B0SLOW0500").await.unwrap_err();
    assert!(t0.elapsed() < Duration::from_secs(4), "{:?}", t0.elapsed());
    match &e {
        asa_client::Error::Deadline { deadline, attempts } => {
            assert_eq!(*deadline, Duration::from_millis(700));
            assert_eq!(attempts.len(), 1);
            assert_eq!(attempts[0].code.as_deref(), Some("deadline"));
            assert_eq!(attempts[0].request_id, None);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(e.code(), "deadline");
}

#[tokio::test]
async fn a_wait_longer_than_the_time_left_is_not_started() {
    let s = Server::start(asa_sim::SimConfig::default(), |_| {});
    let h = s.account("vibe", 1000, KeyKind::Live).await;
    let c = s
        .client(&h.key)
        .deadline(Duration::from_secs(30))
        .build()
        .unwrap();
    let t0 = Instant::now();
    let e = c.product("B0CAPTCHA3").await.unwrap_err();
    // The 60 s class cannot fit in 30 s: the call ends with its answer, at once.
    assert!(t0.elapsed() < Duration::from_secs(20), "{:?}", t0.elapsed());
    let api = e.as_api().unwrap();
    assert_eq!(api.kind, Some(ErrorCode::BlockedByAmazon));
    assert_eq!(api.stop, Stop::Deadline);
    assert_eq!(api.attempts.len(), 1);
}

#[tokio::test]
async fn the_deadline_leaves_room_for_short_retries() {
    let s = Server::start(asa_sim::SimConfig::default(), |c| {
        c.upstream.timeout = Duration::from_millis(300);
        c.upstream.attempt_timeout = Duration::from_millis(300);
    });
    let h = s.account("vibe", 1000, KeyKind::Live).await;
    let c = s
        .client(&h.key)
        .deadline(Duration::from_millis(4500))
        .build()
        .unwrap();
    let t0 = Instant::now();
    let e = c.product("B0SLOW0100").await.unwrap_err();
    assert!(t0.elapsed() < Duration::from_secs(15), "{:?}", t0.elapsed());
    // 0.3 s attempts 2-3 s apart: two or three fit before 4.5 s, never four.
    let n = e.attempts().len();
    assert!((2..=3).contains(&n), "{n} attempts: {e:?}");
    assert!(e
        .attempts()
        .iter()
        .take(n - 1)
        .all(|a| a.code.as_deref() == Some("upstream_timeout")));
}
