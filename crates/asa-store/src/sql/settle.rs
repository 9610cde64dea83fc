//! Settling reservations: charge on a 2xx, release otherwise, expiry when the node that
//! held one died. Each flips `state` from `held` with a conditional UPDATE, so exactly one
//! of them wins per request id.

use super::ledger::{holdings, ledger_from_row, month_start, record, Entry};
use super::{get, to_ms, SqlStore};
use crate::error::StoreError;
use crate::types::{ChargeOutcome, LedgerEntry, LedgerKind, Refusal, Reservation};
use asa_model::{AccountId, Credits, RequestId};
use chrono::{DateTime, Utc};
use sqlx::{Any, Transaction};

/// Reservations expired per transaction, so a long backlog never holds the lock for long.
const EXPIRE_BATCH: i64 = 200;

impl SqlStore {
    pub(crate) async fn charge_impl(&self, r: &Reservation) -> Result<ChargeOutcome, StoreError> {
        let now = to_ms(self.now());
        let mut w = self.begin_settling_write().await?;
        let outcome = self.charge_in(&mut w.tx, r, now).await?;
        w.commit().await?;
        Ok(outcome)
    }

    /// [`Self::charge_impl`] inside the caller's write transaction, so a charge can commit
    /// together with what it pays for (a batch item's result). A refusal writes nothing.
    pub(crate) async fn charge_in(
        &self,
        tx: &mut Transaction<'static, Any>,
        r: &Reservation,
        now: i64,
    ) -> Result<ChargeOutcome, StoreError> {
        let held = sqlx::query(
            "UPDATE reservations SET state = 'charged', settled_at = $1 \
             WHERE request_id = $2 AND state = 'held' RETURNING account_id, cost",
        )
        .bind(now)
        .bind(&r.request_id)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(held) = held {
            let account_id: AccountId = get(&held, "account_id")?;
            let cost: Credits = get(&held, "cost")?;
            let row = sqlx::query(
                "UPDATE accounts SET reserved = reserved - $1 WHERE id = $2 \
                 RETURNING balance, reserved",
            )
            .bind(cost)
            .bind(&account_id)
            .fetch_one(&mut **tx)
            .await?;
            let after = holdings(&row)?;
            let entry = Entry {
                account_id: &account_id,
                kind: LedgerKind::Charge,
                amount: cost,
                after,
                request_id: Some(&r.request_id),
                note: None,
            };
            record(tx, entry, now).await?;
            return Ok(ChargeOutcome::Charged {
                balance: after.balance,
                late: false,
            });
        }
        let settled = sqlx::query(&format!(
            "SELECT state, account_id, cost FROM reservations WHERE request_id = $1{}",
            self.dialect.for_update()
        ))
        .bind(&r.request_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found("reservation", &r.request_id))?;
        let state: String = get(&settled, "state")?;
        match state.as_str() {
            "charged" => Ok(ChargeOutcome::AlreadyCharged),
            "released" => Ok(ChargeOutcome::Refused(Refusal::Released)),
            "expired" => {
                let account_id: AccountId = get(&settled, "account_id")?;
                let cost: Credits = get(&settled, "cost")?;
                self.late_charge(tx, &r.request_id, &account_id, cost, now)
                    .await
            }
            other => Err(StoreError::Corrupt(format!("reservation state {other:?}"))),
        }
    }

    /// The request outlived its reservation but did succeed: bill it from the balance if
    /// the balance still covers it, so every delivered 2xx is charged exactly once; if not,
    /// refuse, and the caller must not deliver the 2xx.
    async fn late_charge(
        &self,
        tx: &mut Transaction<'static, Any>,
        request_id: &RequestId,
        account_id: &AccountId,
        cost: Credits,
        now: i64,
    ) -> Result<ChargeOutcome, StoreError> {
        let row = sqlx::query(
            "UPDATE accounts SET balance = balance - $1 WHERE id = $2 AND balance >= $1 \
             RETURNING balance, reserved",
        )
        .bind(cost)
        .bind(account_id)
        .fetch_optional(&mut **tx)
        .await?;
        let Some(row) = row else {
            let balance: Credits = sqlx::query_scalar("SELECT balance FROM accounts WHERE id = $1")
                .bind(account_id)
                .fetch_one(&mut **tx)
                .await?;
            return Ok(ChargeOutcome::Refused(Refusal::ExpiredInsufficient {
                balance,
                cost,
            }));
        };
        sqlx::query(
            "UPDATE reservations SET state = 'charged', settled_at = $1 WHERE request_id = $2",
        )
        .bind(now)
        .bind(request_id)
        .execute(&mut **tx)
        .await?;
        let after = holdings(&row)?;
        let entry = Entry {
            account_id,
            kind: LedgerKind::Charge,
            amount: cost,
            after,
            request_id: Some(request_id),
            note: Some("late: the reservation had expired"),
        };
        record(tx, entry, now).await?;
        tracing::warn!(account_id = %account_id,
            request_id = %request_id,
            "charged after its reservation expired"
        );
        Ok(ChargeOutcome::Charged {
            balance: after.balance,
            late: true,
        })
    }

