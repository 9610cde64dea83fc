//! Request traces: batched inserts, reads scoped to an owner, filters, the retention
//! sweep, and usage figures aggregated from them.

use super::{from_ms, get, to_ms, SqlStore};
use crate::error::StoreError;
use crate::trace::{
    AccountActivity, CodeCount, LatencySummary, Outcome, Trace, TraceFilter, Usage, UsageRow,
    UsageTotals,
};
use asa_model::{AccountId, RequestId};
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

/// A value bound to a numbered placeholder.
enum Bind {
    Text(String),
    Int(i64),
}

/// A WHERE clause built condition by condition, numbering its placeholders in order.
#[derive(Default)]
struct Conditions {
    sql: Vec<String>,
    binds: Vec<Bind>,
}

impl Conditions {
    /// Binds a value and returns its placeholder number.
    fn bind(&mut self, b: Bind) -> usize {
        self.binds.push(b);
        self.binds.len()
    }

    /// `column_op` ends with the operator, e.g. `"account_id = "`.
    fn push(&mut self, column_op: &str, b: Bind) {
        let n = self.bind(b);
        self.sql.push(format!("{column_op}${n}"));
    }

    fn push_like(&mut self, expr: &str, pattern: String) {
        let n = self.bind(Bind::Text(pattern));
        self.sql.push(format!("{expr} LIKE ${n} ESCAPE '\\'"));
    }

    fn raw(&mut self, condition: &str) {
        self.sql.push(condition.to_string());
    }

    fn where_clause(&self) -> String {
        match self.sql.is_empty() {
            true => String::new(),
            false => format!(" WHERE {}", self.sql.join(" AND ")),
        }
    }

    fn bound<'q>(
        &'q self,
        mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        for b in &self.binds {
            query = match b {
                Bind::Text(t) => query.bind(t.as_str()),
                Bind::Int(i) => query.bind(*i),
            };
        }
        query
    }
}

/// Escapes `%`, `_` and the escape character itself for `LIKE ... ESCAPE '\'`.
fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
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
                    .bind(&t.account_id)
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
        request_id: &RequestId,
        account_id: Option<&AccountId>,
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
        let mut w = Conditions::default();
        if let Some(a) = &filter.account_id {
            w.push("account_id = ", Bind::Text(a.to_string()));
        }
        if let Some(k) = &filter.key_prefix {
            w.push("key_prefix = ", Bind::Text(k.clone()));
        }
        if let Some(t) = filter.since {
            w.push("created_at >= ", Bind::Int(to_ms(t)));
        }
        if let Some(t) = filter.before {
            w.push("created_at < ", Bind::Int(to_ms(t)));
        }
        if let Some(c) = &filter.code {
            w.push("error_code = ", Bind::Text(c.clone()));
        }
        if let Some(e) = &filter.endpoint {
            w.push("endpoint = ", Bind::Text(e.clone()));
        }
        match filter.outcome {
            Some(Outcome::Ok) => w.raw("status >= 200 AND status < 300"),
            Some(Outcome::Error) => w.raw("(status < 200 OR status >= 300)"),
            None => {}
        }
        if let Some(text) = filter.text.as_deref().filter(|t| !t.is_empty()) {
            let pattern = format!("%{}%", like_escape(&text.to_ascii_lowercase()));
            w.push_like("LOWER(params)", pattern);
        }
        if let Some(domain) = &filter.domain {
            // Params are stored as compact JSON, so a member reads `"domain":"de"`.
            let member = format!("%\"domain\":\"{}\"%", like_escape(domain));
            if domain == "com" {
                let n = w.bind(Bind::Text(member));
                w.raw(&format!(
                    "(params LIKE ${n} ESCAPE '\\' OR params NOT LIKE '%\"domain\":%')"
                ));
            } else {
                w.push_like("params", member);
            }
        }
        let limit = w.bind(Bind::Int(filter.effective_limit()));
        let sql = format!(
            "SELECT {TRACE_COLUMNS} FROM traces{} \
             ORDER BY created_at DESC, request_id DESC LIMIT ${limit}",
            w.where_clause()
        );
        w.bound(sqlx::query(&sql))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(trace_from_row)
            .collect()
    }

    pub(crate) async fn errors_by_day_impl(
        &self,
        account_id: Option<&AccountId>,
        days: u32,
    ) -> Result<Vec<CodeCount>, StoreError> {
        let mut w = Conditions::default();
        w.push("created_at >= ", Bind::Int(self.days_start_ms(days)));
        w.raw("(status < 200 OR status >= 300)");
        if let Some(a) = account_id {
            w.push("account_id = ", Bind::Text(a.to_string()));
        }
        let sql = format!(
            "SELECT created_at / 86400000 AS day, error_code, COUNT(*) AS requests \
             FROM traces{} GROUP BY created_at / 86400000, error_code \
             ORDER BY day, error_code",
            w.where_clause()
        );
        w.bound(sqlx::query(&sql))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                let day: i64 = get(row, "day")?;
                Ok(CodeCount {
                    date: from_ms(day * DAY_MS)?.date_naive(),
                    code: get(row, "error_code")?,
                    requests: get(row, "requests")?,
                })
            })
            .collect()
    }

    pub(crate) async fn latency_summary_impl(
        &self,
        account_id: Option<&AccountId>,
        since: DateTime<Utc>,
    ) -> Result<LatencySummary, StoreError> {
        let mut w = Conditions::default();
        w.push("created_at >= ", Bind::Int(to_ms(since)));
        if let Some(a) = account_id {
            w.push("account_id = ", Bind::Text(a.to_string()));
        }
        let limit = w.bind(Bind::Int(LatencySummary::SAMPLE));
        let sql = format!(
            "SELECT latency_ms, status FROM traces{} ORDER BY created_at DESC LIMIT ${limit}",
            w.where_clause()
        );
        let samples = w
            .bound(sqlx::query(&sql))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                let status: i64 = get(row, "status")?;
                Ok((get(row, "latency_ms")?, (200..300).contains(&status)))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(LatencySummary::from_samples(samples))
    }

    pub(crate) async fn activity_impl(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<AccountActivity>, StoreError> {
        sqlx::query(
            "SELECT account_id, COUNT(*) AS requests, \
             CAST(SUM(CASE WHEN status >= 200 AND status < 300 THEN 0 ELSE 1 END) AS BIGINT) \
             AS errors, CAST(SUM(credits_charged) AS BIGINT) AS credits \
             FROM traces WHERE created_at >= $1 GROUP BY account_id ORDER BY account_id",
        )
        .bind(to_ms(since))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(AccountActivity {
                account_id: get(row, "account_id")?,
                requests: get(row, "requests")?,
                errors: get(row, "errors")?,
                credits: get(row, "credits")?,
            })
        })
        .collect()
    }

    /// Midnight UTC that starts the last `days` days, today included.
    fn days_start_ms(&self, days: u32) -> i64 {
        let today = self.now().date_naive();
        let since = today
            .checked_sub_days(Days::new(u64::from(days.max(1) - 1)))
            .unwrap_or(today);
        to_ms(since.and_time(chrono::NaiveTime::MIN).and_utc())
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
        account_id: &AccountId,
        days: u32,
    ) -> Result<Usage, StoreError> {
        let since_ms = self.days_start_ms(days);
        let since = from_ms(since_ms)?.date_naive();
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
