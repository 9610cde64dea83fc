//! Request traces: batched inserts, reads scoped to an owner, filters, the retention
//! sweep, and usage figures aggregated from them.

use super::{from_ms, get, to_ms, SqlStore};
use crate::error::StoreError;
use crate::trace::{Trace, TraceFilter, Usage, UsageRow, UsageTotals};
use chrono::{DateTime, Days, Utc};
use sqlx::any::AnyRow;

const TRACE_COLUMNS: &str = "request_id, created_at, account_id, key_prefix, endpoint, params, \
     status, error_code, credits_charged, latency_ms, attempts, extractor";
const TRACE_COLUMN_COUNT: usize = 12;
/// Rows per INSERT statement: well under both databases' bound-parameter limits.
const ROWS_PER_INSERT: usize = 50;
const DAY_MS: i64 = 86_400_000;

fn json_text(v: &serde_json::Value) -> String {
    v.to_string()
}

fn json_from(row: &AnyRow, column: &str) -> Result<serde_json::Value, StoreError> {
    let text: String = get(row, column)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("trace {column}: {e}")))
}

fn trace_from_row(row: &AnyRow) -> Result<Trace, StoreError> {
    let status: i64 = get(row, "status")?;
    Ok(Trace {
        request_id: get(row, "request_id")?,
        created_at: from_ms(get(row, "created_at")?)?,
        account_id: get(row, "account_id")?,
        key_prefix: get(row, "key_prefix")?,
        endpoint: get(row, "endpoint")?,
        params: json_from(row, "params")?,
        status: u16::try_from(status)
            .map_err(|_| StoreError::Corrupt(format!("trace status {status}")))?,
        error_code: get(row, "error_code")?,
        credits_charged: get(row, "credits_charged")?,
        latency_ms: get(row, "latency_ms")?,
        attempts: json_from(row, "attempts")?,
        extractor: json_from(row, "extractor")?,
    })
}

