//! A real asa server (SQLite in a temp dir) and its simulator, on 127.0.0.1 port 0
//! (`asa_server::dev`), in a runtime of their own on their own thread. The client under test runs in the test's
//! runtime, which may pause its clock: the server's timers stay real, only the client's
//! waits are skipped.

#![allow(dead_code)]

use asa_model::KeyKind;
use asa_server::dev::Launch;
use asa_server::Config;
use asa_store::{NewAccount, Store};
use std::sync::Arc;
use std::time::Duration;

pub struct Server {
    pub base: String,
    pub store: Arc<dyn Store>,
    handle: tokio::runtime::Handle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

pub struct Holder {
    pub account_id: String,
    pub key_id: String,
    pub key: String,
}

/// A route that panics, behind the server's own middleware: a real `500 internal_error`.
fn boom_routes() -> axum::Router<asa_server::state::AppState> {
    async fn boom() -> &'static str {
        panic!("boom for the retry test")
    }
    axum::Router::new().route("/test/boom", axum::routing::get(boom))
}

impl Server {
    /// A server whose live upstream is a fresh simulator with `sim`, upstream budgets
    /// short enough for tests, then `tweak`.
    pub fn start(
        sim: asa_sim::SimConfig,
        tweak: impl FnOnce(&mut Config) + Send + 'static,
    ) -> Server {
        let (tx, rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let mut config = Config::default();
                config.sandbox.bootstrap = false;
                config.upstream.timeout = Duration::from_secs(5);
                config.upstream.attempt_timeout = Duration::from_secs(3);
                tweak(&mut config);
                let dev = Launch::new(config)
                    .sim(sim)
                    .extra_routes(boom_routes())
                    .start()
                    .await
                    .expect("server starts");
                tx.send((
                    dev.api_url(),
                    dev.store(),
                    tokio::runtime::Handle::current(),
                ))
                .unwrap();
                let _ = stop_rx.await;
                dev.stop().await.unwrap();
            });
        });
        let (base, store, handle) = rx.recv().expect("server thread reports its address");
        Server {
            base,
            store,
            handle,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// Runs `f` on the server's runtime (the store's pool lives there).
    pub async fn on_server<T: Send + 'static>(
        &self,
        f: impl std::future::Future<Output = T> + Send + 'static,
    ) -> T {
        self.handle.spawn(f).await.unwrap()
    }

    pub async fn account(&self, plan: &str, credits: i64, kind: KeyKind) -> Holder {
        let store = self.store.clone();
        let plan = plan.to_string();
        self.on_server(async move {
            let a = store
                .create_account(NewAccount {
                    plan,
                    name: None,
                    credits: asa_model::Credits(credits),
                })
                .await
                .unwrap();
            let (rec, key) = store.create_key(&a.id, kind).await.unwrap();
            Holder {
                account_id: a.id.into_string(),
                key_id: rec.id.into_string(),
                key: key.expose().to_string(),
            }
        })
        .await
    }

    pub async fn balance(&self, account_id: &str) -> i64 {
        let store = self.store.clone();
        let id = asa_model::AccountId::from(account_id);
        self.on_server(async move { store.account(&id).await.unwrap().unwrap().balance.get() })
            .await
    }

    /// A client for `key` with only the given settings (no environment, no credentials
    /// file). Its reqwest pool has no idle timer, so a paused clock never jumps while a
    /// response is on its way.
    pub fn client(&self, key: &str) -> asa_client::ClientBuilder {
        let http = reqwest::Client::builder()
            .pool_idle_timeout(None)
            .build()
            .unwrap();
        asa_client::Client::builder()
            .ignore_environment()
            .base_url(&self.base)
            .api_key(key)
            .http_client(http)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Records every attempt event a client reports.
#[derive(Clone, Default)]
pub struct Events(pub Arc<std::sync::Mutex<Vec<(asa_client::Attempt, asa_client::Next)>>>);

impl Events {
    pub fn hook(&self) -> impl Fn(&asa_client::AttemptEvent<'_>) + Send + Sync + 'static {
        let me = self.0.clone();
        move |e| me.lock().unwrap().push((e.attempt.clone(), e.next))
    }
    pub fn take(&self) -> Vec<(asa_client::Attempt, asa_client::Next)> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

/// The delays of the retries an event list shows.
pub fn delays(events: &[(asa_client::Attempt, asa_client::Next)]) -> Vec<Duration> {
    events
        .iter()
        .filter_map(|(_, n)| match n {
            asa_client::Next::Retry(d) => Some(*d),
            _ => None,
        })
        .collect()
}
