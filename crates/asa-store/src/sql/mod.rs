//! The SQL backend. SQLite and PostgreSQL share every statement (through sqlx's `Any`
//! driver, `$n` placeholders, integer times and text JSON); the dialects differ only in how a
//! write transaction begins, in row locks and in their migrations, so one implementation
//! serves both and the shared test suite proves the same SQL on each.

mod accounts;
mod backup;
mod batches;
mod checkpointer;
mod group;
mod keys;
mod ledger;
mod schema;
mod sessions;
mod settle;
mod store_impl;
mod traces;
mod write_gate;

use crate::error::StoreError;
use crate::StoreOptions;
use checkpointer::Checkpointer;
use chrono::{DateTime, Utc};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::pool::PoolOptions;
use sqlx::{Any, AnyPool, Executor, Row, Transaction};
use std::str::FromStr;
use std::sync::Arc;
use write_gate::{Lane, WriteGate};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// SQLite takes its single write lock up front so a read-then-write transaction
    /// cannot fail to upgrade; PostgreSQL relies on row locks.
    fn begin(self) -> &'static str {
        match self {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
        }
    }

    /// Locks the rows a read selects until commit (SQLite's write lock already does).
    pub(crate) fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }
}

pub(crate) struct SqlStore {
    pub(crate) pool: AnyPool,
    pub(crate) dialect: Dialect,
    pub(crate) options: StoreOptions,
    /// SQLite has one writer: queueing writers here is cheaper than letting them spin on
    /// the busy handler, and lets settlements go first (`write_gate`). Other processes
    /// still meet the busy timeout.
    write_lock: Option<Arc<WriteGate>>,
    /// A SQLite file's WAL checkpoints, run beside the writer rather than inside a commit.
    _checkpointer: Option<Checkpointer>,
    /// Reservations, charges and releases, committed in groups (`group`).
    ledger: group::LedgerQueue,
}

/// A write transaction; dropping it without `commit` rolls back.
pub(crate) struct WriteTx<'a> {
    pub(crate) tx: Transaction<'static, Any>,
    _writer: Option<tokio::sync::MutexGuard<'a, ()>>,
}

impl WriteTx<'_> {
    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
    }
}

enum Target {
    Sqlite { url: String, memory: bool },
    Postgres { url: String },
}

fn parse_target(url: &str) -> Result<Target, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Target::Postgres {
            url: url.to_string(),
        });
    }
    if url.contains("://") && !url.starts_with("sqlite://") {
        return Err(StoreError::UnsupportedUrl(
            url.split("://").next().unwrap_or_default().to_string(),
        ));
    }
    let url = if url.starts_with("sqlite:") {
        url.to_string()
    } else {
        format!("sqlite://{url}")
    };
    let memory = url == "sqlite::memory:" || url.contains("mode=memory");
    // A file database is created when missing, as a fresh install expects.
    let url = if memory || url.contains("mode=") {
        url
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    };
    Ok(Target::Sqlite { url, memory })
}

fn valid_schema_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !s.as_bytes()[0].is_ascii_digit()
}

