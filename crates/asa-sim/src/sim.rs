//! Starting and stopping a simulator: one accept loop per listener ("exit"), a task per
//! connection, graceful shutdown.

use crate::config::SimConfig;
use crate::handler::App;
use crate::http::serve_connection;
use crate::log::RequestRecord;
use crate::saved::SavedPages;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot read the saved pages directory {path}: {source}")]
    PagesDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot bind the simulator listener: {0}")]
    Bind(std::io::Error),
    #[error("a simulator needs at least one listener")]
    NoListener,
}

/// How long `shutdown` waits for requests in flight.
const GRACE: Duration = Duration::from_secs(10);

/// Connections open, and a signal when the count drops.
#[derive(Debug, Default)]
struct Active {
    count: AtomicUsize,
    idle: Notify,
}

/// A running simulator.
#[derive(Debug)]
pub struct SimHandle {
    exits: Vec<(String, SocketAddr)>,
    app: Arc<App>,
    shutdown: watch::Sender<bool>,
    accept_loops: Vec<JoinHandle<()>>,
    active: Arc<Active>,
}

/// Starts a simulator on the given listeners, each an exit with its id (`exit-1`, ...).
pub async fn start(
    cfg: SimConfig,
    listeners: Vec<(String, TcpListener)>,
) -> Result<SimHandle, SimError> {
    if listeners.is_empty() {
        return Err(SimError::NoListener);
    }
    let saved = match &cfg.pages_dir {
        Some(dir) => {
            let d = dir.clone();
            let loaded = tokio::task::spawn_blocking(move || SavedPages::load(&d))
                .await
                .map_err(|e| SimError::PagesDir {
                    path: dir.display().to_string(),
                    source: std::io::Error::other(e),
                })?;
            Some(loaded.map_err(|source| SimError::PagesDir {
                path: dir.display().to_string(),
                source,
            })?)
        }
        None => None,
    };
    if let Some(s) = &saved {
        tracing::info!(pages = s.len(), "asa-sim indexed saved pages");
    }
    let app = Arc::new(App::new(cfg, saved));
    let (tx, rx) = watch::channel(false);
    let active = Arc::new(Active::default());
    let mut exits = Vec::new();
    let mut accept_loops = Vec::new();
    for (id, listener) in listeners {
        let addr = listener.local_addr().map_err(SimError::Bind)?;
        tracing::info!(exit = %id, %addr, "asa-sim listening");
        exits.push((id.clone(), addr));
        accept_loops.push(tokio::spawn(accept_loop(
            listener,
            Arc::from(id),
            app.clone(),
            rx.clone(),
            active.clone(),
        )));
    }
    Ok(SimHandle {
        exits,
        app,
        shutdown: tx,
        accept_loops,
        active,
    })
}

/// Starts a simulator on one `127.0.0.1:0` listener, exit id `exit-1`.
pub async fn start_local(cfg: SimConfig) -> Result<SimHandle, SimError> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(SimError::Bind)?;
    start(cfg, vec![("exit-1".to_string(), listener)]).await
}

async fn accept_loop(
    listener: TcpListener,
    exit: Arc<str>,
    app: Arc<App>,
    mut shutdown: watch::Receiver<bool>,
    active: Arc<Active>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    active.count.fetch_add(1, Ordering::SeqCst);
                    let (exit, app, rx, active) = (exit.clone(), app.clone(), shutdown.clone(), active.clone());
                    tokio::spawn(async move {
                        serve_connection(stream, exit, app, rx).await;
                        if active.count.fetch_sub(1, Ordering::SeqCst) == 1 {
                            active.idle.notify_waiters();
                        }
                    });
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "asa-sim accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = shutdown.changed() => return,
        }
    }
}

impl SimHandle {
    /// Every exit with its address.
    pub fn addrs(&self) -> Vec<(String, SocketAddr)> {
        self.exits.clone()
    }

    /// The first exit's address.
    pub fn addr(&self) -> SocketAddr {
        self.exits[0].1
    }

    /// The address of exit `id`.
    pub fn exit_addr(&self, id: &str) -> Option<SocketAddr> {
        self.exits.iter().find(|(e, _)| e == id).map(|(_, a)| *a)
    }

    /// `http://127.0.0.1:PORT/amazon.{domain}`: the upstream URL template for tests.
    pub fn url_template(&self) -> String {
        format!("http://{}/amazon.{{domain}}", self.addr())
    }

    /// Requests seen so far, in arrival order (bounded by `log_capacity`).
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.app.log.snapshot()
    }

    /// Forgets the request log and the `B0FLAKYn` counters.
    pub fn clear(&self) {
        self.app.clear();
    }

    /// Stops accepting, lets requests in flight finish (up to 10 s), then returns.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for task in self.accept_loops {
            let _ = task.await;
        }
        let deadline = tokio::time::Instant::now() + GRACE;
        while self.active.count.load(Ordering::SeqCst) > 0 {
            let notified = self.active.idle.notified();
            if self.active.count.load(Ordering::SeqCst) == 0 {
                break;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                tracing::warn!(
                    open = self.active.count.load(Ordering::SeqCst),
                    "asa-sim shutdown grace expired"
                );
                break;
            }
        }
    }
}
