//! Delivers `batch.completed`: takes due deliveries under a lease (so one node sends each),
//! checks the target again, POSTs the signed body to exactly the checked addresses without
//! following redirects, and records the outcome: delivered on a 2xx, otherwise due again
//! after 1, 2, 5, 15 and 60 minutes, then `failed` with the last error kept. Delivery is at
//! least once; `X-ASA-Batch-Id` lets the receiver drop repeats.

use super::{body, target};
use crate::state::AppState;
use asa_model::webhook::{self, BATCH_COMPLETED, BATCH_ID_HEADER, EVENT_HEADER, SIGNATURE_HEADER};
use asa_store::batch::DueWebhook;
use std::time::Duration;

/// Deliveries taken per store round trip.
const TAKE: u32 = 8;
/// How often the deliverer looks for due webhooks.
const POLL: Duration = Duration::from_secs(1);
/// Longest error text kept for the user.
const ERROR_LEN: usize = 300;

/// Runs until the task is aborted.
pub async fn run(state: AppState) {
    // A taken delivery is due again if this node never reports back (it died mid-send).
    let lease = state.config.batches.webhook_timeout * 3 + Duration::from_secs(30);
    loop {
        match state.store.take_due_webhooks(TAKE, lease).await {
            Ok(due) if !due.is_empty() => {
                let sends = due.into_iter().map(|d| deliver_and_record(&state, d));
                futures::future::join_all(sends).await;
                continue;
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "taking due webhooks failed"),
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn deliver_and_record(state: &AppState, due: DueWebhook) {
    let outcome = deliver(state, &due).await;
    match &outcome {
        Ok(()) => tracing::info!(batch_id = %due.batch_id, "webhook delivered"),
        Err(e) => {
            tracing::warn!(batch_id = %due.batch_id, attempt = due.attempts + 1, error = %e, "webhook delivery failed")
        }
    }
    if let Err(e) = state
        .store
        .record_webhook_delivery(&due.batch_id, outcome)
        .await
    {
        tracing::error!(batch_id = %due.batch_id, error = %e, "recording a webhook delivery failed; it will be retried");
    }
}

/// The body a webhook carries: the batch with every result, as `GET` shows it.
pub async fn payload(state: &AppState, batch_id: &str) -> Result<Vec<u8>, String> {
    let batch = state
        .store
        .batch(batch_id, None)
        .await
        .map_err(|e| format!("reading the batch: {e}"))?
        .ok_or_else(|| "the batch is gone".to_string())?;
    let items = state
        .store
        .batch_items(batch_id, 0, batch.total_count)
        .await
        .map_err(|e| format!("reading the batch's results: {e}"))?;
    let mut json = serde_json::to_value(body::with_results(&batch, &state.docs_base, &items))
        .map_err(|e| format!("encoding the batch: {e}"))?;
    json["event"] = BATCH_COMPLETED.into();
    json["request_id"] = batch.request_id.to_string().into();
    serde_json::to_vec(&json).map_err(|e| format!("encoding the batch: {e}"))
}

async fn deliver(state: &AppState, due: &DueWebhook) -> Result<(), String> {
    let cfg = &state.config.batches;
    let checked = target::resolve(&due.url, cfg.allow_private_webhooks)
        .await
        .map_err(|e| format!("webhook_url refused: {e}"))?;
    let body = payload(state, &due.batch_id).await?;
    let signature = webhook::sign(&due.secret, &body);
    // Connect to the addresses just checked, never to a second DNS answer; a redirect is
    // an answer like any other non-2xx, never followed.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(cfg.webhook_timeout)
        .resolve_to_addrs(&checked.host, &checked.addrs)
        .user_agent(concat!("asa-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("building the webhook client: {e}"))?;
    let res = client
        .post(checked.url)
        .header("content-type", "application/json")
        .header(BATCH_ID_HEADER, &due.batch_id)
        .header(EVENT_HEADER, BATCH_COMPLETED)
        .header(SIGNATURE_HEADER, signature)
        .body(body)
        .send()
        .await
        .map_err(|e| clip(format!("sending: {e}")))?;
    let status = res.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("the receiver answered HTTP {}", status.as_u16()))
    }
}

fn clip(mut s: String) -> String {
    if s.len() > ERROR_LEN {
        let mut end = ERROR_LEN;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}
