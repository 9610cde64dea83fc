//! Real servers on port 0 against a real simulator (`asa_server::dev`), on SQLite or PostgreSQL (a schema of
//! their own) with in-process or Redis limits (a key prefix of their own), and the ledger
//! checks every test ends with.

use asa_model::KeyKind;
use asa_model::{AccountId, Credits};
use asa_server::config::{Countries, CountryKeyword, PlanConfig};
use asa_server::dev::{Dev, Launch, Upstream};
use asa_server::Config;
use asa_store::{LedgerKind, NewAccount, Store};
use rand::RngCore;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

/// Taken by every test of this binary, so they run one at a time: the rate test measures
/// what a limiter admits against the clock, which a CPU shared with other tests' servers
/// would blur (requests queueing before the limiter stretch the window it sees).
pub static EXCLUSIVE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Cost of one product page, as the server bills it.
pub const COST: i64 = asa_server::COST_PER_PAGE.0;

/// Where the nodes keep their state.
pub enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres {
        url: String,
        schema: String,
        /// Pages the extractor could not read land here, not in the working directory.
        scratch: tempfile::TempDir,
    },
}

impl Backend {
    pub fn sqlite() -> Backend {
        Backend::Sqlite(tempfile::tempdir().unwrap())
    }

    /// `None` (with a skip line) unless `DATABASE_URL` names a PostgreSQL database.
    pub fn postgres(test: &str) -> Option<Backend> {
        match std::env::var("DATABASE_URL") {
            Ok(url) if url.starts_with("postgres") => Some(Backend::Postgres {
                url,
                schema: format!("asa_ledger_{:016x}", rand::thread_rng().next_u64()),
                scratch: tempfile::tempdir().unwrap(),
            }),
            _ => {
                eprintln!("skipping {test} on PostgreSQL: DATABASE_URL is not set");
                None
            }
        }
    }

    fn apply(&self, c: &mut Config) {
        let scratch = match self {
            Backend::Sqlite(dir) => {
                c.database_url = format!("sqlite://{}", dir.path().join("asa.db").display());
                dir
            }
            Backend::Postgres {
                url,
                schema,
                scratch,
            } => {
                c.database_url = url.clone();
                c.database_schema = Some(schema.clone());
                scratch
            }
        };
        c.failures_dir = scratch.path().join("failures").display().to_string();
    }

    /// Drops the PostgreSQL schema; the SQLite directory goes with `self`.
    pub async fn finish(self) {
        if let Backend::Postgres { url, schema, .. } = self {
            sqlx::any::install_default_drivers();
            let pool = sqlx::AnyPool::connect(&url).await.unwrap();
            sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                .execute(&pool)
                .await
                .unwrap();
        }
    }
}

/// `Some(url)` (or a skip line) when `REDIS_URL` is set.
pub fn redis_url(test: &str) -> Option<String> {
    match std::env::var("REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("skipping {test}: REDIS_URL is not set");
            None
        }
    }
}

pub fn plan(concurrency: u32, rps: f64, burst: u32) -> PlanConfig {
    PlanConfig {
        concurrency,
        rps,
        burst,
        countries: Countries::Keyword(CountryKeyword::Own),
    }
}

/// The configuration every node of a test shares: short upstream budgets (3 s all
/// attempts, 2 s each), the test's plans, no sandbox. The upstream is the simulator the
/// first node starts ([`spawn`]).
pub fn config(backend: &Backend, plans: &[(&str, PlanConfig)]) -> Config {
    let mut c = Config::default();
    backend.apply(&mut c);
    c.sandbox.enabled = false;
    c.sandbox.bootstrap = false;
    c.upstream.timeout = Duration::from_secs(3);
    c.upstream.attempt_timeout = Duration::from_secs(2);
    c.upstream.max_attempts = 3;
    for (name, p) in plans {
        c.plans.insert(name.to_string(), p.clone());
    }
    c
}

/// One running node.
pub struct Node {
    pub base: String,
    pub store: Arc<dyn Store>,
    dev: Dev,
}

impl Node {
    /// The simulator this node started (the first node of a test).
    pub fn sim(&self) -> &asa_sim::SimHandle {
        self.dev.sim().expect("the first node starts the simulator")
    }
}

