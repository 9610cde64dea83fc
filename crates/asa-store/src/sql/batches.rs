//! Batches: creation (idempotent per key), reads scoped to the owner, the item queue
//! (claimed under leases, `FOR UPDATE SKIP LOCKED` on PostgreSQL so several nodes share it),
//! settling an item with its charge in one transaction, and webhook deliveries.

use super::{from_ms, get, opt_from_ms, to_ms, Dialect, SqlStore};
use crate::batch::*;
use crate::error::StoreError;
use crate::secret::new_id;
use crate::types::ChargeOutcome;
use asa_model::{AccountId, Credits, KeyId};
use sqlx::any::AnyRow;
use std::collections::HashMap;
use std::time::Duration;

const BATCH_COLUMNS: &str = "id, account_id, key_id, endpoint, status, total_count, \
     processed_count, success_count, failure_count, credits_charged, webhook_url, \
     webhook_secret, idempotency_key, request_id, created_at, started_at, completed_at, \
     webhook_status, webhook_attempts, webhook_next_at, webhook_last_error, webhook_delivered_at";
const ITEM_COLUMNS: &str = "batch_id, idx, input, state, request_id, http_status, data, error, \
     duration_ms, credits_charged, finished_at";
/// Items per INSERT statement (5 parameters each): under both databases' limits.
const ITEMS_PER_INSERT: usize = 100;

fn count(row: &AnyRow, column: &str) -> Result<u32, StoreError> {
    let n: i64 = get(row, column)?;
    u32::try_from(n).map_err(|_| StoreError::Corrupt(format!("batch {column} {n}")))
}

fn json_column(row: &AnyRow, column: &str) -> Result<Option<serde_json::Value>, StoreError> {
    let text: Option<String> = get(row, column)?;
    text.map(|t| {
        serde_json::from_str(&t).map_err(|e| StoreError::Corrupt(format!("batch {column}: {e}")))
    })
    .transpose()
}

fn endpoint_from(row: &AnyRow) -> Result<BatchEndpoint, StoreError> {
    let s: String = get(row, "endpoint")?;
    BatchEndpoint::parse(&s).ok_or_else(|| StoreError::Corrupt(format!("batch endpoint {s:?}")))
}

fn batch_from_row(row: &AnyRow) -> Result<Batch, StoreError> {
    let status: String = get(row, "status")?;
    let webhook_status: Option<String> = get(row, "webhook_status")?;
    Ok(Batch {
        id: get(row, "id")?,
        account_id: get(row, "account_id")?,
        key_id: get(row, "key_id")?,
        endpoint: endpoint_from(row)?,
        status: BatchStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("batch status {status:?}")))?,
        total_count: count(row, "total_count")?,
        processed_count: count(row, "processed_count")?,
        success_count: count(row, "success_count")?,
        failure_count: count(row, "failure_count")?,
        credits_charged: get(row, "credits_charged")?,
        webhook_url: get(row, "webhook_url")?,
        webhook_secret: get(row, "webhook_secret")?,
        idempotency_key: get(row, "idempotency_key")?,
        request_id: get(row, "request_id")?,
        created_at: from_ms(get(row, "created_at")?)?,
        started_at: opt_from_ms(get(row, "started_at")?)?,
        completed_at: opt_from_ms(get(row, "completed_at")?)?,
        webhook_status: webhook_status
            .map(|s| {
                WebhookStatus::parse(&s)
                    .ok_or_else(|| StoreError::Corrupt(format!("webhook status {s:?}")))
            })
            .transpose()?,
        webhook_attempts: count(row, "webhook_attempts")?,
        webhook_next_at: opt_from_ms(get(row, "webhook_next_at")?)?,
        webhook_last_error: get(row, "webhook_last_error")?,
        webhook_delivered_at: opt_from_ms(get(row, "webhook_delivered_at")?)?,
    })
}

