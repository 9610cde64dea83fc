//! The latency the limit check adds to a request, on each backend: criterion's estimate of
//! one admit+drop, then p50/p99 over single timed calls. Redis runs when `REDIS_URL` is set.
//! `cargo bench -p asa-limits`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use asa_limits::{LimitSpec, Limiter, LocalLimiter};
use criterion::{criterion_group, criterion_main, Criterion};
use tokio::runtime::Runtime;

/// Limits that never refuse, so every call does the full admit path.
const OPEN: LimitSpec = LimitSpec::new(1_000_000, 1e9, 1_000_000_000);
/// Limits that refuse all but the first call: the path of an account in overload.
const SHUT: LimitSpec = LimitSpec::new(1_000_000, 0.001, 1);
const ACCOUNTS: usize = 1_000;

fn accounts() -> Vec<String> {
    (0..ACCOUNTS).map(|i| format!("acct_{i}")).collect()
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn report(what: &str, mut samples: Vec<Duration>) {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    println!(
        "{what}: n={} p50={:?} p99={:?} p99.9={:?}",
        samples.len(),
        at(0.50),
        at(0.99),
        at(0.999)
    );
}

/// What timing an empty section costs, to read the in-process figures against.
fn clock_overhead() {
    let samples = (0..100_000)
        .map(|_| {
            let start = Instant::now();
            black_box(());
            start.elapsed()
        })
        .collect();
    report("timer overhead (empty section)", samples);
}

fn in_process(c: &mut Criterion) {
    let rt = runtime();
    let _guard = rt.enter();
    let names = accounts();
    let limiter = LocalLimiter::new(1_000_000);
    let mut i = 0;
    c.bench_function("in-process try_admit+drop", |b| {
        b.iter(|| {
            i = (i + 1) % ACCOUNTS;
            drop(black_box(limiter.try_admit(&names[i], OPEN)));
        })
    });
    let dyn_limiter: Arc<dyn Limiter> = Arc::new(LocalLimiter::new(1_000_000));
    c.bench_function("in-process dyn admit().await+drop", |b| {
        b.to_async(&rt).iter(|| {
            i = (i + 1) % ACCOUNTS;
            let (limiter, name) = (Arc::clone(&dyn_limiter), &names[i]);
            async move { drop(black_box(limiter.admit(name, OPEN).await)) }
        })
    });

    clock_overhead();
    let samples = (0..200_000)
        .map(|n| {
            let start = Instant::now();
            drop(black_box(limiter.try_admit(&names[n % ACCOUNTS], OPEN)));
            start.elapsed()
        })
        .collect();
    report("in-process admit+drop (single calls)", samples);
    let samples = (0..200_000)
        .map(|n| {
            let start = Instant::now();
            drop(black_box(limiter.try_admit(&names[n % ACCOUNTS], SHUT)));
            start.elapsed()
        })
        .collect();
    report("in-process refused admit (single calls)", samples);
}

fn redis(c: &mut Criterion) {
    let Ok(url) = std::env::var("REDIS_URL") else {
        println!("REDIS_URL is not set: skipping the Redis benchmark");
        return;
    };
    let rt = runtime();
    let prefix = format!("asa-bench:{:016x}", rand::random::<u64>());
    let limiter = rt
        .block_on(asa_limits::redis(&url, 1_000_000, &prefix))
        .expect("REDIS_URL answers");
    let names = accounts();
    let mut i = 0;
    c.bench_function("redis admit().await+drop", |b| {
        b.to_async(&rt).iter(|| {
            i = (i + 1) % ACCOUNTS;
            let (limiter, name) = (Arc::clone(&limiter), &names[i]);
            async move { drop(black_box(limiter.admit(name, OPEN).await)) }
        })
    });

    let (admit_drop, admit, admit_release, refused) = rt.block_on(async {
        let (mut admit_drop, mut admit, mut admit_release) = (vec![], vec![], vec![]);
        let mut refused = vec![];
        for n in 0..20_000 {
            let name = &names[n % ACCOUNTS];
            let start = Instant::now();
            drop(black_box(limiter.admit("shut", SHUT).await));
            refused.push(start.elapsed());

            let start = Instant::now();
            drop(limiter.admit(name, OPEN).await);
            admit_drop.push(start.elapsed());

            let start = Instant::now();
            let admission = limiter.admit(name, OPEN).await.expect("open limits");
            admit.push(start.elapsed());
            admission.release().await;
            admit_release.push(start.elapsed());
        }
        (admit_drop, admit, admit_release, refused)
    });
    report(
        "redis admit+drop (single calls; release spawned)",
        admit_drop,
    );
    report("redis admit alone", admit);
    report("redis admit+release (both awaited)", admit_release);
    report("redis refused admit", refused);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = in_process, redis
}
criterion_main!(benches);
