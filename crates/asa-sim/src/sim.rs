//! Starting and stopping a simulator: one accept loop per listener ("exit"), a task per
//! connection, per-exit control (pause an exit so it refuses connections, or make it a
//! "burned" exit that Amazon always blocks), graceful shutdown.

use crate::config::SimConfig;
use crate::faults::Fault;
use crate::handler::App;
use crate::log::RequestRecord;
use crate::saved::SavedPages;
use crate::tls::{serve_plain, serve_socket, TlsIdentity};
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
    #[error("the simulator cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("a simulator needs at least one listener")]
    NoListener,
    #[error("no exit named {0}")]
    UnknownExit(String),
    #[error("cannot make the simulator's TLS certificate: {0}")]
    Tls(String),
}

/// How long `shutdown` waits for requests in flight.
const GRACE: Duration = Duration::from_secs(10);

/// Connections open, and a signal when the count drops.
#[derive(Debug, Default)]
struct Active {
    count: AtomicUsize,
    idle: Notify,
}

/// One listener: its id, address, stop signal and accept loop (none while paused).
#[derive(Debug)]
struct Exit {
    id: String,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    accept_loop: Option<JoinHandle<()>>,
}

/// A running simulator.
#[derive(Debug)]
pub struct SimHandle {
    exits: Vec<Exit>,
    app: Arc<App>,
    active: Arc<Active>,
    /// The certificate and acceptor when `SimConfig::tls` is set.
    tls: Option<Arc<TlsIdentity>>,
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
            let pages_dir_error = |source| SimError::PagesDir {
                path: dir.display().to_string(),
                source,
            };
            let loaded = tokio::task::spawn_blocking(move || SavedPages::load(&d))
                .await
                .map_err(|e| pages_dir_error(std::io::Error::other(e)))?;
            Some(loaded.map_err(pages_dir_error)?)
        }
        None => None,
    };
    if let Some(s) = &saved {
        tracing::info!(pages = s.len(), "asa-sim indexed saved pages");
    }
    let tls = if cfg.tls {
        let identity = tokio::task::spawn_blocking(TlsIdentity::generate)
            .await
            .map_err(|e| SimError::Tls(e.to_string()))?
            .map_err(SimError::Tls)?;
        Some(Arc::new(identity))
    } else {
        None
    };
    let mut handle = SimHandle {
        exits: Vec::new(),
        app: Arc::new(App::new(cfg, saved)),
        active: Arc::new(Active::default()),
        tls,
    };
    for (id, listener) in listeners {
        let addr = listener.local_addr().map_err(SimError::Bind)?;
        tracing::info!(exit = %id, %addr, "asa-sim listening");
        let (stop, _) = watch::channel(false);
        let mut exit = Exit {
            id,
            addr,
            stop,
            accept_loop: None,
        };
        spawn_accept(
            &handle.app,
            &handle.active,
            &handle.tls,
            &mut exit,
            listener,
        );
        handle.exits.push(exit);
    }
    Ok(handle)
}

/// Starts a simulator listening on each of `addrs`, the exits `exit-1`, `exit-2`, ... in
/// that order (the first is the upstream; each also works as an HTTP proxy).
pub async fn start_on<A: AsRef<str>>(cfg: SimConfig, addrs: &[A]) -> Result<SimHandle, SimError> {
    let mut listeners = Vec::with_capacity(addrs.len());
    for (i, addr) in addrs.iter().enumerate() {
        let addr = addr.as_ref();
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| SimError::Listen {
                addr: addr.to_string(),
                source,
            })?;
        listeners.push((format!("exit-{}", i + 1), listener));
    }
    start(cfg, listeners).await
}

/// Starts a simulator on one `127.0.0.1:0` listener, exit id `exit-1`.
pub async fn start_local(cfg: SimConfig) -> Result<SimHandle, SimError> {
    start_on(cfg, &["127.0.0.1:0"]).await
}

async fn accept_loop(
    listener: TcpListener,
    exit: Arc<str>,
    app: Arc<App>,
    mut stop: watch::Receiver<bool>,
    active: Arc<Active>,
    tls: Option<Arc<TlsIdentity>>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    active.count.fetch_add(1, Ordering::SeqCst);
                    let (exit, app, rx, active) = (exit.clone(), app.clone(), stop.clone(), active.clone());
                    let tls = tls.clone();
                    tokio::spawn(async move {
                        match tls {
                            Some(identity) => serve_socket(stream, exit, app, rx, identity).await,
                            None => serve_plain(stream, exit, app, rx).await,
                        }
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
            _ = stop.changed() => return,
        }
    }
}

