//! The batch worker of one node: claims ready items under a lease, runs each exactly as
//! its sync call runs (region, the account's limits, capacity, credits, the fetch), and
//! stores the result with its charge in one transaction.
//!
//! It has its own budget of items in flight (`batches.workers`, at most half the global
//! capacity) so sync traffic always keeps room. An item refused for the account's limits
//! or the global capacity is not a result: it is put back to wait its `Retry-After`.

use super::create::item_params;
use crate::auth::Caller;
use crate::envelope::new_request_id;
use crate::error::{ApiError, Envelope};
use crate::pipeline::{self, billing::Settlement, Ctx};
use crate::record::{self, Recorded};
use crate::state::AppState;
use asa_model::{Credits, ErrorCode};
use asa_store::batch::{ClaimedItem, ItemResult, ItemSettled};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tracing::Instrument;

/// Items claimed per store round trip.
const CLAIM_BATCH: u32 = 16;

/// The node's worker budget: `batches.workers`, never more than half the capacity.
pub fn budget(state: &AppState) -> u32 {
    let half = (state.config.capacity / 2).max(1);
    state.config.batches.workers.min(half)
}

/// How long an item is the claiming worker's: its whole upstream budget and the
/// reservation grace, so a live run never loses its lease.
pub fn lease(state: &AppState) -> Duration {
    state.config.upstream.timeout + state.config.reservation_grace
}

/// Runs until the task is aborted.
pub async fn run(state: AppState) {
    let slots = budget(&state);
    if slots == 0 {
        tracing::info!("batch worker off on this node (batches.workers = 0)");
        return;
    }
    let owner = format!(
        "node_{}",
        new_request_id().as_str().trim_start_matches("req_")
    );
    tracing::info!(owner, slots, "batch worker started");
    let free = Arc::new(Semaphore::new(slots as usize));
    loop {
        // Claim only for free slots, so a claimed item never waits on the budget while its
        // lease runs.
        let available = free.available_permits() as u32;
        if available == 0 {
            match free.acquire().await {
                Ok(p) => drop(p),
                Err(_) => return,
            }
            continue;
        }
        let claimed = match state
            .store
            .claim_batch_items(&owner, available.min(CLAIM_BATCH), lease(&state))
            .await
        {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "claiming batch items failed");
                tokio::time::sleep(state.config.batches.poll).await;
                continue;
            }
        };
        if claimed.is_empty() {
            tokio::select! {
                _ = state.batch_wake.notified() => {}
                _ = tokio::time::sleep(state.config.batches.poll) => {}
            }
            continue;
        }
        for item in claimed {
            let Ok(permit) = free.clone().acquire_owned().await else {
                return;
            };
            let state = state.clone();
            let span = tracing::info_span!(
                "batch_item",
                request_id = %item.request_id,
                batch_id = %item.batch_id,
                index = item.index,
                run = item.run,
            );
            tokio::spawn(
                async move {
                    run_item(&state, item).await;
                    drop(permit);
                }
                .instrument(span),
            );
        }
    }
}

/// The account and key a batch runs as. The key may have been rotated since: the batch
/// was accepted for its account, which keeps paying for it.
async fn caller(state: &AppState, item: &ClaimedItem) -> Result<Caller, ApiError> {
    let account = state
        .store
        .account(&item.account_id)
        .await
        .map_err(|e| ApiError::internal(format!("batch account lookup: {e}")))?
        .ok_or_else(|| ApiError::internal(format!("batch account {} is gone", item.account_id)))?;
    let key = state
        .store
        .key(&item.key_id)
        .await
        .map_err(|e| ApiError::internal(format!("batch key lookup: {e}")))?
        .ok_or_else(|| ApiError::internal(format!("batch key {} is gone", item.key_id)))?;
    let plan = state.effective_plan(&account)?;
    Ok(Caller { account, key, plan })
}

async fn run_item(state: &AppState, item: ClaimedItem) {
    let started = Instant::now();
    let mut ctx = Ctx::default();
    let settlement = Settlement::with_result();
    let outcome = async {
        let caller = caller(state, &item).await?;
        ctx.name(&caller);
        let call = item_params(item.endpoint, &item.input)?;
        pipeline::run(
            state,
            &caller,
            &item.request_id,
            &call,
            &mut ctx,
            &settlement,
        )
        .await
    }
    .await;
    let kept = settlement.kept();

    if let Err(e) = &outcome {
        if matches!(e.code, ErrorCode::RateLimited | ErrorCode::Capacity) {
            // Not a result: the account (or the node) is busy. Wait and run it again.
            for r in &kept {
                let _ = state.store.release(r).await;
            }
            let wait = Duration::from_secs(e.retry_after.unwrap_or(1).max(1));
            if let Err(err) = state.store.requeue_batch_item(&item, wait).await {
                tracing::error!(error = %err, "requeueing a batch item failed; its lease will lapse");
            }
            return;
        }
    }
    let elapsed = started.elapsed();
    let (status, code) = match &outcome {
        Ok((status, _)) => (status.as_u16(), None),
        Err(e) => (e.code.status(), Some(e.code)),
    };
    let result = match outcome {
        Ok((_, data)) => ItemResult {
            ok: true,
            http_status: status,
            data: Some(data),
            error: None,
            duration_ms: elapsed.as_millis() as i64,
            reservations: kept.clone(),
        },
        Err(e) => ItemResult {
            ok: false,
            http_status: status,
            data: None,
            error: Some(Envelope::json(&e, &item.request_id, &state.docs_base)),
            duration_ms: elapsed.as_millis() as i64,
            reservations: kept.clone(),
        },
    };
    let mut charged = Credits::ZERO;
    let mut final_status = (status, code);
    match state.store.complete_batch_item(&item, result).await {
        Ok(ItemSettled::Stored {
            credits_charged,
            batch_finished,
        }) => {
            charged = credits_charged;
            if batch_finished {
                tracing::info!("batch finished");
            }
        }
        Ok(ItemSettled::Stale) => {
            tracing::warn!(
                "batch item lease lapsed before its result was stored; another run owns it"
            );
            return;
        }
        Ok(ItemSettled::ChargeRefused) => {
            // Delivered but no longer payable: stored as an error, and nothing is billed.
            let e = ApiError::internal("a batch item's reservation could not be charged");
            final_status = (e.code.status(), Some(e.code));
            let failed = ItemResult {
                ok: false,
                http_status: e.code.status(),
                data: None,
                error: Some(Envelope::json(&e, &item.request_id, &state.docs_base)),
                duration_ms: elapsed.as_millis() as i64,
                reservations: kept,
            };
            if let Err(err) = state.store.complete_batch_item(&item, failed).await {
                tracing::error!(error = %err, "storing a batch item failed; its lease will lapse");
                return;
            }
        }
        Err(e) => {
            // Nothing was stored or charged; the run's reservations expire, the lease lapses
            // and the item runs again.
            tracing::error!(error = %e, "storing a batch item failed; its lease will lapse");
            return;
        }
    }
    let mut params = item.input.clone();
    if let Some(map) = params.as_object_mut() {
        map.remove("api_key");
        map.insert("batch_id".into(), item.batch_id.clone().into());
        map.insert("batch_index".into(), item.index.into());
    }
    record::record(
        state,
        Recorded {
            request_id: item.request_id.clone(),
            endpoint: item.endpoint.as_str().to_string(),
            params,
            status: final_status.0,
            code: final_status.1.map(|c| c.as_str().to_string()),
            charged,
            elapsed,
            info: ctx.info,
        },
    );
}
