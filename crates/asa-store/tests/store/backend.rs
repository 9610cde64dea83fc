//! A store under test, on either database, with a manual clock and direct SQL access for
//! assertions the trait does not expose (what is stored at rest).

use asa_store::{open_with, ManualClock, Payments, Store, StoreOptions};
use chrono::Utc;
use rand::RngCore;
use sqlx::{AnyPool, Row};
use std::path::PathBuf;
use std::sync::Arc;

pub struct Backend {
    pub store: Arc<dyn Store>,
    pub clock: Arc<ManualClock>,
    pub name: &'static str,
    raw: AnyPool,
    schema: Option<String>,
    sqlite_file: Option<PathBuf>,
    _dir: Option<tempfile::TempDir>,
}

/// Options with the backend's clock, then whatever the test changes.
fn options(clock: Arc<ManualClock>, tweak: impl FnOnce(&mut StoreOptions)) -> StoreOptions {
    let mut options = StoreOptions {
        clock,
        ..StoreOptions::default()
    };
    tweak(&mut options);
    options
}

fn with_payments(payments: Option<Arc<dyn Payments>>) -> impl FnOnce(&mut StoreOptions) {
    move |options| {
        if let Some(p) = payments {
            options.payments = p;
        }
    }
}

impl Backend {
    pub async fn sqlite(payments: Option<Arc<dyn Payments>>) -> Backend {
        Backend::sqlite_with(with_payments(payments)).await
    }

    /// `None` when `DATABASE_URL` is not a PostgreSQL URL: the PostgreSQL half is skipped.
    pub async fn postgres(payments: Option<Arc<dyn Payments>>) -> Option<Backend> {
        Backend::postgres_with(with_payments(payments)).await
    }

    pub async fn sqlite_with(tweak: impl FnOnce(&mut StoreOptions)) -> Backend {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("asa.db");
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let url = format!("sqlite://{}", file.display());
        let store = open_with(&url, options(clock.clone(), tweak))
            .await
            .unwrap();
        let raw = AnyPool::connect(&url).await.unwrap();
        Backend {
            store,
            clock,
            name: "sqlite",
            raw,
            schema: None,
            sqlite_file: Some(file),
            _dir: Some(dir),
        }
    }

    pub async fn postgres_with(tweak: impl FnOnce(&mut StoreOptions)) -> Option<Backend> {
        let url = std::env::var("DATABASE_URL").ok()?;
        if !url.starts_with("postgres") {
            return None;
        }
        sqlx::any::install_default_drivers();
        let schema = format!("asa_test_{:016x}", rand::thread_rng().next_u64());
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let mut opts = options(clock.clone(), tweak);
        opts.schema = Some(schema.clone());
        let store = open_with(&url, opts).await.unwrap();
        let raw = AnyPool::connect(&url).await.unwrap();
        Some(Backend {
            store,
            clock,
            name: "postgres",
            raw,
            schema: Some(schema),
            sqlite_file: None,
            _dir: None,
        })
    }

    fn table(&self, name: &str) -> String {
        match &self.schema {
            Some(schema) => format!("{schema}.{name}"),
            None => name.to_string(),
        }
    }

    /// Every text column of the keys table, concatenated.
    pub async fn keys_table_text(&self) -> String {
        let rows = sqlx::query(&format!(
            "SELECT id, account_id, kind, short_prefix, key_hash FROM {}",
            self.table("api_keys")
        ))
        .fetch_all(&self.raw)
        .await
        .unwrap();
        rows.iter()
            .flat_map(|r| (0..5).map(move |i| r.get::<String, _>(i)))
            .collect::<Vec<_>>()
            .join("|")
    }

    /// The raw bytes of the SQLite database and its WAL, when this backend has them.
    pub fn sqlite_bytes(&self) -> Option<Vec<u8>> {
        let file = self.sqlite_file.as_ref()?;
        let mut bytes = std::fs::read(file).unwrap();
        if let Ok(wal) = std::fs::read(file.with_extension("db-wal")) {
            bytes.extend(wal);
        }
        Some(bytes)
    }

    /// Invoice lines of an account as (status, amount).
    pub async fn invoice_lines(&self, account_id: &str) -> Vec<(String, i64)> {
        sqlx::query(&format!(
            "SELECT status, amount FROM {} WHERE account_id = $1 ORDER BY created_at, id",
            self.table("invoice_lines")
        ))
        .bind(account_id)
        .fetch_all(&self.raw)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1)))
        .collect()
    }

    pub async fn finish(self) {
        if let Some(schema) = &self.schema {
            sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                .execute(&self.raw)
                .await
                .unwrap();
        }
    }
}
