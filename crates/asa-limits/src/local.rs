//! The in-process backend: one node's limits in a sharded map.
//!
//! Time is tokio's `Instant`, so tests drive it with paused time. Accounts stay in the map
//! once seen: they come only from authenticated keys, so the map is bounded by the accounts
//! that exist, and an entry is a few dozen bytes.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use dashmap::DashMap;
use rustc_hash::FxBuildHasher;
use tokio::time::Instant;

use crate::rules::{blend_hold, gcra, hold_estimate, RecentWindow};
use crate::{
    Admission, CapacityPermit, Lease, LimitError, LimitSpec, Limiter, Refusal, Usage, RECENT_WINDOW,
};

const NANOS_PER_SEC: f64 = 1e9;
/// Retry estimate for a full ceiling before any slot was ever released.
const UNKNOWN_HOLD: Duration = Duration::from_secs(1);
const MIN_ESTIMATE: Duration = Duration::from_millis(1);

/// Limits held in this process only.
#[derive(Debug)]
pub struct LocalLimiter {
    /// Zero of the nanosecond ticks all state is kept in.
    epoch: Instant,
    /// Fx hashing: account ids come from our own key store, not from callers, so there is
    /// no collision flooding to defend against, and SipHash would double the check's cost.
    accounts: DashMap<String, Arc<Slots>, FxBuildHasher>,
    global: Arc<GlobalSlots>,
    global_capacity: u32,
}

/// The node's capacity ceiling: every request passes it, so it is two atomics rather
/// than a lock all requests would queue on.
#[derive(Debug, Default)]
struct GlobalSlots {
    in_flight: AtomicU32,
    /// Moving average of how long a slot is held, in nanoseconds (for `Retry-After`).
    hold_average: AtomicU64,
}

impl GlobalSlots {
    fn release(&self) {
        // Saturating: a release never takes the count below zero.
        let _ = self
            .in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
    }
}

/// Whose slot a lease holds.
#[derive(Debug)]
enum Held {
    Account(Arc<Slots>),
    Global(Arc<GlobalSlots>),
}

/// One account's state behind one lock: the decision reads and
/// writes it all at once, so rate and concurrency are checked atomically.
#[derive(Debug, Default)]
struct Slots {
    state: Mutex<SlotState>,
}

#[derive(Debug, Default)]
struct SlotState {
    tat: u64,
    in_flight: u32,
    window: RecentWindow,
    hold_average: u64,
}

impl Slots {
    fn lock(&self) -> MutexGuard<'_, SlotState> {
        // No code panics while holding it; a poisoned lock still holds consistent counts.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl LocalLimiter {
    pub fn new(global_capacity: u32) -> Self {
        Self {
            epoch: Instant::now(),
            accounts: DashMap::with_hasher(FxBuildHasher),
            global: Arc::default(),
            global_capacity,
        }
    }

