use crate::backend::Backend;
use crate::ledger::account;
use asa_model::Credits;
use asa_store::batch::*;
use asa_store::{Clock, Store};
use chrono::Duration as ChronoDuration;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

crate::suite!(
    creation_is_idempotent_per_key_and_scoped_to_the_owner,
    an_item_is_charged_once_with_its_result,
    a_lapsed_lease_is_taken_again_and_the_dead_run_cannot_store,
    requeued_items_wait_their_turn,
    concurrent_claimers_never_share_an_item,
    batches_advance_side_by_side,
    a_batch_without_success_is_failed_and_the_webhook_follows_its_schedule,
);

const LEASE: Duration = Duration::from_secs(60);

fn new_batch(account_id: &str, n: usize, key: Option<&str>, webhook: bool) -> NewBatch {
    NewBatch {
        account_id: account_id.into(),
        key_id: "key_1".into(),
        endpoint: BatchEndpoint::Product,
        items: (0..n)
            .map(|i| serde_json::json!({"query": format!("B0000000{i:02}")}))
            .collect(),
        webhook_url: webhook.then(|| "https://hooks.example.com/asa".to_string()),
        webhook_secret: "whsec_test".into(),
        idempotency_key: key.map(str::to_string),
        request_id: "req_000000000001".into(),
    }
}

fn ok_result(reservations: Vec<asa_store::Reservation>) -> ItemResult {
    ItemResult {
        ok: true,
        http_status: 200,
        data: Some(serde_json::json!({"asin": "B000000000"})),
        error: None,
        duration_ms: 12,
        reservations,
    }
}

fn error_result(reservations: Vec<asa_store::Reservation>) -> ItemResult {
    ItemResult {
        ok: false,
        http_status: 422,
        data: None,
        error: Some(serde_json::json!({"error": "blocked_by_amazon"})),
        duration_ms: 30,
        reservations,
    }
}

async fn creation_is_idempotent_per_key_and_scoped_to_the_owner(b: &Backend) {
    let s = &b.store;
    let acc = account(b, 100).await;
    let other = account(b, 100).await;
    let (first, created) = s
        .create_batch(new_batch(&acc, 3, Some("k1"), true))
        .await
        .unwrap();
    assert!(created);
    assert_eq!(first.status, BatchStatus::Pending);
    assert_eq!(first.total_count, 3);
    assert_eq!(first.webhook_status, Some(WebhookStatus::Pending));
    let (again, created) = s
        .create_batch(new_batch(&acc, 5, Some("k1"), true))
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(again.id, first.id);
    assert_eq!(again.total_count, 3);
    // The same key on another account is another batch.
    let (theirs, created) = s
        .create_batch(new_batch(&other, 1, Some("k1"), false))
        .await
        .unwrap();
    assert!(created);
    assert_eq!(theirs.webhook_status, None);
    assert!(s.batch(&first.id, Some(&other)).await.unwrap().is_none());
    assert!(s.batch(&first.id, Some(&acc)).await.unwrap().is_some());
    let listed = s.batches(&acc, 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    let items = s.batch_items(&first.id, 1, 10).await.unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].index, 1);
    assert_eq!(items[0].input["query"], "B000000001");
    assert_eq!(items[0].state, ItemState::Queued);
}

async fn an_item_is_charged_once_with_its_result(b: &Backend) {
    let s = &b.store;
    let acc = account(b, 100).await;
    let (batch, _) = s
        .create_batch(new_batch(&acc, 2, None, false))
        .await
        .unwrap();
    let claimed = s.claim_batch_items("node-a", 10, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 2);
    assert_eq!(claimed[0].run, 1);
    assert_eq!(
        claimed[0].request_id,
        item_request_id(&batch.id, claimed[0].index, 1)
    );
    let running = s.batch(&batch.id, None).await.unwrap().unwrap();
    assert_eq!(running.status, BatchStatus::Running);
    assert!(running.started_at.is_some());

    let r = s
        .reserve(&acc, &claimed[0].request_id, Credits(5), LEASE)
        .await
        .unwrap();
    let settled = s
        .complete_batch_item(&claimed[0], ok_result(vec![r]))
        .await
        .unwrap();
    assert_eq!(
        settled,
        ItemSettled::Stored {
            credits_charged: Credits(5),
            batch_finished: false
        }
    );
    let r = s
        .reserve(&acc, &claimed[1].request_id, Credits(5), LEASE)
        .await
        .unwrap();
    let settled = s
        .complete_batch_item(&claimed[1], error_result(vec![r]))
        .await
        .unwrap();
    assert_eq!(
        settled,
        ItemSettled::Stored {
            credits_charged: Credits(0),
            batch_finished: true
        }
    );
    let a = s.account(&acc).await.unwrap().unwrap();
    assert_eq!((a.balance, a.reserved), (Credits(95), Credits(0)));
    let done = s.batch(&batch.id, None).await.unwrap().unwrap();
    assert_eq!(done.status, BatchStatus::Complete);
    assert_eq!(
        (done.processed_count, done.success_count, done.failure_count),
        (2, 1, 1)
    );
    assert_eq!(done.credits_charged, Credits(5));
    assert!(done.completed_at.is_some());
    let items = s.batch_items(&batch.id, 0, 10).await.unwrap();
    assert_eq!(items[0].state, ItemState::Ok);
    assert_eq!(items[0].http_status, Some(200));
    assert_eq!(items[0].data.as_ref().unwrap()["asin"], "B000000000");
    assert_eq!(
        items[0].request_id.as_deref(),
        Some(claimed[0].request_id.as_str())
    );
    assert_eq!(items[1].state, ItemState::Error);
    assert_eq!(
        items[1].error.as_ref().unwrap()["error"],
        "blocked_by_amazon"
    );
    // Nothing is left to claim.
    assert!(s
        .claim_batch_items("node-a", 10, LEASE)
        .await
        .unwrap()
        .is_empty());
}

