//! End-to-end billed product requests per second: a real server on port 0, its upstream a
//! simulator on loopback, one account whose limits never bind, and a closed loop of
//! clients. Every answer is a 2xx that reserves and charges 5 credits, so the figure is
//! the whole path: key, limits, reserve, fetch, extract, charge, trace. Prints figures;
//! asserts only that the ledger charged exactly the answers counted.
//!
//! Then the same page size through a batch: `ASA_BENCH_BATCH_ITEMS` (default 1000) items
//! run by the node's batch worker with as many items in flight as there were clients,
//! timed from the POST to `complete`: batch items per second against the sync figure.
//!
//! Requests draw their ASINs from a catalogue of `ASA_BENCH_ASINS` (default 100, so that
//! the 1.5 MB pages fit the simulator's 256 MB cache) asked once each before the timed
//! phases, so the simulator serves its cached, pre-encoded pages: a fresh ASIN per request
//! made the in-process simulator build and brotli-encode every page, which took over half
//! of the process's CPU (perf) and made the figure the simulator's. asa keeps no pages:
//! every request is still fetched, decoded, extracted, billed and traced.
//!
//! `cargo run --release -p asa-server --example billed_load` (SQLite; PostgreSQL too when
//! `DATABASE_URL` is set). `ASA_BENCH_SECONDS` (default 5), `ASA_BENCH_CLIENTS`
//! (default 32) and `ASA_BENCH_ASINS` change the run.

use asa_model::{AccountId, Credits, KeyKind};
use asa_server::config::{Countries, CountryKeyword, PlanConfig};
use asa_server::dev::{Dev, Launch};
use asa_server::Config;
use asa_store::{LedgerKind, NewAccount};
use futures::StreamExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Figures {
    rps: f64,
    p50: Duration,
    p99: Duration,
    answers: usize,
}

/// A server on its own simulator with one bench account.
struct Bench {
    base: String,
    store: std::sync::Arc<dyn asa_store::Store>,
    account_id: String,
    key: String,
    clients: usize,
    _dev: Dev,
}

async fn setup(database_url: &str, schema: Option<String>, page_bytes: usize) -> Bench {
    let clients = env_or("ASA_BENCH_CLIENTS", 32) as usize;
    let mut config = Config {
        database_url: database_url.to_string(),
        database_schema: schema,
        capacity: 100_000,
        ..Config::default()
    };
    config.sandbox.enabled = false;
    config.sandbox.bootstrap = false;
    config.batches.workers = clients as u32;
    config.batches.poll = Duration::from_millis(50);
    config.plans.insert(
        "bench".into(),
        PlanConfig {
            concurrency: 100_000,
            rps: 1e9,
            burst: 1_000_000,
            countries: Countries::Keyword(CountryKeyword::Any),
        },
    );
    let dev = Launch::new(config)
        .sim(asa_sim::SimConfig {
            page_bytes,
            ..Default::default()
        })
        .start()
        .await
        .expect("server starts");
    let base = dev.api_url();
    let store = dev.store();
    let account = store
        .create_account(NewAccount {
            plan: "bench".into(),
            name: None,
            credits: Credits(1_000_000_000),
        })
        .await
        .unwrap();
    let (_, key) = store.create_key(&account.id, KeyKind::Live).await.unwrap();
    Bench {
        base,
        store,
        account_id: account.id.into_string(),
        key: key.expose().to_string(),
        clients,
        _dev: dev,
    }
}

/// The catalogue's `n`th ASIN.
fn asin(n: u64) -> String {
    format!("B1{:08}", n % env_or("ASA_BENCH_ASINS", 100).max(1))
}

/// Asks for every ASIN of the catalogue once, so the simulator has built its pages.
async fn warm(b: &Bench) {
    let client = reqwest::Client::new();
    let n = env_or("ASA_BENCH_ASINS", 100);
    let asks = (0..n).map(|i| {
        let client = client.clone();
        async move {
            let res = client
                .get(format!(
                    "{}/api/v1/amazon/product?query={}",
                    b.base,
                    asin(i)
                ))
                .bearer_auth(&b.key)
                .send()
                .await
                .expect("request sent");
            assert!(res.status().is_success(), "warming {}", asin(i));
            res.bytes().await.expect("body read");
        }
    });
    futures::stream::iter(asks)
        .buffer_unordered(b.clients)
        .collect::<Vec<_>>()
        .await;
}

