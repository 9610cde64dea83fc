//! Batches through the typed API: a sandbox batch is created, polled until it finishes
//! and read back with its results; idempotency, the list, and a bad item's typed 400.

use crate::harness::Server;
use asa_client::{Batch, BatchEndpoint, BatchRequest, BatchStatus, ErrorCode, ProductParams, Stop};
use asa_model::KeyKind;
use std::time::Duration;

/// Polls `get_batch` until the batch is complete or failed (bounded, so a stuck batch
/// fails the test instead of hanging it).
async fn finished(c: &asa_client::Client, id: &str) -> asa_client::Reply<Batch> {
    for _ in 0..600 {
        let b = c.get_batch(id).await.unwrap();
        if b.data.status.is_finished() {
            return b;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("batch {id} did not finish");
}

#[tokio::test]
async fn a_sandbox_batch_runs_to_completion_and_reads_typed() {
    let s = Server::start(asa_sim::SimConfig::default(), |_| {});
    let h = s.account("free", 0, KeyKind::Test).await;
    let c = s.client(&h.key).build().unwrap();

    let req = BatchRequest::products([
        ProductParams::new("B000LQXC2Q"),
        ProductParams::new("B0NOTFND01"),
        ProductParams::new("B000LQXC2R").domain("de"),
    ])
    .idempotency_key("rust-sdk-batch-1");
    let created = c.create_batch(req.clone()).await.unwrap();
    let b = &created.data;
    assert_eq!(created.meta.status, 201);
    assert!(
        b.id.starts_with("bat_") && b.id.len() == 20,
        "{}",
        created.raw
    );
    assert_eq!(b.status, BatchStatus::Pending);
    assert_eq!(b.endpoint.as_deref(), Some("amazon.product"));
    assert_eq!(b.total_count, 3);
    assert_eq!(b.processed_count, 0);
    assert!(b
        .webhook_signature_secret
        .as_deref()
        .unwrap()
        .starts_with("whsec_"));
    assert!(b
        .poll_url
        .as_deref()
        .unwrap()
        .ends_with(&format!("/api/v1/amazon/batch/{}", b.id)));
    assert!(b.created_at.is_some() && b.completed_at.is_none());
    assert_eq!(b.webhook_url, None);
    assert_eq!(b.webhook_delivery_status, None);
    assert_eq!(b.webhook_attempts, 0);
    assert_eq!(b.request_id.as_deref(), Some(created.request_id()));

    // The same Idempotency-Key answers the first batch again.
    let again = c.create_batch(req).await.unwrap();
    assert_eq!(again.meta.status, 201);
    assert_eq!(again.data.id, b.id);
    assert_eq!(
        again.data.webhook_signature_secret,
        b.webhook_signature_secret
    );

    let done = finished(&c, &b.id).await;
    let d = &done.data;
    assert_eq!(d.status, BatchStatus::Complete, "{}", done.raw);
    assert_eq!(
        (d.processed_count, d.success_count, d.failure_count),
        (3, 2, 1)
    );
    assert_eq!(d.credits_charged, 0, "sandbox batches are free");
    assert!(d.started_at.is_some() && d.completed_at.is_some());
    assert_eq!(d.webhook_signature_secret, None);
    assert_eq!(d.results_next_offset, None);
    assert_eq!(d.results.len(), 3);
    for (i, r) in d.results.iter().enumerate() {
        assert_eq!(r.index as usize, i);
        assert!(
            r.request_id.as_deref().unwrap().starts_with("req_"),
            "{r:?}"
        );
    }
    let ok = &d.results[0];
    assert_eq!((ok.status.as_str(), ok.http_status), ("ok", 200));
    assert_eq!(ok.input["query"], "B000LQXC2Q");
    assert_eq!(ok.data.as_ref().unwrap()["asin"], "B000LQXC2Q");
    assert!(ok.error.is_none());
    let missing = &d.results[1];
    assert_eq!(
        (missing.status.as_str(), missing.http_status),
        ("error", 404)
    );
    assert_eq!(
        missing.error.as_ref().unwrap()["error"],
        "product_not_found",
        "{:?}",
        missing.error
    );
    assert_eq!(missing.credits_charged, 0);
    let de = &d.results[2];
    assert_eq!(de.input["domain"], "de");
    assert_eq!(de.data.as_ref().unwrap()["marketplace"], "de");

    let list = c.list_batches(Some(5)).await.unwrap();
    assert_eq!(list.data.batches.len(), 1, "{}", list.raw);
    let listed = &list.data.batches[0];
    assert_eq!(listed.id, b.id);
    assert_eq!(listed.status, BatchStatus::Complete);
    assert!(listed.results.is_empty());
}

#[tokio::test]
async fn a_bad_item_or_an_unknown_batch_is_a_typed_error_not_retried() {
    let s = Server::start(asa_sim::SimConfig::default(), |_| {});
    let h = s.account("free", 0, KeyKind::Test).await;
    let c = s.client(&h.key).build().unwrap();
    let bad = BatchRequest {
        endpoint: BatchEndpoint::Search,
        items: vec![
            serde_json::json!({"query": "usb c"}),
            serde_json::json!({"query": "usb c", "pages": 11}),
        ],
        webhook_url: None,
        idempotency_key: None,
    };
    let e = c.create_batch(bad).await.unwrap_err();
    let api = e.as_api().unwrap_or_else(|| panic!("{e:?}"));
    assert_eq!(api.kind, Some(ErrorCode::InvalidParams), "{e}");
    assert_eq!(api.status, 400);
    assert!(api.message.starts_with("items[1]"), "{}", api.message);
    assert_eq!((api.stop, api.attempts.len()), (Stop::NotRetryable, 1));

    let e = c
        .create_batch(
            BatchRequest::products([ProductParams::new("B000LQXC2Q")])
                .webhook_url("http://127.0.0.1:9/hook"),
        )
        .await
        .unwrap_err();
    let api = e.as_api().unwrap();
    assert_eq!(api.kind, Some(ErrorCode::InvalidParams), "{e}");
    assert!(api.message.contains("webhook_url"), "{}", api.message);

    let e = c.get_batch("bat_0000000000000000").await.unwrap_err();
    assert_eq!(e.kind(), Some(ErrorCode::NotFound), "{e}");
    assert_eq!(e.attempts().len(), 1);
}

#[test]
fn null_fields_of_a_result_read_as_defaults() {
    let b: Batch = serde_json::from_value(serde_json::json!({
        "id": "bat_0123456789abcdef", "status": "failed", "total_count": 1,
        "webhook_attempts": null, "results_next_offset": null, "results": [
            {"index": 0, "input": {"query": "B0X"}, "status": "error", "http_status": null,
             "data": null, "error": {"error": "internal_error"}, "duration_ms": null,
             "credits_charged": 0, "request_id": null}
        ]
    }))
    .unwrap();
    assert_eq!(b.webhook_attempts, 0);
    assert_eq!(b.results[0].http_status, 0);
    assert_eq!(b.results[0].duration_ms, 0);
    assert_eq!(b.results[0].request_id, None);
}
