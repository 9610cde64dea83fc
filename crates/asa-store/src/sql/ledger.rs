//! The credit ledger. A reservation moves credits from balance to reserved with one
//! conditional UPDATE (`balance >= cost`), so no interleaving takes a balance below zero;
//! settling flips the reservation's state from `held` with another conditional UPDATE, so
//! exactly one of charge, release and expiry wins for each request id, and the ledger's
//! UNIQUE (kind, request_id) stops a second charge even if that guard were bypassed.

use super::{duration_ms, from_ms, get, to_ms, SqlStore, WriteTx};
use crate::error::{ReserveError, StoreError};
use crate::payments::PaymentRequest;
use crate::secret::new_id;
use crate::types::{AutoTopup, LedgerEntry, LedgerKind, Reservation};
use asa_model::{AccountId, Credits, RequestId};
use chrono::{DateTime, Datelike, TimeZone, Utc};
use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};
use std::time::Duration;

/// Balance and reserved right after a change.
#[derive(Debug, Clone, Copy)]
pub(super) struct Holdings {
    pub(super) balance: Credits,
    pub(super) reserved: Credits,
}

pub(super) fn holdings(row: &AnyRow) -> Result<Holdings, StoreError> {
    Ok(Holdings {
        balance: get(row, "balance")?,
        reserved: get(row, "reserved")?,
    })
}

/// An account's auto-top-up setting from its three columns (all set, or none).
pub(super) fn auto_topup_of(row: &AnyRow) -> Result<Option<AutoTopup>, StoreError> {
    let threshold: Option<Credits> = get(row, "topup_threshold")?;
    let amount: Option<Credits> = get(row, "topup_amount")?;
    let cap: Option<Credits> = get(row, "topup_monthly_cap")?;
    Ok(match (threshold, amount, cap) {
        (Some(threshold), Some(amount), Some(monthly_cap)) => Some(AutoTopup {
            threshold,
            amount,
            monthly_cap,
        }),
        _ => None,
    })
}

pub(super) fn month_start(now: DateTime<Utc>) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .single()
        .unwrap_or(now)
}

/// A reservation taken, with what the threshold check after it needs.
struct Covered {
    after: Holdings,
    cfg: Option<AutoTopup>,
    topped_up: bool,
}

enum Shortfall {
    Covered(Covered),
    /// Insufficient; `keep` commits what the attempt recorded (top-up, invoice line).
    Refused {
        balance: Credits,
        keep: bool,
    },
}

enum TopUp {
    Done(Holdings),
    CapReached,
    Declined,
}

pub(super) struct Entry<'a> {
    pub(super) account_id: &'a AccountId,
    pub(super) kind: LedgerKind,
    pub(super) amount: Credits,
    pub(super) after: Holdings,
    pub(super) request_id: Option<&'a RequestId>,
    pub(super) note: Option<&'a str>,
}

pub(super) async fn record(
    tx: &mut Transaction<'static, Any>,
    e: Entry<'_>,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO ledger (account_id, kind, amount, balance_after, reserved_after, \
         request_id, note, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(e.account_id)
    .bind(e.kind.as_str())
    .bind(e.amount)
    .bind(e.after.balance)
    .bind(e.after.reserved)
    .bind(e.request_id)
    .bind(e.note)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Takes `cost` from the balance into reserved if the balance covers it.
async fn take(
    tx: &mut Transaction<'static, Any>,
    account_id: &AccountId,
    cost: Credits,
) -> Result<Option<AnyRow>, StoreError> {
    Ok(sqlx::query(
        "UPDATE accounts SET balance = balance - $1, reserved = reserved + $1 \
         WHERE id = $2 AND balance >= $1 \
         RETURNING balance, reserved, topup_threshold, topup_amount, topup_monthly_cap",
    )
    .bind(cost)
    .bind(account_id)
    .fetch_optional(&mut **tx)
    .await?)
}

pub(super) fn ledger_from_row(row: &AnyRow) -> Result<LedgerEntry, StoreError> {
    let kind: String = get(row, "kind")?;
    Ok(LedgerEntry {
        id: get(row, "id")?,
        account_id: get(row, "account_id")?,
        kind: LedgerKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("ledger kind {kind:?}")))?,
        amount: get(row, "amount")?,
        balance_after: get(row, "balance_after")?,
        reserved_after: get(row, "reserved_after")?,
        request_id: get(row, "request_id")?,
        note: get(row, "note")?,
        created_at: from_ms(get(row, "created_at")?)?,
    })
}