fn item_from_row(row: &AnyRow) -> Result<BatchItem, StoreError> {
    let state: String = get(row, "state")?;
    let http_status: Option<i64> = get(row, "http_status")?;
    Ok(BatchItem {
        batch_id: get(row, "batch_id")?,
        index: count(row, "idx")?,
        input: json_column(row, "input")?.unwrap_or(serde_json::Value::Null),
        state: ItemState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("item state {state:?}")))?,
        request_id: get(row, "request_id")?,
        http_status: http_status.map(|s| s.clamp(0, 999) as u16),
        data: json_column(row, "data")?,
        error: json_column(row, "error")?,
        duration_ms: get(row, "duration_ms")?,
        credits_charged: get(row, "credits_charged")?,
        finished_at: opt_from_ms(get(row, "finished_at")?)?,
    })
}

impl SqlStore {
    fn skip_locked(&self) -> &'static str {
        match self.dialect {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    pub(crate) async fn create_batch_impl(
        &self,
        new: NewBatch,
    ) -> Result<(Batch, bool), StoreError> {
        if new.items.is_empty() {
            return Err(StoreError::InvalidArgument("a batch needs items".into()));
        }
        let now = to_ms(self.now());
        let id = new_id("bat_");
        let mut w = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO batches (id, account_id, key_id, endpoint, status, total_count, \
             webhook_url, webhook_secret, idempotency_key, request_id, created_at, webhook_status) \
             VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (account_id, idempotency_key) DO NOTHING RETURNING id",
        )
        .bind(&id)
        .bind(&new.account_id)
        .bind(&new.key_id)
        .bind(new.endpoint.as_str())
        .bind(new.items.len() as i64)
        .bind(new.webhook_url.as_deref())
        .bind(&new.webhook_secret)
        .bind(new.idempotency_key.as_deref())
        .bind(&new.request_id)
        .bind(now)
        .bind(
            new.webhook_url
                .as_ref()
                .map(|_| WebhookStatus::Pending.as_str()),
        )
        .fetch_optional(&mut *w.tx)
        .await?;
        if inserted.is_none() {
            // The idempotency key was used before: the first batch is the answer.
            drop(w);
            let key = new.idempotency_key.as_deref().unwrap_or_default();
            let row = sqlx::query(&format!(
                "SELECT {BATCH_COLUMNS} FROM batches WHERE account_id = $1 AND idempotency_key = $2"
            ))
            .bind(&new.account_id)
            .bind(key)
            .fetch_one(&self.pool)
            .await?;
            return Ok((batch_from_row(&row)?, false));
        }
        for (c, chunk) in new.items.chunks(ITEMS_PER_INSERT).enumerate() {
            let values: Vec<String> = (0..chunk.len())
                .map(|r| {
                    let p = r * 3;
                    format!("($1, ${}, ${}, 'queued', ${})", p + 2, p + 3, p + 4)
                })
                .collect();
            let sql = format!(
                "INSERT INTO batch_items (batch_id, idx, input, state, available_at) VALUES {}",
                values.join(", ")
            );
            let mut q = sqlx::query(&sql).bind(&id);
            for (i, item) in chunk.iter().enumerate() {
                q = q
                    .bind((c * ITEMS_PER_INSERT + i) as i64)
                    .bind(item.to_string())
                    .bind(now);
            }
            q.execute(&mut *w.tx).await?;
        }
        w.commit().await?;
        let batch = self
            .batch_impl(&id, None)
            .await?
            .ok_or_else(|| StoreError::not_found("batch", &id))?;
        Ok((batch, true))
    }