/// A test's first node, with a simulator of small pages and `faults` as its upstream (the
/// tests measure billing, not extraction speed).
pub async fn spawn(config: Config, faults: asa_sim::FaultRates) -> Node {
    let sim = asa_sim::SimConfig {
        faults,
        page_bytes: 60_000,
        ..Default::default()
    };
    node(Launch::new(config).sim(sim)).await
}

/// Another node fetching from `first`'s simulator.
pub async fn spawn_beside(config: Config, first: &Node) -> Node {
    let sim = first.dev.sim_url().expect("the first node has a simulator");
    node(Launch::new(config).upstream(Upstream::Shared(sim))).await
}

async fn node(launch: Launch) -> Node {
    let dev = launch.start().await.expect("server starts");
    Node {
        base: dev.api_url(),
        store: dev.store(),
        dev,
    }
}

/// An account and its live key.
#[derive(Clone)]
pub struct Holder {
    pub account_id: String,
    pub key: String,
}

pub async fn account(store: &Arc<dyn Store>, plan: &str, credits: i64) -> Holder {
    let a = store
        .create_account(NewAccount {
            plan: plan.into(),
            name: None,
            credits: Credits(credits),
        })
        .await
        .unwrap();
    let (_, key) = store.create_key(&a.id, KeyKind::Live).await.unwrap();
    Holder {
        account_id: a.id.into_string(),
        key: key.expose().to_string(),
    }
}

/// What the client saw of one request.
#[derive(Debug, Clone)]
pub struct Seen {
    pub status: u16,
    /// The envelope's `error`, or `ok`.
    pub code: String,
    pub request_id: Option<String>,
    pub cost: Option<i64>,
    pub retry_after: Option<u64>,
    /// `in_flight/allowed` from `Asa-Concurrency`.
    pub concurrency: Option<(u32, u32)>,
}