    fn ticks(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX)
    }

    /// Runs `f` on the account's slots, creating them on first sight; the common case takes
    /// only the shard's read lock and clones nothing.
    fn with_slots<R>(&self, account: &str, f: impl FnOnce(&Arc<Slots>) -> R) -> R {
        if let Some(slots) = self.accounts.get(account) {
            return f(&slots);
        }
        let slots = Arc::clone(&self.accounts.entry(account.to_owned()).or_default());
        f(&slots)
    }

    fn usage_of(state: &SlotState, now: u64, spec: LimitSpec) -> Usage {
        Usage {
            in_flight: state.in_flight,
            allowed_concurrency: spec.concurrency,
            recent_rps: state.window.rate(now, window_ticks(), NANOS_PER_SEC),
            allowed_rps: spec.effective_rps(),
        }
    }

    /// Admission without the async wrapper, for callers on a hot synchronous path.
    pub fn try_admit(&self, account: &str, spec: LimitSpec) -> Result<Admission, Refusal> {
        let started = Instant::now();
        let interval = spec.interval_nanos();
        let tolerance = spec.tolerance_nanos();
        let (slots, usage) = self.with_slots(account, |slots| {
            let mut state = slots.lock();
            // "Now" is read under the lock: a thread descheduled between reading the clock
            // and taking the lock would otherwise arrive with a time older than the TAT others
            // already moved, and be refused for a rate its account is far from (seen as
            // spurious 429s on a plan with huge headroom on a loaded machine).
            let now = self.ticks(Instant::now());
            let tat = gcra(state.tat, now, interval, tolerance).map_err(|wait| Refusal::Rate {
                retry_after: Duration::from_nanos(wait),
            })?;
            if state.in_flight >= spec.concurrency {
                return Err(Refusal::Concurrency {
                    retry_after: estimate(&state),
                });
            }
            state.tat = tat;
            state.in_flight += 1;
            state.window.record(now, window_ticks());
            Ok((Arc::clone(slots), Self::usage_of(&state, now, spec)))
        })?;
        Ok(Admission {
            lease: Lease::Local(LocalLease {
                slots: Held::Account(slots),
                started,
                rate_token: interval,
                refunded: false,
            }),
            usage,
        })
    }

    /// A global slot without the async wrapper.
    pub fn try_capacity(&self) -> Result<CapacityPermit, Refusal> {
        let started = Instant::now();
        let cap = self.global_capacity;
        let taken = self
            .global
            .in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < cap).then_some(n + 1)
            });
        if let Err(in_flight) = taken {
            let hold = self.global.hold_average.load(Ordering::Relaxed);
            return Err(Refusal::Capacity {
                retry_after: Duration::from_nanos(hold_estimate(
                    hold,
                    in_flight,
                    UNKNOWN_HOLD.as_nanos() as u64,
                    MIN_ESTIMATE.as_nanos() as u64,
                )),
            });
        }
        Ok(CapacityPermit {
            lease: Lease::Local(LocalLease {
                slots: Held::Global(Arc::clone(&self.global)),
                started,
                rate_token: 0,
                refunded: false,
            }),
        })
    }

    /// Slots of the global ceiling in use now.
    pub fn capacity_in_flight(&self) -> u32 {
        self.global.in_flight.load(Ordering::Acquire)
    }

    pub fn usage_now(&self, account: &str, spec: LimitSpec) -> Usage {
        let now = self.ticks(Instant::now());
        match self.accounts.get(account) {
            Some(slots) => Self::usage_of(&slots.lock(), now, spec),
            None => Self::usage_of(&SlotState::default(), now, spec),
        }
    }
}

fn window_ticks() -> u64 {
    RECENT_WINDOW.as_nanos() as u64
}

fn estimate(state: &SlotState) -> Duration {
    Duration::from_nanos(hold_estimate(
        state.hold_average,
        state.in_flight,
        UNKNOWN_HOLD.as_nanos() as u64,
        MIN_ESTIMATE.as_nanos() as u64,
    ))
}

#[async_trait]
impl Limiter for LocalLimiter {
    async fn admit(&self, account: &str, spec: LimitSpec) -> Result<Admission, Refusal> {
        self.try_admit(account, spec)
    }

    async fn capacity(&self) -> Result<CapacityPermit, Refusal> {
        self.try_capacity()
    }

    async fn usage(&self, account: &str, spec: LimitSpec) -> Result<Usage, LimitError> {
        Ok(self.usage_now(account, spec))
    }

    fn backend(&self) -> &'static str {
        "in-process"
    }
}

/// A held in-process slot; dropping it gives the slot back and records how long it was held.
#[derive(Debug)]
pub(crate) struct LocalLease {
    slots: Held,
    started: Instant,
    /// The emission interval its admission added to the account's TAT (0 for capacity).
    rate_token: u64,
    refunded: bool,
}

impl LocalLease {
    /// Frees the slot and takes back the TAT step its admission made; the hold time of a
    /// request that never ran is not a sample.
    pub(crate) fn refund(mut self) {
        match &self.slots {
            Held::Account(slots) => {
                let mut state = slots.lock();
                state.tat = state.tat.saturating_sub(self.rate_token);
                state.in_flight = state.in_flight.saturating_sub(1);
            }
            Held::Global(global) => global.release(),
        }
        self.refunded = true;
    }
}

impl Drop for LocalLease {
    fn drop(&mut self) {
        if self.refunded {
            return;
        }
        let held = u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        match &self.slots {
            Held::Account(slots) => {
                let mut state = slots.lock();
                state.in_flight = state.in_flight.saturating_sub(1);
                state.hold_average = blend_hold(state.hold_average, held);
            }
            Held::Global(global) => {
                global.release();
                let _ =
                    global
                        .hold_average
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |avg| {
                            Some(blend_hold(avg, held))
                        });
            }
        }
    }
}

#[cfg(test)]
#[path = "local_tests.rs"]
mod tests;
