//! `Application::build` binds the listener (port 0 in tests) and assembles the state;
//! `run_until_stopped` serves until the shutdown future resolves, then drains.

use crate::config::Config;
use crate::routes;
use crate::state::{AppState, Inner, Sandbox};
use crate::traces::TraceSink;
use asa_model::{Credits, KeyKind};
use asa_store::{NewAccount, Store};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Traces waiting to be written before new ones are dropped (and counted).
const TRACE_QUEUE: usize = 16 * 1024;
/// How often traces past retention are deleted, and how many per statement.
const TRACE_SWEEP: Duration = Duration::from_secs(600);
const TRACE_SWEEP_BATCH: u32 = 1000;

pub struct Application {
    listener: TcpListener,
    /// The operator's pages and `/metrics`; bound only when an admin token is configured.
    admin_listener: Option<TcpListener>,
    state: AppState,
    extra: Option<axum::Router<AppState>>,
    bootstrap_key: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("opening the store: {0}")]
    Store(#[from] asa_store::StoreError),
    #[error("connecting the limits backend: {0}")]
    Limits(#[from] asa_limits::LimitError),
    #[error("upstream configuration: {0}")]
    Upstream(#[from] asa_upstream::UpstreamError),
    #[error("starting the sandbox simulator: {0}")]
    Sandbox(String),
    #[error("invalid configuration: {0}")]
    Config(String),
}

impl Application {
    pub async fn build(config: Config) -> Result<Application, StartError> {
        let listener =
            TcpListener::bind(&config.listen)
                .await
                .map_err(|source| StartError::Bind {
                    addr: config.listen.clone(),
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: config.listen.clone(),
            source,
        })?;
        let admin_listener = match config.admin.token.is_empty() {
            true => None,
            false => Some(
                TcpListener::bind(&config.admin.listen)
                    .await
                    .map_err(|source| StartError::Bind {
                        addr: config.admin.listen.clone(),
                        source,
                    })?,
            ),
        };
        let docs_base = config.docs_base(Some(addr));
        let trusted_proxies = crate::client_ip::TrustedProxies::parse(&config.trusted_proxies)
            .map_err(StartError::Config)?;
        let store = config.open_store().await?;
        if !config.migrate {
            // Serving on an old schema is the operator's choice; /readyz keeps traffic off.
            match store.schema_status().await {
                Ok(status) if !status.is_current() => tracing::warn!(
                    schema = %status.summary(),
                    "migrate = false and the schema is not current: /readyz answers 503 until `asa migrate` runs"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "reading the schema's migrations"),
            }
        }
        let limiter = match &config.redis_url {
            Some(url) => asa_limits::redis(url, config.capacity, &config.redis_prefix).await?,
            None => asa_limits::in_process(config.capacity),
        };
        let upstream = asa_upstream::Upstream::new(upstream_config(&config, None))?;
        let sandbox = if config.sandbox.enabled {
            Some(start_sandbox(&config).await?)
        } else {
            None
        };
        let bootstrap_key = if config.sandbox.enabled && config.sandbox.bootstrap {
            bootstrap_sandbox(&*store).await?
        } else {
            None
        };
        let (traces, _writer) = TraceSink::start(store.clone(), TRACE_QUEUE);
        let failures =
            crate::failures::FailureKeeper::new(&config.failures_dir, config.failures_keep);
        let state = AppState::new(Inner {
            config,
            docs_base,
            trusted_proxies,
            store,
            traces,
            limiter,
            upstream,
            sandbox,
            metrics: crate::metrics::Metrics::default(),
            failures,
            batch_wake: tokio::sync::Notify::new(),
        });
        Ok(Application {
            listener,
            admin_listener,
            state,
            extra: None,
            bootstrap_key,
        })
    }

    /// Adds routes served behind the same middleware (tests use it to reach a panicking
    /// handler).
    pub fn with_extra_routes(mut self, routes: axum::Router<AppState>) -> Application {
        self.extra = Some(routes);
        self
    }

    pub fn addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Where the operator's pages are served, when an admin token is configured.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    pub fn port(&self) -> u16 {
        self.addr().port()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The sandbox key created on first start with an empty database, to show the user.
    pub fn bootstrap_key(&self) -> Option<&str> {
        self.bootstrap_key.as_deref()
    }

    /// Serves until `shutdown` resolves, then stops accepting and lets in-flight requests
    /// finish.
    pub async fn run_until_stopped(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let state = self.state.clone();
        let mut extra = self.extra.unwrap_or_default();
        if state.config.dashboard.enabled {
            extra = extra.merge(crate::dashboard::account_routes());
        }
        let router = routes::router(state.clone(), extra);
        let shutdown = futures::FutureExt::shared(Box::pin(shutdown));
        let admin = self.admin_listener.map(|listener| {
            // The operator's pages and `/metrics`, behind the same envelope.
            let app = routes::admin_router(state.clone());
            let stop = shutdown.clone();
            tokio::spawn(async move {
                axum::serve(
                    listener,
                    app.into_make_service_with_connect_info::<SocketAddr>(),
                )
                .with_graceful_shutdown(stop)
                .await
            })
        });
        let sweepers = spawn_sweepers(state.clone());
        let batch_worker = tokio::spawn(crate::batches::worker::run(state.clone()));
        let webhooks = tokio::spawn(crate::batches::webhook::run(state.clone()));
        // Per-IP connection cap, first-request header deadline and idle timeout, below
        // HTTP (`conn_limit`); each request gets its connection's `ConnPeer`.
        let listener = crate::conn_limit::LimitedListener::new(
            self.listener,
            state.config.max_connections_per_ip,
            state.config.header_read_timeout,
            state.config.idle_timeout,
            state.trusted_proxies.clone(),
        );
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<crate::conn_limit::ConnPeer>(),
        )
        .with_graceful_shutdown(shutdown)
        .await?;
        if let Some(admin) = admin {
            // It stops on the same signal; a failure there must not hide the API's result.
            if let Ok(Err(e)) = admin.await {
                tracing::error!(error = %e, "admin listener failed");
            }
        }
        sweepers.abort();
        // Items in flight keep their leases and run again elsewhere (or here after a
        // restart) once the leases lapse; nothing was charged for them.
        batch_worker.abort();
        webhooks.abort();
        // Every answered request's trace reaches the store before we exit.
        state.traces.flush().await;
        Ok(())
    }
}

fn upstream_config(config: &Config, template: Option<String>) -> asa_upstream::UpstreamConfig {
    asa_upstream::UpstreamConfig {
        url_template: template.unwrap_or_else(|| config.upstream.url_template.clone()),
        overall_timeout: config.upstream.timeout,
        attempt_timeout: config.upstream.attempt_timeout.min(config.upstream.timeout),
        max_attempts: config.upstream.max_attempts,
        body_cap: config.upstream.body_cap,
        pages_at_once: config.upstream.pages_at_once,
        engine: config.upstream.engine,
        session_requests: config.upstream.session_requests,
        challenge_cooldown: config.upstream.challenge_cooldown,
        proxies: config
            .proxies
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        ..Default::default()
    }
}

async fn start_sandbox(config: &Config) -> Result<Sandbox, StartError> {
    let sim = asa_sim::start_local(asa_sim::SimConfig::default())
        .await
        .map_err(|e| StartError::Sandbox(e.to_string()))?;
    let mut cfg = upstream_config(config, Some(sim.url_template()));
    // The sandbox never goes through the operator's exits.
    cfg.proxies.clear();
    let upstream = asa_upstream::Upstream::new(cfg)?;
    Ok(Sandbox { upstream, sim })
}

/// On first start with an empty database: a sandbox account and key, so the quick start
/// works offline.
async fn bootstrap_sandbox(store: &dyn Store) -> Result<Option<String>, StartError> {
    if !store.list_accounts().await?.is_empty() {
        return Ok(None);
    }
    let account = store
        .create_account(NewAccount {
            plan: "free".into(),
            name: Some("sandbox".into()),
            credits: Credits(0),
        })
        .await?;
    let (_, key) = store.create_key(&account.id, KeyKind::Test).await?;
    Ok(Some(key.expose().to_string()))
}

fn spawn_sweepers(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut reservations = tokio::time::interval(state.config.reservation_sweep);
        let mut traces = tokio::time::interval(TRACE_SWEEP);
        loop {
            tokio::select! {
                _ = reservations.tick() => {
                    match state.store.expire_reservations(chrono::Utc::now()).await {
                        Ok(0) => {}
                        Ok(n) => tracing::warn!(released = n, "released expired reservations"),
                        Err(e) => tracing::error!(error = %e, "reservation sweep failed"),
                    }
                }
                _ = traces.tick() => {
                    sweep_traces(&state.store, state.config.trace_retention_days).await;
                    if let Err(e) = state.store.sweep_sessions(chrono::Utc::now()).await {
                        tracing::error!(error = %e, "dashboard session sweep failed");
                    }
                }
            }
        }
    })
}

async fn sweep_traces(store: &Arc<dyn Store>, days: u32) {
    let cutoff = chrono::Utc::now() - chrono::Duration::days(i64::from(days.max(7)));
    loop {
        match store.sweep_traces(cutoff, TRACE_SWEEP_BATCH).await {
            Ok(n) if n < u64::from(TRACE_SWEEP_BATCH) => break,
            Ok(_) => tokio::task::yield_now().await,
            Err(e) => {
                tracing::error!(error = %e, "trace sweep failed");
                break;
            }
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: draining in-flight requests");
}
