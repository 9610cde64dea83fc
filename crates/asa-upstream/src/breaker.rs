//! The circuit breaker of one exit: closed while it works, benched (open) after
//! `bench_after` consecutive transport failures, half-open once the cooldown is over,
//! when a single probe attempt decides whether it closes again or goes back on the bench.

use serde::Serialize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How an attempt went, as far as the exit's health is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExitResult {
    /// An HTTP answer came back through it (whatever the page was).
    Reached,
    /// Connect, TLS, proxy, reset or timeout failure.
    Failed,
    /// Says nothing about the exit (the overall deadline cut the attempt).
    Neutral,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProxyState {
    Healthy,
    /// Failed too often; skipped until its cooldown is over.
    Benched,
    /// Cooldown over: the next attempt through it decides.
    HalfOpen,
}

/// What a recorded result changed, for the caller to log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    None,
    Benched,
    Restored,
}

#[derive(Debug, Default)]
pub(crate) struct Breaker {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    consecutive_failures: u32,
    benched_until: Option<Instant>,
    /// A half-open exit lets one attempt through at a time.
    probing: bool,
}

impl Breaker {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // Plain counters: a panic elsewhere cannot leave them inconsistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Lets an attempt through if closed, or half-open with no probe out.
    pub(crate) fn try_acquire(&self, now: Instant) -> bool {
        let mut s = self.state();
        match s.benched_until {
            None => true,
            Some(until) if now < until => false,
            Some(_) if s.probing => false,
            Some(_) => {
                s.probing = true;
                true
            }
        }
    }

    /// Frees the probe slot of an attempt that ended without a result.
    pub(crate) fn release(&self) {
        self.state().probing = false;
    }

    /// Records how an attempt through the exit went. `benchable` is false for the direct
    /// exit, which has nothing to switch to.
    pub(crate) fn record(
        &self,
        result: ExitResult,
        bench_after: u32,
        bench_for: Duration,
        benchable: bool,
    ) -> Change {
        let mut s = self.state();
        let was_probing = std::mem::take(&mut s.probing);
        match result {
            ExitResult::Reached => {
                s.consecutive_failures = 0;
                match s.benched_until.take() {
                    Some(_) => Change::Restored,
                    None => Change::None,
                }
            }
            ExitResult::Failed => {
                s.consecutive_failures = s.consecutive_failures.saturating_add(1);
                if benchable && (was_probing || s.consecutive_failures >= bench_after.max(1)) {
                    s.benched_until = Some(Instant::now() + bench_for);
                    Change::Benched
                } else {
                    Change::None
                }
            }
            ExitResult::Neutral => Change::None,
        }
    }

    /// Benches the exit for `cooldown` from `now` (Amazon challenged a session through
    /// it), without counting a transport failure. False if it was already benched.
    pub(crate) fn cool_down(&self, now: Instant, cooldown: Duration) -> bool {
        let mut s = self.state();
        let was_benched = s.benched_until.is_some_and(|until| now < until);
        s.benched_until = Some(now + cooldown);
        !was_benched
    }

    /// The state at `now`, the consecutive failures, and the cooldown left while benched.
    pub(crate) fn snapshot(&self, now: Instant) -> (ProxyState, u32, Option<u64>) {
        let s = self.state();
        let (state, left) = match s.benched_until {
            None => (ProxyState::Healthy, None),
            Some(until) if now < until => (
                ProxyState::Benched,
                Some((until - now).as_millis().max(1) as u64),
            ),
            Some(_) => (ProxyState::HalfOpen, None),
        };
        (state, s.consecutive_failures, left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOLDOWN: Duration = Duration::from_millis(50);

    fn fail(b: &Breaker) -> Change {
        b.record(ExitResult::Failed, 2, COOLDOWN, true)
    }

    #[test]
    fn benches_after_consecutive_failures_then_half_opens_one_probe() {
        let b = Breaker::default();
        assert_eq!(fail(&b), Change::None);
        assert_eq!(b.snapshot(Instant::now()).0, ProxyState::Healthy);
        assert_eq!(fail(&b), Change::Benched);
        let (state, failures, left) = b.snapshot(Instant::now());
        assert_eq!((state, failures), (ProxyState::Benched, 2));
        assert!(left.unwrap() <= COOLDOWN.as_millis() as u64);
        assert!(!b.try_acquire(Instant::now()));

        let later = Instant::now() + COOLDOWN + Duration::from_millis(10);
        assert_eq!(b.snapshot(later).0, ProxyState::HalfOpen);
        assert!(b.try_acquire(later), "one probe goes through");
        assert!(!b.try_acquire(later), "a second concurrent probe does not");
        // A failed probe benches again at once.
        assert_eq!(fail(&b), Change::Benched);
        assert!(!b.try_acquire(Instant::now()));

        let later = Instant::now() + COOLDOWN + Duration::from_millis(10);
        assert!(b.try_acquire(later));
        assert_eq!(
            b.record(ExitResult::Reached, 2, COOLDOWN, true),
            Change::Restored
        );
        assert_eq!(b.snapshot(Instant::now()), (ProxyState::Healthy, 0, None));
    }

    #[test]
    fn a_success_resets_the_count_and_neutral_results_release_the_probe() {
        let b = Breaker::default();
        fail(&b);
        b.record(ExitResult::Reached, 2, COOLDOWN, true);
        assert_eq!(fail(&b), Change::None, "the count started over");
        assert_eq!(fail(&b), Change::Benched);

        let later = Instant::now() + COOLDOWN + Duration::from_millis(10);
        assert!(b.try_acquire(later));
        b.record(ExitResult::Neutral, 2, COOLDOWN, true);
        assert_eq!(b.snapshot(later).0, ProxyState::HalfOpen);
        assert!(b.try_acquire(later), "the probe slot is free again");
    }

    #[test]
    fn a_released_probe_can_be_taken_again() {
        let b = Breaker::default();
        fail(&b);
        fail(&b);
        let later = Instant::now() + COOLDOWN + Duration::from_millis(10);
        assert!(b.try_acquire(later));
        assert!(!b.try_acquire(later));
        b.release();
        assert!(b.try_acquire(later));
    }

    #[test]
    fn an_unbenchable_exit_only_counts() {
        let b = Breaker::default();
        for _ in 0..5 {
            assert_eq!(
                b.record(ExitResult::Failed, 2, COOLDOWN, false),
                Change::None
            );
        }
        assert_eq!(b.snapshot(Instant::now()), (ProxyState::Healthy, 5, None));
        assert!(b.try_acquire(Instant::now()));
    }
}