    pub(crate) async fn release_impl(&self, r: &Reservation) -> Result<bool, StoreError> {
        let now = to_ms(self.now());
        let mut w = self.begin_settling_write().await?;
        let held = sqlx::query(
            "UPDATE reservations SET state = 'released', settled_at = $1 \
             WHERE request_id = $2 AND state = 'held' RETURNING account_id, cost",
        )
        .bind(now)
        .bind(&r.request_id)
        .fetch_optional(&mut *w.tx)
        .await?;
        let Some(held) = held else {
            return Ok(false);
        };
        let account_id: AccountId = get(&held, "account_id")?;
        let cost: Credits = get(&held, "cost")?;
        self.give_back(
            &mut w,
            &account_id,
            &r.request_id,
            cost,
            LedgerKind::Release,
            now,
        )
        .await?;
        w.commit().await?;
        Ok(true)
    }

    async fn give_back(
        &self,
        w: &mut super::WriteTx<'_>,
        account_id: &AccountId,
        request_id: &RequestId,
        cost: Credits,
        kind: LedgerKind,
        now: i64,
    ) -> Result<(), StoreError> {
        let row = sqlx::query(
            "UPDATE accounts SET balance = balance + $1, reserved = reserved - $1 \
             WHERE id = $2 RETURNING balance, reserved",
        )
        .bind(cost)
        .bind(account_id)
        .fetch_one(&mut *w.tx)
        .await?;
        let entry = Entry {
            account_id,
            kind,
            amount: cost,
            after: holdings(&row)?,
            request_id: Some(request_id),
            note: None,
        };
        record(&mut w.tx, entry, now).await
    }

    pub(crate) async fn expire_reservations_impl(
        &self,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let now = to_ms(now);
        let mut total = 0u64;
        loop {
            let mut w = self.begin_write().await?;
            let rows = sqlx::query(
                "UPDATE reservations SET state = 'expired', settled_at = $1 \
                 WHERE state = 'held' AND request_id IN (SELECT request_id FROM reservations \
                 WHERE state = 'held' AND expires_at <= $1 ORDER BY expires_at LIMIT $2) \
                 RETURNING request_id, account_id, cost",
            )
            .bind(now)
            .bind(EXPIRE_BATCH)
            .fetch_all(&mut *w.tx)
            .await?;
            for row in &rows {
                let request_id: RequestId = get(row, "request_id")?;
                let account_id: AccountId = get(row, "account_id")?;
                let cost: Credits = get(row, "cost")?;
                self.give_back(
                    &mut w,
                    &account_id,
                    &request_id,
                    cost,
                    LedgerKind::Expire,
                    now,
                )
                .await?;
            }
            w.commit().await?;
            total += rows.len() as u64;
            if (rows.len() as i64) < EXPIRE_BATCH {
                break;
            }
        }
        if total > 0 {
            tracing::warn!(count = total, "expired reservations released");
        }
        Ok(total)
    }

    pub(crate) async fn ledger_impl(
        &self,
        account_id: &AccountId,
        limit: u32,
    ) -> Result<Vec<LedgerEntry>, StoreError> {
        sqlx::query(
            "SELECT id, account_id, kind, amount, balance_after, reserved_after, request_id, \
             note, created_at FROM ledger WHERE account_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(account_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(ledger_from_row)
        .collect()
    }

    pub(crate) async fn auto_topup_this_month_impl(
        &self,
        account_id: &AccountId,
    ) -> Result<Credits, StoreError> {
        let since = month_start(self.now());
        let mut conn = self.pool.begin().await?;
        let spent = self.topped_up_since(&mut conn, account_id, since).await?;
        conn.commit().await?;
        Ok(spent)
    }
}
