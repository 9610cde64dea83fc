//! Page slots: however many fetches are in flight, only `pages_at_once` bodies are read
//! and judged at once, bodies arrive whole and in order, and the wait for a slot is not
//! counted against the exit.

use crate::support::*;
use asa_model::Marketplace;
use asa_upstream::{Judge, Upstream, UpstreamConfig, Verdict};
use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const PAGE_LEN: usize = 200 * 1024;

/// A page whose every byte says where it is, so a body joined out of order shows.
fn page() -> Vec<u8> {
    (0..PAGE_LEN).map(|i| (i % 251) as u8).collect()
}

/// `/amazon.com/dp/B0SIZED001` with a Content-Length; anything else chunked (length
/// unknown until the end).
async fn pages(req: Request) -> Response {
    if req.uri().path().ends_with("B0SIZED001") {
        return page().into_response();
    }
    let chunks = page()
        .chunks(7 * 1024 + 13)
        .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
        .collect::<Vec<_>>();
    Body::from_stream(futures::stream::iter(chunks)).into_response()
}

/// Counts the judges running at once and keeps each busy for `busy`.
struct Busy {
    busy: Duration,
    now: AtomicUsize,
    most: AtomicUsize,
}

impl Busy {
    fn new(busy: Duration) -> Arc<Busy> {
        Arc::new(Busy {
            busy,
            now: AtomicUsize::new(0),
            most: AtomicUsize::new(0),
        })
    }
}

impl Judge for Busy {
    type Output = bool;
    fn judge(&self, _status: u16, _url: &str, body: &[u8]) -> Verdict<bool> {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(self.busy);
        self.now.fetch_sub(1, Ordering::SeqCst);
        Verdict::Accept(body == page().as_slice())
    }
}

async fn fetch_all(up: &Arc<Upstream>, judge: &Arc<Busy>, n: usize) -> Vec<(bool, u32, u64)> {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (up, judge) = (up.clone(), judge.clone());
            let asin = if i % 2 == 0 {
                "B0SIZED001"
            } else {
                "B0CHUNK001"
            };
            tokio::spawn(async move {
                let fetched = up.fetch(&product(Marketplace::Us, asin), judge).await;
                let attempts = fetched.attempts.len() as u32;
                let latency = fetched.attempts[0].latency_ms;
                let d = fetched.result.expect(asin);
                assert_eq!(d.body.len(), PAGE_LEN, "{asin}");
                (d.value, attempts, latency)
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bodies_are_read_and_judged_a_few_at_a_time_whole_and_in_order() {
    let origin = serve(Router::new().fallback(pages)).await;
    let up = Arc::new(
        Upstream::new(UpstreamConfig {
            pages_at_once: 2,
            ..config(origin)
        })
        .unwrap(),
    );
    let judge = Busy::new(Duration::from_millis(40));
    let results = fetch_all(&up, &judge, 12).await;
    assert!(
        results.iter().all(|(intact, ..)| *intact),
        "a body arrived changed"
    );
    assert_eq!(
        judge.most.load(Ordering::SeqCst),
        2,
        "12 fetches at once with 2 page slots"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn waiting_for_a_page_slot_is_not_counted_against_the_exit() {
    let origin = serve(Router::new().fallback(pages)).await;
    let attempt_timeout = Duration::from_millis(400);
    let up = Arc::new(
        Upstream::new(UpstreamConfig {
            pages_at_once: 1,
            attempt_timeout,
            ..config(origin)
        })
        .unwrap(),
    );
    // Six pages judged one after the other for 150 ms each: the last answer waits about
    // 750 ms for its slot, past the attempt's 400 ms.
    let judge = Busy::new(Duration::from_millis(150));
    let results = fetch_all(&up, &judge, 6).await;
    for (intact, attempts, latency_ms) in results {
        assert!(intact);
        assert_eq!(attempts, 1, "no attempt was cut by the wait for a slot");
        assert!(
            latency_ms < attempt_timeout.as_millis() as u64,
            "latency {latency_ms} ms counts the wait"
        );
    }
    assert_eq!(judge.most.load(Ordering::SeqCst), 1);
}
