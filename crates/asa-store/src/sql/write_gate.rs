//! SQLite's one writer, taken in two lanes. Settling a request (its charge or release, a
//! batch item's result) finishes work whose page is already back; everything else
//! (reservations, new batches, traces) starts or records work. Under a burst thousands of
//! reservations queue at once, and in one first-come-first-served queue every charge would
//! wait behind all of them while its extracted page sat in memory. Here other writers pass
//! one at a time through a lane of their own before they queue for the writer, so a
//! settlement waits behind at most one of them.

use tokio::sync::{Mutex, MutexGuard, Semaphore};

pub(crate) struct WriteGate {
    writer: Mutex<()>,
    /// Held by the one non-settling writer allowed to queue for `writer`.
    others: Semaphore,
}

/// Which lane a write takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lane {
    /// Charges, releases, batch item results: ahead of every other writer but one.
    Settle,
    Other,
}

impl WriteGate {
    pub(crate) fn new() -> WriteGate {
        WriteGate {
            writer: Mutex::new(()),
            others: Semaphore::new(1),
        }
    }

    pub(crate) async fn enter(&self, lane: Lane) -> MutexGuard<'_, ()> {
        match lane {
            Lane::Settle => self.writer.lock().await,
            Lane::Other => {
                // The semaphore is never closed, so acquire cannot fail; a closed one would
                // only drop the lane's ordering, not the writer's exclusion.
                let _turn = self.others.acquire().await.ok();
                self.writer.lock().await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_settlement_waits_behind_at_most_one_other_writer() {
        let gate = Arc::new(WriteGate::new());
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let held = gate.enter(Lane::Other).await;
        let mut tasks = Vec::new();
        for i in 0..50 {
            let (gate, order) = (gate.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let _w = gate.enter(Lane::Other).await;
                order.lock().unwrap().push(format!("other{i}"));
            }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let (g, o) = (gate.clone(), order.clone());
        let settle = tokio::spawn(async move {
            let _w = g.enter(Lane::Settle).await;
            o.lock().unwrap().push("settle".to_string());
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        drop(held);
        settle.await.unwrap();
        for t in tasks {
            t.await.unwrap();
        }
        let order = order.lock().unwrap();
        let at = order.iter().position(|w| w == "settle").unwrap();
        assert!(at <= 1, "the settlement came {at}th: {order:?}");
        assert_eq!(order.len(), 51, "every writer got through");
    }
}
