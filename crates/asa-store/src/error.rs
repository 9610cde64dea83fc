//! Store errors. None of them carries a key's secret: keys are referred to by id only.

use asa_model::{AccountId, KeyId, RequestId};

/// Anything a store call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    #[error("account {account_id} already has {limit} active keys")]
    TooManyKeys { account_id: AccountId, limit: usize },
    #[error("key {key_id} is already revoked or rotated")]
    KeyRevoked { key_id: KeyId },
    #[error("request {request_id} already holds a reservation")]
    DuplicateRequest { request_id: RequestId },
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    #[error("unsupported database url: {0}")]
    UnsupportedUrl(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// [`crate::Store::backup`] on PostgreSQL, which `pg_dump` backs up.
    #[error("PostgreSQL has no online backup through asa: use pg_dump")]
    NoOnlineBackup,
    #[error("file error: {0}")]
    Io(String),
}

impl StoreError {
    pub(crate) fn not_found(what: &'static str, id: impl AsRef<str>) -> StoreError {
        StoreError::NotFound {
            what,
            id: id.as_ref().to_string(),
        }
    }
}

/// Why a reservation was not made.
#[derive(Debug, thiserror::Error)]
pub enum ReserveError {
    /// The balance cannot cover the cost and auto-top-up is off, capped out or declined:
    /// the server answers `402 insufficient_credits`.
    #[error("insufficient credits: balance {balance}, cost {cost}")]
    Insufficient {
        balance: asa_model::Credits,
        cost: asa_model::Credits,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ReserveError {
    fn from(e: sqlx::Error) -> Self {
        ReserveError::Store(StoreError::Database(e))
    }
}