async fn a_lapsed_lease_is_taken_again_and_the_dead_run_cannot_store(b: &Backend) {
    let s = &b.store;
    let acc = account(b, 100).await;
    let (batch, _) = s
        .create_batch(new_batch(&acc, 1, None, false))
        .await
        .unwrap();
    let dead = s.claim_batch_items("node-a", 10, LEASE).await.unwrap();
    assert_eq!(dead.len(), 1);
    let dead_r = s
        .reserve(&acc, &dead[0].request_id, Credits(5), LEASE)
        .await
        .unwrap();
    // Within the lease nobody else takes it.
    assert!(s
        .claim_batch_items("node-b", 10, LEASE)
        .await
        .unwrap()
        .is_empty());
    b.clock.advance(ChronoDuration::seconds(61));
    let again = s.claim_batch_items("node-b", 10, LEASE).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].run, 2);
    assert_ne!(again[0].request_id, dead[0].request_id);
    // The first run comes back late: it stores nothing and charges nothing.
    let settled = s
        .complete_batch_item(&dead[0], ok_result(vec![dead_r]))
        .await
        .unwrap();
    assert_eq!(settled, ItemSettled::Stale);
    let a = s.account(&acc).await.unwrap().unwrap();
    assert_eq!((a.balance, a.reserved), (Credits(100), Credits(0)));
    let r = s
        .reserve(&acc, &again[0].request_id, Credits(5), LEASE)
        .await
        .unwrap();
    s.complete_batch_item(&again[0], ok_result(vec![r]))
        .await
        .unwrap();
    let a = s.account(&acc).await.unwrap().unwrap();
    assert_eq!((a.balance, a.reserved), (Credits(95), Credits(0)));
    let done = s.batch(&batch.id, None).await.unwrap().unwrap();
    assert_eq!(
        (done.processed_count, done.credits_charged),
        (1, Credits(5))
    );
}

async fn requeued_items_wait_their_turn(b: &Backend) {
    let s = &b.store;
    let acc = account(b, 100).await;
    s.create_batch(new_batch(&acc, 1, None, false))
        .await
        .unwrap();
    let c = s.claim_batch_items("node-a", 10, LEASE).await.unwrap();
    assert!(s
        .requeue_batch_item(&c[0], Duration::from_secs(5))
        .await
        .unwrap());
    // A second requeue of the same claim is refused: the claim is gone.
    assert!(!s
        .requeue_batch_item(&c[0], Duration::from_secs(5))
        .await
        .unwrap());
    assert!(s
        .claim_batch_items("node-a", 10, LEASE)
        .await
        .unwrap()
        .is_empty());
    b.clock.advance(ChronoDuration::seconds(6));
    let c = s.claim_batch_items("node-a", 10, LEASE).await.unwrap();
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].run, 2);
}

async fn concurrent_claimers_never_share_an_item(b: &Backend) {
    let acc = account(b, 100).await;
    let (batch, _) = b
        .store
        .create_batch(new_batch(&acc, 60, None, false))
        .await
        .unwrap();
    let claimers = (0..6).map(|n| {
        let s: Arc<dyn Store> = b.store.clone();
        tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = s
                    .claim_batch_items(&format!("node-{n}"), 4, LEASE)
                    .await
                    .unwrap();
                if got.is_empty() {
                    break;
                }
                mine.extend(got.into_iter().map(|c| c.index));
            }
            mine
        })
    });
    let mut seen = HashSet::new();
    let mut total = 0;
    for handle in claimers {
        for index in handle.await.unwrap() {
            total += 1;
            assert!(seen.insert(index), "item {index} claimed twice");
        }
    }
    assert_eq!(total, 60, "{}", batch.id);
}

