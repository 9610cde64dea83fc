//! asa-store: the durable state of asa. It owns accounts (plan name and per-account
//! overrides), API keys (hashed at rest), the credit ledger with reservations and
//! auto-top-up, request traces and the usage derived from them, asynchronous batches
//! (a durable item queue and webhook deliveries), behind one [`Store`] trait
//! with two backends: SQLite (default, embedded) and PostgreSQL.
//!
//! It must not know HTTP, plan limits (the server's configuration owns them; the store is
//! told only the plan names, to refuse accounts on a plan that does not exist) or the rate
//! limiter; and it never logs, prints or returns a full API key except once, at creation.
//!
//! # Layout
//! - [`store`]: the [`Store`] trait, the contract the server codes against.
//! - [`types`]: accounts, keys, ledger entries, reservations and charge outcomes.
//! - [`trace`]: request traces, their filter, and usage by day and key.
//! - [`payments`]: the [`Payments`] trait auto-top-up collects through, and its default.
//! - [`session`]: dashboard sign-ins (token hashes, CSRF tokens).
//! - [`batch`]: batches, their items as a leased work queue, webhook deliveries.
//! - [`schema`]: the database's migrations against this build's ([`SchemaStatus`]).
//! - [`clock`]: the time source, replaceable in tests.
//! - [`error`]: [`StoreError`] and [`ReserveError`].
//! - `secret`: key generation, hashing and ids.
//! - `sql`: the backend: one SQL implementation whose dialect (SQLite or PostgreSQL)
//!   changes only how write transactions begin, row locks and the migrations. Its ledger
//!   (reservations, charges, releases) commits in groups through one writer task per
//!   store (`sql/group.rs`); an answer waits for its group's commit. A SQLite store backs
//!   itself up online (`sql/backup.rs`).

pub mod batch;
pub mod clock;
pub mod error;
pub mod payments;
pub mod schema;
mod secret;
pub mod session;
mod sql;
pub mod store;
pub mod trace;
pub mod types;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{ReserveError, StoreError};
pub use payments::{InvoiceOnly, PaymentError, PaymentReceipt, PaymentRequest, Payments};
pub use schema::{MigrationInfo, SchemaStatus};
pub use session::DashboardSession;
pub use store::Store;
pub use trace::{
    AccountActivity, CodeCount, LatencySummary, Outcome, Trace, TraceFilter, Usage, UsageRow,
    UsageTotals,
};
pub use types::*;

/// At most this many keys per account may be active (not revoked, not in a grace period).
pub const MAX_ACTIVE_KEYS: usize = 20;

/// How a store is opened beyond its URL.
#[derive(Clone)]
pub struct StoreOptions {
    /// Collects auto-top-up payments; the default only records invoice lines.
    pub payments: Arc<dyn Payments>,
    /// The store's notion of "now" (key grace periods, reservation expiry, timestamps).
    pub clock: Arc<dyn Clock>,
    /// Pool size; SQLite in memory always uses one connection.
    pub max_connections: u32,
    /// How long a SQLite writer waits for another process's write lock.
    pub busy_timeout: Duration,
    /// PostgreSQL only: a schema to create if missing and use for every table.
    pub schema: Option<String>,
    /// The plans an account may be put on (their limits are the server's configuration);
    /// `None` accepts any plan name.
    pub plans: Option<BTreeSet<String>>,
    /// Apply pending migrations on open (the default). Off, the schema is left as it is:
    /// [`Store::schema_status`] says what is pending and [`Store::migrate`] applies it.
    pub migrate: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            payments: Arc::new(InvoiceOnly),
            clock: Arc::new(SystemClock),
            max_connections: 8,
            busy_timeout: Duration::from_secs(10),
            schema: None,
            plans: None,
            migrate: true,
        }
    }
}

impl std::fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreOptions")
            .field("max_connections", &self.max_connections)
            .field("busy_timeout", &self.busy_timeout)
            .field("schema", &self.schema)
            .field("plans", &self.plans)
            .field("migrate", &self.migrate)
            .finish_non_exhaustive()
    }
}

/// Opens a store and runs its pending migrations. `url` is `sqlite://path?mode=rwc`,
/// `sqlite::memory:`, a bare file path (SQLite, created if missing) or `postgres://...`.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    open_with(url, StoreOptions::default()).await
}

/// [`open`] with explicit options (payments, clock, pool size, schema).
pub async fn open_with(url: &str, options: StoreOptions) -> Result<Arc<dyn Store>, StoreError> {
    Ok(sql::SqlStore::open(url, options).await?)
}
