//! Billed requests per second (reserve + charge, one request id each) on SQLite and, when
//! `DATABASE_URL` names one, PostgreSQL. Prints figures; asserts nothing about speed.
//!
//! `cargo bench -p asa-store` (set `ASA_BENCH_REQUESTS` to change the count per run).

use asa_model::{AccountId, Credits, RequestId};
use asa_store::{open_with, NewAccount, Store, StoreOptions};
use std::sync::Arc;
use std::time::{Duration, Instant};

const COST: i64 = 5;

async fn account(store: &Arc<dyn Store>, requests: usize) -> AccountId {
    let new = NewAccount {
        plan: "pro".into(),
        name: Some("bench".into()),
        credits: Credits(COST * requests as i64),
    };
    store.create_account(new).await.expect("account").id
}

/// Runs `requests` reserve+charge pairs over `workers` concurrent tasks; returns per second.
async fn run(store: &Arc<dyn Store>, requests: usize, workers: usize) -> f64 {
    let acc = account(store, requests).await;
    let run_id = acc.clone(); // a fresh account per run keeps request ids unique
    let started = Instant::now();
    let tasks: Vec<_> = (0..workers)
        .map(|w| {
            let store = store.clone();
            let acc = acc.clone();
            let run_id = run_id.clone();
            tokio::spawn(async move {
                for i in (w..requests).step_by(workers) {
                    let request_id = RequestId::from(format!("req_b{run_id}_{i}"));
                    let r = store
                        .reserve(&acc, &request_id, Credits(COST), Duration::from_secs(60))
                        .await
                        .expect("reserve");
                    store.charge(&r).await.expect("charge");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("worker");
    }
    let rate = requests as f64 / started.elapsed().as_secs_f64();
    let a = store.account(&acc).await.expect("read").expect("account");
    assert_eq!(
        (a.balance, a.reserved),
        (Credits::ZERO, Credits::ZERO),
        "every credit billed exactly once"
    );
    rate
}

async fn bench(name: &str, store: Arc<dyn Store>, requests: usize) {
    run(&store, requests / 10, 4).await; // warm the pool and caches
    for workers in [1, 16, 64] {
        let rate = run(&store, requests, workers).await;
        println!("{name:<10} reserve+charge  {workers:>2} workers  {rate:>8.0} billed requests/s");
    }
}

fn main() {
    let requests: usize = std::env::var("ASA_BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let sqlite = open_with(&url, StoreOptions::default())
            .await
            .expect("sqlite");
        bench("sqlite", sqlite, requests).await;
        match std::env::var("DATABASE_URL") {
            Ok(url) if url.starts_with("postgres") => {
                let schema = format!("asa_bench_{}", std::process::id());
                let options = StoreOptions {
                    schema: Some(schema.clone()),
                    max_connections: 16,
                    ..StoreOptions::default()
                };
                let pg = open_with(&url, options).await.expect("postgres");
                bench("postgres", pg, requests).await;
                let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
                    .await
                    .expect("connect");
                sqlx::Executor::execute(&mut conn, &*format!("DROP SCHEMA {schema} CASCADE"))
                    .await
                    .expect("drop bench schema");
            }
            _ => println!("postgres   skipped (DATABASE_URL is not a postgres URL)"),
        }
    });
}