fn spawn_accept(
    app: &Arc<App>,
    active: &Arc<Active>,
    tls: &Option<Arc<TlsIdentity>>,
    exit: &mut Exit,
    listener: TcpListener,
) {
    exit.stop.send_replace(false);
    exit.accept_loop = Some(tokio::spawn(accept_loop(
        listener,
        Arc::from(exit.id.as_str()),
        app.clone(),
        exit.stop.subscribe(),
        active.clone(),
        tls.clone(),
    )));
}

impl SimHandle {
    fn exit_mut(&mut self, id: &str) -> Result<&mut Exit, SimError> {
        self.exits
            .iter_mut()
            .find(|e| e.id == id)
            .ok_or_else(|| SimError::UnknownExit(id.to_string()))
    }

    /// Every exit with its address.
    pub fn addrs(&self) -> Vec<(String, SocketAddr)> {
        self.exits.iter().map(|e| (e.id.clone(), e.addr)).collect()
    }

    /// The first exit's address.
    pub fn addr(&self) -> SocketAddr {
        self.exits[0].addr
    }

    /// The address of exit `id`.
    pub fn exit_addr(&self, id: &str) -> Option<SocketAddr> {
        self.exits.iter().find(|e| e.id == id).map(|e| e.addr)
    }

    /// `http://127.0.0.1:PORT/amazon.{domain}`: the upstream URL template for tests.
    pub fn url_template(&self) -> String {
        format!("http://{}/amazon.{{domain}}", self.addr())
    }

    /// `https://localhost:PORT/amazon.{domain}`: the TLS upstream URL template for
    /// tests, when `SimConfig::tls` is set. `localhost`, not the IP: clients send SNI
    /// only for host names, and browsers always do.
    pub fn https_url_template(&self) -> Option<String> {
        self.tls
            .as_ref()
            .map(|_| format!("https://localhost:{}/amazon.{{domain}}", self.addr().port()))
    }

    /// The PEM of the simulator's self-signed certificate (valid for `localhost`,
    /// `127.0.0.1` and every `www.amazon.*` host), when `SimConfig::tls` is set: the
    /// root a client must be told to trust.
    pub fn tls_certificate_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|t| t.cert_pem.as_str())
    }

    /// Requests seen so far, in arrival order (bounded by `log_capacity`).
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.app.log.snapshot()
    }

    /// Forgets the request log and the `B0FLAKYn` counters.
    pub fn clear(&self) {
        self.app.clear();
    }

    /// Makes every product and search request through exit `id` meet `fault` (a proxy
    /// whose IP Amazon has burned: `Some(Fault::Captcha)`), or lifts it with `None`.
    pub fn set_exit_fault(&self, id: &str, fault: Option<Fault>) -> Result<(), SimError> {
        if self.exit_addr(id).is_none() {
            return Err(SimError::UnknownExit(id.to_string()));
        }
        self.app.set_exit_fault(id, fault);
        Ok(())
    }

    /// Closes exit `id`'s listener, so new connections are refused, and closes its idle
    /// connections. Requests in flight finish.
    pub async fn pause_exit(&mut self, id: &str) -> Result<(), SimError> {
        let exit = self.exit_mut(id)?;
        exit.stop.send_replace(true);
        if let Some(task) = exit.accept_loop.take() {
            let _ = task.await;
        }
        Ok(())
    }

    /// Listens again on exit `id`'s address after `pause_exit`.
    pub async fn resume_exit(&mut self, id: &str) -> Result<(), SimError> {
        let addr = self.exit_mut(id)?.addr;
        if self.exit_mut(id)?.accept_loop.is_some() {
            return Ok(());
        }
        let listener = TcpListener::bind(addr).await.map_err(SimError::Bind)?;
        let (app, active, tls) = (self.app.clone(), self.active.clone(), self.tls.clone());
        spawn_accept(&app, &active, &tls, self.exit_mut(id)?, listener);
        Ok(())
    }

    /// Stops accepting, lets requests in flight finish (up to 10 s), then returns.
    pub async fn shutdown(self) {
        for exit in &self.exits {
            exit.stop.send_replace(true);
        }
        for exit in self.exits {
            if let Some(task) = exit.accept_loop {
                let _ = task.await;
            }
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
