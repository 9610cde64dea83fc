//! Accounts: creation (with opening credits), lookup, plan and auto-top-up settings.

use super::ledger::auto_topup_of;
use super::{from_ms, get, to_ms, SqlStore};
use crate::error::StoreError;
use crate::secret::new_id;
use crate::types::{Account, AutoTopup, LedgerKind, NewAccount, PlanOverrides};
use asa_model::{AccountId, Credits};
use sqlx::any::AnyRow;

pub(crate) const ACCOUNT_COLUMNS: &str = "id, name, plan, concurrency_override, rps_override, \
     balance, reserved, topup_threshold, topup_amount, topup_monthly_cap, created_at";

fn override_from_db(v: Option<i64>) -> Result<Option<u32>, StoreError> {
    v.map(|n| u32::try_from(n).map_err(|_| StoreError::Corrupt(format!("override {n}"))))
        .transpose()
}

pub(crate) fn account_from_row(row: &AnyRow) -> Result<Account, StoreError> {
    let auto_topup = auto_topup_of(row)?;
    Ok(Account {
        id: get(row, "id")?,
        name: get(row, "name")?,
        plan: get(row, "plan")?,
        overrides: PlanOverrides {
            concurrency: override_from_db(get(row, "concurrency_override")?)?,
            rps: override_from_db(get(row, "rps_override")?)?,
        },
        balance: get(row, "balance")?,
        reserved: get(row, "reserved")?,
        auto_topup,
        created_at: from_ms(get(row, "created_at")?)?,
    })
}

impl SqlStore {
    /// A plan an account may be put on: a name of 1 to 64 characters, and one of the
    /// configured plans when the store was told them.
    fn check_plan(&self, plan: &str) -> Result<(), StoreError> {
        if plan.trim().is_empty() || plan.len() > 64 {
            return Err(StoreError::InvalidArgument(
                "plan name must be 1 to 64 characters".into(),
            ));
        }
        match &self.options.plans {
            Some(plans) if !plans.contains(plan) => Err(StoreError::InvalidArgument(format!(
                "no plan {plan:?}; configured plans: {}",
                plans.iter().cloned().collect::<Vec<_>>().join(", ")
            ))),
            _ => Ok(()),
        }
    }

    pub(crate) async fn create_account_impl(&self, new: NewAccount) -> Result<Account, StoreError> {
        self.check_plan(&new.plan)?;
        if new.credits < Credits::ZERO {
            return Err(StoreError::InvalidArgument(
                "opening credits cannot be negative".into(),
            ));
        }
        let id = new_id("acc_");
        let now = to_ms(self.now());
        let mut w = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "INSERT INTO accounts (id, name, plan, balance, reserved, created_at) \
             VALUES ($1, $2, $3, $4, 0, $5) RETURNING {ACCOUNT_COLUMNS}"
        ))
        .bind(&id)
        .bind(&new.name)
        .bind(&new.plan)
        .bind(new.credits)
        .bind(now)
        .fetch_one(&mut *w.tx)
        .await?;
        if new.credits.is_positive() {
            // Opening credits are a top-up, so the ledger alone explains every balance.
            sqlx::query(
                "INSERT INTO ledger (account_id, kind, amount, balance_after, reserved_after, \
                 request_id, note, created_at) VALUES ($1, $2, $3, $3, 0, NULL, $4, $5)",
            )
            .bind(&id)
            .bind(LedgerKind::TopUp.as_str())
            .bind(new.credits)
            .bind("opening credits")
            .bind(now)
            .execute(&mut *w.tx)
            .await?;
        }
        w.commit().await?;
        tracing::info!(account_id = %id, plan = %new.plan, "account created");
        account_from_row(&row)
    }

    pub(crate) async fn account_impl(&self, id: &AccountId) -> Result<Option<Account>, StoreError> {
        sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(account_from_row)
        .transpose()
    }

    pub(crate) async fn list_accounts_impl(&self) -> Result<Vec<Account>, StoreError> {
        sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY created_at, id"
        ))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(account_from_row)
        .collect()
    }

    pub(crate) async fn set_plan_impl(
        &self,
        id: &AccountId,
        plan: &str,
        overrides: PlanOverrides,
    ) -> Result<(), StoreError> {
        self.check_plan(plan)?;
        let done = sqlx::query(
            "UPDATE accounts SET plan = $1, concurrency_override = $2, rps_override = $3 \
             WHERE id = $4",
        )
        .bind(plan)
        .bind(overrides.concurrency.map(i64::from))
        .bind(overrides.rps.map(i64::from))
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found("account", id.as_str()));
        }
        Ok(())
    }

    pub(crate) async fn set_auto_topup_impl(
        &self,
        id: &AccountId,
        auto_topup: Option<AutoTopup>,
    ) -> Result<(), StoreError> {
        if let Some(a) = auto_topup {
            a.check()?;
        }
        let done = sqlx::query(
            "UPDATE accounts SET topup_threshold = $1, topup_amount = $2, topup_monthly_cap = $3 \
             WHERE id = $4",
        )
        .bind(auto_topup.map(|a| a.threshold))
        .bind(auto_topup.map(|a| a.amount))
        .bind(auto_topup.map(|a| a.monthly_cap))
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found("account", id.as_str()));
        }
        Ok(())
    }
}
