//! The behaviours every backend must show, written once and run against each one
//! (`local_tests.rs` with paused tokio time, `redis/tests.rs` with a moved Redis clock).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::{LimitSpec, Limiter, Refusal};

/// A backend under test, with a way to move its clock.
#[async_trait]
pub(crate) trait Harness: Send + Sync {
    fn limiter(&self) -> Arc<dyn Limiter>;
    /// Moves the backend's clock forward by exactly `by`.
    async fn advance(&self, by: Duration);
    /// How far short of a `Retry-After` a retry must be to be sure to fail: 1 ns on a paused
    /// clock; more where real time also runs between two calls.
    fn slack(&self) -> Duration;
    /// Waits until every dropped lease is freed in the backend.
    async fn settle(&self);
}

fn rate_wait(refusal: Result<crate::Admission, Refusal>) -> Duration {
    match refusal {
        Err(Refusal::Rate { retry_after }) => retry_after,
        other => panic!("expected a rate refusal, got {other:?}"),
    }
}

/// From rest, exactly `burst` pass at once, then exactly one per emission interval.
pub(crate) async fn burst_then_sustained(h: &dyn Harness) {
    let limiter = h.limiter();
    let spec = LimitSpec::new(1_000, 2.0, 10);
    for i in 0..10 {
        let admitted = limiter.admit("acct", spec).await;
        assert!(admitted.is_ok(), "request {i} of the burst: {admitted:?}");
    }
    rate_wait(limiter.admit("acct", spec).await);
    for step in 0..20 {
        h.advance(Duration::from_millis(500)).await;
        let admitted = limiter.admit("acct", spec).await;
        assert!(admitted.is_ok(), "step {step}: {admitted:?}");
        rate_wait(limiter.admit("acct", spec).await);
    }
}

/// A retry at `Retry-After` passes; one shortly before fails.
pub(crate) async fn retry_after_is_honest(h: &dyn Harness) {
    let limiter = h.limiter();
    let spec = LimitSpec::new(1_000, 1.0, 3);
    for _ in 0..3 {
        drop(limiter.admit("acct", spec).await.expect("within burst"));
    }
    let wait = rate_wait(limiter.admit("acct", spec).await);
    assert!(
        wait <= Duration::from_secs(1) && wait > h.slack(),
        "{wait:?}"
    );
    h.advance(wait - h.slack()).await;
    let rest = rate_wait(limiter.admit("acct", spec).await);
    assert!(
        rest <= h.slack(),
        "{rest:?} left after waiting most of {wait:?}"
    );
    h.advance(h.slack()).await;
    let retry = limiter.admit("acct", spec).await;
    assert!(retry.is_ok(), "a retry after Retry-After passes: {retry:?}");
}

/// A request refused for concurrency takes no rate token.
pub(crate) async fn refusal_consumes_no_token(h: &dyn Harness) {
    let limiter = h.limiter();
    let spec = LimitSpec::new(1, 1.0, 2);
    let held = limiter.admit("acct", spec).await.expect("first");
    for _ in 0..5 {
        match limiter.admit("acct", spec).await {
            Err(Refusal::Concurrency { retry_after }) => assert!(retry_after > Duration::ZERO),
            other => panic!("expected a concurrency refusal, got {other:?}"),
        }
    }
    drop(held);
    h.settle().await;
    let second = limiter.admit("acct", spec).await;
    assert!(
        second.is_ok(),
        "the second burst token is still there: {second:?}"
    );
    drop(second);
    h.settle().await;
    rate_wait(limiter.admit("acct", spec).await);
}

/// A refunded admission (stopped before it ran, e.g. by capacity) gives its rate token back.
pub(crate) async fn refund_returns_the_rate_token(h: &dyn Harness) {
    let limiter = h.limiter();
    let spec = LimitSpec::new(10, 1.0, 2);
    let ran = limiter.admit("acct", spec).await.expect("first");
    let stopped = limiter.admit("acct", spec).await.expect("second");
    rate_wait(limiter.admit("acct", spec).await);
    stopped.refund().await;
    assert_eq!(limiter.usage("acct", spec).await.unwrap().in_flight, 1);
    let again = limiter.admit("acct", spec).await;
    assert!(again.is_ok(), "the refunded token is back: {again:?}");
    rate_wait(limiter.admit("acct", spec).await);
    drop((ran, again));
}

/// Held leases fill the ceiling; dropping or releasing one frees it.
pub(crate) async fn concurrency_ceiling_and_release(h: &dyn Harness) {
    let limiter = h.limiter();
    let spec = LimitSpec::new(3, 1_000.0, 1_000);
    let mut held = Vec::new();
    for i in 1..=3 {
        let admission = limiter
            .admit("acct", spec)
            .await
            .expect("under the ceiling");
        assert_eq!(admission.usage().in_flight, i);
        held.push(admission);
    }
    assert!(matches!(
        limiter.admit("acct", spec).await,
        Err(Refusal::Concurrency { .. })
    ));
    assert_eq!(limiter.usage("acct", spec).await.unwrap().in_flight, 3);
    drop(held.pop());
    h.settle().await;
    held.push(
        limiter
            .admit("acct", spec)
            .await
            .expect("a dropped lease frees its slot"),
    );
    for admission in held {
        admission.release().await;
    }
    let usage = limiter.usage("acct", spec).await.unwrap();
    assert_eq!((usage.in_flight, usage.allowed_concurrency), (0, 3));
}

