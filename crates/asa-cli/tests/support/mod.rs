//! Nodes for the crash tests: the real `asa dev` binary as a child process (killed with
//! SIGKILL when dropped) on a store the test shares with it: a SQLite file, or a PostgreSQL
//! schema and a Redis key prefix when `DATABASE_URL` and `REDIS_URL` are set. Every node
//! fetches from the test's own simulator (`asa dev --sim`), which outlives the nodes it
//! kills.

// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

use asa_model::{AccountId, Credits, KeyKind};
use asa_store::{NewAccount, Store};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// A running `asa dev`; killed (SIGKILL) when dropped.
pub struct Node {
    pub child: Child,
    pub base: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the nodes share: a SQLite file, or a PostgreSQL schema and a Redis key prefix.
pub struct Shared {
    pub dir: tempfile::TempDir,
    pub database_url: String,
    pub schema: Option<String>,
    pub redis: Option<(String, String)>,
}

impl Shared {
    pub fn sqlite() -> Shared {
        let dir = tempfile::tempdir().unwrap();
        let database_url = format!("sqlite://{}", dir.path().join("asa.db").display());
        Shared {
            dir,
            database_url,
            schema: None,
            redis: None,
        }
    }

    /// `None` (with a skip line) unless both `DATABASE_URL` and `REDIS_URL` are set.
    pub fn postgres_and_redis() -> Option<Shared> {
        let (Ok(db), Ok(redis)) = (std::env::var("DATABASE_URL"), std::env::var("REDIS_URL"))
        else {
            eprintln!(
                "skipping the PostgreSQL + Redis crash: DATABASE_URL or REDIS_URL is not set"
            );
            return None;
        };
        let tag = format!("asa_crash_{}_{:x}", std::process::id(), rand_tag());
        Some(Shared {
            dir: tempfile::tempdir().unwrap(),
            database_url: db,
            schema: Some(tag.clone()),
            redis: Some((redis, tag)),
        })
    }

    pub async fn store(&self) -> Arc<dyn Store> {
        let options = asa_store::StoreOptions {
            schema: self.schema.clone(),
            ..Default::default()
        };
        asa_store::open_with(&self.database_url, options)
            .await
            .unwrap()
    }

    pub async fn finish(self) {
        if let Some(schema) = &self.schema {
            sqlx::any::install_default_drivers();
            let pool = sqlx::AnyPool::connect(&self.database_url).await.unwrap();
            sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                .execute(&pool)
                .await
                .unwrap();
        }
    }
}

/// A random tag from the std hasher's random keys (no extra dependency).
pub fn rand_tag() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    h.finish()
}

/// Starts `asa dev` on the shared store with `sim` as Amazon and `extra` settings.
pub fn start_node(shared: &Shared, sim: &asa_sim::SimHandle, extra: &[(&str, &str)]) -> Node {
    start_node_logging(shared, sim, extra, None)
}

/// [`start_node`], also copying every line the node logs into `log` when given.
pub fn start_node_logging(
    shared: &Shared,
    sim: &asa_sim::SimHandle,
    extra: &[(&str, &str)],
    log: Option<&std::path::Path>,
) -> Node {
    let dir = shared.dir.path();
    let mut command = Command::new(env!("CARGO_BIN_EXE_asa"));
    command
        .args(["dev", "--json"])
        .args(["--sim", &format!("http://{}", sim.addr())])
        .args(["--database-url", &shared.database_url]);
    if let Some(schema) = &shared.schema {
        command.env("ASA_DATABASE_SCHEMA", schema);
    }
    if let Some((url, prefix)) = &shared.redis {
        command
            .env("ASA_REDIS_URL", url)
            .env("ASA_REDIS_PREFIX", prefix);
    }
    let mut child = command
        .current_dir(dir)
        .env("ASA_UPSTREAM_TIMEOUT", "3s")
        .env("ASA_UPSTREAM_ATTEMPT_TIMEOUT", "3s")
        .env("ASA_RESERVATION_GRACE", "1s")
        .env("ASA_RESERVATION_SWEEP", "200ms")
        .env("ASA_SANDBOX_ENABLED", "false")
        .env("ASA_FAILURES_DIR", dir.join("failures"))
        .env("ASA_LOG", "info")
        .envs(extra.iter().copied())
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("asa dev starts");
    // The log is drained (and copied when asked) so it never blocks the node.
    let stderr = child.stderr.take().unwrap();
    let mut copy = log.map(|path| std::fs::File::create(path).expect("log file"));
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(file) = copy.as_mut() {
                use std::io::Write;
                let _ = writeln!(file, "{line}");
            }
        }
    });
    // Its one line on stdout says where it listens, once it answers.
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("asa dev prints its line");
    let dev: serde_json::Value = serde_json::from_str(&line)
        .unwrap_or_else(|e| panic!("asa dev's line {line:?} is not JSON: {e}"));
    Node {
        child,
        base: dev["api"].as_str().expect("the API's URL").to_string(),
    }
}

/// A `pro` account with `credits` and one live key: its id and the key's secret.
pub async fn live_account(store: &Arc<dyn Store>, credits: i64) -> (String, String) {
    let account = store
        .create_account(NewAccount {
            plan: "pro".into(),
            name: None,
            credits: Credits(credits),
        })
        .await
        .unwrap();
    let (_, key) = store.create_key(&account.id, KeyKind::Live).await.unwrap();
    (account.id.into_string(), key.expose().to_string())
}

/// An account's (balance, reserved) as the store has them now.
pub async fn credits(store: &Arc<dyn Store>, account_id: &str) -> (Credits, Credits) {
    let account = AccountId::from(account_id);
    let a = store.account(&account).await.unwrap().unwrap();
    (a.balance, a.reserved)
}

/// The credits an account has reserved.
pub async fn reserved(store: &Arc<dyn Store>, account_id: &str) -> i64 {
    credits(store, account_id).await.1.get()
}

/// Waits until the account's reserved credits are `want`; fails after `within`.
pub async fn wait_reserved(store: &Arc<dyn Store>, account_id: &str, want: i64, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let now = reserved(store, account_id).await;
        if now == want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "reserved stays {now}, want {want}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