async fn sync_phase(b: &Bench) -> Figures {
    let (base, key, clients) = (&b.base, &b.key, b.clients);
    let seconds = env_or("ASA_BENCH_SECONDS", 5);
    warm(b).await;
    let charged_before = charged(b).await;
    let client = reqwest::Client::new();
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|w| {
            let (client, base, key, stop) =
                (client.clone(), base.clone(), key.clone(), stop.clone());
            tokio::spawn(async move {
                let mut took = Vec::new();
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    // Workers walk the catalogue from different places.
                    let asin = asin(w as u64 * 7919 + i);
                    let t = Instant::now();
                    let res = client
                        .get(format!("{base}/api/v1/amazon/product?query={asin}"))
                        .bearer_auth(&key)
                        .send()
                        .await
                        .expect("request sent");
                    let status = res.status();
                    res.bytes().await.expect("body read");
                    assert!(status.is_success(), "{asin}: {status}");
                    took.push(t.elapsed());
                    i += 1;
                }
                took
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut took = Vec::new();
    for w in workers {
        took.extend(w.await.unwrap());
    }
    let elapsed = started.elapsed();
    took.sort();
    let charges = charged(b).await - charged_before;
    assert_eq!(charges, took.len(), "every 2xx charged once");
    Figures {
        rps: took.len() as f64 / elapsed.as_secs_f64(),
        p50: took[took.len() / 2],
        p99: took[took.len() * 99 / 100],
        answers: took.len(),
    }
}

/// One batch of product items, timed from its creation to its completion: items/s.
async fn batch_phase(b: &Bench) -> (f64, usize) {
    let n = env_or("ASA_BENCH_BATCH_ITEMS", 1000) as usize;
    let items: Vec<serde_json::Value> = (0..n)
        .map(|i| serde_json::json!({"query": asin(i as u64)}))
        .collect();
    let client = reqwest::Client::new();
    let charged_before = charged(b).await;
    let started = Instant::now();
    let res = client
        .post(format!("{}/api/v1/amazon/batch", b.base))
        .bearer_auth(&b.key)
        .json(&serde_json::json!({"endpoint": "amazon.product", "items": items}))
        .send()
        .await
        .expect("batch created");
    assert_eq!(res.status().as_u16(), 201);
    let id = res.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    loop {
        let batch = b.store.batch(&id, None).await.unwrap().unwrap();
        if batch.status.is_finished() {
            if batch.success_count as usize != n {
                let items = b.store.batch_items(&id, 0, n as u32).await.unwrap();
                let mut codes = std::collections::BTreeMap::<String, usize>::new();
                for e in items.iter().filter_map(|i| i.error.as_ref()) {
                    *codes.entry(e["message"].to_string()).or_default() += 1;
                }
                panic!(
                    "{} of {n} items delivered; errors: {codes:?}",
                    batch.success_count
                );
            }
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    assert_eq!(
        charged(b).await - charged_before,
        n,
        "every item charged once"
    );
    (n as f64 / elapsed.as_secs_f64(), n)
}

async fn charged(b: &Bench) -> usize {
    b.store
        .ledger(&AccountId::from(b.account_id.clone()), u32::MAX)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.kind == LedgerKind::Charge)
        .count()
}

/// One store per page size: the first server (still running, its simulator gone) must
/// not share a batch queue with the next.
async fn report(backend: &str, database_url: impl Fn(usize) -> (String, Option<String>)) {
    for page_bytes in [20_000, asa_sim::DEFAULT_PAGE_BYTES] {
        let (url, schema) = database_url(page_bytes);
        let bench = setup(&url, schema, page_bytes).await;
        let f = sync_phase(&bench).await;
        println!(
            "{backend:>8}, {:>5} KB pages: {:>7.1} billed requests/s ({} answers), latency p50 {:?} p99 {:?}",
            page_bytes / 1000,
            f.rps,
            f.answers,
            f.p50,
            f.p99
        );
        let (items_per_s, n) = batch_phase(&bench).await;
        println!(
            "{backend:>8}, {:>5} KB pages: {:>7.1} batch items/s ({n} items, {} in flight) = {:.2}x the sync rate",
            page_bytes / 1000,
            items_per_s,
            bench.clients,
            items_per_s / f.rps
        );
    }
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    report("sqlite", |page| {
        let file = dir.path().join(format!("bench-{page}.db"));
        (format!("sqlite://{}", file.display()), None)
    })
    .await;
    match std::env::var("DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => {
            let schema = |page: usize| format!("asa_bench_{}_{page}", std::process::id());
            report("postgres", |page| (url.clone(), Some(schema(page)))).await;
            sqlx::any::install_default_drivers();
            let pool = sqlx::AnyPool::connect(&url).await.unwrap();
            for page in [20_000, asa_sim::DEFAULT_PAGE_BYTES] {
                sqlx::query(&format!("DROP SCHEMA {} CASCADE", schema(page)))
                    .execute(&pool)
                    .await
                    .unwrap();
            }
        }
        _ => println!("postgres: skipped (DATABASE_URL is not set)"),
    }
}