impl SqlStore {
    pub(super) async fn topped_up_since(
        &self,
        tx: &mut Transaction<'static, Any>,
        account_id: &AccountId,
        since: DateTime<Utc>,
    ) -> Result<Credits, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM ledger \
             WHERE account_id = $1 AND kind = $2 AND created_at >= $3",
        )
        .bind(account_id)
        .bind(LedgerKind::AutoTopUp.as_str())
        .bind(to_ms(since))
        .fetch_one(&mut **tx)
        .await?)
    }

    /// One auto-top-up under the account's write lock: checks the monthly cap, collects
    /// the payment, records the invoice line (paid or failed) and the ledger entry.
    async fn auto_top_up(
        &self,
        w: &mut WriteTx<'_>,
        account_id: &AccountId,
        request_id: &RequestId,
        cfg: AutoTopup,
        now: DateTime<Utc>,
    ) -> Result<TopUp, StoreError> {
        let spent = self
            .topped_up_since(&mut w.tx, account_id, month_start(now))
            .await?;
        if spent + cfg.amount > cfg.monthly_cap {
            tracing::info!(account_id = %account_id,
                spent = spent.get(),
                cap = cfg.monthly_cap.get(),
                "auto-top-up cap reached"
            );
            return Ok(TopUp::CapReached);
        }
        let invoice_id = new_id("inv_");
        let request = PaymentRequest {
            account_id,
            amount: cfg.amount,
            invoice_id: &invoice_id,
            request_id,
        };
        let paid = self.options.payments.collect(&request).await;
        let (status, reference, failure) = match &paid {
            Ok(receipt) => ("paid", Some(receipt.reference.as_str()), None),
            Err(e) => ("failed", None, Some(e.0.as_str())),
        };
        sqlx::query(
            "INSERT INTO invoice_lines (id, account_id, amount, status, reference, failure, \
             request_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&invoice_id)
        .bind(account_id)
        .bind(cfg.amount)
        .bind(status)
        .bind(reference)
        .bind(failure)
        .bind(request_id)
        .bind(to_ms(now))
        .execute(&mut *w.tx)
        .await?;
        if let Err(e) = paid {
            tracing::warn!(account_id = %account_id, invoice_id, error = %e, "auto-top-up payment failed");
            return Ok(TopUp::Declined);
        }
        let row = sqlx::query(
            "UPDATE accounts SET balance = balance + $1 WHERE id = $2 RETURNING balance, reserved",
        )
        .bind(cfg.amount)
        .bind(account_id)
        .fetch_one(&mut *w.tx)
        .await?;
        let after = holdings(&row)?;
        let note = format!("invoice {invoice_id}");
        let entry = Entry {
            account_id,
            kind: LedgerKind::AutoTopUp,
            amount: cfg.amount,
            after,
            request_id: Some(request_id),
            note: Some(&note),
        };
        record(&mut w.tx, entry, to_ms(now)).await?;
        tracing::info!(account_id = %account_id, invoice_id, amount = cfg.amount.get(), "auto-top-up");
        Ok(TopUp::Done(after))
    }

    pub(crate) async fn add_credits_impl(
        &self,
        account_id: &AccountId,
        amount: Credits,
        note: &str,
    ) -> Result<Credits, StoreError> {
        if !amount.is_positive() {
            return Err(StoreError::InvalidArgument(
                "credits to add must be > 0".into(),
            ));
        }
        let now = to_ms(self.now());
        let mut w = self.begin_write().await?;
        let row = sqlx::query(
            "UPDATE accounts SET balance = balance + $1 WHERE id = $2 RETURNING balance, reserved",
        )
        .bind(amount)
        .bind(account_id)
        .fetch_optional(&mut *w.tx)
        .await?
        .ok_or_else(|| StoreError::not_found("account", account_id.as_str()))?;
        let after = holdings(&row)?;
        let note = Some(note).filter(|n| !n.is_empty());
        let entry = Entry {
            account_id,
            kind: LedgerKind::TopUp,
            amount,
            after,
            request_id: None,
            note,
        };
        record(&mut w.tx, entry, now).await?;
        w.commit().await?;
        Ok(after.balance)
    }

    pub(crate) async fn reserve_impl(
        &self,
        account_id: &AccountId,
        request_id: &RequestId,
        cost: Credits,
        ttl: Duration,
    ) -> Result<Reservation, ReserveError> {
        // `cost > 0` was checked by `reserve_grouped`, the one way in, before queueing.
        let now = self.now();
        let expires_at = from_ms(to_ms(now).saturating_add(duration_ms(ttl)))?;
        let mut w = self.begin_write().await?;
        let Covered {
            mut after,
            cfg,
            topped_up,
        } = match take(&mut w.tx, account_id, cost).await? {
            Some(row) => Covered {
                after: holdings(&row)?,
                cfg: auto_topup_of(&row)?,
                topped_up: false,
            },
            None => match self
                .cover_shortfall(&mut w, account_id, request_id, cost, now)
                .await?
            {
                Shortfall::Covered(covered) => covered,
                Shortfall::Refused { balance, keep } => {
                    if keep {
                        // The transaction holds a collected top-up or a failed invoice line.
                        w.commit().await?;
                    }
                    return Err(ReserveError::Insufficient { balance, cost });
                }
            },
        };
        let inserted = sqlx::query(
            "INSERT INTO reservations (request_id, account_id, cost, state, created_at, expires_at) \
             VALUES ($1, $2, $3, 'held', $4, $5) ON CONFLICT (request_id) DO NOTHING",
        )
        .bind(request_id)
        .bind(account_id)
        .bind(cost)
        .bind(to_ms(now))
        .bind(to_ms(expires_at))
        .execute(&mut *w.tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(duplicate(request_id).into());
        }
        let entry = Entry {
            account_id,
            kind: LedgerKind::Reserve,
            amount: cost,
            after,
            request_id: Some(request_id),
            note: None,
        };
        record(&mut w.tx, entry, to_ms(now)).await?;
        if let Some(cfg) = cfg.filter(|c| !topped_up && after.balance < c.threshold) {
            // Below the threshold: refill now; a cap or a declined payment is not this
            // request's problem, it already holds its credits.
            if let TopUp::Done(topped) = self
                .auto_top_up(&mut w, account_id, request_id, cfg, now)
                .await?
            {
                after = topped;
            }
        }
        w.commit().await?;
        Ok(Reservation {
            request_id: request_id.clone(),
            account_id: account_id.clone(),
            cost,
            expires_at,
            balance_after: after.balance,
        })
    }

    /// The slow path of a reservation the balance cannot cover: lock the account, then
    /// reserve if another transaction refilled it meanwhile, else auto-top-up first.
    async fn cover_shortfall(
        &self,
        w: &mut WriteTx<'_>,
        account_id: &AccountId,
        request_id: &RequestId,
        cost: Credits,
        now: DateTime<Utc>,
    ) -> Result<Shortfall, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT balance, reserved, topup_threshold, topup_amount, topup_monthly_cap \
             FROM accounts WHERE id = $1{}",
            self.dialect.for_update()
        ))
        .bind(account_id)
        .fetch_optional(&mut *w.tx)
        .await?
        .ok_or_else(|| StoreError::not_found("account", account_id.as_str()))?;
        let short = holdings(&row)?;
        let cfg = auto_topup_of(&row)?;
        if short.balance >= cost {
            let row = take(&mut w.tx, account_id, cost)
                .await?
                .ok_or_else(|| StoreError::Corrupt("balance changed under a row lock".into()))?;
            return Ok(Shortfall::Covered(Covered {
                after: holdings(&row)?,
                cfg,
                topped_up: false,
            }));
        }
        let refused = |keep| Shortfall::Refused {
            balance: short.balance,
            keep,
        };
        let Some(cfg) = cfg else {
            return Ok(refused(false));
        };
        // Checked before paying, so a duplicate can never roll back a collected top-up.
        self.refuse_duplicate(&mut w.tx, request_id).await?;
        match self
            .auto_top_up(w, account_id, request_id, cfg, now)
            .await?
        {
            TopUp::Done(topped) => Ok(match take(&mut w.tx, account_id, cost).await? {
                Some(row) => Shortfall::Covered(Covered {
                    after: holdings(&row)?,
                    cfg: Some(cfg),
                    topped_up: true,
                }),
                None => Shortfall::Refused {
                    balance: topped.balance,
                    keep: true,
                },
            }),
            TopUp::Declined => Ok(refused(true)),
            TopUp::CapReached => Ok(refused(false)),
        }
    }

    async fn refuse_duplicate(
        &self,
        tx: &mut Transaction<'static, Any>,
        request_id: &RequestId,
    ) -> Result<(), StoreError> {
        let seen = sqlx::query("SELECT request_id FROM reservations WHERE request_id = $1")
            .bind(request_id)
            .fetch_optional(&mut **tx)
            .await?;
        match seen {
            Some(_) => Err(duplicate(request_id)),
            None => Ok(()),
        }
    }
}

fn duplicate(request_id: &RequestId) -> StoreError {
    StoreError::DuplicateRequest {
        request_id: request_id.clone(),
    }
}