    pub(crate) async fn batch_impl(
        &self,
        id: &str,
        account_id: Option<&AccountId>,
    ) -> Result<Option<Batch>, StoreError> {
        // Another account's batch is indistinguishable from a missing one.
        let row = match account_id {
            Some(account_id) => {
                sqlx::query(&format!(
                    "SELECT {BATCH_COLUMNS} FROM batches WHERE id = $1 AND account_id = $2"
                ))
                .bind(id)
                .bind(account_id)
                .fetch_optional(&self.pool)
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {BATCH_COLUMNS} FROM batches WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
            }
        };
        row.as_ref().map(batch_from_row).transpose()
    }

    pub(crate) async fn batches_impl(
        &self,
        account_id: &AccountId,
        limit: u32,
    ) -> Result<Vec<Batch>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {BATCH_COLUMNS} FROM batches WHERE account_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2"
        ))
        .bind(account_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(batch_from_row).collect()
    }

    pub(crate) async fn batch_items_impl(
        &self,
        batch_id: &str,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<BatchItem>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ITEM_COLUMNS} FROM batch_items WHERE batch_id = $1 \
             ORDER BY idx LIMIT $2 OFFSET $3"
        ))
        .bind(batch_id)
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(item_from_row).collect()
    }

    pub(crate) async fn claim_batch_items_impl(
        &self,
        owner: &str,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<ClaimedItem>, StoreError> {
        let now = self.now();
        let lease_until = now + chrono::Duration::from_std(lease).unwrap_or_default();
        let (now_ms, until_ms) = (to_ms(now), to_ms(lease_until));
        let mut w = self.begin_write().await?;
        // Ready items: queued ones whose time has come, and running ones whose worker's lease
        // ran out (it died or hung). Index first, so batches advance side by side: a batch
        // of a thousand items queued first does not hold back another account's batch of ten.
        let ready = sqlx::query(&format!(
            "SELECT batch_id, idx FROM batch_items \
             WHERE state IN ('queued', 'running') AND available_at <= $1 \
             ORDER BY idx, available_at, batch_id LIMIT $2{}",
            self.skip_locked()
        ))
        .bind(now_ms)
        .bind(i64::from(limit))
        .fetch_all(&mut *w.tx)
        .await?;
        let mut batches: HashMap<String, (AccountId, KeyId, BatchEndpoint)> = HashMap::new();
        let mut claimed = Vec::with_capacity(ready.len());
        for row in &ready {
            let batch_id: String = get(row, "batch_id")?;
            let idx: i64 = get(row, "idx")?;
            let item = sqlx::query(
                "UPDATE batch_items SET state = 'running', lease_owner = $1, available_at = $2, \
                 runs = runs + 1 WHERE batch_id = $3 AND idx = $4 RETURNING input, runs",
            )
            .bind(owner)
            .bind(until_ms)
            .bind(&batch_id)
            .bind(idx)
            .fetch_one(&mut *w.tx)
            .await?;
            if !batches.contains_key(&batch_id) {
                let b = sqlx::query(
                    "UPDATE batches SET status = 'running', started_at = COALESCE(started_at, $1) \
                     WHERE id = $2 RETURNING account_id, key_id, endpoint",
                )
                .bind(now_ms)
                .bind(&batch_id)
                .fetch_one(&mut *w.tx)
                .await?;
                batches.insert(
                    batch_id.clone(),
                    (
                        get(&b, "account_id")?,
                        get(&b, "key_id")?,
                        endpoint_from(&b)?,
                    ),
                );
            }
            let (account_id, key_id, endpoint) = batches[&batch_id].clone();
            let index =
                u32::try_from(idx).map_err(|_| StoreError::Corrupt(format!("idx {idx}")))?;
            let run = count(&item, "runs")?;
            claimed.push(ClaimedItem {
                request_id: item_request_id(&batch_id, index, run),
                batch_id,
                index,
                account_id,
                key_id,
                endpoint,
                input: json_column(&item, "input")?.unwrap_or(serde_json::Value::Null),
                run,
                lease_owner: owner.to_string(),
                lease_until,
            });
        }
        w.commit().await?;
        Ok(claimed)
    }

    pub(crate) async fn requeue_batch_item_impl(
        &self,
        item: &ClaimedItem,
        not_before: Duration,
    ) -> Result<bool, StoreError> {
        let at = to_ms(self.now() + chrono::Duration::from_std(not_before).unwrap_or_default());
        let mut w = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE batch_items SET state = 'queued', lease_owner = NULL, available_at = $1 \
             WHERE batch_id = $2 AND idx = $3 AND state = 'running' AND lease_owner = $4 \
             AND runs = $5",
        )
        .bind(at)
        .bind(&item.batch_id)
        .bind(i64::from(item.index))
        .bind(&item.lease_owner)
        .bind(i64::from(item.run))
        .execute(&mut *w.tx)
        .await?
        .rows_affected();
        w.commit().await?;
        Ok(done == 1)
    }

    pub(crate) async fn complete_batch_item_impl(
        &self,
        item: &ClaimedItem,
        result: ItemResult,
    ) -> Result<ItemSettled, StoreError> {
        if !result.ok {
            // Nothing is billed for a failed item: give its reservations back first, so a
            // crash before the result is stored loses nothing.
            for r in &result.reservations {
                self.release_impl(r).await?;
            }
        }
        let now = to_ms(self.now());
        let credits: Credits = if result.ok {
            result.reservations.iter().map(|r| r.cost).sum()
        } else {
            Credits::ZERO
        };
        let mut w = self.begin_settling_write().await?;
        let stored = sqlx::query(
            "UPDATE batch_items SET state = $1, request_id = $2, http_status = $3, data = $4, \
             error = $5, duration_ms = $6, credits_charged = $7, finished_at = $8, \
             lease_owner = NULL WHERE batch_id = $9 AND idx = $10 AND state = 'running' \
             AND lease_owner = $11 AND runs = $12",
        )
        .bind(if result.ok { "ok" } else { "error" })
        .bind(&item.request_id)
        .bind(i64::from(result.http_status))
        .bind(result.data.as_ref().map(|v| v.to_string()))
        .bind(result.error.as_ref().map(|v| v.to_string()))
        .bind(result.duration_ms)
        .bind(credits)
        .bind(now)
        .bind(&item.batch_id)
        .bind(i64::from(item.index))
        .bind(&item.lease_owner)
        .bind(i64::from(item.run))
        .execute(&mut *w.tx)
        .await?
        .rows_affected();
        if stored != 1 {
            drop(w);
            for r in &result.reservations {
                self.release_impl(r).await?;
            }
            return Ok(ItemSettled::Stale);
        }
        if result.ok {
            for r in &result.reservations {
                match self.charge_in(&mut w.tx, r, now).await? {
                    ChargeOutcome::Charged { .. } | ChargeOutcome::AlreadyCharged => {}
                    // Dropping the transaction undoes the result and every charge made.
                    ChargeOutcome::Refused(_) => return Ok(ItemSettled::ChargeRefused),
                }
            }
        }
        let (ok, err) = if result.ok { (1i64, 0i64) } else { (0, 1) };
        let counts = sqlx::query(
            "UPDATE batches SET processed_count = processed_count + 1, \
             success_count = success_count + $1, failure_count = failure_count + $2, \
             credits_charged = credits_charged + $3 WHERE id = $4 \
             RETURNING processed_count, total_count, success_count",
        )
        .bind(ok)
        .bind(err)
        .bind(credits)
        .bind(&item.batch_id)
        .fetch_one(&mut *w.tx)
        .await?;
        let finished = count(&counts, "processed_count")? >= count(&counts, "total_count")?;
        if finished {
            let status = if count(&counts, "success_count")? > 0 {
                BatchStatus::Complete
            } else {
                BatchStatus::Failed
            };
            // The webhook (if any) is due from now.
            sqlx::query(
                "UPDATE batches SET status = $1, completed_at = $2, \
                 webhook_next_at = CASE WHEN webhook_url IS NULL THEN NULL ELSE $2 END \
                 WHERE id = $3",
            )
            .bind(status.as_str())
            .bind(now)
            .bind(&item.batch_id)
            .execute(&mut *w.tx)
            .await?;
        }
        w.commit().await?;
        Ok(ItemSettled::Stored {
            credits_charged: credits,
            batch_finished: finished,
        })
    }

    pub(crate) async fn take_due_webhooks_impl(
        &self,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<DueWebhook>, StoreError> {
        let now = self.now();
        let until = to_ms(now + chrono::Duration::from_std(lease).unwrap_or_default());
        let mut w = self.begin_write().await?;
        let due = sqlx::query(&format!(
            "SELECT id, account_id, webhook_url, webhook_secret, webhook_attempts FROM batches \
             WHERE webhook_status = 'pending' AND webhook_next_at IS NOT NULL \
             AND webhook_next_at <= $1 ORDER BY webhook_next_at LIMIT $2{}",
            self.skip_locked()
        ))
        .bind(to_ms(now))
        .bind(i64::from(limit))
        .fetch_all(&mut *w.tx)
        .await?;
        let mut taken = Vec::with_capacity(due.len());
        for row in &due {
            let id: String = get(row, "id")?;
            // Leased: due again only if this delivery never reports back.
            sqlx::query("UPDATE batches SET webhook_next_at = $1 WHERE id = $2")
                .bind(until)
                .bind(&id)
                .execute(&mut *w.tx)
                .await?;
            let url: Option<String> = get(row, "webhook_url")?;
            taken.push(DueWebhook {
                batch_id: id,
                account_id: get(row, "account_id")?,
                url: url.unwrap_or_default(),
                secret: get(row, "webhook_secret")?,
                attempts: count(row, "webhook_attempts")?,
            });
        }
        w.commit().await?;
        Ok(taken)
    }

    pub(crate) async fn record_webhook_delivery_impl(
        &self,
        batch_id: &str,
        outcome: Result<(), String>,
    ) -> Result<WebhookStatus, StoreError> {
        let now = self.now();
        let mut w = self.begin_write().await?;
        let row = sqlx::query(
            "UPDATE batches SET webhook_attempts = webhook_attempts + 1 WHERE id = $1 \
             AND webhook_status = 'pending' RETURNING webhook_attempts",
        )
        .bind(batch_id)
        .fetch_optional(&mut *w.tx)
        .await?;
        let Some(row) = row else {
            // Already settled by another delivery of the same batch.
            drop(w);
            let b = self
                .batch_impl(batch_id, None)
                .await?
                .ok_or_else(|| StoreError::not_found("batch", batch_id))?;
            return Ok(b.webhook_status.unwrap_or(WebhookStatus::Delivered));
        };
        let attempts = count(&row, "webhook_attempts")?;
        let (status, next_at, error) = match outcome {
            Ok(()) => (WebhookStatus::Delivered, None, None),
            Err(e) => match webhook_retry_delay(attempts) {
                Some(d) => (
                    WebhookStatus::Pending,
                    Some(to_ms(
                        now + chrono::Duration::from_std(d).unwrap_or_default(),
                    )),
                    Some(e),
                ),
                None => (WebhookStatus::Failed, None, Some(e)),
            },
        };
        sqlx::query(
            "UPDATE batches SET webhook_status = $1, webhook_next_at = $2, \
             webhook_last_error = COALESCE($3, webhook_last_error), \
             webhook_delivered_at = CASE WHEN $1 = 'delivered' THEN $4 ELSE webhook_delivered_at END \
             WHERE id = $5",
        )
        .bind(status.as_str())
        .bind(next_at)
        .bind(error)
        .bind(to_ms(now))
        .bind(batch_id)
        .execute(&mut *w.tx)
        .await?;
        w.commit().await?;
        Ok(status)
    }
}
