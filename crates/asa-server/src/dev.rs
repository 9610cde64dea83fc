//! `dev`: a simulator and an API server started together, in this process, on port 0, for
//! tests, SDK harnesses, benchmarks and local development (`asa dev`). It is the one place
//! that launches the pair: every harness goes through it, so none picks a "free" port and
//! binds it later (a race), and none repeats the wiring.
//!
//! Everything beyond where things listen, which database and which upstream comes from the
//! [`Config`] handed in (in `asa dev`, the usual `ASA_*` environment and file), so plans,
//! budgets and the admin token work as they do for `asa serve`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), asa_server::dev::DevError> {
//! let dev = asa_server::dev::Launch::new(asa_server::Config::default()).start().await?;
//! println!("{} fetches from {}", dev.api_url(), dev.sim_url().unwrap_or_default());
//! dev.stop().await?;
//! # Ok(()) }
//! ```

use crate::app::{Application, StartError};
use crate::config::Config;
use crate::state::AppState;
use asa_model::{Credits, KeyKind};
use asa_sim::{SimConfig, SimHandle};
use asa_store::{NewAccount, Store};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Loopback, any free port: the kernel picks it at bind time and we read it back.
const ANY_PORT: &str = "127.0.0.1:0";
/// How long the server may take to answer `/healthz` once bound (migrations included).
const READY_WITHIN: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum DevError {
    #[error("creating the scratch directory: {0}")]
    Scratch(std::io::Error),
    #[error("starting the simulator: {0}")]
    Sim(#[from] asa_sim::SimError),
    #[error("a shared simulator must be an http://HOST:PORT URL, not {0:?}")]
    SharedSim(String),
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("the server did not answer /healthz at {url} within {within:?}")]
    NotReady { url: String, within: Duration },
    #[error("the server stopped: {0}")]
    Serve(std::io::Error),
    #[error("the server task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("the store: {0}")]
    Store(#[from] asa_store::StoreError),
}

/// What the server fetches "Amazon" from.
pub enum Upstream {
    /// A simulator started here with this configuration (page size, faults, latency).
    Sim(SimConfig),
    /// A simulator another launch started (`Dev::sim_url`, the `sim` of `asa dev --json`),
    /// so several server nodes, or a node restarted after a crash, share one.
    Shared(String),
    /// Whatever the configuration says (`upstream.url_template`, `proxies`).
    Configured,
}

/// Called with the configuration once the simulator listens, before the server is built:
/// for settings that need the simulator's addresses (exit proxies).
type SimHook = Box<dyn FnOnce(&mut Config, &SimHandle) + Send>;

/// What to start; [`Launch::start`] starts it.
pub struct Launch {
    config: Config,
    listen: Option<String>,
    admin_listen: Option<String>,
    database_url: Option<String>,
    upstream: Upstream,
    sim_listen: Vec<String>,
    with_sim: Option<SimHook>,
    extra: Option<axum::Router<AppState>>,
}

impl Launch {
    /// The server gets `config`, where the methods below override it, and where `config`
    /// leaves these at their defaults: API and admin listener on `127.0.0.1:0`, a fresh
    /// SQLite database and the unread pages (`failures_dir`) in a scratch directory the
    /// launch owns. The upstream is a simulator with the default configuration.
    pub fn new(config: Config) -> Launch {
        Launch {
            config,
            listen: None,
            admin_listen: None,
            database_url: None,
            upstream: Upstream::Sim(SimConfig::default()),
            sim_listen: vec![ANY_PORT.into()],
            with_sim: None,
            extra: None,
        }
    }

    /// Where the API listens.
    pub fn listen(mut self, addr: impl Into<String>) -> Launch {
        self.listen = Some(addr.into());
        self
    }

    /// Where the operator's pages listen (bound only when the config sets an admin token).
    pub fn admin_listen(mut self, addr: impl Into<String>) -> Launch {
        self.admin_listen = Some(addr.into());
        self
    }

    /// Use this database (SQLite file or PostgreSQL) instead of a fresh one: to restart a
    /// node on the state a killed one left, or to run several nodes on one database.
    pub fn database_url(mut self, url: impl Into<String>) -> Launch {
        self.database_url = Some(url.into());
        self
    }

    pub fn upstream(mut self, upstream: Upstream) -> Launch {
        self.upstream = upstream;
        self
    }

    /// Shorthand for `upstream(Upstream::Sim(cfg))`.
    pub fn sim(self, cfg: SimConfig) -> Launch {
        self.upstream(Upstream::Sim(cfg))
    }

    /// The simulator's listeners, each an exit (`exit-1`, `exit-2`, ...) that also works
    /// as an HTTP proxy; the first is the upstream. Default: one on `127.0.0.1:0`.
    pub fn sim_listen(mut self, addrs: Vec<String>) -> Launch {
        self.sim_listen = addrs;
        self
    }

    /// Adjusts the configuration once the simulator listens (e.g. its exits as proxies).
    pub fn with_sim(
        mut self,
        hook: impl FnOnce(&mut Config, &SimHandle) + Send + 'static,
    ) -> Launch {
        self.with_sim = Some(Box::new(hook));
        self
    }

    /// Routes served behind the server's middleware (`Application::with_extra_routes`).
    pub fn extra_routes(mut self, routes: axum::Router<AppState>) -> Launch {
        self.extra = Some(routes);
        self
    }

    /// Binds everything and starts serving. On return the listeners are bound, so a
    /// connection made now waits in the backlog until the server takes it;
    /// [`Dev::wait_ready`] also waits for an answer.
    pub async fn start(self) -> Result<Dev, DevError> {
        let dir = tempfile::Builder::new()
            .prefix("asa-dev-")
            .tempdir()
            .map_err(DevError::Scratch)?;
        let mut config = self.config;
        let defaults = Config::default();
        // An explicit choice wins, then the configuration's own, then ours.
        let pick = |chosen: Option<String>, configured: &str, default: &str, ours: String| {
            chosen.unwrap_or_else(|| match configured == default {
                true => ours,
                false => configured.to_string(),
            })
        };
        config.listen = pick(
            self.listen,
            &config.listen,
            &defaults.listen,
            ANY_PORT.into(),
        );
        config.admin.listen = pick(
            self.admin_listen,
            &config.admin.listen,
            &defaults.admin.listen,
            ANY_PORT.into(),
        );
        config.database_url = pick(
            self.database_url,
            &config.database_url,
            &defaults.database_url,
            format!("sqlite://{}", dir.path().join("asa.db").display()),
        );
        config.failures_dir = pick(
            None,
            &config.failures_dir,
            &defaults.failures_dir,
            dir.path().join("failures").display().to_string(),
        );
        let (sim, shared_sim) = match self.upstream {
            Upstream::Sim(cfg) => {
                let sim = asa_sim::start_on(cfg, &self.sim_listen).await?;
                config.upstream.url_template = sim.url_template();
                if let Some(hook) = self.with_sim {
                    hook(&mut config, &sim);
                }
                (Some(sim), None)
            }
            Upstream::Shared(url) => {
                let base = shared_base(&url)?;
                config.upstream.url_template = format!("{base}/amazon.{{domain}}");
                (None, Some(base))
            }
            Upstream::Configured => (None, None),
        };
        let database_url = config.database_url.clone();
        let mut app = Application::build(config).await?;
        if let Some(extra) = self.extra {
            app = app.with_extra_routes(extra);
        }
        let api = app.addr();
        let admin = app.admin_addr();
        let sandbox_key = app.bootstrap_key().map(str::to_string);
        let state = app.state().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        // A dropped `Dev` drops the sender, which also resolves this: the server drains.
        let server = tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        let dev = Dev {
            api,
            admin,
            database_url,
            sandbox_key,
            state,
            sim,
            shared_sim,
            stop: Some(stop),
            server: Some(server),
            dir,
        };
        Ok(dev)
    }
}

/// `http://HOST:PORT` from a shared simulator's URL (a trailing `/` is dropped).
fn shared_base(url: &str) -> Result<String, DevError> {
    let base = url.trim_end_matches('/');
    let parsed = url::Url::parse(base).map_err(|_| DevError::SharedSim(url.into()))?;
    if parsed.scheme() != "http" || parsed.host().is_none() || parsed.path() != "/" {
        return Err(DevError::SharedSim(url.into()));
    }
    Ok(base.to_string())
}

/// A live account with one key, made as `asa admin` makes them.
#[derive(Debug, Clone)]
pub struct LiveKey {
    pub account_id: asa_model::AccountId,
    pub key_id: asa_model::KeyId,
    pub key: String,
}

/// A running simulator and server; stopping (or dropping) it stops both.
pub struct Dev {
    api: SocketAddr,
    admin: Option<SocketAddr>,
    database_url: String,
    sandbox_key: Option<String>,
    state: AppState,
    sim: Option<SimHandle>,
    shared_sim: Option<String>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    dir: tempfile::TempDir,
}

impl Dev {
    pub fn api_addr(&self) -> SocketAddr {
        self.api
    }

    /// `http://127.0.0.1:PORT`, the API's base URL.
    pub fn api_url(&self) -> String {
        format!("http://{}", self.api)
    }

    /// The operator's pages' base URL, when the config set an admin token.
    pub fn admin_url(&self) -> Option<String> {
        self.admin.map(|a| format!("http://{a}"))
    }

    /// The simulator's base URL (its first exit), started here or shared; `None` when the
    /// upstream is the configured one.
    pub fn sim_url(&self) -> Option<String> {
        match &self.sim {
            Some(sim) => Some(format!("http://{}", sim.addr())),
            None => self.shared_sim.clone(),
        }
    }

    /// The simulator started here (its request log, exits, faults).
    pub fn sim(&self) -> Option<&SimHandle> {
        self.sim.as_ref()
    }

    pub fn sim_mut(&mut self) -> Option<&mut SimHandle> {
        self.sim.as_mut()
    }

    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    /// The sandbox key created on first start with an empty database (config
    /// `sandbox.bootstrap`).
    pub fn sandbox_key(&self) -> Option<&str> {
        self.sandbox_key.as_deref()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn store(&self) -> Arc<dyn Store> {
        self.state.store.clone()
    }

    /// A scratch directory that lives as long as this handle.
    pub fn scratch(&self) -> &Path {
        self.dir.path()
    }

    /// A new account on `plan` with `credits` and one live key.
    pub async fn live_key(&self, plan: &str, credits: i64) -> Result<LiveKey, DevError> {
        let store = &self.state.store;
        let account = store
            .create_account(NewAccount {
                plan: plan.into(),
                name: None,
                credits: Credits(credits),
            })
            .await?;
        let (record, key) = store.create_key(&account.id, KeyKind::Live).await?;
        Ok(LiveKey {
            account_id: account.id,
            key_id: record.id,
            key: key.expose().to_string(),
        })
    }

    /// Waits until `/healthz` answers 200. Its connections are closed, not kept alive,
    /// so none of them is still counted against a per-IP cap (`max_connections_per_ip`)
    /// by the time a test opens its own.
    pub async fn wait_ready(&self) -> Result<(), DevError> {
        let url = format!("{}/healthz", self.api_url());
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap_or_default();
        let deadline = tokio::time::Instant::now() + READY_WITHIN;
        loop {
            let answer = client
                .get(&url)
                .header(reqwest::header::CONNECTION, "close")
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            if matches!(&answer, Ok(r) if r.status().is_success()) {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(DevError::NotReady {
                    url,
                    within: READY_WITHIN,
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops accepting, lets requests in flight finish and traces reach the store, then
    /// stops the simulator (if started here).
    pub async fn stop(mut self) -> Result<(), DevError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await?.map_err(DevError::Serve)?;
        }
        if let Some(sim) = self.sim.take() {
            sim.shutdown().await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_simulator_is_a_base_url() {
        assert_eq!(
            shared_base("http://127.0.0.1:8181/").unwrap(),
            "http://127.0.0.1:8181"
        );
        assert!(shared_base("http://127.0.0.1:8181/amazon.{domain}").is_err());
        assert!(shared_base("127.0.0.1:8181").is_err());
    }
}
