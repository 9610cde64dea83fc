//! End-to-end billed product requests per second: a real server on port 0, its upstream a
//! simulator on loopback, one account whose limits never bind, and a closed loop of
//! clients. Every answer is a 2xx that reserves and charges 5 credits, so the figure is
//! the whole path: key, limits, reserve, fetch, extract, charge, trace. Prints figures;
//! asserts only that the ledger charged exactly the answers counted.
//!
//! `cargo run --release -p asa-server --example billed_load` (SQLite; PostgreSQL too when
//! `DATABASE_URL` is set). `ASA_BENCH_SECONDS` (default 5) and `ASA_BENCH_CLIENTS`
//! (default 32) change the run.

use asa_model::KeyKind;
use asa_server::config::{Countries, CountryKeyword, PlanConfig};
use asa_server::{Application, Config};
use asa_store::{LedgerKind, NewAccount};
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

async fn run(database_url: &str, schema: Option<String>, page_bytes: usize) -> Figures {
    let sim = asa_sim::start_local(asa_sim::SimConfig {
        page_bytes,
        ..Default::default()
    })
    .await
    .expect("simulator starts");
    let scratch = tempfile::tempdir().unwrap();
    let mut config = Config {
        listen: "127.0.0.1:0".into(),
        database_url: database_url.to_string(),
        database_schema: schema,
        capacity: 100_000,
        failures_dir: scratch.path().join("failures").display().to_string(),
        ..Config::default()
    };
    config.sandbox.enabled = false;
    config.sandbox.bootstrap = false;
    config.upstream.url_template = sim.url_template();
    config.plans.insert(
        "bench".into(),
        PlanConfig {
            concurrency: 100_000,
            rps: 1e9,
            burst: 1_000_000,
            countries: Countries::Keyword(CountryKeyword::Any),
        },
    );
    let app = Application::build(config).await.expect("server starts");
    let base = format!("http://{}", app.addr());
    let store = app.state().store.clone();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let account = store
        .create_account(NewAccount {
            plan: "bench".into(),
            name: None,
            credits: 1_000_000_000,
        })
        .await
        .unwrap();
    let (_, key) = store.create_key(&account.id, KeyKind::Live).await.unwrap();
    let key = key.expose().to_string();

    let seconds = env_or("ASA_BENCH_SECONDS", 5);
    let clients = env_or("ASA_BENCH_CLIENTS", 32) as usize;
    let client = reqwest::Client::new();
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|w| {
            let (client, base, key, stop) =
                (client.clone(), base.clone(), key.clone(), stop.clone());
            tokio::spawn(async move {
                let mut took = Vec::new();
                let mut i = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    let asin = format!("B1{w:03}{i:05}");
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
    let charges = store
        .ledger(&account.id, u32::MAX)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.kind == LedgerKind::Charge)
        .count();
    assert_eq!(charges, took.len(), "every 2xx charged once");
    Figures {
        rps: took.len() as f64 / elapsed.as_secs_f64(),
        p50: took[took.len() / 2],
        p99: took[took.len() * 99 / 100],
        answers: took.len(),
    }
}

async fn report(backend: &str, database_url: &str, schema: Option<String>) {
    for page_bytes in [20_000, asa_sim::DEFAULT_PAGE_BYTES] {
        let f = run(database_url, schema.clone(), page_bytes).await;
        println!(
            "{backend:>8}, {:>5} KB pages: {:>7.1} billed requests/s ({} answers), latency p50 {:?} p99 {:?}",
            page_bytes / 1000,
            f.rps,
            f.answers,
            f.p50,
            f.p99
        );
    }
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
    report("sqlite", &sqlite, None).await;
    match std::env::var("DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => {
            let schema = format!("asa_bench_{}", std::process::id());
            report("postgres", &url, Some(schema.clone())).await;
            sqlx::any::install_default_drivers();
            let pool = sqlx::AnyPool::connect(&url).await.unwrap();
            sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                .execute(&pool)
                .await
                .unwrap();
        }
        _ => println!("postgres: skipped (DATABASE_URL is not set)"),
    }
}
