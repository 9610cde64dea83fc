//! `TestApp`: a real server on port 0 with its own SQLite file, started by
//! `asa_server::dev` (with its simulator as Amazon for `SimApp`).

use asa_model::KeyKind;
use asa_model::{AccountId, Credits, KeyId};
use asa_server::dev::{Dev, Launch, Upstream};
use asa_server::Config;
use asa_store::{NewAccount, Store};
use serde_json::Value;
use std::sync::Arc;

pub struct TestApp {
    pub base: String,
    /// The admin listener's base URL, when the config set an admin token.
    pub admin_base: Option<String>,
    pub client: reqwest::Client,
    pub store: Arc<dyn Store>,
    dev: Dev,
}

pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the exact envelope shape and returns the code.
    pub fn assert_envelope(&self, code: &str) {
        let obj = self
            .body
            .as_object()
            .unwrap_or_else(|| panic!("not a JSON object: {}", self.text));
        let mut keys: Vec<_> = obj.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(
            keys,
            ["docs_url", "error", "message", "request_id", "retryable"],
            "{}",
            self.text
        );
        assert_eq!(obj["error"], code, "{}", self.text);
        let rid = obj["request_id"].as_str().unwrap();
        assert!(
            rid.len() == 16
                && rid.starts_with("req_")
                && rid[4..]
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
            "{rid}"
        );
        assert_eq!(self.header("x-request-id"), Some(rid));
        assert_eq!(self.header("asa-cost"), Some("0"));
        assert!(obj["docs_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/docs/guides/errors#{code}")));
        let c = asa_model::ErrorCode::parse(code).unwrap();
        assert_eq!(self.status, c.status(), "{}", self.text);
        assert_eq!(obj["retryable"], c.retryable());
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        Self::spawn_full(tweak, None).await
    }

    pub async fn spawn_full(
        tweak: impl FnOnce(&mut Config),
        extra: Option<axum::Router<asa_server::state::AppState>>,
    ) -> TestApp {
        Self::launch(
            |launch| match extra {
                Some(extra) => launch.extra_routes(extra),
                None => launch,
            },
            tweak,
        )
        .await
    }

    /// A server with no simulator: the upstream is what `tweak` configures.
    async fn launch(
        shape: impl FnOnce(Launch) -> Launch,
        tweak: impl FnOnce(&mut Config),
    ) -> TestApp {
        let mut config = Config::default();
        config.sandbox.bootstrap = false;
        tweak(&mut config);
        let launch = shape(Launch::new(config).upstream(Upstream::Configured));
        let dev = launch.start().await.expect("server starts");
        TestApp {
            base: dev.api_url(),
            admin_base: dev.admin_url(),
            client: reqwest::Client::new(),
            store: dev.store(),
            dev,
        }
    }

    /// The database this server opened.
    pub fn dev_database_url(&self) -> &str {
        self.dev.database_url()
    }

    /// The simulator started with this server (`SimApp`, `spawn_launch`).
    pub fn sim(&self) -> &asa_sim::SimHandle {
        self.dev.sim().expect("a server with a simulator")
    }

    pub async fn get(&self, path_and_query: &str) -> Answer {
        self.send(self.client.get(format!("{}{path_and_query}", self.base)))
            .await
    }

    /// `/metrics`, which the admin listener serves (the config must set an admin token).
    pub async fn metrics(&self) -> Answer {
        let admin = self
            .admin_base
            .as_deref()
            .expect("/metrics is on the admin listener: set admin.token");
        self.send(self.client.get(format!("{admin}/metrics"))).await
    }

    pub async fn send(&self, rb: reqwest::RequestBuilder) -> Answer {
        let res = rb.send().await.expect("request sent");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
            text,
        }
    }
}

/// An account with a key, made through the store as `asa admin` does.
pub struct Holder {
    pub account_id: AccountId,
    pub key_id: KeyId,
    pub key: String,
}

impl TestApp {
    /// An account's (balance, reserved) as the store has them now.
    pub async fn credits(&self, account: &AccountId) -> (Credits, Credits) {
        let a = self.store.account(account).await.unwrap().unwrap();
        (a.balance, a.reserved)
    }

    pub async fn account(&self, plan: &str, credits: i64, kind: KeyKind) -> Holder {
        let a = self
            .store
            .create_account(NewAccount {
                plan: plan.into(),
                name: None,
                credits: Credits(credits),
            })
            .await
            .unwrap();
        let (rec, key) = self.store.create_key(&a.id, kind).await.unwrap();
        Holder {
            account_id: a.id,
            key_id: rec.id,
            key: key.expose().to_string(),
        }
    }

    /// GET with the key as a Bearer token.
    pub async fn get_as(&self, key: &str, path_and_query: &str) -> Answer {
        self.send(
            self.client
                .get(format!("{}{path_and_query}", self.base))
                .bearer_auth(key),
        )
        .await
    }
}

/// A live server pointed at its own simulator (as Amazon), with short upstream budgets.
pub struct SimApp {
    pub app: TestApp,
}

impl SimApp {
    pub async fn spawn() -> SimApp {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> SimApp {
        Self::spawn_custom(asa_sim::SimConfig::default(), tweak).await
    }

    /// With a simulator of its own configuration (page size, fault rates).
    pub async fn spawn_custom(sim: asa_sim::SimConfig, tweak: impl FnOnce(&mut Config)) -> SimApp {
        Self::spawn_launch(|launch| launch.sim(sim), tweak).await
    }

    /// With the simulator shaped by `shape` (its exits, settings that need its addresses).
    pub async fn spawn_launch(
        shape: impl FnOnce(Launch) -> Launch,
        tweak: impl FnOnce(&mut Config),
    ) -> SimApp {
        let app = TestApp::launch(
            |launch| shape(launch.sim(asa_sim::SimConfig::default())),
            move |c| {
                c.upstream.timeout = std::time::Duration::from_secs(5);
                c.upstream.attempt_timeout = std::time::Duration::from_secs(3);
                tweak(c);
            },
        )
        .await;
        SimApp { app }
    }
}
