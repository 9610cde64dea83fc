//! The [`Store`] trait over the SQL backend: each method forwards to its module.

use super::SqlStore;
use crate::batch::*;
use crate::error::{ReserveError, StoreError};
use crate::session::DashboardSession;
use crate::store::Store;
use crate::trace::{AccountActivity, CodeCount, LatencySummary, Trace, TraceFilter, Usage};
use crate::types::*;
use asa_model::{AccountId, ApiKey, Credits, KeyId, KeyKind, RequestId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::time::Duration;

type Result<T, E = StoreError> = std::result::Result<T, E>;

#[async_trait]
impl Store for SqlStore {
    async fn create_account(&self, new: NewAccount) -> Result<Account> {
        self.create_account_impl(new).await
    }
    async fn account(&self, id: &AccountId) -> Result<Option<Account>> {
        self.account_impl(id).await
    }
    async fn list_accounts(&self) -> Result<Vec<Account>> {
        self.list_accounts_impl().await
    }
    async fn set_plan(&self, id: &AccountId, plan: &str, overrides: PlanOverrides) -> Result<()> {
        self.set_plan_impl(id, plan, overrides).await
    }
    async fn create_key(
        &self,
        account_id: &AccountId,
        kind: KeyKind,
    ) -> Result<(KeyRecord, ApiKey)> {
        self.create_key_impl(account_id, kind).await
    }
    async fn authenticate(&self, key: &ApiKey) -> Result<KeyStatus> {
        self.authenticate_impl(key).await
    }
    async fn rotate_key(
        &self,
        key_id: &KeyId,
        grace: Option<Duration>,
    ) -> Result<(KeyRecord, ApiKey)> {
        self.rotate_key_impl(key_id, grace).await
    }
    async fn revoke_key(&self, key_id: &KeyId) -> Result<KeyRecord> {
        self.revoke_key_impl(key_id).await
    }
    async fn key(&self, key_id: &KeyId) -> Result<Option<KeyRecord>> {
        self.key_impl(key_id).await
    }
    async fn keys(&self, account_id: &AccountId) -> Result<Vec<KeyRecord>> {
        self.keys_impl(account_id).await
    }
    async fn add_credits(
        &self,
        account_id: &AccountId,
        amount: Credits,
        note: &str,
    ) -> Result<Credits> {
        self.add_credits_impl(account_id, amount, note).await
    }
    async fn reserve(
        &self,
        account_id: &AccountId,
        request_id: &RequestId,
        cost: Credits,
        ttl: Duration,
    ) -> Result<Reservation, ReserveError> {
        self.reserve_grouped(account_id, request_id, cost, ttl)
            .await
    }
    async fn charge(&self, reservation: &Reservation) -> Result<ChargeOutcome> {
        self.charge_grouped(reservation).await
    }
    async fn release(&self, reservation: &Reservation) -> Result<bool> {
        self.release_grouped(reservation).await
    }
    async fn expire_reservations(&self, now: DateTime<Utc>) -> Result<u64> {
        self.expire_reservations_impl(now).await
    }
    async fn set_auto_topup(
        &self,
        account_id: &AccountId,
        auto_topup: Option<AutoTopup>,
    ) -> Result<()> {
        self.set_auto_topup_impl(account_id, auto_topup).await
    }
    async fn auto_topup_this_month(&self, account_id: &AccountId) -> Result<Credits> {
        self.auto_topup_this_month_impl(account_id).await
    }
    async fn ledger(&self, account_id: &AccountId, limit: u32) -> Result<Vec<LedgerEntry>> {
        self.ledger_impl(account_id, limit).await
    }
    async fn insert_traces(&self, batch: &[Trace]) -> Result<()> {
        self.insert_traces_impl(batch).await
    }
    async fn trace(
        &self,
        request_id: &RequestId,
        account_id: Option<&AccountId>,
    ) -> Result<Option<Trace>> {
        self.trace_impl(request_id, account_id).await
    }
    async fn traces(&self, filter: &TraceFilter) -> Result<Vec<Trace>> {
        self.traces_impl(filter).await
    }
    async fn sweep_traces(&self, older_than: DateTime<Utc>, batch: u32) -> Result<u64> {
        self.sweep_traces_impl(older_than, batch).await
    }
    async fn usage(&self, account_id: &AccountId, days: u32) -> Result<Usage> {
        self.usage_impl(account_id, days).await
    }
    async fn errors_by_day(
        &self,
        account_id: Option<&AccountId>,
        days: u32,
    ) -> Result<Vec<CodeCount>> {
        self.errors_by_day_impl(account_id, days).await
    }
    async fn latency_summary(
        &self,
        account_id: Option<&AccountId>,
        since: DateTime<Utc>,
    ) -> Result<LatencySummary> {
        self.latency_summary_impl(account_id, since).await
    }
    async fn activity(&self, since: DateTime<Utc>) -> Result<Vec<AccountActivity>> {
        self.activity_impl(since).await
    }
    async fn create_session(
        &self,
        account_id: Option<&AccountId>,
        key_id: Option<&KeyId>,
        ttl: Duration,
    ) -> Result<(DashboardSession, String)> {
        self.create_session_impl(account_id, key_id, ttl).await
    }
    async fn session(&self, token: &str) -> Result<Option<DashboardSession>> {
        self.session_impl(token).await
    }
    async fn set_session_key(&self, session_id: &str, key_id: &KeyId) -> Result<()> {
        self.set_session_key_impl(session_id, key_id).await
    }
    async fn delete_session(&self, session_id: &str) -> Result<()> {
        self.delete_session_impl(session_id).await
    }
    async fn sweep_sessions(&self, now: DateTime<Utc>) -> Result<u64> {
        self.sweep_sessions_impl(now).await
    }
    async fn create_batch(&self, new: NewBatch) -> Result<(Batch, bool)> {
        self.create_batch_impl(new).await
    }
    async fn batch(&self, id: &str, account_id: Option<&AccountId>) -> Result<Option<Batch>> {
        self.batch_impl(id, account_id).await
    }
    async fn batches(&self, account_id: &AccountId, limit: u32) -> Result<Vec<Batch>> {
        self.batches_impl(account_id, limit).await
    }
    async fn batch_items(&self, batch_id: &str, offset: u32, limit: u32) -> Result<Vec<BatchItem>> {
        self.batch_items_impl(batch_id, offset, limit).await
    }
    async fn claim_batch_items(
        &self,
        owner: &str,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<ClaimedItem>> {
        self.claim_batch_items_impl(owner, limit, lease).await
    }
    async fn requeue_batch_item(&self, item: &ClaimedItem, not_before: Duration) -> Result<bool> {
        self.requeue_batch_item_impl(item, not_before).await
    }
    async fn complete_batch_item(
        &self,
        item: &ClaimedItem,
        result: ItemResult,
    ) -> Result<ItemSettled> {
        self.complete_batch_item_impl(item, result).await
    }
    async fn take_due_webhooks(&self, limit: u32, lease: Duration) -> Result<Vec<DueWebhook>> {
        self.take_due_webhooks_impl(limit, lease).await
    }
    async fn record_webhook_delivery(
        &self,
        batch_id: &str,
        outcome: std::result::Result<(), String>,
    ) -> Result<WebhookStatus> {
        self.record_webhook_delivery_impl(batch_id, outcome).await
    }
    async fn schema_status(&self) -> Result<crate::schema::SchemaStatus> {
        self.schema_status_impl().await
    }
    async fn migrate(&self) -> Result<Vec<crate::schema::MigrationInfo>> {
        self.migrate_impl().await
    }
    async fn backup(&self, out: &std::path::Path) -> Result<()> {
        self.backup_impl(out).await
    }
}