/// One account at its limits leaves another untouched.
pub(crate) async fn accounts_are_isolated(h: &dyn Harness) {
    let limiter = h.limiter();
    let spec = LimitSpec::new(1, 1.0, 1);
    let a = limiter.admit("a", spec).await.expect("a first");
    assert!(limiter.admit("a", spec).await.is_err());
    let b = limiter
        .admit("b", spec)
        .await
        .expect("b is not limited by a");
    assert_eq!(limiter.usage("a", spec).await.unwrap().in_flight, 1);
    assert_eq!(limiter.usage("b", spec).await.unwrap().in_flight, 1);
    assert_eq!(limiter.usage("c", spec).await.unwrap().in_flight, 0);
    drop((a, b));
}

/// The global ceiling; the harness's limiter is built with a capacity of 2.
pub(crate) async fn capacity_ceiling(h: &dyn Harness) {
    let limiter = h.limiter();
    let first = limiter.capacity().await.expect("first slot");
    let second = limiter.capacity().await.expect("second slot");
    match limiter.capacity().await {
        Err(Refusal::Capacity { retry_after }) => assert!(retry_after > Duration::ZERO),
        other => panic!("expected a capacity refusal, got {other:?}"),
    }
    drop(first);
    h.settle().await;
    let third = limiter
        .capacity()
        .await
        .expect("a dropped permit frees its slot");
    second.release().await;
    third.release().await;
    let again = limiter
        .capacity()
        .await
        .expect("released permits free their slots");
    drop(again);
}

/// `usage` reports the recent admitted rate and the spec's allowances.
pub(crate) async fn usage_reports_recent_rate(h: &dyn Harness) {
    let limiter = h.limiter();
    let spec = LimitSpec::new(100, 100.0, 100);
    for _ in 0..10 {
        drop(limiter.admit("acct", spec).await.expect("admitted"));
    }
    h.settle().await;
    let usage = limiter.usage("acct", spec).await.unwrap();
    // 10 requests over the 5 s window.
    assert!((usage.recent_rps - 2.0).abs() < 0.05, "{usage:?}");
    assert_eq!(usage.in_flight, 0);
    assert_eq!((usage.allowed_concurrency, usage.allowed_rps), (100, 100.0));
    let none = limiter.usage("idle", spec).await.unwrap();
    assert_eq!((none.in_flight, none.recent_rps), (0, 0.0));
}

/// A request that panics or is cancelled (client gone) still frees its slot.
pub(crate) async fn leases_freed_on_panic_and_cancel(h: &dyn Harness) {
    let spec = LimitSpec::new(1, 1_000.0, 1_000);
    let limiter = h.limiter();
    let panicked = tokio::spawn(async move {
        let _admission = limiter.admit("acct", spec).await.expect("admitted");
        panic!("handler bug while holding a lease");
    })
    .await;
    assert!(panicked.unwrap_err().is_panic());
    h.settle().await;
    assert_eq!(h.limiter().usage("acct", spec).await.unwrap().in_flight, 0);

    let limiter = h.limiter();
    let (admitted_tx, admitted_rx) = tokio::sync::oneshot::channel();
    let request = tokio::spawn(async move {
        let _admission = limiter.admit("acct", spec).await.expect("admitted");
        admitted_tx.send(()).expect("test waits");
        std::future::pending::<()>().await;
    });
    admitted_rx.await.expect("admitted");
    assert_eq!(h.limiter().usage("acct", spec).await.unwrap().in_flight, 1);
    request.abort();
    assert!(request.await.unwrap_err().is_cancelled());
    h.settle().await;
    let again = h.limiter().admit("acct", spec).await;
    assert!(again.is_ok(), "the slot is free again: {again:?}");
}

/// Many tasks ask at once: exactly `ceiling` of them hold a slot, in every round.
pub(crate) async fn concurrent_requests_fill_exactly_the_ceiling(h: Arc<dyn Harness>) {
    const TASKS: usize = 48;
    const ROUNDS: usize = 5;
    let spec = LimitSpec::new(5, 1e6, 1_000_000);
    let barrier = Arc::new(tokio::sync::Barrier::new(TASKS));
    let admitted_per_round: Arc<Vec<AtomicU32>> =
        Arc::new((0..ROUNDS).map(|_| AtomicU32::new(0)).collect());
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let (h, barrier, admitted) = (
                Arc::clone(&h),
                Arc::clone(&barrier),
                Arc::clone(&admitted_per_round),
            );
            tokio::spawn(async move {
                for round in admitted.iter() {
                    let attempt = h.limiter().admit("acct", spec).await;
                    if attempt.is_ok() {
                        round.fetch_add(1, Ordering::SeqCst);
                    } else {
                        assert!(matches!(attempt, Err(Refusal::Concurrency { .. })));
                    }
                    // Everyone has tried while the winners still hold their slots.
                    barrier.wait().await;
                    drop(attempt);
                    barrier.wait().await;
                    h.settle().await;
                    barrier.wait().await;
                }
            })
        })
        .collect();
    for task in futures::future::join_all(tasks).await {
        task.expect("task ran");
    }
    let counts: Vec<u32> = admitted_per_round
        .iter()
        .map(|c| c.load(Ordering::SeqCst))
        .collect();
    assert_eq!(counts, vec![5; ROUNDS]);
}
