//! The [`Store`] trait: everything the server and the CLI ask of durable state.

use crate::batch::*;
use crate::error::{ReserveError, StoreError};
use crate::session::DashboardSession;
use crate::trace::{AccountActivity, CodeCount, LatencySummary, Trace, TraceFilter, Usage};
use crate::types::*;
use asa_model::{AccountId, ApiKey, Credits, KeyId, KeyKind, RequestId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::time::Duration;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[async_trait]
pub trait Store: Send + Sync {
    // ---- accounts ----

    async fn create_account(&self, new: NewAccount) -> Result<Account>;
    async fn account(&self, id: &AccountId) -> Result<Option<Account>>;
    /// Oldest first.
    async fn list_accounts(&self) -> Result<Vec<Account>>;
    async fn set_plan(&self, id: &AccountId, plan: &str, overrides: PlanOverrides) -> Result<()>;

    // ---- keys ----

    /// Makes a key; the returned [`ApiKey`] is the only time its secret exists outside the
    /// caller's hands. Fails with [`StoreError::TooManyKeys`] past
    /// [`crate::MAX_ACTIVE_KEYS`] active keys.
    async fn create_key(
        &self,
        account_id: &AccountId,
        kind: KeyKind,
    ) -> Result<(KeyRecord, ApiKey)>;
    /// Looks the key up by short prefix and compares hashes in constant time.
    async fn authenticate(&self, key: &ApiKey) -> Result<KeyStatus>;
    /// Issues a new key of the same kind and revokes the old one now (`grace: None`) or
    /// when the grace period ends. Rotation is allowed even at the key limit.
    async fn rotate_key(
        &self,
        key_id: &KeyId,
        grace: Option<Duration>,
    ) -> Result<(KeyRecord, ApiKey)>;
    /// Revokes now; revoking a key that is in a grace period ends the grace.
    async fn revoke_key(&self, key_id: &KeyId) -> Result<KeyRecord>;
    async fn key(&self, key_id: &KeyId) -> Result<Option<KeyRecord>>;
    /// Oldest first, revoked ones included.
    async fn keys(&self, account_id: &AccountId) -> Result<Vec<KeyRecord>>;

    // ---- credits ----

    /// Adds credits (a `top_up` entry) and returns the new balance.
    async fn add_credits(
        &self,
        account_id: &AccountId,
        amount: Credits,
        note: &str,
    ) -> Result<Credits>;
    /// Moves `cost` from balance to reserved, never below zero, auto-topping-up first when
    /// the account has it on. A request id can be reserved once.
    async fn reserve(
        &self,
        account_id: &AccountId,
        request_id: &RequestId,
        cost: Credits,
        ttl: Duration,
    ) -> Result<Reservation, ReserveError>;
    /// Bills a reservation, exactly once per request id. See [`ChargeOutcome`] for what
    /// happens to a reservation that was released or expired.
    async fn charge(&self, reservation: &Reservation) -> Result<ChargeOutcome>;
    /// Gives the reserved credits back. Returns false (and changes nothing) when the
    /// reservation was already charged, released or expired.
    async fn release(&self, reservation: &Reservation) -> Result<bool>;
    /// Releases every reservation whose expiry is at or before `now` (its node died
    /// mid-request) as an `expire` entry; returns how many.
    async fn expire_reservations(&self, now: DateTime<Utc>) -> Result<u64>;
    async fn set_auto_topup(
        &self,
        account_id: &AccountId,
        auto_topup: Option<AutoTopup>,
    ) -> Result<()>;
    /// Credits added by auto-top-up in the current UTC month.
    async fn auto_topup_this_month(&self, account_id: &AccountId) -> Result<Credits>;
    /// Newest first.
    async fn ledger(&self, account_id: &AccountId, limit: u32) -> Result<Vec<LedgerEntry>>;

    // ---- traces and usage ----

    /// Stores a batch in one transaction; a request id already stored is skipped.
    async fn insert_traces(&self, batch: &[Trace]) -> Result<()>;
    /// With `Some(account)`, only that account's own trace is found: another account's
    /// trace is indistinguishable from a missing one.
    async fn trace(
        &self,
        request_id: &RequestId,
        account_id: Option<&AccountId>,
    ) -> Result<Option<Trace>>;
    async fn traces(&self, filter: &TraceFilter) -> Result<Vec<Trace>>;
    /// Deletes traces created before `older_than`, `batch` rows per transaction; returns
    /// how many.
    async fn sweep_traces(&self, older_than: DateTime<Utc>, batch: u32) -> Result<u64>;
    /// Usage over the last `days` UTC days, today included, per day and key.
    async fn usage(&self, account_id: &AccountId, days: u32) -> Result<Usage>;
    /// Error answers per UTC day and code over the last `days` days, today included; of one
    /// account, or of every account with `None`.
    async fn errors_by_day(
        &self,
        account_id: Option<&AccountId>,
        days: u32,
    ) -> Result<Vec<CodeCount>>;
    /// Success rate and latency percentiles of the requests since `since` (the newest
    /// [`LatencySummary::SAMPLE`]); of one account, or of every account with `None`.
    async fn latency_summary(
        &self,
        account_id: Option<&AccountId>,
        since: DateTime<Utc>,
    ) -> Result<LatencySummary>;
    /// Requests, errors and credits per account since `since`, ordered by account id.
    async fn activity(&self, since: DateTime<Utc>) -> Result<Vec<AccountActivity>>;

    // ---- dashboard sessions ----

    /// Signs a browser in for `ttl`: an account session with the key it signed in with, or
    /// an operator session with neither. Returns the session and its token, which exists
    /// only here and in the browser's cookie.
    async fn create_session(
        &self,
        account_id: Option<&AccountId>,
        key_id: Option<&KeyId>,
        ttl: Duration,
    ) -> Result<(DashboardSession, String)>;
    /// The unexpired session a token opens.
    async fn session(&self, token: &str) -> Result<Option<DashboardSession>>;
    /// Moves a session to another key of its account (the user rotated the key it used).
    async fn set_session_key(&self, session_id: &str, key_id: &KeyId) -> Result<()>;
    async fn delete_session(&self, session_id: &str) -> Result<()>;
    /// Deletes sessions expired at `now`; returns how many.
    async fn sweep_sessions(&self, now: DateTime<Utc>) -> Result<u64>;

    // ---- batches ----

    /// Creates a batch and queues its items. With an idempotency key already used by the
    /// account, returns the first batch and `false` instead.
    async fn create_batch(&self, new: NewBatch) -> Result<(Batch, bool)>;
    /// With `Some(account)`, only that account's own batch is found.
    async fn batch(&self, id: &str, account_id: Option<&AccountId>) -> Result<Option<Batch>>;
    /// Newest first.
    async fn batches(&self, account_id: &AccountId, limit: u32) -> Result<Vec<Batch>>;
    /// Items in index order, results included.
    async fn batch_items(&self, batch_id: &str, offset: u32, limit: u32) -> Result<Vec<BatchItem>>;
    /// Takes up to `limit` ready items (queued and due, or running with a lapsed lease) for
    /// `owner`, leased for `lease`. Several nodes may claim at once; none gets the same item.
    async fn claim_batch_items(
        &self,
        owner: &str,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<ClaimedItem>>;
    /// Puts a claimed item back, ready again after `not_before` (its account was at its
    /// limits). False when the lease was no longer the claimer's.
    async fn requeue_batch_item(&self, item: &ClaimedItem, not_before: Duration) -> Result<bool>;
    /// Stores a run's result and, when it is ok, charges its reservations in the same
    /// transaction; releases them otherwise. See [`ItemSettled`].
    async fn complete_batch_item(
        &self,
        item: &ClaimedItem,
        result: ItemResult,
    ) -> Result<ItemSettled>;
    /// Takes up to `limit` webhook deliveries that are due, leased for `lease`.
    async fn take_due_webhooks(&self, limit: u32, lease: Duration) -> Result<Vec<DueWebhook>>;
    /// Records one delivery: delivered, or failed and scheduled again (or failed for good
    /// once the schedule is spent). Returns the webhook's new status.
    async fn record_webhook_delivery(
        &self,
        batch_id: &str,
        outcome: std::result::Result<(), String>,
    ) -> Result<WebhookStatus>;

    // ---- schema ----

    /// The database's migrations against this build's, read without changing anything.
    async fn schema_status(&self) -> Result<crate::schema::SchemaStatus>;
    /// Applies the pending migrations and returns them (empty when the schema was current).
    async fn migrate(&self) -> Result<Vec<crate::schema::MigrationInfo>>;

    // ---- operations ----

    /// Writes a consistent copy of the whole database to `out`, a file that must not exist
    /// yet, while the store goes on serving: SQLite's `VACUUM INTO`, on one of the store's
    /// own connections, in one read transaction (writers are not held up). PostgreSQL:
    /// [`StoreError::NoOnlineBackup`] (`pg_dump` is its tool).
    async fn backup(&self, out: &std::path::Path) -> Result<()>;
}
