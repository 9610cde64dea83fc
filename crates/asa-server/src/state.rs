//! The state every handler shares.

use crate::config::{Config, PlanConfig};
use crate::error::ApiError;
use crate::traces::TraceSink;
use asa_store::{Account, Store};
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub config: Config,
    /// Base of every `docs_url`, fixed once the listener is bound.
    pub docs_base: String,
    /// `trusted_proxies`, parsed: whose word on the client address is taken.
    pub trusted_proxies: crate::client_ip::TrustedProxies,
    pub store: Arc<dyn Store>,
    pub traces: TraceSink,
    pub limiter: Arc<dyn asa_limits::Limiter>,
    /// Amazon, through the configured exits.
    pub upstream: asa_upstream::Upstream,
    /// The built-in simulator that serves sandbox keys, when enabled.
    pub sandbox: Option<Sandbox>,
    pub metrics: crate::metrics::Metrics,
    /// Pages the extractor could not read, kept for its maintainers.
    pub failures: crate::failures::FailureKeeper,
    /// Wakes this node's batch worker when a batch is created here.
    pub batch_wake: tokio::sync::Notify,
}

pub struct Sandbox {
    pub upstream: asa_upstream::Upstream,
    pub sim: asa_sim::SimHandle,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(inner: Inner) -> AppState {
        AppState(Arc::new(inner))
    }

    pub fn docs_base(&self) -> String {
        self.docs_base.clone()
    }

    /// The account's plan from the configuration, with its per-account overrides (the
    /// `custom` plan); burst follows docs/API.md: 2x sustained when the rate is overridden.
    pub fn effective_plan(&self, account: &Account) -> Result<PlanConfig, ApiError> {
        let mut plan = self
            .config
            .plans
            .get(&account.plan)
            .cloned()
            .ok_or_else(|| {
                ApiError::internal(format!(
                    "account {} has plan {:?}, which is not configured",
                    account.id, account.plan
                ))
            })?;
        if let Some(c) = account.overrides.concurrency {
            plan.concurrency = c;
        }
        if let Some(r) = account.overrides.rps {
            plan.rps = r as f64;
            plan.burst = r.saturating_mul(2);
        }
        Ok(plan)
    }
}