async fn a_batch_without_success_is_failed_and_the_webhook_follows_its_schedule(b: &Backend) {
    let s = &b.store;
    let acc = account(b, 100).await;
    let (batch, _) = s
        .create_batch(new_batch(&acc, 1, None, true))
        .await
        .unwrap();
    // Not due while the batch runs.
    assert!(s.take_due_webhooks(10, LEASE).await.unwrap().is_empty());
    let c = s.claim_batch_items("node-a", 10, LEASE).await.unwrap();
    s.complete_batch_item(&c[0], error_result(vec![]))
        .await
        .unwrap();
    let done = s.batch(&batch.id, None).await.unwrap().unwrap();
    assert_eq!(done.status, BatchStatus::Failed);

    let mut waits = Vec::new();
    for delivery in 1..=6u32 {
        let due = s.take_due_webhooks(10, LEASE).await.unwrap();
        assert_eq!(due.len(), 1, "delivery {delivery}");
        assert_eq!(due[0].attempts, delivery - 1);
        assert_eq!(due[0].secret, "whsec_test");
        // Leased: not handed out twice.
        assert!(s.take_due_webhooks(10, LEASE).await.unwrap().is_empty());
        let status = s
            .record_webhook_delivery(&batch.id, Err(format!("HTTP 500 on {delivery}")))
            .await
            .unwrap();
        let now = b.clock.now();
        let after = s.batch(&batch.id, None).await.unwrap().unwrap();
        assert_eq!(after.webhook_attempts, delivery);
        assert_eq!(
            after.webhook_last_error.as_deref(),
            Some(format!("HTTP 500 on {delivery}").as_str())
        );
        match after.webhook_next_at {
            Some(next) => {
                assert_eq!(status, WebhookStatus::Pending);
                let wait = next - now;
                // Stored times are whole milliseconds: round to the schedule's seconds.
                waits.push((wait.num_milliseconds() + 500) / 1000);
                // Not due a second early.
                b.clock.advance(wait - ChronoDuration::seconds(1));
                assert!(s.take_due_webhooks(10, LEASE).await.unwrap().is_empty());
                b.clock.advance(ChronoDuration::seconds(1));
            }
            None => assert_eq!(status, WebhookStatus::Failed),
        }
    }
    assert_eq!(waits, vec![60, 120, 300, 900, 3600]);
    let after = s.batch(&batch.id, None).await.unwrap().unwrap();
    assert_eq!(after.webhook_status, Some(WebhookStatus::Failed));
    assert!(s.take_due_webhooks(10, LEASE).await.unwrap().is_empty());

    // A delivered webhook is delivered for good.
    let (ok_batch, _) = s
        .create_batch(new_batch(&acc, 1, None, true))
        .await
        .unwrap();
    let c = s.claim_batch_items("node-a", 10, LEASE).await.unwrap();
    s.complete_batch_item(&c[0], ok_result(vec![]))
        .await
        .unwrap();
    let due = s.take_due_webhooks(10, LEASE).await.unwrap();
    assert_eq!(due[0].batch_id, ok_batch.id);
    let status = s
        .record_webhook_delivery(&ok_batch.id, Ok(()))
        .await
        .unwrap();
    assert_eq!(status, WebhookStatus::Delivered);
    let after = s.batch(&ok_batch.id, None).await.unwrap().unwrap();
    assert!(after.webhook_delivered_at.is_some());
    assert_eq!(after.webhook_next_at, None);
}

async fn batches_advance_side_by_side(b: &Backend) {
    let s = &b.store;
    let big_owner = account(b, 100).await;
    let small_owner = account(b, 100).await;
    let (big, _) = s
        .create_batch(new_batch(&big_owner, 50, None, false))
        .await
        .unwrap();
    b.clock.advance(ChronoDuration::seconds(1));
    let (small, _) = s
        .create_batch(new_batch(&small_owner, 2, None, false))
        .await
        .unwrap();
    // The batch created later is not held back behind the first one's fifty items.
    let claimed = s.claim_batch_items("node-a", 4, LEASE).await.unwrap();
    let from = |id: &str| claimed.iter().filter(|c| c.batch_id == id).count();
    assert_eq!((from(&big.id), from(&small.id)), (2, 2), "{claimed:?}");
}
