//! Traces written off the hot path: handlers hand a trace to a bounded channel and move
//! on; one task batches them into the store. A full channel drops the trace, counts it and
//! logs it; it never blocks or fails a response. Shutdown drains the channel.

use asa_store::{Store, Trace};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

enum Message {
    Trace(Box<Trace>),
    /// Answered once everything sent before it is stored.
    Flush(oneshot::Sender<()>),
}

#[derive(Clone)]
pub struct TraceSink {
    tx: mpsc::Sender<Message>,
    counters: Arc<Counters>,
}

#[derive(Default)]
pub struct Counters {
    pub dropped: AtomicU64,
    pub written: AtomicU64,
    pub failed: AtomicU64,
}

const BATCH: usize = 256;

impl TraceSink {
    /// Starts the writer task. `capacity` bounds the traces waiting to be written.
    pub fn start(
        store: Arc<dyn Store>,
        capacity: usize,
    ) -> (TraceSink, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(capacity);
        let counters = Arc::new(Counters::default());
        let task = tokio::spawn(writer(store, rx, counters.clone()));
        (TraceSink { tx, counters }, task)
    }

    pub fn record(&self, trace: Trace) {
        let id = trace.request_id.clone();
        if self.tx.try_send(Message::Trace(Box::new(trace))).is_err() {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(request_id = %id, "trace queue full: trace dropped");
        }
    }

    /// Waits until every trace recorded before this call is in the store.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Message::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Traces waiting in the queue.
    pub fn depth(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }
}

async fn writer(store: Arc<dyn Store>, mut rx: mpsc::Receiver<Message>, counters: Arc<Counters>) {
    let mut batch: Vec<Trace> = Vec::with_capacity(BATCH);
    let mut waiters: Vec<oneshot::Sender<()>> = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        // Take what is already queued, up to a batch, without waiting for more.
        while let Some(msg) = next.take() {
            match msg {
                Message::Trace(t) => batch.push(*t),
                Message::Flush(w) => waiters.push(w),
            }
            if batch.len() >= BATCH {
                break;
            }
            next = rx.try_recv().ok();
        }
        write(&*store, &mut batch, &counters).await;
        for w in waiters.drain(..) {
            let _ = w.send(());
        }
    }
    write(&*store, &mut batch, &counters).await;
}

async fn write(store: &dyn Store, batch: &mut Vec<Trace>, counters: &Counters) {
    if batch.is_empty() {
        return;
    }
    let n = batch.len() as u64;
    // One retry after a short pause covers a busy SQLite writer; then the loss is counted.
    for attempt in 0..2 {
        match store.insert_traces(batch).await {
            Ok(()) => {
                counters.written.fetch_add(n, Ordering::Relaxed);
                batch.clear();
                return;
            }
            Err(e) if attempt == 0 => {
                tracing::warn!(error = %e, traces = n, "trace batch insert failed; retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => tracing::error!(error = %e, traces = n, "trace batch lost"),
        }
    }
    counters.failed.fetch_add(n, Ordering::Relaxed);
    batch.clear();
}
