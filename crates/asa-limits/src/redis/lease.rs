//! Leases in Redis: the guard a request holds, its release, and the heartbeat that keeps the
//! leases of a live node from expiring.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use super::{Shared, KEEP_STATS};
use crate::Refusal;

/// The leases this node holds, for the heartbeat, and its releases still on their way.
#[derive(Debug, Default)]
pub(super) struct LeaseBook {
    held: Mutex<HashMap<u64, (String, String)>>,
    pending_releases: AtomicUsize,
    all_released: Notify,
}

impl LeaseBook {
    fn held(&self) -> MutexGuard<'_, HashMap<u64, (String, String)>> {
        self.held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Members still held, grouped by their sorted set.
    fn by_key(&self) -> HashMap<String, Vec<String>> {
        let mut groups: HashMap<String, Vec<String>> = HashMap::new();
        for (zset, member) in self.held().values() {
            groups.entry(zset.clone()).or_default().push(member.clone());
        }
        groups
    }

    pub(super) async fn settled(&self) {
        loop {
            let notified = self.all_released.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.pending_releases.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// Counts one spawned release until it finishes or its task is dropped unrun.
struct PendingRelease(Arc<Shared>);

impl PendingRelease {
    fn new(shared: &Arc<Shared>) -> Self {
        shared.book.pending_releases.fetch_add(1, Ordering::AcqRel);
        Self(Arc::clone(shared))
    }
}

impl Drop for PendingRelease {
    fn drop(&mut self) {
        if self.0.book.pending_releases.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.book.all_released.notify_waiters();
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum State {
    /// Not yet sent to Redis.
    Fresh,
    /// Possibly in Redis: dropping it must remove it.
    Held,
    /// Refused or released: nothing to do on drop.
    Done,
}

/// One slot held in Redis. Dropping it releases it in a spawned task; if that never runs (the
/// node died), the lease expires after `lease_ttl`.
#[derive(Debug)]
pub(crate) struct RedisLease {
    shared: Arc<Shared>,
    id: u64,
    zset: String,
    /// The hash whose `hold` field averages how long these slots are held.
    stats: String,
    member: String,
    started: Instant,
    /// The emission interval its admission added to the account's TAT (0 for capacity).
    rate_token_us: u64,
    state: State,
}

impl RedisLease {
    pub(super) fn new(
        shared: Arc<Shared>,
        id: u64,
        zset: String,
        stats: String,
        member: String,
    ) -> Self {
        Self {
            shared,
            id,
            zset,
            stats,
            member,
            started: Instant::now(),
            rate_token_us: 0,
            state: State::Fresh,
        }
    }

    pub(super) fn zset_key(&self) -> &str {
        &self.zset
    }

    pub(super) fn stats_key(&self) -> &str {
        &self.stats
    }

    pub(super) fn member(&self) -> &str {
        &self.member
    }

    /// From here on, dropping the lease releases it and the heartbeat renews it.
    pub(super) fn registered(mut self) -> Self {
        self.shared
            .book
            .held()
            .insert(self.id, (self.zset.clone(), self.member.clone()));
        self.state = State::Held;
        self
    }

    /// The script refused: nothing was added, so nothing is to release.
    pub(super) fn refused(mut self, refusal: Refusal) -> Refusal {
        self.forget();
        refusal
    }

    /// Adds the TAT step this lease's admission made, to take back on refund.
    pub(super) fn with_rate_token(mut self, interval_us: u64) -> Self {
        self.rate_token_us = interval_us;
        self
    }

    pub(crate) async fn release(mut self) {
        if let Some(freed) = self.take(false) {
            freed.send(&self.shared).await;
        }
    }

    pub(crate) async fn refund(mut self) {
        if let Some(freed) = self.take(true) {
            freed.send(&self.shared).await;
        }
    }

    /// What the release script needs, once: the lease is done after this.
    fn take(&mut self, refund: bool) -> Option<Freed> {
        if self.state != State::Held {
            return None;
        }
        self.forget();
        Some(Freed {
            zset: std::mem::take(&mut self.zset),
            stats: std::mem::take(&mut self.stats),
            member: std::mem::take(&mut self.member),
            held_us: u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX),
            refund_us: if refund { self.rate_token_us } else { 0 },
        })
    }

    fn forget(&mut self) {
        self.shared.book.held().remove(&self.id);
        self.state = State::Done;
    }
}

impl Drop for RedisLease {
    fn drop(&mut self) {
        let Some(freed) = self.take(false) else {
            return;
        };
        let pending = PendingRelease::new(&self.shared);
        self.shared.runtime.spawn(async move {
            freed.send(&pending.0).await;
            drop(pending);
        });
    }
}

/// One lease on its way out of Redis.
struct Freed {
    zset: String,
    stats: String,
    member: String,
    held_us: u64,
    refund_us: u64,
}

impl Freed {
    async fn send(self, shared: &Shared) {
        let Freed {
            zset,
            stats,
            member,
            ..
        } = &self;
        let mut invocation = shared.scripts.release.prepare_invoke();
        invocation
            .key(zset)
            .key(stats)
            .arg(member)
            .arg(self.held_us)
            .arg(KEEP_STATS.as_millis() as u64)
            .arg(self.refund_us);
        match shared.run_value(&invocation).await {
            Ok(redis::Value::Int(1)) => {}
            Ok(_) => tracing::warn!(zset, member, "lease had expired before its release"),
            Err(error) => {
                tracing::warn!(%error, zset, member, "lease release failed; it expires by its ttl")
            }
        }
    }
}

/// Renews the leases of this node every third of `lease_ttl`; aborted when dropped.
#[derive(Debug)]
pub(super) struct Heartbeat {
    task: JoinHandle<()>,
}

impl Heartbeat {
    pub(super) fn start(shared: &Arc<Shared>) -> Self {
        let weak: Weak<Shared> = Arc::downgrade(shared);
        let period = shared.config.lease_ttl / 3;
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(shared) = weak.upgrade() else { break };
                renew_all(&shared).await;
            }
        });
        Self { task }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub(super) async fn renew_all(shared: &Shared) {
    let groups = shared.book.by_key();
    let renewals = groups.into_iter().map(|(zset, members)| async move {
        let mut invocation = shared.scripts.renew.prepare_invoke();
        invocation
            .key(&zset)
            .arg(shared.config.lease_ttl.as_micros() as u64)
            .arg(shared.offset());
        for member in &members {
            invocation.arg(member);
        }
        match shared.run_value(&invocation).await {
            Ok(redis::Value::Int(n)) if n as usize == members.len() => {}
            // Also when a lease was released between the snapshot and the renewal.
            Ok(other) => tracing::debug!(
                zset,
                sent = members.len(),
                renewed = ?other,
                "some leases were gone at renewal"
            ),
            Err(error) => tracing::warn!(%error, zset, "lease renewal failed"),
        }
    });
    futures::future::join_all(renewals).await;
}
