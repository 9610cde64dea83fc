//! The Redis backend: several nodes share one set of limits.
//!
//! Every decision is one Lua script (GCRA and the lease count together), timed by Redis
//! `TIME`, so nodes with drifting clocks still agree. Leases are sorted-set members scored by
//! their expiry: a release removes them, a heartbeat pushes the expiry of the ones still held,
//! and the scripts prune expired ones, so the slots of a node that died free themselves after
//! `lease_ttl`. Keys are `{prefix}:{<account>}:rate|leases` and `{prefix}:{capacity}:...`; the
//! braces keep an account's keys in one cluster slot.

mod lease;
mod scripts;

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use redis::{ScriptInvocation, Value};

pub(crate) use lease::RedisLease;
use lease::{Heartbeat, LeaseBook};
use scripts::Scripts;

use crate::{
    Admission, CapacityPermit, Lease, LimitError, LimitSpec, Limiter, Refusal, Usage, RECENT_WINDOW,
};

/// Retry estimate for a full ceiling before any slot was ever released.
const UNKNOWN_HOLD: Duration = Duration::from_secs(1);
const MIN_ESTIMATE: Duration = Duration::from_millis(1);
/// How long an idle hold-time average is kept.
const KEEP_STATS: Duration = Duration::from_secs(3600);

/// How to reach Redis and how leases behave.
#[derive(Clone, Debug)]
pub struct RedisConfig {
    pub url: String,
    pub global_capacity: u32,
    /// Namespace of every key, so several deployments (or tests) share one Redis.
    pub prefix: String,
    /// A lease not renewed for this long is free: the bound on how long a dead node's slots
    /// stay taken. The heartbeat renews held leases every third of it.
    pub lease_ttl: Duration,
    /// Longest wait for one Redis answer before the request is refused as `Unavailable`.
    pub op_timeout: Duration,
}

impl RedisConfig {
    pub fn new(url: &str, global_capacity: u32, prefix: &str) -> Self {
        Self {
            url: url.to_owned(),
            global_capacity,
            prefix: prefix.to_owned(),
            lease_ttl: Duration::from_secs(30),
            op_timeout: Duration::from_secs(2),
        }
    }
}

/// Limits shared through Redis by every node configured with the same URL and prefix.
#[derive(Debug)]
pub struct RedisLimiter {
    shared: Arc<Shared>,
    /// Renews this node's leases; stops when the limiter is dropped, as it would in a crash.
    _heartbeat: Heartbeat,
}

/// What the limiter, its leases and the heartbeat share.
pub(crate) struct Shared {
    connection: ConnectionManager,
    scripts: Scripts,
    config: RedisConfig,
    /// Unique per limiter instance, so lease members of two nodes never collide.
    node: String,
    next_lease: AtomicU64,
    /// Added to Redis `TIME` in every script; only tests move it.
    clock_offset_us: AtomicI64,
    book: LeaseBook,
    runtime: tokio::runtime::Handle,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("config", &self.config)
            .field("node", &self.node)
            .finish_non_exhaustive()
    }
}

impl RedisLimiter {
    /// Connects and starts the lease heartbeat; must run inside a tokio runtime.
    pub async fn connect(config: RedisConfig) -> Result<Self, LimitError> {
        if config.lease_ttl < Duration::from_millis(30) {
            return Err(LimitError::Config(format!(
                "lease_ttl {:?} is too short to renew",
                config.lease_ttl
            )));
        }
        let client = redis::Client::open(config.url.as_str())?;
        let connection = tokio::time::timeout(config.op_timeout, client.get_connection_manager())
            .await
            .map_err(|_| LimitError::Timeout(config.op_timeout))??;
        let shared = Arc::new(Shared {
            connection,
            scripts: Scripts::new(),
            node: format!("{:016x}", rand::random::<u64>()),
            next_lease: AtomicU64::new(0),
            clock_offset_us: AtomicI64::new(0),
            book: LeaseBook::default(),
            runtime: tokio::runtime::Handle::current(),
            config,
        });
        // Fail now, not on the first request, when Redis is unreachable or refuses scripts.
        shared.usage_of("probe").await?;
        let heartbeat = Heartbeat::start(&shared);
        tracing::info!(node = %shared.node, prefix = %shared.config.prefix, "redis limiter ready");
        Ok(Self {
            shared,
            _heartbeat: heartbeat,
        })
    }

