//! A bounded cache of page bodies. Each body is built once (on the blocking pool, since a
//! 1-2 MB page or its brotli encoding takes milliseconds) even when thousands of requests
//! ask for it at once; the oldest bodies are dropped when the byte budget is exceeded.

use bytes::Bytes;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

type Cell = Arc<OnceCell<Bytes>>;

#[derive(Debug, Default)]
struct Inner {
    cells: HashMap<String, (Cell, usize)>,
    order: VecDeque<String>,
    bytes: usize,
}

#[derive(Debug)]
pub struct PageCache {
    capacity: usize,
    inner: Mutex<Inner>,
}

impl PageCache {
    pub fn new(capacity: usize) -> PageCache {
        PageCache {
            capacity,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The body under `key`, built by `build` on the blocking pool if absent.
    pub async fn get_or_build<F>(&self, key: String, build: F) -> Bytes
    where
        F: FnOnce() -> Bytes + Send + 'static,
    {
        let cell = {
            let mut inner = self.lock();
            match inner.cells.get(&key) {
                Some((cell, _)) => cell.clone(),
                None => {
                    let cell = Cell::default();
                    inner.cells.insert(key.clone(), (cell.clone(), 0));
                    inner.order.push_back(key.clone());
                    cell
                }
            }
        };
        let mut built = false;
        let body = cell
            .get_or_init(|| async {
                built = true;
                match tokio::task::spawn_blocking(build).await {
                    Ok(b) => b,
                    Err(e) => {
                        tracing::error!(error = %e, "building a simulated page failed");
                        Bytes::new()
                    }
                }
            })
            .await
            .clone();
        if built {
            self.account(&key, body.len());
        }
        body
    }

    fn account(&self, key: &str, len: usize) {
        let mut inner = self.lock();
        if let Some(entry) = inner.cells.get_mut(key) {
            entry.1 = len;
            inner.bytes += len;
        }
        while inner.bytes > self.capacity && inner.order.len() > 1 {
            let Some(old) = inner.order.pop_front() else {
                break;
            };
            if let Some((_, size)) = inner.cells.remove(&old) {
                inner.bytes -= size;
            }
        }
    }

    /// Bytes currently held.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn builds_once_and_stays_within_budget() {
        let cache = Arc::new(PageCache::new(3000));
        let builds = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (cache, builds) = (cache.clone(), builds.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_build("a".into(), move || {
                        builds.fetch_add(1, Ordering::SeqCst);
                        Bytes::from(vec![b'x'; 1000])
                    })
                    .await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().len(), 1000);
        }
        assert_eq!(builds.load(Ordering::SeqCst), 1);
        for k in ["b", "c", "d", "e"] {
            cache
                .get_or_build(k.into(), || Bytes::from(vec![b'y'; 1000]))
                .await;
        }
        assert!(cache.bytes() <= 3000, "{}", cache.bytes());
    }
}
