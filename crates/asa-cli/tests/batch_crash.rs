//! A node killed with SIGKILL in the middle of a batch: the real server binary (`asa dev`) on a
//! SQLite file (always), or on PostgreSQL + Redis (when `DATABASE_URL` and `REDIS_URL` are
//! set). After a restart the items it held are taken again once their leases lapse, the
//! batch completes, and the ledger holds: every delivered item charged exactly once, with
//! the batch's own count; the dead runs' reservations expired; nothing left reserved.

mod support;

use asa_model::{AccountId, Credits, RequestId};
use asa_store::batch::BatchStatus;
use asa_store::{LedgerKind, Store};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use support::{credits, live_account, start_node, wait_reserved, Shared};

const COST: i64 = 5;
const ITEMS: usize = 120;

/// Short budgets (a lease is the upstream budget plus the grace: 4 s here) and a worker
/// budget of 8 items in flight.
const NODE: &[(&str, &str)] = &[("ASA_BATCHES_WORKERS", "8"), ("ASA_BATCHES_POLL", "100ms")];

async fn processed(store: &Arc<dyn Store>, id: &str) -> (u32, BatchStatus) {
    let b = store.batch(id, None).await.unwrap().unwrap();
    (b.processed_count, b.status)
}

async fn batch_survives(shared: Shared) {
    let sim = asa_sim::start_local(asa_sim::SimConfig {
        page_bytes: 40_000,
        ..Default::default()
    })
    .await
    .unwrap();
    let store = shared.store().await;
    let initial = 10_000;
    let (account_id, key) = live_account(&store, initial).await;

    let node = start_node(&shared, &sim, NODE);
    // Half a second per page, so items are in flight whenever the node dies; every tenth
    // item is a page Amazon does not have (free).
    let items: Vec<Value> = (0..ITEMS)
        .map(|i| {
            if i % 10 == 9 {
                json!({"query": "B0NOTFND01"})
            } else {
                json!({"query": "B0SLOW0050"})
            }
        })
        .collect();
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/amazon/batch", node.base))
        .bearer_auth(&key)
        .json(&json!({"endpoint": "amazon.product", "items": items}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    let body: Value = res.json().await.unwrap();
    let id = body["id"].as_str().unwrap().to_string();

    // Let part of it run, then kill the node with items in flight: every item takes the same
    // half second, so the workers run in waves, and between two waves (a poll apart) nothing
    // is held; the kill waits for a moment when something is.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let held = credits(&store, &account_id).await.1;
        let (done, status) = processed(&store, &id).await;
        if done >= 24 && held > Credits(0) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the batch does not progress with items in flight: {done} processed, {status:?}, {held} held"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(node); // SIGKILL
    let (at_kill, status) = processed(&store, &id).await;
    assert_eq!(status, BatchStatus::Running);
    assert!((at_kill as usize) < ITEMS, "killed mid-batch");

    // Restarted on the same store: it takes the dead node's items once their leases lapse.
    let node = start_node(&shared, &sim, NODE);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let (n, status) = processed(&store, &id).await;
        if status.is_finished() {
            assert_eq!(n as usize, ITEMS);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the batch did not finish after the restart: {n} of {ITEMS}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The dead runs' reservations expire with the sweeper.
    wait_reserved(&store, &account_id, 0, Duration::from_secs(30)).await;

    let batch = store.batch(&id, None).await.unwrap().unwrap();
    assert_eq!(batch.status, BatchStatus::Complete);
    let items = store.batch_items(&id, 0, ITEMS as u32).await.unwrap();
    let ok: HashSet<RequestId> = items
        .iter()
        .filter(|i| i.http_status == Some(200))
        .map(|i| i.request_id.clone().unwrap())
        .collect();
    assert_eq!(
        ok.len(),
        ITEMS - ITEMS / 10,
        "every page delivered in the end"
    );
    assert_eq!(batch.success_count as usize, ok.len());
    assert_eq!(batch.failure_count as usize, ITEMS / 10);
    for i in items.iter().filter(|i| i.http_status != Some(200)) {
        assert_eq!(i.error.as_ref().unwrap()["error"], "product_not_found");
        assert_eq!(i.credits_charged, Credits(0));
    }

    let entries = store
        .ledger(&AccountId::from(account_id.clone()), 100_000)
        .await
        .unwrap();
    let mut charges: HashMap<RequestId, usize> = HashMap::new();
    let mut expired = 0;
    let mut charged = Credits::ZERO;
    for e in &entries {
        match e.kind {
            LedgerKind::Charge => {
                *charges.entry(e.request_id.clone().unwrap()).or_default() += 1;
                charged += e.amount;
            }
            LedgerKind::Expire => expired += 1,
            _ => {}
        }
    }
    assert!(charges.values().all(|n| *n == 1), "a request charged twice");
    let charged_ids: HashSet<RequestId> = charges.into_keys().collect();
    assert_eq!(
        charged_ids, ok,
        "charged exactly the delivered items, by their request ids"
    );
    assert_eq!(charged, Credits(COST * ok.len() as i64));
    assert_eq!(batch.credits_charged, charged);
    assert!(
        expired > 0,
        "the dead node's runs held reservations that expired"
    );
    assert_eq!(
        credits(&store, &account_id).await,
        (Credits(initial) - charged, Credits(0))
    );
    drop(node);
    shared.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_survives_its_node_killed_on_sqlite_and_charges_each_item_once() {
    batch_survives(Shared::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_survives_its_node_killed_on_postgres_and_redis_and_charges_each_item_once() {
    let Some(shared) = Shared::postgres_and_redis() else {
        return;
    };
    batch_survives(shared).await;
}