    /// Waits until every lease dropped so far has been released in Redis (drops release in
    /// spawned tasks); for graceful shutdown and tests.
    pub async fn settled(&self) {
        self.shared.book.settled().await
    }

    /// Moves this limiter's view of Redis time forward, to test expiry and GCRA without
    /// waiting.
    #[cfg(test)]
    pub(crate) fn advance_clock(&self, by: Duration) {
        let us = i64::try_from(by.as_micros()).expect("test offset fits");
        self.shared.clock_offset_us.fetch_add(us, Ordering::Relaxed);
    }

    fn lease(&self, zset: String, stats: String) -> RedisLease {
        let id = self.shared.next_lease.fetch_add(1, Ordering::Relaxed);
        let member = format!("{}:{id}", self.shared.node);
        RedisLease::new(Arc::clone(&self.shared), id, zset, stats, member)
    }
}

impl Shared {
    fn account_key(&self, account: &str, kind: &str) -> String {
        format!("{}:{{{account}}}:{kind}", self.config.prefix)
    }

    fn capacity_key(&self, kind: &str) -> String {
        format!("{}:{{capacity}}:{kind}", self.config.prefix)
    }

    fn offset(&self) -> i64 {
        self.clock_offset_us.load(Ordering::Relaxed)
    }

    /// Runs one script, bounded by `op_timeout`, and reads its array of integers.
    async fn run(&self, invocation: &ScriptInvocation<'_>) -> Result<Vec<i64>, LimitError> {
        integers(self.run_value(invocation).await?)
    }

    async fn run_value(&self, invocation: &ScriptInvocation<'_>) -> Result<Value, LimitError> {
        let mut connection = self.connection.clone();
        let value = tokio::time::timeout(
            self.config.op_timeout,
            invocation.invoke_async::<Value>(&mut connection),
        )
        .await
        .map_err(|_| LimitError::Timeout(self.config.op_timeout))??;
        Ok(value)
    }

    /// `[in_flight, recent_rate_milli]` of an account's keys.
    async fn usage_of(&self, account: &str) -> Result<Vec<i64>, LimitError> {
        self.read_usage(
            self.account_key(account, "rate"),
            self.account_key(account, "leases"),
        )
        .await
    }

    async fn read_usage(&self, stats: String, zset: String) -> Result<Vec<i64>, LimitError> {
        let mut invocation = self.scripts.usage.prepare_invoke();
        invocation
            .key(stats)
            .key(zset)
            .arg(self.offset())
            .arg(window_us());
        self.run(&invocation).await
    }
}

fn window_us() -> u64 {
    RECENT_WINDOW.as_micros() as u64
}

fn micros(ns: u64) -> u64 {
    ns.div_ceil(1_000)
}

fn unavailable(error: &LimitError) -> Refusal {
    tracing::error!(%error, "redis limiter unavailable; refusing");
    Refusal::Unavailable {
        retry_after: Duration::from_secs(1),
    }
}

/// Reads a script's array of integers.
fn integers(value: Value) -> Result<Vec<i64>, LimitError> {
    match value {
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::Int(n) => Ok(n),
                other => Err(LimitError::Protocol(format!("{other:?}"))),
            })
            .collect(),
        other => Err(LimitError::Protocol(format!("{other:?}"))),
    }
}

fn at(values: &[i64], index: usize) -> Result<i64, LimitError> {
    values
        .get(index)
        .copied()
        .ok_or_else(|| LimitError::Protocol(format!("no field {index} in {values:?}")))
}

fn wait(us: i64) -> Duration {
    Duration::from_micros(u64::try_from(us).unwrap_or(0))
}

