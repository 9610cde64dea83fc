//! asa-limits: who may start upstream work right now.
//!
//! It owns three limits: a per-account sustained rate with burst (GCRA), a per-account
//! concurrency ceiling held by leases, and a global ceiling on in-flight upstream work. Two
//! backends sit behind one [`Limiter`] trait: in-process (the default, one node) and Redis
//! (several nodes share the limits; one Lua script per decision, Redis `TIME` as the clock,
//! leases that expire so a dead node frees its slots).
//!
//! It must not know HTTP: it answers with an [`Admission`], a [`CapacityPermit`], a
//! [`Refusal`] (with the time until a slot frees) or a [`Usage`]; the server turns those into
//! status codes and headers.
//!
//! A request's path through it: `admit(account, spec)` (429 on `Rate`/`Concurrency`), then
//! `capacity()` (503 on `Capacity`/`Unavailable`; call `Admission::refund` so the request that
//! never ran gives its rate token back); hold both guards until the response is settled.
//! `Refusal::retry_after_secs` is the `Retry-After` value; `Admission::usage` feeds the
//! `Asa-Concurrency`/`Asa-Rps` headers of an admitted request, `Limiter::usage` the others.
//!
//! # Layout
//! - `lib.rs`: the trait and the types the server codes against.
//! - `rules.rs`: the arithmetic both backends share: GCRA, the recent-rate window, the
//!   hold-time estimate behind concurrency and capacity `Retry-After`.
//! - `local.rs`: the in-process backend (sharded map, tokio clock so paused time drives it).
//! - `redis/`: the Redis backend: `mod.rs` the limiter, `lease.rs` leases, their release and
//!   the heartbeat that renews them, `scripts.rs` the Lua.
//! - `suite.rs` (tests only): the behaviours every backend must show, run against each.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

mod local;
mod redis;
mod rules;
#[cfg(test)]
mod suite;

pub use local::LocalLimiter;
pub use redis::{RedisConfig, RedisLimiter};

/// One account's limits, taken from its plan.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LimitSpec {
    /// Requests of the account in flight at once.
    pub concurrency: u32,
    /// Sustained requests per second.
    pub rps: f64,
    /// Requests allowed at once from rest; at least 1 is used.
    pub burst: u32,
}

/// The slowest sustained rate a spec can ask for; a lower or non-finite `rps` is read as this,
/// so a broken plan row throttles hard instead of dividing by zero.
pub const MIN_RPS: f64 = 0.001;

impl LimitSpec {
    pub const fn new(concurrency: u32, rps: f64, burst: u32) -> Self {
        Self {
            concurrency,
            rps,
            burst,
        }
    }

    /// The sustained rate actually enforced: `rps` clamped to at least [`MIN_RPS`].
    pub fn effective_rps(&self) -> f64 {
        if self.rps.is_finite() && self.rps >= MIN_RPS {
            self.rps
        } else {
            MIN_RPS
        }
    }

    /// GCRA's emission interval `T = 1 / rps`, in nanoseconds.
    pub fn interval_nanos(&self) -> u64 {
        (1e9 / self.effective_rps()).round() as u64
    }

    /// GCRA's burst tolerance `tau = (burst - 1) * T`, in nanoseconds.
    pub fn tolerance_nanos(&self) -> u64 {
        u64::from(self.burst.max(1) - 1).saturating_mul(self.interval_nanos())
    }
}

/// Why a request may not start now, and how long until it could.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Over the account's sustained rate with burst; `retry_after` is exact.
    #[error("over the account's sustained rate; retry after {retry_after:?}")]
    Rate { retry_after: Duration },
    /// The account's concurrency ceiling is full; `retry_after` is an estimate from how long
    /// its requests have recently been held.
    #[error("the account's concurrency ceiling is full; retry after {retry_after:?}")]
    Concurrency { retry_after: Duration },
    /// The global in-flight ceiling is full; `retry_after` is an estimate as above.
    #[error("the upstream capacity is full; retry after {retry_after:?}")]
    Capacity { retry_after: Duration },
    /// The shared backend (Redis) did not answer; nothing was admitted. Fails closed because
    /// admitting blindly would let several nodes overrun every limit at once.
    #[error("the limits backend is unavailable; retry after {retry_after:?}")]
    Unavailable { retry_after: Duration },
}

impl Refusal {
    pub fn retry_after(&self) -> Duration {
        match *self {
            Refusal::Rate { retry_after }
            | Refusal::Concurrency { retry_after }
            | Refusal::Capacity { retry_after }
            | Refusal::Unavailable { retry_after } => retry_after,
        }
    }

    /// `retry_after` rounded up to whole seconds, at least 1: what a `Retry-After` carries.
    /// Rounding up keeps it honest: a client that waits this long finds the rate slot free.
    pub fn retry_after_secs(&self) -> u64 {
        let d = self.retry_after();
        let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
        secs.max(1)
    }
}

/// What an account is using, for the `Asa-Concurrency` and `Asa-Rps` headers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Usage {
    /// The account's requests holding a concurrency lease now.
    pub in_flight: u32,
    pub allowed_concurrency: u32,
    /// Admitted requests per second over about the last [`RECENT_WINDOW`].
    pub recent_rps: f64,
    pub allowed_rps: f64,
}

