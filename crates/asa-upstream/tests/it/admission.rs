//! Admission by drain rate: pages the slots cannot drain before their deadlines are shed
//! as `capacity` (with a Retry-After), never reported as an upstream timeout, and the
//! exits are not blamed for our queue.

use crate::support::*;
use asa_model::{ErrorCode, Marketplace};
use asa_upstream::{FetchError, Fetched, Judge, Outcome, ProxyState, Upstream, UpstreamConfig};
use asa_upstream::{Verdict, DEFAULT_POOL};
use axum::Router;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Keeps a page slot `busy` per page, the way a heavy page's extraction does.
struct Busy {
    busy: Duration,
    now: AtomicUsize,
    most: AtomicUsize,
}

impl Judge for Busy {
    type Output = ();
    fn judge(&self, _: u16, _: &str, _: &[u8]) -> Verdict<()> {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(self.busy);
        self.now.fetch_sub(1, Ordering::SeqCst);
        Verdict::Accept(())
    }
}

fn busy(ms: u64) -> Arc<Busy> {
    Arc::new(Busy {
        busy: Duration::from_millis(ms),
        now: AtomicUsize::new(0),
        most: AtomicUsize::new(0),
    })
}

/// A storefront that answers at once and counts the requests it gets.
async fn counted_origin() -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let seen = hits.clone();
    let origin = serve(Router::new().fallback(move || {
        seen.fetch_add(1, Ordering::SeqCst);
        async { "product" }
    }))
    .await;
    (origin, hits)
}

async fn fetch_at_once(up: &Arc<Upstream>, judge: &Arc<Busy>, n: usize) -> Vec<Fetched<()>> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (up, judge) = (up.clone(), judge.clone());
            tokio::spawn(async move {
                up.fetch(&product(Marketplace::Us, "B0ADMIT001"), judge)
                    .await
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// The Retry-After of a shed fetch; panics on any error but `Overloaded`.
fn shed(f: &Fetched<()>) -> Option<Duration> {
    match &f.result {
        Ok(_) => None,
        Err(FetchError::Overloaded { retry_after }) => Some(*retry_after),
        Err(e) => panic!("only delivered or shed, got {e:?} after {:?}", f.attempts),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_the_slots_cannot_drain_in_time_are_shed_before_going_upstream() {
    let (origin, hits) = counted_origin().await;
    let up = Arc::new(
        Upstream::new(UpstreamConfig {
            pages_at_once: 1,
            overall_timeout: Duration::from_millis(2100),
            attempt_timeout: Duration::from_millis(2100),
            ..config(origin)
        })
        .unwrap(),
    );
    let judge = busy(600);
    // One page measures the drain: 600 ms a page, one slot.
    assert!(fetch_at_once(&up, &judge, 1).await[0].result.is_ok());
    // Eight at once: about three fit in a 2.1 s budget; the others are refused at once.
    let results = fetch_at_once(&up, &judge, 8).await;
    let refused: Vec<&Fetched<()>> = results.iter().filter(|f| shed(f).is_some()).collect();
    assert!(!refused.is_empty(), "8 x 600 ms of pages in 2.1 s");
    assert!(refused.len() < 8, "the first ones fit");
    for f in &refused {
        assert!(shed(f).unwrap() >= Duration::from_secs(1));
        assert!(
            f.attempts.is_empty(),
            "shed before any exit: {:?}",
            f.attempts
        );
        assert_eq!(
            f.result.as_ref().err().map(FetchError::code),
            Some(ErrorCode::Capacity)
        );
    }
    let sent = results.iter().filter(|f| !f.attempts.is_empty()).count();
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1 + sent,
        "a shed request never reached the storefront"
    );
    assert_eq!(judge.most.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_answer_that_waits_for_a_slot_past_its_deadline_is_shed_and_the_exit_not_blamed() {
    let (origin, _hits) = counted_origin().await;
    let log = Arc::new(Mutex::new(Vec::new()));
    let exit = proxy("p1", &log).await;
    let up = Arc::new(
        Upstream::new(UpstreamConfig {
            pages_at_once: 1,
            overall_timeout: Duration::from_secs(1),
            attempt_timeout: Duration::from_secs(1),
            proxies: pools(&[(DEFAULT_POOL, vec![format!("http://{exit}#p1")])]),
            // One failure would bench it.
            bench_after: 1,
            ..config(origin)
        })
        .unwrap(),
    );
    // A cold start lets all six go; the answers then queue for the one slot, 400 ms each.
    let results = fetch_at_once(&up, &busy(400), 6).await;
    let refused: Vec<&Fetched<()>> = results.iter().filter(|f| shed(f).is_some()).collect();
    assert!(!refused.is_empty(), "6 x 400 ms of pages in 1 s");
    for f in &refused {
        assert!(shed(f).unwrap() >= Duration::from_secs(1));
        let last = f.attempts.last().expect("it went upstream");
        assert_eq!(last.outcome, Outcome::Capacity, "{last:?}");
        assert_eq!(last.status, Some(200), "the exit answered");
    }
    let health = &up.proxy_health()[0];
    assert_eq!(
        (health.state, health.consecutive_failures),
        (ProxyState::Healthy, 0)
    );
}