impl SqlStore {
    /// Opens the store and starts its ledger writer (and, for a SQLite file, its
    /// checkpointer).
    pub(crate) async fn open(
        url: &str,
        options: StoreOptions,
    ) -> Result<Arc<SqlStore>, StoreError> {
        sqlx::any::install_default_drivers();
        let max = options.max_connections.max(1);
        let store = match parse_target(url)? {
            Target::Sqlite { url, memory } => {
                let busy_ms = options.busy_timeout.as_millis().min(i32::MAX as u128);
                let pool_options: PoolOptions<Any> = if memory {
                    // Every connection to `:memory:` is its own database: keep exactly one.
                    AnyPoolOptions::new()
                        .max_connections(1)
                        .min_connections(1)
                        .idle_timeout(None)
                        .max_lifetime(None)
                } else {
                    AnyPoolOptions::new().max_connections(max)
                }
                // A local file cannot drop a connection: the ping would be a wasted round trip.
                .test_before_acquire(false);
                // `:memory:` has no WAL to checkpoint.
                let checkpoints = if memory {
                    ""
                } else {
                    checkpointer::NO_AUTOCHECKPOINT
                };
                // `synchronous = FULL`: a commit is on disk before it returns, so a charge
                // whose 2xx has left survives a power loss too (NORMAL in WAL mode may lose
                // the last commits). The ledger commits in groups, so the sync is paid once
                // per group, not per request.
                let pool = pool_options
                    .after_connect(move |conn, _| {
                        Box::pin(async move {
                            conn.execute(&*format!(
                                "PRAGMA busy_timeout = {busy_ms}; PRAGMA journal_mode = WAL; \
                                 PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
                                 {checkpoints}"
                            ))
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_with(sqlx::any::AnyConnectOptions::from_str(&url)?)
                    .await?;
                if options.migrate {
                    SQLITE_MIGRATIONS.run(&pool).await?;
                }
                // The ledger writer's own connection for groups without a charge; `:memory:`
                // has only its one connection (and nothing to sync).
                let relaxed = if memory {
                    None
                } else {
                    let mut conn = pool.acquire().await?.detach();
                    conn.execute(group::Durability::RELAXED_PRAGMA).await?;
                    Some(conn)
                };
                let writer = Arc::new(WriteGate::new());
                Arc::new_cyclic(|me| SqlStore {
                    _checkpointer: (!memory)
                        .then(|| Checkpointer::start(pool.clone(), writer.clone())),
                    pool,
                    dialect: Dialect::Sqlite,
                    options,
                    write_lock: Some(writer),
                    ledger: group::LedgerQueue::start(me.clone(), relaxed),
                })
            }
            Target::Postgres { url } => {
                let mut pool_options = AnyPoolOptions::new().max_connections(max);
                if let Some(schema) = options.schema.clone() {
                    if !valid_schema_name(&schema) {
                        return Err(StoreError::InvalidArgument(format!(
                            "schema name {schema:?}: use lowercase letters, digits and _"
                        )));
                    }
                    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await?;
                    conn.execute(&*format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                        .await?;
                    sqlx::Connection::close(conn).await?;
                    pool_options = pool_options.after_connect(move |conn, _| {
                        let schema = schema.clone();
                        Box::pin(async move {
                            conn.execute(&*format!("SET search_path TO {schema}"))
                                .await?;
                            Ok(())
                        })
                    });
                }
                let pool = pool_options.connect(&url).await?;
                if options.migrate {
                    POSTGRES_MIGRATIONS.run(&pool).await?;
                }
                Arc::new_cyclic(|me| SqlStore {
                    pool,
                    dialect: Dialect::Postgres,
                    options,
                    write_lock: None,
                    _checkpointer: None,
                    ledger: group::LedgerQueue::start(me.clone(), None),
                })
            }
        };
        tracing::debug!(dialect = ?store.dialect, "store opened");
        Ok(store)
    }

    pub(crate) async fn begin_write(&self) -> Result<WriteTx<'_>, StoreError> {
        self.begin_write_in(Lane::Other).await
    }

    /// A write that settles a request (charge, release, a batch item's result): it goes
    /// ahead of queued reservations and other writes.
    pub(crate) async fn begin_settling_write(&self) -> Result<WriteTx<'_>, StoreError> {
        self.begin_write_in(Lane::Settle).await
    }

    /// SQLite's one writer, in `lane`; `None` on PostgreSQL, whose row locks suffice.
    pub(crate) async fn enter_writer(&self, lane: Lane) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.write_lock {
            Some(gate) => Some(gate.enter(lane).await),
            None => None,
        }
    }

    async fn begin_write_in(&self, lane: Lane) -> Result<WriteTx<'_>, StoreError> {
        let writer = self.enter_writer(lane).await;
        let tx = self.pool.begin_with(self.dialect.begin()).await?;
        Ok(WriteTx {
            tx,
            _writer: writer,
        })
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.options.clock.now()
    }
}

pub(crate) fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_ms(ms: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| StoreError::Corrupt(format!("timestamp {ms} out of range")))
}

pub(crate) fn opt_from_ms(ms: Option<i64>) -> Result<Option<DateTime<Utc>>, StoreError> {
    ms.map(from_ms).transpose()
}

pub(crate) fn get<'r, T>(row: &'r AnyRow, column: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, Any> + sqlx::Type<Any>,
{
    Ok(row.try_get(column)?)
}

pub(crate) fn duration_ms(d: std::time::Duration) -> i64 {
    d.as_millis().min(i64::MAX as u128) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let sqlite = |u: &str| match parse_target(u).unwrap() {
            Target::Sqlite { url, memory } => (url, memory),
            Target::Postgres { .. } => panic!("{u} is not postgres"),
        };
        assert_eq!(sqlite("asa.db"), ("sqlite://asa.db?mode=rwc".into(), false));
        assert_eq!(sqlite("sqlite::memory:"), ("sqlite::memory:".into(), true));
        assert_eq!(
            sqlite("sqlite://x.db?mode=ro"),
            ("sqlite://x.db?mode=ro".into(), false)
        );
        assert!(matches!(
            parse_target("postgres://u@h/db"),
            Ok(Target::Postgres { .. })
        ));
        assert!(matches!(
            parse_target("mysql://h/db"),
            Err(StoreError::UnsupportedUrl(_))
        ));
        assert!(valid_schema_name("asa_test_1"));
        assert!(!valid_schema_name("x; drop table y"));
        assert!(!valid_schema_name("1abc"));
    }
}
