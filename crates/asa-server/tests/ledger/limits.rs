//! The limits property through the server: at 5x overload for 10 s the accepted rate of an
//! account is rps x duration + burst within 5%; waiting what a 429's `Retry-After` says
//! gets the next request through; the concurrency ceiling is never passed. On one node
//! (in-process limits, always) and on three sharing Redis (`nodes.rs`).

use crate::harness::*;
use std::time::{Duration, Instant};

/// Sustained 10/s, burst 20, no concurrency pressure: the rate alone decides.
const RPS: f64 = 10.0;
const BURST: u32 = 20;
/// Five times the sustained rate, for ten seconds.
const OFFERED_RPS: u64 = 50;
const LOAD: Duration = Duration::from_secs(10);
/// The concurrency ceiling of the second account.
const CEILING: u32 = 4;

pub fn plans() -> [(&'static str, asa_server::config::PlanConfig); 2] {
    [
        ("metered", plan(1000, RPS, BURST)),
        ("narrow", plan(CEILING, 1000.0, 1000)),
    ]
}

/// Runs the property over `nodes` (round-robin), whose upstream is `sim`.
pub async fn property(nodes: &[Node], sim: &asa_sim::SimHandle) {
    let n = nodes.len();
    let client = reqwest::Client::new();

    // The rate: 50 requests a second for 10 s, round-robin over the nodes.
    let metered = account(&nodes[0].store, "metered", 1_000_000).await;
    let mut pace = tokio::time::interval(Duration::from_micros(1_000_000 / OFFERED_RPS));
    let mut tasks = Vec::new();
    let started = Instant::now();
    let mut i = 0usize;
    while started.elapsed() < LOAD {
        pace.tick().await;
        let url = product_url(&nodes[i % n].base, &format!("B0RATE{i:04}"));
        let (client, key) = (client.clone(), metered.key.clone());
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            let s = get(&client, &url, &key).await;
            (sent, sent.elapsed(), s)
        }));
        i += 1;
    }
    let mut admitted: Vec<(Instant, Duration)> = Vec::new();
    let mut refused = 0u32;
    for t in tasks {
        let (sent, took, s) = t.await.unwrap();
        match s.status {
            200 => admitted.push((sent, took)),
            429 => {
                assert_eq!(s.code, "rate_limited");
                assert!(s.retry_after.is_some_and(|r| r >= 1), "{s:?}");
                refused += 1;
            }
            _ => panic!("only 200 or 429 expected: {s:?}"),
        }
    }
    // The window the limiter saw: from the first admitted request to the last one, by
    // when they were sent (each was admitted within its round trip, printed below).
    let first = admitted.iter().map(|a| a.0).min().unwrap();
    let last = admitted.iter().map(|a| a.0).max().unwrap();
    let span = last - first;
    let slowest = admitted.iter().map(|a| a.1).max().unwrap();
    let accepted = admitted.len() as u32;
    let expected = RPS * span.as_secs_f64() + f64::from(BURST);
    eprintln!(
        "{n} node(s), {} sent at {OFFERED_RPS}/s: {accepted} accepted over {span:?}, {refused} \
         refused; rps x duration + burst = {expected:.1}; slowest admitted round trip {slowest:?}",
        accepted + refused
    );
    assert!(
        (f64::from(accepted) - expected).abs() <= 0.05 * expected,
        "{accepted} accepted, {expected:.1} expected"
    );

    // Retry-After is honest: empty the bucket (what refilled while the last answers came
    // back), then waiting what the 429 says lets the next request through, on another node.
    let mut refusal = None;
    for k in 0..=BURST {
        let s = get(
            &client,
            &product_url(&nodes[0].base, &format!("B0RETRY{k:03}")),
            &metered.key,
        )
        .await;
        if s.status == 429 {
            refusal = Some(s);
            break;
        }
        assert_eq!(s.status, 200, "{s:?}");
    }
    let s = refusal.expect("the bucket empties within a burst");
    let wait = s.retry_after.expect("a 429 carries Retry-After");
    tokio::time::sleep(Duration::from_secs(wait)).await;
    let s = get(
        &client,
        &product_url(&nodes[1 % n].base, "B0RETRYOK1"),
        &metered.key,
    )
    .await;
    assert_eq!(s.status, 200, "after waiting {wait} s: {s:?}");

    // The concurrency ceiling: 24 clients keep 300 ms pages coming for 3 s, over the nodes.
    let narrow = account(&nodes[0].store, "narrow", 1_000_000).await;
    sim.clear();
    let until = Instant::now() + Duration::from_secs(3);
    let mut workers = Vec::new();
    for w in 0..24usize {
        let bases: Vec<String> = nodes.iter().map(|n| n.base.clone()).collect();
        let (client, key) = (client.clone(), narrow.key.clone());
        workers.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut j = w;
            while Instant::now() < until {
                seen.push(get(&client, &product_url(&bases[j % n], "B0SLOW0030"), &key).await);
                j += 1;
            }
            seen
        }));
    }
    let mut ok = 0;
    let mut busy = 0;
    for w in workers {
        for s in w.await.unwrap() {
            let (in_flight, allowed) = s.concurrency.expect("Asa-Concurrency on every answer");
            assert_eq!(allowed, CEILING);
            assert!(in_flight <= CEILING, "{s:?}");
            match (s.status, s.code.as_str()) {
                (200, _) => ok += 1,
                (429, "rate_limited") => busy += 1,
                _ => panic!("{s:?}"),
            }
        }
    }
    // What the simulator saw: pages of this account in flight at once, from the instants
    // they arrived and were answered (each inside its request's lease, so this can only
    // under-count what the limiter held).
    let mut edges: Vec<(u64, i32)> = Vec::new();
    for r in sim.requests() {
        if r.asin.as_deref() == Some("B0SLOW0030") {
            edges.push((r.at_ms, 1));
            edges.push((r.at_ms + r.elapsed_ms, -1));
        }
    }
    // An answer at the instant another page arrives has left already.
    edges.sort_by_key(|&(t, d)| (t, d));
    let (mut now, mut peak) = (0i32, 0i32);
    for (_, d) in edges {
        now += d;
        peak = peak.max(now);
    }
    eprintln!("ceiling {CEILING}: {ok} served, {busy} refused, peak {peak} in flight upstream");
    assert!(ok > 0 && busy > 0, "{ok} served, {busy} refused");
    assert!(
        peak <= CEILING as i32,
        "{peak} pages in flight, ceiling {CEILING}"
    );
    assert!(peak >= 2, "the ceiling was never approached: peak {peak}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn limits_hold_on_one_node() {
    let _one_at_a_time = EXCLUSIVE.lock().await;
    let backend = Backend::sqlite();
    let node = spawn(config(&backend, &plans()), Default::default()).await;
    property(std::slice::from_ref(&node), node.sim()).await;
    backend.finish().await;
}
