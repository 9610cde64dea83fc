//! `asa admin backup` on a live SQLite server, and the restore README describes: the real
//! binary copies the database of a node that is serving billed requests, the copy goes in
//! a new node's database file's place, and the new node serves the same accounts, keys and
//! balances, with a ledger that adds up.

mod support;

use asa_model::{AccountId, Credits, KeyKind};
use asa_store::{LedgerKind, NewAccount};
use serde_json::Value;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::{live_account, start_node, wait_reserved, Shared};

const COST: i64 = 5;
const INITIAL: i64 = 1_000_000;
const LIMITS: [(&str, &str); 3] = [
    ("ASA_PLANS_PRO_CONCURRENCY", "1000"),
    ("ASA_PLANS_PRO_RPS", "100000"),
    ("ASA_PLANS_PRO_BURST", "100000"),
];

/// `asa admin <args> --json` on `database_url`; its JSON answer, or a panic with stderr.
fn admin(database_url: &str, args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_asa"))
        .arg("admin")
        .args(args)
        .args(["--json", "--database-url", database_url])
        .env("NO_COLOR", "1")
        .output()
        .expect("asa admin runs");
    assert!(
        out.status.success(),
        "asa admin {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("asa admin --json prints JSON")
}

/// `GET /api/v1/account` as `key`: its status and body.
async fn account(base: &str, key: &str) -> (u16, Value) {
    let res = reqwest::Client::new()
        .get(format!("{base}/api/v1/account"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_of_a_serving_node_restores_into_a_new_node() {
    let shared = Shared::sqlite();
    let sim = asa_sim::start_local(asa_sim::SimConfig {
        page_bytes: 20_000,
        ..Default::default()
    })
    .await
    .unwrap();
    let store = shared.store().await;
    let (busy_id, busy_key) = live_account(&store, INITIAL).await;
    let idle = store
        .create_account(NewAccount {
            plan: "free".into(),
            name: Some("idle".into()),
            credits: Credits(777),
        })
        .await
        .unwrap();
    let (_, idle_key) = store.create_key(&idle.id, KeyKind::Live).await.unwrap();
    let (revoked, revoked_key) = store.create_key(&idle.id, KeyKind::Live).await.unwrap();
    store.revoke_key(&revoked.id).await.unwrap();

    // Clients keep the node charging while the backup runs.
    let node = start_node(&shared, &sim, &LIMITS);
    let stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..8)
        .map(|c| {
            let (base, key) = (node.base.clone(), busy_key.clone());
            let (stop, served) = (stop.clone(), served.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                for i in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let res = client
                        .get(format!(
                            "{base}/api/v1/amazon/product?query=B0BK{c:02}{i:04}"
                        ))
                        .bearer_auth(&key)
                        .send()
                        .await
                        .unwrap();
                    let ok = res.status().is_success();
                    res.bytes().await.unwrap();
                    if ok {
                        served.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        })
        .collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while served.load(Ordering::SeqCst) < 50 {
        assert!(tokio::time::Instant::now() < deadline, "the node serves");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let backup = shared.dir.path().join("backup.db");
    let before = served.load(Ordering::SeqCst);
    let (url, out) = (shared.database_url.clone(), backup.clone());
    let answer = tokio::task::spawn_blocking(move || {
        admin(&url, &["backup", "--out", out.to_str().unwrap()])
    })
    .await
    .unwrap();
    assert!(answer["bytes"].as_u64().unwrap() > 0, "{answer}");
    // The node went on answering: the backup held its writer up for no more than a moment.
    let after_backup = served.load(Ordering::SeqCst);
    while served.load(Ordering::SeqCst) < after_backup + 20 {
        assert!(tokio::time::Instant::now() < deadline, "the node serves on");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
    drop(node);
    let finally = store
        .account(&AccountId::from(busy_id.as_str()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(finally.reserved, Credits(0));
    let accounts_then = admin(&shared.database_url, &["account", "list"]);

    // Restore: the copy becomes a new node's database file.
    let restored = Shared::sqlite();
    std::fs::copy(&backup, restored.dir.path().join("asa.db")).unwrap();
    let node = start_node(&restored, &sim, &LIMITS);
    let restored_store = restored.store().await;
    // Reservations of requests in flight at the copy expire there, as after a crash.
    wait_reserved(&restored_store, &busy_id, 0, Duration::from_secs(30)).await;

    let (status, idle_now) = account(&node.base, idle_key.expose()).await;
    assert_eq!(status, 200, "{idle_now}");
    assert_eq!(idle_now["credits"]["balance"], 777);
    assert_eq!(account(&node.base, revoked_key.expose()).await.0, 401);
    let (status, busy_now) = account(&node.base, &busy_key).await;
    assert_eq!(status, 200, "{busy_now}");
    let balance = busy_now["credits"]["balance"].as_i64().unwrap();
    // Taken mid-load: between the balance before the load and the one after it.
    assert!(
        balance < INITIAL && balance > finally.balance.get(),
        "restored balance {balance}, between {} and {INITIAL}",
        finally.balance
    );
    // And a ledger that adds up: every credit gone is a charge of the copy.
    let charges = restored_store
        .ledger(&AccountId::from(busy_id.as_str()), 1_000_000)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.kind == LedgerKind::Charge)
        .count() as i64;
    assert!(
        charges as usize >= before,
        "{charges} charges, {before} served"
    );
    assert_eq!(balance, INITIAL - COST * charges);

    // The same accounts (but the busy one's balance) and the same keys.
    let accounts_now = admin(&restored.database_url, &["account", "list"]);
    let ids = |v: &Value| {
        v["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["id"].clone(), a["plan"].clone(), a["name"].clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&accounts_now), ids(&accounts_then));
    // Keys as stored (when each was last used moves on with use, here and there).
    let keys = |url: &str, id: &str| {
        let mut v = admin(url, &["key", "list", "--account", id])["keys"].clone();
        for k in v.as_array_mut().unwrap() {
            k.as_object_mut().unwrap().remove("last_used_at");
        }
        v
    };
    for id in [busy_id.as_str(), idle.id.as_str()] {
        assert_eq!(
            keys(&restored.database_url, id),
            keys(&shared.database_url, id)
        );
    }
    drop(node);
}

#[test]
fn a_backup_never_overwrites_a_file() {
    let shared = Shared::sqlite();
    let out = shared.dir.path().join("taken.db");
    std::fs::write(&out, b"keep me").unwrap();
    let res = Command::new(env!("CARGO_BIN_EXE_asa"))
        .args(["admin", "backup", "--out", out.to_str().unwrap()])
        .args(["--database-url", &shared.database_url])
        .output()
        .unwrap();
    assert_eq!(res.status.code(), Some(1));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(err.contains("exists"), "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");
}

#[tokio::test]
async fn on_postgresql_it_says_to_use_pg_dump() {
    let url = match std::env::var("DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => url,
        _ => {
            eprintln!("skipping the PostgreSQL backup advice: DATABASE_URL is not PostgreSQL");
            return;
        }
    };
    let schema = format!("asa_backup_{:x}", support::rand_tag());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("asa.dump");
    let res = Command::new(env!("CARGO_BIN_EXE_asa"))
        .args(["admin", "backup", "--out", out.to_str().unwrap()])
        .args(["--database-url", &url])
        .env("ASA_DATABASE_SCHEMA", &schema)
        .output()
        .unwrap();
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(res.status.code(), Some(1));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(
        err.contains(&format!(
            "pg_dump --format=custom --schema={schema} --file={}",
            out.display()
        )),
        "{err}"
    );
    assert!(err.contains("pg_restore"), "{err}");
    assert!(!out.exists());
}