/// The span `Usage::recent_rps` averages over.
pub const RECENT_WINDOW: Duration = Duration::from_secs(5);

/// Errors of building a limiter or reading usage; refusals are [`Refusal`], not errors.
#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    #[error("redis: {0}")]
    Redis(#[from] ::redis::RedisError),
    #[error("redis did not answer within {0:?}")]
    Timeout(Duration),
    #[error("redis answered with an unexpected shape: {0}")]
    Protocol(String),
    #[error("invalid limiter configuration: {0}")]
    Config(String),
}

/// A request's place under its account's limits. Holding it holds one concurrency slot;
/// dropping it frees the slot however the request ends (return, `?`, panic, cancelled future).
#[must_use = "dropping an Admission frees its concurrency slot at once"]
#[derive(Debug)]
pub struct Admission {
    lease: Lease,
    usage: Usage,
}

impl Admission {
    /// The account's usage as of this admission, this request included.
    pub fn usage(&self) -> Usage {
        self.usage
    }

    /// Frees the slot and waits until the backend has recorded it (Drop frees it too, but
    /// for Redis in a spawned task).
    pub async fn release(self) {
        self.lease.release().await
    }

    /// Frees the slot and gives the rate token back, for a request stopped after admission
    /// that never ran (typically refused for capacity), so it does not count against the
    /// account's rate.
    pub async fn refund(self) {
        self.lease.refund().await
    }
}

/// One slot of the global in-flight ceiling; dropping it frees the slot.
#[must_use = "dropping a CapacityPermit frees its slot at once"]
#[derive(Debug)]
pub struct CapacityPermit {
    lease: Lease,
}

impl CapacityPermit {
    /// Frees the slot and waits until the backend has recorded it.
    pub async fn release(self) {
        self.lease.release().await
    }
}

/// A held slot of either backend; each variant frees itself on drop.
#[derive(Debug)]
enum Lease {
    Local(local::LocalLease),
    Redis(redis::RedisLease),
}

impl Lease {
    async fn release(self) {
        match self {
            Lease::Local(lease) => drop(lease),
            Lease::Redis(lease) => lease.release().await,
        }
    }

    async fn refund(self) {
        match self {
            Lease::Local(lease) => lease.refund(),
            Lease::Redis(lease) => lease.refund().await,
        }
    }
}

/// The limits of every account, shared by all request handlers.
#[async_trait]
pub trait Limiter: Send + Sync + std::fmt::Debug {
    /// Checks the account's rate, then its concurrency, in one atomic step: a request refused
    /// for either consumes no rate token, and in-flight never exceeds `spec.concurrency`.
    async fn admit(&self, account: &str, spec: LimitSpec) -> Result<Admission, Refusal>;

    /// Takes one slot of the global in-flight ceiling (503 `capacity` when refused).
    async fn capacity(&self) -> Result<CapacityPermit, Refusal>;

    /// The account's usage now, without admitting anything.
    async fn usage(&self, account: &str, spec: LimitSpec) -> Result<Usage, LimitError>;

    /// `"in-process"` or `"redis"`, for logs and metrics.
    fn backend(&self) -> &'static str;

    /// Whether the backend answers now (readiness): in-process limits always do.
    async fn ping(&self) -> Result<(), LimitError> {
        Ok(())
    }
}

/// The default backend: limits held in this process.
pub fn in_process(global_capacity: u32) -> Arc<dyn Limiter> {
    Arc::new(LocalLimiter::new(global_capacity))
}

/// The shared backend: limits held in Redis under `prefix`, for several nodes.
/// Must be called inside a tokio runtime (it spawns the lease heartbeat).
pub async fn redis(
    url: &str,
    global_capacity: u32,
    prefix: &str,
) -> Result<Arc<dyn Limiter>, LimitError> {
    let config = RedisConfig::new(url, global_capacity, prefix);
    Ok(Arc::new(RedisLimiter::connect(config).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_arithmetic() {
        let free = LimitSpec::new(10, 2.0, 10);
        assert_eq!(free.interval_nanos(), 500_000_000);
        assert_eq!(free.tolerance_nanos(), 9 * 500_000_000);
        let zero_burst = LimitSpec::new(1, 4.0, 0);
        assert_eq!(zero_burst.tolerance_nanos(), 0);
        let broken = LimitSpec::new(1, f64::NAN, 1);
        assert_eq!(broken.effective_rps(), MIN_RPS);
        assert_eq!(LimitSpec::new(1, -3.0, 1).effective_rps(), MIN_RPS);
    }

    #[test]
    fn retry_after_secs_rounds_up_to_at_least_one() {
        let r = |ms| Refusal::Rate {
            retry_after: Duration::from_millis(ms),
        };
        assert_eq!(r(0).retry_after_secs(), 1);
        assert_eq!(r(1).retry_after_secs(), 1);
        assert_eq!(r(1000).retry_after_secs(), 1);
        assert_eq!(r(1001).retry_after_secs(), 2);
        assert_eq!(r(4500).retry_after_secs(), 5);
    }
}