fn insert_sql(rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|r| {
            let ps: Vec<String> = (1..=TRACE_COLUMN_COUNT)
                .map(|c| format!("${}", r * TRACE_COLUMN_COUNT + c))
                .collect();
            format!("({})", ps.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO traces ({TRACE_COLUMNS}) VALUES {} ON CONFLICT (request_id) DO NOTHING",
        values.join(", ")
    )
}

impl SqlStore {
    pub(crate) async fn insert_traces_impl(&self, batch: &[Trace]) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut w = self.begin_write().await?;
        for chunk in batch.chunks(ROWS_PER_INSERT) {
            let sql = insert_sql(chunk.len());
            let mut query = sqlx::query(&sql);
            for t in chunk {
                query = query
                    .bind(t.request_id.as_str())
                    .bind(to_ms(t.created_at))
                    .bind(t.account_id.as_deref())
                    .bind(t.key_prefix.as_deref())
                    .bind(t.endpoint.as_str())
                    .bind(json_text(&t.scrubbed_params()))
                    .bind(i64::from(t.status))
                    .bind(t.error_code.as_deref())
                    .bind(t.credits_charged)
                    .bind(t.latency_ms)
                    .bind(json_text(&t.attempts))
                    .bind(json_text(&t.extractor));
            }
            query.execute(&mut *w.tx).await?;
        }
        w.commit().await
    }

    pub(crate) async fn trace_impl(
        &self,
        request_id: &str,
        account_id: Option<&str>,
    ) -> Result<Option<Trace>, StoreError> {
        let mut sql = format!("SELECT {TRACE_COLUMNS} FROM traces WHERE request_id = $1");
        if account_id.is_some() {
            sql.push_str(" AND account_id = $2");
        }
        let mut query = sqlx::query(&sql).bind(request_id);
        if let Some(account_id) = account_id {
            query = query.bind(account_id);
        }
        query
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(trace_from_row)
            .transpose()
    }

    pub(crate) async fn traces_impl(&self, filter: &TraceFilter) -> Result<Vec<Trace>, StoreError> {
        let mut conditions = Vec::new();
        let mut n = 0;
        let mut next = || {
            n += 1;
            n
        };
        if filter.account_id.is_some() {
            conditions.push(format!("account_id = ${}", next()));
        }
        if filter.key_prefix.is_some() {
            conditions.push(format!("key_prefix = ${}", next()));
        }
        if filter.since.is_some() {
            conditions.push(format!("created_at >= ${}", next()));
        }
        if filter.code.is_some() {
            conditions.push(format!("error_code = ${}", next()));
        }
        let limit = next();
        let where_clause = match conditions.is_empty() {
            true => String::new(),
            false => format!(" WHERE {}", conditions.join(" AND ")),
        };
        let sql = format!(
            "SELECT {TRACE_COLUMNS} FROM traces{where_clause} \
             ORDER BY created_at DESC, request_id DESC LIMIT ${limit}"
        );
        let mut query = sqlx::query(&sql);
        if let Some(a) = &filter.account_id {
            query = query.bind(a.as_str());
        }
        if let Some(k) = &filter.key_prefix {
            query = query.bind(k.as_str());
        }
        if let Some(s) = filter.since {
            query = query.bind(to_ms(s));
        }
        if let Some(c) = &filter.code {
            query = query.bind(c.as_str());
        }
        query
            .bind(filter.effective_limit())
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(trace_from_row)
            .collect()
    }

    pub(crate) async fn sweep_traces_impl(
        &self,
        older_than: DateTime<Utc>,
        batch: u32,
    ) -> Result<u64, StoreError> {
        let batch = i64::from(batch.max(1));
        let mut total = 0u64;
        loop {
            // One short transaction per batch keeps request writers from waiting long.
            let mut w = self.begin_write().await?;
            let deleted = sqlx::query(
                "DELETE FROM traces WHERE request_id IN \
                 (SELECT request_id FROM traces WHERE created_at < $1 LIMIT $2)",
            )
            .bind(to_ms(older_than))
            .bind(batch)
            .execute(&mut *w.tx)
            .await?
            .rows_affected();
            w.commit().await?;
            total += deleted;
            if (deleted as i64) < batch {
                break;
            }
        }
        if total > 0 {
            tracing::info!(count = total, "traces swept");
        }
        Ok(total)
    }

    pub(crate) async fn usage_impl(
        &self,
        account_id: &str,
        days: u32,
    ) -> Result<Usage, StoreError> {
        let today = self.now().date_naive();
        let since = today
            .checked_sub_days(Days::new(u64::from(days.max(1) - 1)))
            .unwrap_or(today);
        let since_ms = to_ms(since.and_time(chrono::NaiveTime::MIN).and_utc());
        let rows = sqlx::query(
            "SELECT created_at / 86400000 AS day, key_prefix, COUNT(*) AS requests, \
             CAST(SUM(CASE WHEN credits_charged > 0 THEN 1 ELSE 0 END) AS BIGINT) AS billed, \
             CAST(SUM(credits_charged) AS BIGINT) AS credits \
             FROM traces WHERE account_id = $1 AND created_at >= $2 \
             GROUP BY created_at / 86400000, key_prefix",
        )
        .bind(account_id)
        .bind(since_ms)
        .fetch_all(&self.pool)
        .await?;
        let rows = rows
            .iter()
            .map(|row| {
                let day: i64 = get(row, "day")?;
                Ok(UsageRow {
                    date: from_ms(day * DAY_MS)?.date_naive(),
                    key_prefix: get(row, "key_prefix")?,
                    totals: UsageTotals {
                        requests: get(row, "requests")?,
                        billed_requests: get(row, "billed")?,
                        credits: get(row, "credits")?,
                    },
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Usage::from_rows(since, rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_sql_numbers_every_parameter() {
        let sql = insert_sql(2);
        assert!(sql.contains("($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12), ($13,"));
        assert!(sql.contains("$24)"));
        assert!(!sql.contains("$25"));
    }
}