fn count(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl RedisLimiter {
    async fn try_admit(&self, account: &str, spec: LimitSpec) -> Result<Admission, Refusal> {
        let shared = &self.shared;
        let lease = self
            .lease(
                shared.account_key(account, "leases"),
                shared.account_key(account, "rate"),
            )
            .with_rate_token(micros(spec.interval_nanos()));
        let mut invocation = shared.scripts.admit.prepare_invoke();
        invocation
            .key(lease.stats_key())
            .key(lease.zset_key())
            .arg(micros(spec.interval_nanos()))
            .arg(micros(spec.tolerance_nanos()))
            .arg(spec.concurrency)
            .arg(lease.member())
            .arg(shared.config.lease_ttl.as_micros() as u64)
            .arg(shared.offset())
            .arg(window_us())
            .arg(UNKNOWN_HOLD.as_micros() as u64)
            .arg(MIN_ESTIMATE.as_micros() as u64);
        // Registered before the call: if the caller is cancelled mid-call, dropping the lease
        // still removes a member the script may have added.
        let lease = lease.registered();
        let values = shared.run(&invocation).await.map_err(|e| unavailable(&e))?;
        let status = at(&values, 0).map_err(|e| unavailable(&e))?;
        let field = |i| at(&values, i).map_err(|e| unavailable(&e));
        match status {
            0 => Ok(Admission {
                usage: Usage {
                    in_flight: count(field(1)?),
                    allowed_concurrency: spec.concurrency,
                    recent_rps: field(2)? as f64 / 1000.0,
                    allowed_rps: spec.effective_rps(),
                },
                lease: Lease::Redis(lease),
            }),
            1 => Err(lease.refused(Refusal::Rate {
                retry_after: wait(field(1)?),
            })),
            _ => Err(lease.refused(Refusal::Concurrency {
                retry_after: wait(field(1)?),
            })),
        }
    }

    async fn try_capacity(&self) -> Result<CapacityPermit, Refusal> {
        let shared = &self.shared;
        let lease = self.lease(shared.capacity_key("leases"), shared.capacity_key("stats"));
        let mut invocation = shared.scripts.capacity.prepare_invoke();
        invocation
            .key(lease.zset_key())
            .key(lease.stats_key())
            .arg(shared.config.global_capacity)
            .arg(lease.member())
            .arg(shared.config.lease_ttl.as_micros() as u64)
            .arg(shared.offset())
            .arg(UNKNOWN_HOLD.as_micros() as u64)
            .arg(MIN_ESTIMATE.as_micros() as u64);
        let lease = lease.registered();
        let values = shared.run(&invocation).await.map_err(|e| unavailable(&e))?;
        match at(&values, 0).map_err(|e| unavailable(&e))? {
            0 => Ok(CapacityPermit {
                lease: Lease::Redis(lease),
            }),
            _ => Err(lease.refused(Refusal::Capacity {
                retry_after: wait(at(&values, 1).map_err(|e| unavailable(&e))?),
            })),
        }
    }

    /// Slots of the global ceiling in use now, across every node.
    pub async fn capacity_in_flight(&self) -> Result<u32, LimitError> {
        let shared = &self.shared;
        let values = shared
            .read_usage(shared.capacity_key("stats"), shared.capacity_key("leases"))
            .await?;
        Ok(count(at(&values, 0)?))
    }
}

#[async_trait]
impl Limiter for RedisLimiter {
    async fn admit(&self, account: &str, spec: LimitSpec) -> Result<Admission, Refusal> {
        self.try_admit(account, spec).await
    }

    async fn capacity(&self) -> Result<CapacityPermit, Refusal> {
        self.try_capacity().await
    }

    async fn usage(&self, account: &str, spec: LimitSpec) -> Result<Usage, LimitError> {
        let values = self.shared.usage_of(account).await?;
        Ok(Usage {
            in_flight: count(at(&values, 0)?),
            allowed_concurrency: spec.concurrency,
            recent_rps: at(&values, 1)? as f64 / 1000.0,
            allowed_rps: spec.effective_rps(),
        })
    }

    fn backend(&self) -> &'static str {
        "redis"
    }

    /// `PING`, bounded by `op_timeout` like every other call.
    async fn ping(&self) -> Result<(), LimitError> {
        let mut connection = self.shared.connection.clone();
        let cmd = redis::cmd("PING");
        let answer: String = tokio::time::timeout(
            self.shared.config.op_timeout,
            cmd.query_async(&mut connection),
        )
        .await
        .map_err(|_| LimitError::Timeout(self.shared.config.op_timeout))??;
        match answer.as_str() {
            "PONG" => Ok(()),
            other => Err(LimitError::Protocol(format!("PING answered {other:?}"))),
        }
    }
}

#[cfg(test)]
mod tests;
