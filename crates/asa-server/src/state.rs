//! The state every handler shares.

use crate::config::Config;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub config: Config,
    /// Base of every `docs_url`, fixed once the listener is bound.
    pub docs_base: String,
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
}