pub async fn get(client: &reqwest::Client, url: &str, key: &str) -> Seen {
    let res = client
        .get(url)
        .bearer_auth(key)
        .send()
        .await
        .expect("request sent");
    let status = res.status().as_u16();
    let header = |n: &str| {
        res.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let request_id = header("x-request-id");
    let cost = header("asa-cost").and_then(|v| v.parse().ok());
    let retry_after = header("retry-after").and_then(|v| v.parse().ok());
    let concurrency = header("asa-concurrency").and_then(|v| {
        let (a, b) = v.split_once('/')?;
        Some((a.parse().ok()?, b.parse().ok()?))
    });
    let body: serde_json::Value = res.json().await.unwrap_or(serde_json::Value::Null);
    let code = if (200..300).contains(&status) {
        "ok".to_string()
    } else {
        body["error"]
            .as_str()
            .unwrap_or("<no envelope>")
            .to_string()
    };
    if let Some(rid) = &request_id {
        assert_eq!(body["request_id"].as_str(), Some(rid.as_str()), "{body}");
    }
    Seen {
        status,
        code,
        request_id,
        cost,
        retry_after,
        concurrency,
    }
}

pub fn product_url(base: &str, asin: &str) -> String {
    format!("{base}/api/v1/amazon/product?query={asin}")
}

/// Waits until no request of the account holds credits (the drop guards of cancelled
/// requests release from spawned tasks), at most `within`.
pub async fn settle_reserved(store: &Arc<dyn Store>, account_id: &str, within: Duration) -> i64 {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let reserved = store
            .account(&AccountId::from(account_id))
            .await
            .unwrap()
            .unwrap()
            .reserved;
        if reserved == Credits(0) || tokio::time::Instant::now() >= deadline {
            return reserved.get();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The ledger property for one account, given the 2xx answers its client received:
/// the charges are exactly 5 x those answers, charged under exactly their request ids, once
/// each; no entry shows a negative balance or reserve; every reservation is settled exactly
/// once; and balance + reserved + charged == every credit ever added.
pub async fn assert_ledger(store: &Arc<dyn Store>, account_id: &str, delivered: &[String]) -> Book {
    let entries = store
        .ledger(&AccountId::from(account_id), 1_000_000)
        .await
        .unwrap();
    let account = store
        .account(&AccountId::from(account_id))
        .await
        .unwrap()
        .unwrap();
    let mut sums: HashMap<LedgerKind, Credits> = HashMap::new();
    let mut charged: Vec<&str> = Vec::new();
    let mut settled: HashMap<&str, Vec<LedgerKind>> = HashMap::new();
    let mut reserved_ids: HashSet<&str> = HashSet::new();
    for e in &entries {
        assert!(e.amount > Credits(0), "{e:?}");
        assert!(e.balance_after >= Credits(0), "negative balance: {e:?}");
        assert!(e.reserved_after >= Credits(0), "negative reserve: {e:?}");
        *sums.entry(e.kind).or_default() += e.amount;
        let rid = e.request_id.as_deref();
        match e.kind {
            LedgerKind::Charge => {
                assert_eq!(e.amount, Credits(COST), "{e:?}");
                charged.push(rid.expect("a charge names its request"));
                settled.entry(rid.unwrap()).or_default().push(e.kind);
            }
            LedgerKind::Release | LedgerKind::Expire => {
                settled
                    .entry(rid.expect("a settlement names its request"))
                    .or_default()
                    .push(e.kind);
            }
            LedgerKind::Reserve => {
                assert!(
                    reserved_ids.insert(rid.expect("a reserve names its request")),
                    "reserved twice: {e:?}"
                );
            }
            LedgerKind::TopUp | LedgerKind::AutoTopUp => {}
        }
    }
    let sum = |k| sums.get(&k).copied().unwrap_or_default();
    // No request id charged twice, and the charged ids are exactly the delivered ones.
    let charged_set: HashSet<&str> = charged.iter().copied().collect();
    assert_eq!(
        charged_set.len(),
        charged.len(),
        "a request id was charged twice"
    );
    let delivered_set: HashSet<&str> = delivered.iter().map(String::as_str).collect();
    assert_eq!(
        delivered_set.len(),
        delivered.len(),
        "a request id was delivered twice"
    );
    let not_delivered: Vec<_> = charged_set.difference(&delivered_set).collect();
    let not_charged: Vec<_> = delivered_set.difference(&charged_set).collect();
    assert!(
        not_delivered.is_empty() && not_charged.is_empty(),
        "charged but not delivered: {not_delivered:?}; delivered but not charged: {not_charged:?}"
    );
    assert_eq!(
        sum(LedgerKind::Charge),
        Credits(COST * delivered.len() as i64)
    );
    // Every reservation settled exactly once, and nothing settled that was not reserved.
    for (rid, kinds) in &settled {
        assert!(
            reserved_ids.contains(rid),
            "{rid} settled without a reservation"
        );
        assert_eq!(kinds.len(), 1, "{rid} settled {kinds:?}");
    }
    let open: Vec<_> = reserved_ids
        .iter()
        .filter(|r| !settled.contains_key(*r))
        .collect();
    assert!(open.is_empty(), "reservations never settled: {open:?}");
    // Conservation.
    let added = sum(LedgerKind::TopUp) + sum(LedgerKind::AutoTopUp);
    assert!(
        account.balance >= Credits(0) && account.reserved >= Credits(0),
        "{account:?}"
    );
    assert_eq!(account.reserved, Credits(0), "{account:?}");
    assert_eq!(
        account.balance + account.reserved + sum(LedgerKind::Charge),
        added,
        "{account:?} {sums:?}"
    );
    Book {
        releases: settled
            .values()
            .filter(|k| k[0] == LedgerKind::Release)
            .count(),
        auto_top_ups: entries
            .iter()
            .filter(|e| e.kind == LedgerKind::AutoTopUp)
            .count(),
    }
}

/// What the ledger of an account held, for the test's report line.
#[derive(Debug, Clone, Copy)]
pub struct Book {
    pub releases: usize,
    pub auto_top_ups: usize,
}

/// Outcome counts, `code -> n`, printed by each test.
pub fn tally<'a>(seen: impl IntoIterator<Item = &'a Seen>) -> BTreeMap<String, usize> {
    let mut t = BTreeMap::new();
    for s in seen {
        *t.entry(format!("{} {}", s.status, s.code)).or_insert(0) += 1;
    }
    t
}
